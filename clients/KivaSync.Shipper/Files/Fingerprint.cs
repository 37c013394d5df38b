using System.Security.Cryptography;

namespace KivaSync.Shipper;

/// <summary>A file's identity: hex SHA-256 (first 16 bytes) of its first N bytes, decompressed for .gz, so a rotated
/// or compressed copy keeps the identity of the file it came from.</summary>
internal static class Fingerprint
{
    /// <summary>Fingerprint of the file at <paramref name="path"/>; null while a live file is shorter than N bytes or
    /// when it cannot be read. An archive shorter than N bytes is final, so its whole content is used.</summary>
    public static string? TryCompute(string path, int n)
    {
        try
        {
            if (GzipFileSource.IsGzipPath(path))
            {
                using var stream = GzipFileSource.OpenDecompressed(path);
                var buffer = new byte[n];
                var read = stream.ReadAtLeast(buffer, n, throwOnEndOfStream: false);
                return read == 0 ? null : Of(buffer.AsSpan(0, read));
            }

            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return TryCompute(handle, n);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>Fingerprint through an open handle, to check the file behind it is still the same.</summary>
    public static string? TryCompute(Microsoft.Win32.SafeHandles.SafeFileHandle handle, int n)
    {
        var buffer = new byte[n];
        var read = 0;
        while (read < n)
        {
            var r = RandomAccess.Read(handle, buffer.AsSpan(read), read);
            if (r == 0)
            {
                return null;
            }

            read += r;
        }

        return Of(buffer);
    }

    /// <summary>Fingerprint of bytes already read.</summary>
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16));
}
