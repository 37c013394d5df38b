using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper;

/// <summary>
/// Writes the checkpoint to disk every CheckpointInterval (and on demand), and lets callers wait for a file's
/// acknowledged offset to reach the disk.
/// </summary>
internal sealed class CheckpointFlusher(CheckpointStore store, ShipperOptions options, IShipperFileSystem fileSystem, TimeProvider time, ILogger<CheckpointFlusher> logger)
{
    /// <summary>Path of the checkpoint file.</summary>
    public string FilePath => store.FilePath;

    /// <summary>The acknowledged checkpoint written to disk for a fingerprint, if any.</summary>
    public CheckpointEntry? GetPersisted(string fingerprint) => store.GetPersisted(fingerprint);

    /// <summary>Flushes every CheckpointInterval (at least 10 ms apart) until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var interval = options.CheckpointInterval < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : options.CheckpointInterval;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Flush();
        }
    }

    /// <summary>Writes the checkpoint if it changed; a failed write is logged and retried at the next flush.</summary>
    public void Flush()
    {
        try
        {
            store.Flush();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CheckpointFailed(logger, store.FilePath, ex);
        }
    }

    /// <summary>Completes once the checkpoint on disk for the file now at <paramref name="path"/> is at least
    /// <paramref name="offset"/> (the file is identified by its fingerprint, so it must have FingerprintBytes bytes).</summary>
    public Task WaitForCheckpointAsync(string path, long offset, CancellationToken ct) =>
        WaitForAsync(path, entry => entry.Offset >= offset, ct);

    /// <summary>Completes once everything now in the file at <paramref name="path"/> is on disk as acknowledged: a plain
    /// file up to its current length, a .gz archive to its end.</summary>
    public Task WaitForFileShippedAsync(string path, CancellationToken ct)
    {
        if (GzipFileSource.IsGzipPath(path))
        {
            return WaitForAsync(path, entry => entry.Complete, ct);
        }

        var length = (fileSystem.Stat(path) ?? throw new FileNotFoundException($"{path} does not exist", path)).Length;
        return WaitForCheckpointAsync(path, length, ct);
    }

    private async Task WaitForAsync(string path, Func<CheckpointEntry, bool> reached, CancellationToken ct)
    {
        while (true)
        {
            var changed = store.PersistedChanged;
            var fingerprint = fileSystem.Fingerprint(path, options.FingerprintBytes);
            if (fingerprint is not null && store.GetPersisted(fingerprint) is { } entry && reached(entry))
            {
                return;
            }

            await Task.WhenAny(changed, Task.Delay(options.PollInterval, time, ct));
            ct.ThrowIfCancellationRequested();
        }
    }
}
