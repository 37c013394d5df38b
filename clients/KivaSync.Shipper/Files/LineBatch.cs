using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using KivaSync.Contracts;
using KivaSync.Contracts.V1;
using KivaSync.SystemLog;

namespace KivaSync.Shipper;

/// <summary>Limits of one batch.</summary>
internal readonly record struct BatchLimits(int MaxLines, int MaxBytes, TimeSpan MaxDelay);

/// <summary>
/// The lines of one batch being built for a file: each line encoded as it is read (or staged for the advisory parse),
/// the batch's message made at <see cref="Finish"/>. Owned by one <see cref="TrackedFile"/>, used by the shipper's loop only.
/// </summary>
internal sealed class LineBatch(string tenant, bool parseLines, ArrayPool<byte>? pool)
{
    // Per-line protobuf overhead counted against MaxBytes, so many tiny lines still make a bounded message.
    private const int LineOverheadBytes = 48;

    private readonly LineEncoder _encoder = new(pool);
    private readonly byte[] _tenantOnlyParsed = new ParsedEntry { Tenant = tenant }.ToByteArray();
    private readonly byte[] _tooLongParsed = new ParsedEntry { Tenant = tenant, RejectReason = SystemLog.RejectReason.TooLong.ToWire() }.ToByteArray();
    private readonly List<StagedLine> _staged = [];
    private byte[] _staging = [];
    private int _stagedBytes;

    /// <summary>Lines in the batch.</summary>
    public int Lines { get; private set; }

    /// <summary>Bytes counted against <see cref="BatchLimits.MaxBytes"/>.</summary>
    public long Bytes { get; private set; }

    /// <summary>True once the batch has reached one of its limits.</summary>
    public bool IsFull(BatchLimits limits) => Lines >= limits.MaxLines || Bytes >= limits.MaxBytes;

    /// <summary>Starts an empty batch.</summary>
    public void Clear()
    {
        Lines = 0;
        Bytes = 0;
        _encoder.Clear();
        _staged.Clear();
        _stagedBytes = 0;
    }

    /// <summary>Adds a line read from the file (blank lines are counted as read but carry no entry).</summary>
    public void Add(RawLine line, BatchLimits limits, ref ReadCounts counts)
    {
        counts.Lines++;
        counts.Bytes += line.Length;
        if (Lines == 0)
        {
            // One buffer per batch, sized for a full batch plus the line that fills it.
            _encoder.EnsureCapacity(Math.Min(limits.MaxBytes, 4 * 1024 * 1024) + (64 * 1024));
        }

        if (line.TooLongSha256 is not null)
        {
            counts.TooLong++;
            Lines++;
            Bytes += LineOverheadBytes + 32;
            if (parseLines)
            {
                _staged.Add(new StagedLine(line.Offset, line.Length, -1, 0, line.TooLongSha256));
            }
            else
            {
                _encoder.WriteLine((ulong)line.Offset, (uint)line.Length, [], line.TooLongSha256, _tooLongParsed);
            }

            return;
        }

        var content = line.Content.Span;
        if (IsBlank(content))
        {
            // Blank lines carry no entry: left out, their bytes still covered by the batch's offsets.
            return;
        }

        if (!Utf8Repair.IsValid(content))
        {
            content = Utf8Repair.Repair(content);
            counts.Repaired++;
        }

        Lines++;
        Bytes += LineOverheadBytes + content.Length;
        if (parseLines)
        {
            // Parsed when the batch is complete (in parallel), so the raw bytes wait in the staging buffer.
            Stage(line, content);
        }
        else
        {
            // The parse is advisory (the service parses the raw bytes itself): off, only the source's tenant is sent.
            _encoder.WriteLine((ulong)line.Offset, (uint)line.Length, content, [], _tenantOnlyParsed);
        }
    }

    /// <summary>The batch's message under <paramref name="header"/>.</summary>
    public EncodedBatch Finish(EntryBatch header)
    {
        if (parseLines)
        {
            EncodeParsed();
        }

        return _encoder.ToBatch(header, Lines);
    }

    private void Stage(RawLine line, ReadOnlySpan<byte> content)
    {
        if (_stagedBytes + content.Length > _staging.Length)
        {
            Array.Resize(ref _staging, Math.Max(_staging.Length * 2, _stagedBytes + content.Length));
        }

        content.CopyTo(_staging.AsSpan(_stagedBytes));
        _staged.Add(new StagedLine(line.Offset, line.Length, _stagedBytes, content.Length, null));
        _stagedBytes += content.Length;
    }

    /// <summary>The advisory parse dominates the shipper's CPU; lines are independent, so they are parsed in parallel.</summary>
    private void EncodeParsed()
    {
        var staged = _staged;
        var staging = _staging;
        // Advisory only: the service judges a future ts against its own clock when it processes the line.
        var now = DateTimeOffset.UtcNow;
        var parsed = new byte[staged.Count][];
        void ParseOne(int i)
        {
            var line = staged[i];
            parsed[i] = line.Sha256 is not null
                ? _tooLongParsed
                : ToParsed(SystemLogParser.Parse(staging.AsSpan(line.Start, line.Length), tenant, now)).ToByteArray();
        }

        if (staged.Count < 64)
        {
            for (var i = 0; i < staged.Count; i++)
            {
                ParseOne(i);
            }
        }
        else
        {
            Parallel.For(0, staged.Count, ParseOne);
        }

        for (var i = 0; i < staged.Count; i++)
        {
            var line = staged[i];
            var raw = line.Sha256 is null ? staging.AsSpan(line.Start, line.Length) : [];
            _encoder.WriteLine((ulong)line.Offset, (uint)line.FileLength, raw, line.Sha256, parsed[i]);
        }

        _staged.Clear();
        _stagedBytes = 0;
    }

    private static ParsedEntry ToParsed(ParseOutcome outcome)
    {
        var parsed = new ParsedEntry { Tenant = outcome.Tenant, RejectReason = outcome.Reason.ToWire() };
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

    /// <summary>A line waiting in the staging buffer for the batch's parse.</summary>
    private readonly record struct StagedLine(long Offset, int FileLength, int Start, int Length, byte[]? Sha256);
}

/// <summary>What one read of a file counted, reported to the metrics at its end (a metric update per line costs as much
/// as reading the line).</summary>
internal struct ReadCounts
{
    public long Lines;
    public long Bytes;
    public long TooLong;
    public long Repaired;

    public readonly void Report(ShipperMetrics metrics)
    {
        if (Lines == 0)
        {
            return;
        }

        metrics.LinesRead.Add(Lines);
        metrics.BytesRead.Add(Bytes);
        if (TooLong > 0)
        {
            metrics.LinesTooLong.Add(TooLong);
        }

        if (Repaired > 0)
        {
            metrics.LinesRepaired.Add(Repaired);
        }
    }
}
