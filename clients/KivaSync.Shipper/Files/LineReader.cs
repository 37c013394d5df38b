using System.Security.Cryptography;

namespace KivaSync.Shipper;

/// <summary>One line as read from a file. <see cref="Content"/> is only valid until the next read.</summary>
/// <param name="Offset">Offset of the line's first byte.</param>
/// <param name="Length">Bytes in the file, line ending included.</param>
/// <param name="Content">The bytes without "\n" or "\r\n"; empty when the line is too long.</param>
/// <param name="TooLongSha256">SHA-256 of the line without its ending, set only for an over-long line.</param>
internal readonly record struct RawLine(long Offset, int Length, ReadOnlyMemory<byte> Content, byte[]? TooLongSha256);

/// <summary>
/// Splits a file into lines at '\n' with a fixed buffer. A line longer than the limit is never held: its bytes
/// are hashed as they stream past and dropped, so memory stays bounded whatever the file holds.
/// </summary>
internal sealed class LineReader
{
    private const int ChunkBytes = 64 * 1024;

    private readonly int _maxLineBytes;
    private readonly byte[] _buffer;
    private IByteSource _source;
    private long _bufferOffset;
    private int _start;
    private int _end;
    private bool _eof;

    // While skipping an over-long line: where it starts, its running hash, and the last byte held back
    // because a final '\r' belongs to the line ending, not the line.
    private IncrementalHash? _skipHash;
    private long _skipStart;
    private int _heldByte = -1;

    public LineReader(IByteSource source, long offset, int maxLineBytes)
    {
        _source = source;
        _maxLineBytes = maxLineBytes;
        _buffer = new byte[maxLineBytes + 2 + ChunkBytes];
        Reset(offset);
    }

    /// <summary>Offset of the first byte not yet returned in a line.</summary>
    public long Position => _skipHash is not null ? _skipStart : _bufferOffset + _start;

    /// <summary>Offset just past the last byte read from the file.</summary>
    public long ReadOffset => _bufferOffset + _end;

    /// <summary>True when the last read found the end of the file.</summary>
    public bool AtEnd => _eof;

    /// <summary>True when bytes of an unfinished line are held (or being skipped).</summary>
    public bool HasPartialLine => _skipHash is not null || _end > _start;

    public void Reset(long offset)
    {
        _bufferOffset = offset;
        _start = 0;
        _end = 0;
        _eof = false;
        _skipHash?.Dispose();
        _skipHash = null;
        _heldByte = -1;
    }

    /// <summary>Continues on another handle to the same bytes (the file was found again under another path).</summary>
    public void SwapSource(IByteSource source) => _source = source;

    /// <summary>The next complete line, or false when the file has no complete line past <see cref="Position"/> yet.</summary>
    public bool TryReadLine(out RawLine line)
    {
        while (true)
        {
            var data = _buffer.AsSpan(_start, _end - _start);
            var newline = data.IndexOf((byte)'\n');
            if (_skipHash is not null)
            {
                if (newline < 0)
                {
                    HashSkipped(data);
                    _bufferOffset += _end;
                    _start = _end = 0;
                    if (!Fill())
                    {
                        line = default;
                        return false;
                    }

                    continue;
                }

                HashSkipped(data[..newline]);
                var end = _bufferOffset + _start + newline + 1;
                _start += newline + 1;
                line = FinishSkipped(end);
                return true;
            }

            if (newline >= 0)
            {
                var offset = _bufferOffset + _start;
                var content = _buffer.AsMemory(_start, newline);
                _start += newline + 1;
                line = MakeLine(offset, newline + 1, content);
                return true;
            }

            if (data.Length > _maxLineBytes + 1)
            {
                // Longer than any acceptable line even if it ends in "\r\n": stop holding it.
                _skipStart = _bufferOffset + _start;
                _skipHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                _heldByte = -1;
                continue;
            }

            if (!Fill())
            {
                line = default;
                return false;
            }
        }
    }

    /// <summary>The unterminated rest of a file that will not grow any more, as a last line.</summary>
    public bool TryReadTrailing(out RawLine line)
    {
        if (_skipHash is not null)
        {
            HashSkipped(_buffer.AsSpan(_start, _end - _start));
            var end = _bufferOffset + _end;
            _start = _end;
            line = FinishSkipped(end);
            return true;
        }

        if (_end > _start)
        {
            var offset = _bufferOffset + _start;
            var content = _buffer.AsMemory(_start, _end - _start);
            var length = _end - _start;
            _start = _end;
            line = MakeLine(offset, length, content);
            return true;
        }

        line = default;
        return false;
    }

    private RawLine MakeLine(long offset, int length, ReadOnlyMemory<byte> content)
    {
        if (content.Length > 0 && content.Span[^1] == (byte)'\r')
        {
            content = content[..^1];
        }

        return content.Length > _maxLineBytes
            ? new RawLine(offset, length, ReadOnlyMemory<byte>.Empty, SHA256.HashData(content.Span))
            : new RawLine(offset, length, content, null);
    }

    private RawLine FinishSkipped(long end)
    {
        if (_heldByte >= 0 && _heldByte != '\r')
        {
            _skipHash!.AppendData([(byte)_heldByte]);
        }

        var hash = _skipHash!.GetHashAndReset();
        _skipHash.Dispose();
        _skipHash = null;
        _heldByte = -1;
        var length = end - _skipStart;
        return new RawLine(_skipStart, (int)Math.Min(length, int.MaxValue), ReadOnlyMemory<byte>.Empty, hash);
    }

    private void HashSkipped(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_heldByte >= 0)
        {
            _skipHash!.AppendData([(byte)_heldByte]);
        }

        _skipHash!.AppendData(data[..^1]);
        _heldByte = data[^1];
    }

    private bool Fill()
    {
        if (_start > 0)
        {
            // Keep the partial line at the front so a whole line always fits.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _bufferOffset += _start;
            _end -= _start;
            _start = 0;
        }

        var room = Math.Min(ChunkBytes, _buffer.Length - _end);
        var n = _source.Read(_buffer.AsSpan(_end, room), _bufferOffset + _end);
        _eof = n == 0;
        _end += n;
        return n > 0;
    }
}
