using System.Security.Cryptography;
using System.Text;
using KivaSync.SystemLog;

namespace KivaSync.Shipper.Tests;

public sealed class LineReaderTests
{
    [Theory]
    [InlineData(SystemLogParser.MaxLineBytes + 1)]
    [InlineData(SystemLogParser.MaxLineBytes + 2)]
    [InlineData(327_679)]
    [InlineData(327_680)]
    [InlineData(327_681)]
    [InlineData(393_214)]
    [InlineData(393_215)]
    [InlineData(1_000_000)]
    public void TryReadLine_OverLongCrLfLine_HashesContentWithoutLineEnding(int length)
    {
        var content = Pattern(length);
        var bytes = content.Concat("\r\n"u8.ToArray()).Concat("{\"next\":1}\n"u8.ToArray()).ToArray();
        var reader = new LineReader(new MemorySource(bytes), 0, SystemLogParser.MaxLineBytes);

        Assert.True(reader.TryReadLine(out var line));

        Assert.Equal(SHA256.HashData(content), line.TooLongSha256);
        Assert.True(line.Content.IsEmpty);
        Assert.Equal(length + 2, line.Length);
        Assert.True(reader.TryReadLine(out var next));
        Assert.Equal(length + 2, next.Offset);
        Assert.Equal("{\"next\":1}", Encoding.UTF8.GetString(next.Content.Span));
    }

    [Fact]
    public void TryReadLine_LineOfExactlyTheLimitWithCrLf_IsKeptWhole()
    {
        var content = Pattern(SystemLogParser.MaxLineBytes);
        var bytes = content.Concat("\r\n"u8.ToArray()).ToArray();
        var reader = new LineReader(new MemorySource(bytes), 0, SystemLogParser.MaxLineBytes);

        Assert.True(reader.TryReadLine(out var line));

        Assert.Null(line.TooLongSha256);
        Assert.Equal(content, line.Content.ToArray());
        Assert.Equal(bytes.Length, line.Length);
    }

    [Fact]
    public void TryReadLine_OverLongLineEndingInCrWithoutNewline_KeepsCrInHashWhenLineContinues()
    {
        // A '\r' held at a read boundary is content when more bytes follow it.
        var content = Pattern(300_000);
        content[200_000] = (byte)'\r';
        var bytes = content.Concat("\n"u8.ToArray()).ToArray();
        var reader = new LineReader(new MemorySource(bytes), 0, SystemLogParser.MaxLineBytes);

        Assert.True(reader.TryReadLine(out var line));

        Assert.Equal(SHA256.HashData(content), line.TooLongSha256);
    }

    [Fact]
    public void TryReadTrailing_FinalLineWithoutNewline_ReturnedOnlyWhenAsked()
    {
        var reader = new LineReader(new MemorySource("{\"a\":1}\n{\"b\":2}"u8.ToArray()), 0, SystemLogParser.MaxLineBytes);

        Assert.True(reader.TryReadLine(out _));
        Assert.False(reader.TryReadLine(out _));
        Assert.True(reader.HasPartialLine);
        Assert.Equal(8, reader.Position);

        Assert.True(reader.TryReadTrailing(out var last));
        Assert.Equal(8, last.Offset);
        Assert.Equal(7, last.Length);
        Assert.Equal("{\"b\":2}", Encoding.UTF8.GetString(last.Content.Span));
    }

    [Fact]
    public void Reset_ToAnEarlierOffset_ReadsTheSameLinesAgain()
    {
        var reader = new LineReader(new MemorySource("one\ntwo\nthree\n"u8.ToArray()), 0, SystemLogParser.MaxLineBytes);
        Assert.True(reader.TryReadLine(out _));
        Assert.True(reader.TryReadLine(out _));

        reader.Reset(4);

        Assert.True(reader.TryReadLine(out var again));
        Assert.Equal(4, again.Offset);
        Assert.Equal("two", Encoding.UTF8.GetString(again.Content.Span));
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)('a' + (i % 26));
        }

        return bytes;
    }

    /// <summary>A file in memory, read in small pieces like a growing file.</summary>
    private sealed class MemorySource(byte[] bytes) : IByteSource
    {
        public bool IsArchive => false;

        public long? Length => bytes.Length;

        public int Read(Span<byte> buffer, long offset)
        {
            if (offset >= bytes.Length)
            {
                return 0;
            }

            // Odd-sized reads put line endings on read boundaries.
            var n = (int)Math.Min(Math.Min(buffer.Length, 40_001), bytes.Length - offset);
            bytes.AsSpan((int)offset, n).CopyTo(buffer);
            return n;
        }

        public string? CurrentFingerprint(int n) => bytes.Length < n ? null : Fingerprint.Of(bytes.AsSpan(0, n));

        public void Dispose()
        {
        }
    }
}
