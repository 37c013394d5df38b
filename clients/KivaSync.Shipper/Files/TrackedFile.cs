using System.Buffers;
using KivaSync.Contracts.V1;
using KivaSync.SystemLog;

namespace KivaSync.Shipper;

/// <summary>
/// One file the shipper follows, known by its fingerprint. Reading (and everything but <see cref="AdvanceAcked"/>) happens
/// on the shipper's loop only; acknowledgements arrive on the receive loop and only move <see cref="Acked"/>.
/// </summary>
internal sealed class TrackedFile : IDisposable
{
    private readonly LineReader _reader;
    private readonly LineBatch _pending;
    private Source _source;
    private IByteSource? _bytes;
    private long _acked;
    private bool _pendingOpen;
    private long _pendingStart;
    private DateTimeOffset _pendingSince;

    public TrackedFile(string fingerprint, string path, string tenant, IByteSource bytes, long offset, bool parseLines = false, ArrayPool<byte>? pool = null)
    {
        _pending = new LineBatch(tenant, parseLines, pool);
        Fingerprint = fingerprint;
        Path = path;
        Tenant = tenant;
        _bytes = bytes;
        IsArchive = bytes.IsArchive;
        _acked = offset;
        SentOffset = offset;
        _reader = new LineReader(bytes, offset, SystemLogParser.MaxLineBytes);
        _source = new Source { Tenant = tenant, Path = path, Fingerprint = fingerprint };
        LastLength = bytes.Length ?? 0;
    }

    public string Fingerprint { get; }

    /// <summary>Bytes the fingerprint covers; reads are checked against it (0: not checked, for a file known not to
    /// change under the reader, as in benchmarks).</summary>
    public int FingerprintBytes { get; init; }

    public string Tenant { get; }

    /// <summary>The checkpoint store's generation of this fingerprint when this file was found; its acknowledgements move
    /// the checkpoint only while no restart (same first bytes, new content) has replaced it.</summary>
    public int CheckpointGeneration { get; init; }

    /// <summary>Where the file was last seen.</summary>
    public string Path
    {
        get => Volatile.Read(ref field);
        set => Volatile.Write(ref field, value);
    }

    public bool IsArchive { get; }

    /// <summary>The open handle; null after the file behind it was truncated or replaced, until found again.</summary>
    public IByteSource? Bytes => _bytes;

    /// <summary>Every byte before this offset is acknowledged.</summary>
    public long Acked => Interlocked.Read(ref _acked);

    /// <summary>Where the next batch starts.</summary>
    public long SentOffset { get; private set; }

    /// <summary>Offset past the last byte read (lag is measured from here to the file's length).</summary>
    public long ReadOffset => _reader.ReadOffset;

    /// <summary>Last known length (plain files).</summary>
    public long LastLength { get; set; }

    /// <summary>When the file last grew.</summary>
    public DateTimeOffset LastGrowth { get; set; }

    /// <summary>When the file was last not found at any path (rotated away or deleted); null while it is found.</summary>
    public DateTimeOffset? OrphanedSince { get; set; }

    /// <summary>No more bytes will come: the unterminated rest is sent as a last line.</summary>
    public bool Finalizing { get; set; }

    /// <summary>True once everything was read and sent (archives and finalizing files).</summary>
    public bool Exhausted { get; private set; }

    /// <summary>True when everything sent is acknowledged.</summary>
    public bool FullyAcked => Acked >= SentOffset && !_pendingOpen;

    /// <summary>Moves the acknowledged offset over a batch that starts where the acknowledged bytes end.</summary>
    public void AdvanceAcked(long start, long end)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _acked);
            // Only contiguous batches move the checkpoint; a batch from an older stream is ignored.
            if (start > current || end <= current)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _acked, end, current) == current)
            {
                return;
            }
        }
    }

    /// <summary>Found again at a configured path: it may grow again, so its unterminated rest is no last line yet.</summary>
    public void Revive()
    {
        OrphanedSince = null;
        if (Finalizing && !IsArchive)
        {
            Finalizing = false;
            Exhausted = false;
        }
    }

    /// <summary>Forgets what was read but not acknowledged: the next batch starts at the checkpoint.</summary>
    public void ResetToAcked()
    {
        var acked = Acked;
        _reader.Reset(acked);
        SentOffset = acked;
        _pendingOpen = false;
        Exhausted = false;
    }

    /// <summary>The file behind the handle changed; reading waits until a copy with the same fingerprint is found.</summary>
    public void DetachSource()
    {
        _bytes?.Dispose();
        _bytes = null;
    }

    /// <summary>Continues reading from another path holding the same bytes (e.g. the copy of a copy-truncate).</summary>
    public void AttachSource(IByteSource bytes, string path)
    {
        _bytes?.Dispose();
        _bytes = bytes;
        _reader.SwapSource(bytes);
        Path = path;
    }

    /// <summary>
    /// Reads lines into the pending batch and returns it when it is full, when it has waited
    /// <see cref="BatchLimits.MaxDelay"/> at the end of the file, or when the file will not grow (archive, finalizing).
    /// </summary>
    public EncodedBatch? TryBuildBatch(BatchLimits limits, DateTimeOffset now, ShipperMetrics metrics)
    {
        if (_bytes is null || Exhausted)
        {
            return null;
        }

        if (!HoldsThisFile())
        {
            Replaced();
            return null;
        }

        var readBefore = _reader.ReadOffset;
        if (!_pendingOpen)
        {
            _pendingOpen = true;
            _pendingStart = _reader.Position;
            _pendingSince = now;
            _pending.Clear();
        }

        var final = IsArchive || Finalizing;
        var full = false;
        var counts = default(ReadCounts);
        while (!full)
        {
            if (!_reader.TryReadLine(out var line) && !(final && _reader.AtEnd && _reader.TryReadTrailing(out line)))
            {
                break;
            }

            _pending.Add(line, limits, ref counts);
            full = _pending.IsFull(limits);
        }

        // Counted once per call, not per line: a metric update per line costs as much as reading the line.
        counts.Report(metrics);
        if (_reader.ReadOffset != readBefore && !HoldsThisFile())
        {
            // Truncated (copy-and-truncate) and regrown while it was read: the bytes read since the check above may be
            // new content at this file's offsets. The check before reading cannot tell: the writer may act between it
            // and the read (a slow scheduler), so only a check after the read vouches for what was read.
            Replaced();
            return null;
        }

        var end = _reader.Position;
        if (end == _pendingStart)
        {
            _pendingOpen = false;
            if (final && _reader.AtEnd && !_reader.HasPartialLine)
            {
                Exhausted = true;
            }

            return null;
        }

        if (!full && !(final && _reader.AtEnd) && now - _pendingSince < limits.MaxDelay)
        {
            return null;
        }

        if (_source.Path != Path)
        {
            // A new message: batches already handed to the stream keep the path they were read under.
            _source = new Source { Tenant = Tenant, Path = Path, Fingerprint = Fingerprint };
        }

        _pendingOpen = false;
        SentOffset = end;
        return _pending.Finish(new EntryBatch { Source = _source, StartOffset = (ulong)_pendingStart, EndOffset = (ulong)end });
    }

    public void Dispose() => DetachSource();

    /// <summary>True while the handle still holds this file: at least as long as what was read, its first bytes unchanged.</summary>
    private bool HoldsThisFile() =>
        FingerprintBytes <= 0 || IsArchive || _bytes is null ||
        ((_bytes.Length is not { } length || length >= _reader.ReadOffset) && _bytes.CurrentFingerprint(FingerprintBytes) == Fingerprint);

    /// <summary>
    /// The handle no longer holds this file: everything not yet sent is forgotten (it may be another file's bytes) and the
    /// handle let go, so reading goes on from the last sent offset once a copy with this fingerprint is found.
    /// </summary>
    private void Replaced()
    {
        _reader.Reset(SentOffset);
        _pendingOpen = false;
        DetachSource();
    }
}
