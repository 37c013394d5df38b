using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper;

/// <summary>Where a stream takes its batches from.</summary>
internal interface IBatchSource
{
    /// <summary>Looks for new, rotated and truncated files (called every PollInterval while streaming).</summary>
    void Discover();

    /// <summary>Forgets what was read but not acknowledged: a new stream starts every file at its checkpoint.</summary>
    void ResetToAcked();

    /// <summary>The next ready batch of some file, the files taken in turn; (null, null) when none is ready.</summary>
    (TrackedFile? File, EncodedBatch? Batch) NextBatch(DateTimeOffset now);
}

/// <summary>Reads the tracked files in turn into batches, so one busy file cannot starve the others.</summary>
internal sealed class FileReader(FileTracker tracker, ShipperOptions options, ShipperMetrics metrics, ILogger<FileReader> logger) : IBatchSource
{
    private readonly BatchLimits _limits = new(options.MaxLines, options.MaxBytes, options.MaxDelay);
    private int _roundRobin;

    public void Discover() => tracker.Discover();

    public void ResetToAcked() => tracker.ResetToAcked();

    public (TrackedFile? File, EncodedBatch? Batch) NextBatch(DateTimeOffset now)
    {
        var files = tracker.Snapshot;
        for (var i = 0; i < files.Length; i++)
        {
            var index = (_roundRobin + i) % files.Length;
            var file = files[index];
            EncodedBatch? batch;
            try
            {
                var attached = file.Bytes is not null;
                batch = file.TryBuildBatch(_limits, now, metrics);
                if (attached && file.Bytes is null)
                {
                    // Truncated since the last look, or while it was read (copy-and-truncate while we lagged): the file
                    // checks its first bytes before and after reading, so new content is never read as if it continued
                    // the old file. The rest of the old file can only be in a copy, found by discovery.
                    Log.Truncated(logger, file.Path, file.Fingerprint, file.ReadOffset);
                    file.OrphanedSince ??= now;
                    continue;
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // Found again at the next discovery (a corrupt archive is retried from its checkpoint).
                Log.ReadFailed(logger, file.Path, ex);
                file.DetachSource();
                continue;
            }

            if (batch is not null)
            {
                _roundRobin = index + 1;
                return (file, batch);
            }
        }

        return (null, null);
    }
}
