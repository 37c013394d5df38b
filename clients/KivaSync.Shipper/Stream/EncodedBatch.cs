using System.Buffers;
using System.Numerics;
using Google.Protobuf;
using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.Shipper;

/// <summary>
/// An EntryBatch whose lines are already in protobuf wire format in one pooled buffer: its header (sequence, source,
/// offsets, trace context) is a line-less <see cref="EntryBatch"/>, its lines are field 5 records appended after it.
/// Protobuf allows a repeated field's records anywhere in a message, so the service reads an ordinary EntryBatch.
/// This spares the per-line LogLine/ByteString objects and the second copy of every byte a serialiser would make.
/// </summary>
internal sealed class EncodedBatch
{
    private const int LinesField = 5;

    private readonly ArrayPool<byte>? _pool;
    private byte[]? _lines;

    public EncodedBatch(EntryBatch header, byte[] lines, int length, int lineCount, ArrayPool<byte>? pool)
    {
        Header = header;
        _lines = lines;
        LinesLength = length;
        LineCount = lineCount;
        _pool = pool;
    }

    /// <summary>Everything but the lines.</summary>
    public EntryBatch Header { get; }

    /// <summary>Number of LogLine records.</summary>
    public int LineCount { get; }

    /// <summary>Bytes of the encoded lines.</summary>
    public int LinesLength { get; }

    /// <summary>The encoded LogLine records (field 5, each with its tag and length).</summary>
    public ReadOnlySpan<byte> Lines => (_lines ?? throw new ObjectDisposedException(nameof(EncodedBatch))).AsSpan(0, LinesLength);

    /// <summary>The request marshaller of LogIngest.Ship for encoded batches.</summary>
    public static Marshaller<EncodedBatch> Marshaller { get; } = new(Serialize, Deserialize);

    /// <summary>LogIngest.Ship with encoded batches as requests; the same method on the wire.</summary>
    public static Method<EncodedBatch, BatchAck> ShipMethod { get; } = new(
        MethodType.DuplexStreaming,
        "kiva.sync.v1.LogIngest",
        "Ship",
        Marshaller,
        Marshallers.Create(static (BatchAck ack, SerializationContext ctx) =>
        {
            ctx.SetPayloadLength(ack.CalculateSize());
            ack.WriteTo(ctx.GetBufferWriter());
            ctx.Complete();
        }, static ctx => BatchAck.Parser.ParseFrom(ctx.PayloadAsReadOnlySequence())));

    /// <summary>Gives the lines' buffer back to its pool once the message is written (it was copied by then).</summary>
    public void Release()
    {
        var lines = Interlocked.Exchange(ref _lines, null);
        if (lines is not null)
        {
            _pool?.Return(lines);
        }
    }

    private static void Serialize(EncodedBatch batch, SerializationContext context)
    {
        var lines = batch.Lines;
        var headerSize = batch.Header.CalculateSize();
        context.SetPayloadLength(headerSize + lines.Length);
        var writer = context.GetBufferWriter();
        batch.Header.WriteTo(writer);
        writer.Write(lines);
        context.Complete();
    }

    private static EncodedBatch Deserialize(DeserializationContext context)
    {
        // A received batch (e.g. by a proxy written with this type): split it into header and line records again.
        var batch = EntryBatch.Parser.ParseFrom(context.PayloadAsReadOnlySequence());
        var writer = new LineEncoder(null);
        foreach (var line in batch.Lines)
        {
            writer.WriteMessage(line);
        }

        var count = batch.Lines.Count;
        batch.Lines.Clear();
        return writer.ToBatch(batch, count);
    }
}

/// <summary>Appends LogLine records (field 5 of EntryBatch) to a growing buffer.</summary>
internal sealed class LineEncoder(ArrayPool<byte>? pool)
{
    private const byte LineTag = (5 << 3) | 2;
    private const byte OffsetTag = (1 << 3) | 0;
    private const byte LengthTag = (2 << 3) | 0;
    private const byte RawTag = (3 << 3) | 2;
    private const byte Sha256Tag = (4 << 3) | 2;
    private const byte ParsedTag = (5 << 3) | 2;

    private byte[] _buffer = [];
    private int _length;

    public int Length => _length;

    /// <summary>One line: offset, length in the file, its bytes, and an already encoded ParsedEntry (may be empty).</summary>
    public void WriteLine(ulong offset, uint length, ReadOnlySpan<byte> raw, ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> parsed)
    {
        var body = 1 + VarintSize(offset) + 1 + VarintSize(length);
        if (!raw.IsEmpty)
        {
            body += 1 + VarintSize((uint)raw.Length) + raw.Length;
        }

        if (!sha256.IsEmpty)
        {
            body += 1 + VarintSize((uint)sha256.Length) + sha256.Length;
        }

        if (!parsed.IsEmpty)
        {
            body += 1 + VarintSize((uint)parsed.Length) + parsed.Length;
        }

        var span = Reserve(1 + VarintSize((uint)body) + body);
        var at = 0;
        span[at++] = LineTag;
        at += WriteVarint(span[at..], (uint)body);
        span[at++] = OffsetTag;
        at += WriteVarint(span[at..], offset);
        span[at++] = LengthTag;
        at += WriteVarint(span[at..], length);
        at += WriteBytes(span[at..], RawTag, raw);
        at += WriteBytes(span[at..], Sha256Tag, sha256);
        at += WriteBytes(span[at..], ParsedTag, parsed);
        _length += at;
    }

    /// <summary>A LogLine message encoded as it is (used only to re-split a received batch).</summary>
    public void WriteMessage(LogLine line)
    {
        var size = line.CalculateSize();
        var span = Reserve(1 + VarintSize((uint)size) + size);
        span[0] = LineTag;
        var at = 1 + WriteVarint(span[1..], (uint)size);
        line.WriteTo(span.Slice(at, size));
        _length += at + size;
    }

    /// <summary>Hands the buffer to a batch and starts a new one.</summary>
    public EncodedBatch ToBatch(EntryBatch header, int lineCount)
    {
        var batch = new EncodedBatch(header, _buffer, _length, lineCount, pool);
        _buffer = [];
        _length = 0;
        return batch;
    }

    /// <summary>Makes room for <paramref name="bytes"/> more bytes at once, so a batch's buffer is not grown by copying.</summary>
    public void EnsureCapacity(int bytes) => Reserve(bytes);

    /// <summary>Forgets what was written (the buffer is kept).</summary>
    public void Clear() => _length = 0;

    private static int WriteBytes(Span<byte> span, byte tag, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return 0;
        }

        span[0] = tag;
        var at = 1 + WriteVarint(span[1..], (uint)value.Length);
        value.CopyTo(span[at..]);
        return at + value.Length;
    }

    private Span<byte> Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            var size = Math.Max(Math.Max(_buffer.Length * 2, _length + bytes), 64 * 1024);
            var bigger = pool?.Rent(size) ?? new byte[size];
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            if (_buffer.Length > 0)
            {
                pool?.Return(_buffer);
            }

            _buffer = bigger;
        }

        return _buffer.AsSpan(_length, bytes);
    }

    private static int VarintSize(ulong value) => value < 0x80 ? 1 : (70 - BitOperations.LeadingZeroCount(value)) / 7;

    private static int WriteVarint(Span<byte> span, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        return i;
    }
}
