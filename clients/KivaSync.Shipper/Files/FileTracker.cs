using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper;

/// <summary>
/// Which files the shipper follows: finds the configured files, tells new ones from known ones by fingerprint, notices
/// rotation, truncation and deletion, and lets go of files read to their end. Runs on the shipper's loop only (discovery
/// and reading never run concurrently); <see cref="Snapshot"/> is safe to read from anywhere.
/// </summary>
internal sealed class FileTracker(ShipperOptions options, CheckpointStore checkpoints, IShipperFileSystem fileSystem, TimeProvider time, ILogger<FileTracker> logger)
    : IDisposable
{
    private readonly Dictionary<string, TrackedFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _startAtEndPending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _completeArchives = new(StringComparer.Ordinal);
    private bool _firstScanDone;

    // Batch buffers are reused: at most the window's batches plus the one being read are alive at once.
    private readonly ArrayPool<byte> _batchBuffers = ArrayPool<byte>.Create(8 * 1024 * 1024, options.MaxInFlightBatches + 2);

    /// <summary>The files followed now, as of the last discovery.</summary>
    public TrackedFile[] Snapshot
    {
        get => Volatile.Read(ref field);
        private set => Volatile.Write(ref field, value);
    } = [];

    /// <summary>Forgets what was read but not acknowledged (a new stream starts every file at its checkpoint).</summary>
    public void ResetToAcked()
    {
        foreach (var file in _files.Values)
        {
            file.ResetToAcked();
        }
    }

    /// <summary>Looks at the configured paths and the files already followed.</summary>
    public void Discover()
    {
        var now = time.GetUtcNow();
        try
        {
            CheckTrackedFiles(now);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var source in options.Sources)
            {
                foreach (var path in fileSystem.Expand(source.Path))
                {
                    try
                    {
                        DiscoverPath(source, path, now, seen);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        // Gone or unreadable between listing and opening: looked at again next time.
                        Log.ReadFailed(logger, path, ex);
                    }
                }
            }

            foreach (var file in _files.Values.ToList())
            {
                LookAtUnseen(file, seen, now);
            }
        }
        finally
        {
            _firstScanDone = true;
            Snapshot = [.. _files.Values];
        }
    }

    public void Dispose()
    {
        foreach (var file in _files.Values)
        {
            file.Dispose();
        }

        _files.Clear();
        Snapshot = [];
    }

    /// <summary>A followed file: found again, still waiting after a rotation, or let go.</summary>
    private void LookAtUnseen(TrackedFile file, HashSet<string> seen, DateTimeOffset now)
    {
        if (file.IsArchive)
        {
            if (file.Exhausted && file.FullyAcked)
            {
                LetGo(file, complete: true);
            }

            return;
        }

        if (seen.Contains(file.Fingerprint))
        {
            file.Revive();
            return;
        }

        file.OrphanedSince ??= now;
        var quietSince = file.OrphanedSince.Value > file.LastGrowth ? file.OrphanedSince.Value : file.LastGrowth;
        if (now - quietSince < options.RotatedFileWait)
        {
            return;
        }

        if (file.Bytes is null)
        {
            // Truncated or replaced, and no copy with its fingerprint turned up in time.
            Log.LetGoIncomplete(logger, file.Path, file.Fingerprint, file.Acked, Math.Max(0, file.LastLength - file.Acked));
            LetGo(file, complete: false);
            return;
        }

        file.Finalizing = true;
        if (file.Exhausted && file.FullyAcked)
        {
            LetGo(file, complete: true);
        }
    }

    private void CheckTrackedFiles(DateTimeOffset now)
    {
        foreach (var file in _files.Values)
        {
            if (file.Bytes is not { IsArchive: false } plain)
            {
                continue;
            }

            long length;
            string? fingerprint;
            try
            {
                length = plain.Length ?? 0;
                fingerprint = plain.CurrentFingerprint(options.FingerprintBytes);
            }
            catch (IOException ex)
            {
                Log.ReadFailed(logger, file.Path, ex);
                file.DetachSource();
                continue;
            }

            if (length < file.ReadOffset || fingerprint != file.Fingerprint)
            {
                // Truncated in place (or copy-and-truncate): the rest of this file's bytes can only be in a copy.
                Log.Truncated(logger, file.Path, file.Fingerprint, file.ReadOffset);
                file.DetachSource();
                file.OrphanedSince ??= now;
                continue;
            }

            if (length > file.LastLength)
            {
                file.LastLength = length;
                file.LastGrowth = now;
            }
        }
    }

    private void DiscoverPath(SourceOptions source, string path, DateTimeOffset now, HashSet<string> seen)
    {
        var archive = GzipFileSource.IsGzipPath(path);
        string? archiveKey = null;
        if (archive)
        {
            // Gone since the listing: reported like any read failure, looked at again next time.
            var info = fileSystem.Stat(path) ?? throw new FileNotFoundException($"{path} is gone", path);
            archiveKey = string.Create(CultureInfo.InvariantCulture, $"{path}|{info.Length}|{info.LastWriteUtc.UtcTicks}");
            // A truncated gzip reads as a clean end of stream: wait until the archive is no longer being written,
            // or a half-written one would be taken as complete.
            if (_completeArchives.Contains(archiveKey) || time.GetUtcNow() - info.LastWriteUtc < options.RotatedFileWait)
            {
                return;
            }
        }

        var fingerprint = fileSystem.Fingerprint(path, options.FingerprintBytes);
        if (fingerprint is null)
        {
            if (!_firstScanDone && source.StartAt == StartPosition.End && !archive && fileSystem.Stat(path) is { } shortFile)
            {
                _startAtEndPending[path] = shortFile.Length;
            }

            return;
        }

        var rewritten = false;
        if (_files.TryGetValue(fingerprint, out var known))
        {
            if (known.IsArchive != archive)
            {
                // The same content as a plain file and as its .gz: follow one of them.
                return;
            }

            if (known.Bytes is not null)
            {
                seen.Add(fingerprint);
                if (known.Path != path)
                {
                    known.Path = path;
                    Log.Moved(logger, fingerprint, path);
                }

                return;
            }

            if (archive || (fileSystem.Stat(path) ?? throw new FileNotFoundException("gone", path)).Length >= known.ReadOffset)
            {
                // The copy of a truncated file (or an archive after a read error): same bytes, same offsets.
                seen.Add(fingerprint);
                known.AttachSource(archive ? fileSystem.OpenArchive(path) : fileSystem.OpenPlain(path), path);
                known.Revive();
                Log.Moved(logger, fingerprint, path);
                return;
            }

            // Truncated and rewritten with the same first bytes: not the bytes that were read, so a new file.
            LetGo(known, complete: false);
            rewritten = true;
        }

        if (Open(source, path, fingerprint, archive, rewritten) is not { } opened)
        {
            if (archive)
            {
                _completeArchives.Add(archiveKey!);
            }

            return;
        }

        _files[fingerprint] = new TrackedFile(fingerprint, path, source.Tenant, opened.Bytes, opened.Start, options.ParseLines, _batchBuffers)
        {
            LastGrowth = now,
            FingerprintBytes = options.FingerprintBytes,
            CheckpointGeneration = checkpoints.Generation(fingerprint),
        };
        seen.Add(fingerprint);
        Log.Tracking(logger, path, fingerprint, source.Tenant, opened.Start);
    }

    /// <summary>Opens a newly found file at its checkpoint (or where its source starts); null when it is already complete.</summary>
    private (IByteSource Bytes, long Start)? Open(SourceOptions source, string path, string fingerprint, bool archive, bool rewritten)
    {
        var checkpoint = checkpoints.Get(fingerprint);
        if (archive)
        {
            return checkpoint is { Complete: true } ? null : (fileSystem.OpenArchive(path), checkpoint?.Offset ?? 0);
        }

        var plain = fileSystem.OpenPlain(path);
        var length = plain.Length ?? 0;
        if (checkpoint is { Complete: true } && length <= checkpoint.Offset)
        {
            plain.Dispose();
            return null;
        }

        var pendingEnd = _startAtEndPending.Remove(path, out var endAtStartup) ? endAtStartup : (long?)null;
        var start = checkpoint?.Offset
            ?? (!_firstScanDone && source.StartAt == StartPosition.End ? length : (long?)null)
            ?? (pendingEnd is { } e && e <= length ? e : 0);
        if (start > length || rewritten)
        {
            // The checkpoint is past the end: the file was truncated and rewritten with the same first bytes.
            start = 0;
            checkpoints.Restart(fingerprint, path, source.Tenant);
        }

        return (plain, start);
    }

    private void LetGo(TrackedFile file, bool complete)
    {
        if (complete)
        {
            checkpoints.MarkComplete(file.Fingerprint, file.Path, file.Tenant, file.Acked);
            Log.LetGo(logger, file.Path, file.Fingerprint, file.Acked);
        }

        file.Dispose();
        _files.Remove(file.Fingerprint);
    }
}
