using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using KivaSync.Contracts.V1;
using KivaSync.SystemLog;
using ContractReason = KivaSync.Contracts.V1.RejectReason;

namespace KivaSync.Shipper;

/// <summary>Limits of one batch.</summary>
internal readonly record struct BatchLimits(int MaxLines, int MaxBytes, TimeSpan MaxDelay);

/// <summary>
/// One file the shipper follows, known by its fingerprint. Reading (and everything but <see cref="AdvanceAcked"/>) happens
/// on the shipper's loop only; acknowledgements arrive on the receive loop and only move <see cref="Acked"/>.
/// </summary>
internal sealed class TrackedFile : IDisposable
{
    // Per-line protobuf overhead counted against MaxBytes, so many tiny lines still make a bounded message.
    private const int LineOverheadBytes = 48;

    private readonly LineReader _reader;
    private readonly bool _parseLines;
    private Source _source;
    private IByteSource? _bytes;
    private long _acked;
    private EntryBatch? _pending;
    private long _pendingBytes;
    private DateTimeOffset _pendingSince;

    public TrackedFile(string fingerprint, string path, string tenant, IByteSource bytes, long offset, bool parseLines = true)
    {
        _parseLines = parseLines;
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

    public string Tenant { get; }

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
    public bool FullyAcked => Acked >= SentOffset && _pending is null;

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
        _pending = null;
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
    public EntryBatch? TryBuildBatch(BatchLimits limits, DateTimeOffset now, ShipperMetrics metrics)
    {
        if (_bytes is null || Exhausted)
        {
            return null;
        }

        if (_pending is null)
        {
            _pending = new EntryBatch { Source = _source, StartOffset = (ulong)_reader.Position };
            _pendingBytes = 0;
            _pendingSince = now;
        }

        var final = IsArchive || Finalizing;
        var full = false;
        while (!full)
        {
            if (!_reader.TryReadLine(out var line) && !(final && _reader.AtEnd && _reader.TryReadTrailing(out line)))
            {
                break;
            }

            Add(line, metrics);
            full = _pending.Lines.Count >= limits.MaxLines || _pendingBytes >= limits.MaxBytes;
        }

        var end = _reader.Position;
        if (end == (long)_pending.StartOffset)
        {
            _pending = null;
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

        var batch = _pending;
        batch.EndOffset = (ulong)end;
        if (_source.Path != Path)
        {
            // A new message: batches already handed to the stream keep the path they were read under.
            _source = new Source { Tenant = Tenant, Path = Path, Fingerprint = Fingerprint };
            batch.Source = _source;
        }

        _pending = null;
        SentOffset = end;
        if (_parseLines)
        {
            ParseAll(batch);
        }

        return batch;
    }

    public void Dispose() => DetachSource();

    private void Add(RawLine line, ShipperMetrics metrics)
    {
        metrics.LinesRead.Add(1);
        metrics.BytesRead.Add(line.Length);
        if (line.TooLongSha256 is not null)
        {
            metrics.LinesTooLong.Add(1);
            _pending!.Lines.Add(new LogLine
            {
                Offset = (ulong)line.Offset,
                Length = (uint)line.Length,
                RawSha256 = ByteString.CopyFrom(line.TooLongSha256),
                Parsed = new ParsedEntry { Tenant = Tenant, RejectReason = ContractReason.TooLong },
            });
            _pendingBytes += LineOverheadBytes + 32;
            return;
        }

        var content = line.Content.Span;
        if (IsBlank(content))
        {
            // Blank lines carry no entry: left out, their bytes still covered by the batch's offsets.
            return;
        }

        byte[]? repaired = null;
        if (!Utf8Repair.IsValid(content))
        {
            repaired = Utf8Repair.Repair(content);
            content = repaired;
            metrics.LinesRepaired.Add(1);
        }

        _pending!.Lines.Add(new LogLine
        {
            Offset = (ulong)line.Offset,
            Length = (uint)line.Length,
            Raw = repaired is null ? ByteString.CopyFrom(content) : UnsafeByteOperations.UnsafeWrap(repaired),
            // The parse is advisory (the service parses the raw bytes itself): it can be turned off for throughput.
            // Parsed when the batch is complete (in parallel), or only the tenant when parsing is off.
            Parsed = _parseLines ? null : new ParsedEntry { Tenant = Tenant },
        });
        _pendingBytes += LineOverheadBytes + content.Length;
    }

    /// <summary>The advisory parse dominates the shipper's CPU; lines are independent, so they are parsed in parallel.</summary>
    private void ParseAll(EntryBatch batch)
    {
        var lines = batch.Lines;
        var tenant = Tenant;
        if (lines.Count < 64)
        {
            foreach (var line in lines)
            {
                line.Parsed ??= ToParsed(SystemLogParser.Parse(line.Raw.Span, tenant));
            }

            return;
        }

        Parallel.For(0, lines.Count, i => lines[i].Parsed ??= ToParsed(SystemLogParser.Parse(lines[i].Raw.Span, tenant)));
    }

    private static ParsedEntry ToParsed(ParseOutcome outcome)
    {
        var parsed = new ParsedEntry { Tenant = outcome.Tenant, RejectReason = (ContractReason)(int)outcome.Reason };
        if (outcome.Id is { } id)
        {
            parsed.Id = id;
        }

        if (outcome.Entry is { } entry)
        {
            parsed.Ts = Timestamp.FromDateTimeOffset(entry.Ts);
            if (entry.Event is { } name)
            {
                parsed.Event = name;
            }

            if (entry.Customer?.CustomerId is { } customerId)
            {
                parsed.CustomerId = customerId;
            }
        }

        return parsed;
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept((byte)' ', (byte)'\t', (byte)'\r') < 0;
}
