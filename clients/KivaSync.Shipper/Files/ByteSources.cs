using System.IO.Compression;
using Microsoft.Win32.SafeHandles;

namespace KivaSync.Shipper;

/// <summary>The bytes of one tracked file, read by offset.</summary>
internal interface IByteSource : IDisposable
{
    /// <summary>True for a compressed archive, read once to its end.</summary>
    bool IsArchive { get; }

    /// <summary>Reads at <paramref name="offset"/>; 0 at the current end.</summary>
    int Read(Span<byte> buffer, long offset);

    /// <summary>Current length, when known without reading (plain files).</summary>
    long? Length { get; }

    /// <summary>The fingerprint of the first <paramref name="bytes"/> bytes behind this source now (null while shorter):
    /// tells whether it still holds the file it was identified as, or was truncated and rewritten under the reader.</summary>
    string? CurrentFingerprint(int bytes);
}

/// <summary>A plain file, by an open handle: the handle follows the file through rename and deletion.</summary>
internal sealed class PlainFileSource(SafeFileHandle handle) : IByteSource
{
    public SafeFileHandle Handle => handle;

    public bool IsArchive => false;

    public long? Length => RandomAccess.GetLength(handle);

    public static PlainFileSource Open(string path) =>
        new(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));

    public int Read(Span<byte> buffer, long offset) => RandomAccess.Read(handle, buffer, offset);

    public string? CurrentFingerprint(int bytes) => Fingerprint.TryCompute(handle, bytes);

    public void Dispose() => handle.Dispose();
}

/// <summary>A .gz archive, offsets in its decompressed bytes; going back reopens it.</summary>
internal sealed class GzipFileSource(string path) : IByteSource
{
    private FileStream? _file;
    private GZipStream? _gzip;
    private long _position;

    public bool IsArchive => true;

    public long? Length => null;

    public static bool IsGzipPath(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    public static Stream OpenDecompressed(string path) =>
        new GZipStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024), CompressionMode.Decompress);

    public int Read(Span<byte> buffer, long offset)
    {
        if (_gzip is null || offset < _position)
        {
            Reopen();
        }

        if (offset > _position)
        {
            Skip(offset - _position);
        }

        var n = _gzip!.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        _position += n;
        return n;
    }

    public string? CurrentFingerprint(int bytes) => Fingerprint.TryCompute(path, bytes);

    public void Dispose()
    {
        _gzip?.Dispose();
        _file?.Dispose();
    }

    private void Reopen()
    {
        Dispose();
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
        _gzip = new GZipStream(_file, CompressionMode.Decompress);
        _position = 0;
    }

    private void Skip(long count)
    {
        var scratch = new byte[64 * 1024];
        while (count > 0)
        {
            var n = _gzip!.Read(scratch, 0, (int)Math.Min(scratch.Length, count));
            if (n == 0)
            {
                return;
            }

            count -= n;
            _position += n;
        }
    }
}
