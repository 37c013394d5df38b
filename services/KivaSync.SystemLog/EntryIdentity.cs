using System.Security.Cryptography;
using System.Text;

namespace KivaSync.SystemLog;

/// <summary>
/// The contract's identity of an entry: tenant plus "id" when present, else tenant plus the
/// line's exact bytes (without line ending). Reduced to a 128-bit SHA-256 prefix so that
/// deduplication stores 16 bytes per entry whatever the line's length; a collision needs
/// ~2^64 entries in one tenant.
/// </summary>
public static class EntryIdentity
{
    /// <summary>Size of an identity in bytes.</summary>
    public const int Size = 16;

    /// <summary>Computes the identity of a line into <paramref name="destination"/> (16 bytes).</summary>
    public static void Compute(string tenant, string? id, ReadOnlySpan<byte> lineBytes, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // A one-byte domain tag keeps "id" identities and byte identities from ever colliding.
        hash.AppendData(id is null ? "L"u8 : "I"u8);
        hash.AppendData(Encoding.UTF8.GetBytes(tenant));
        hash.AppendData([0]);
        if (id is null)
        {
            hash.AppendData(lineBytes);
        }
        else
        {
            hash.AppendData(Encoding.UTF8.GetBytes(id));
        }

        Span<byte> full = stackalloc byte[32];
        hash.GetHashAndReset(full);
        full[..Size].CopyTo(destination);
    }

    /// <summary>Computes the identity of a too-long line whose bytes were not shipped, from their SHA-256.</summary>
    public static void ComputeFromLineHash(string tenant, ReadOnlySpan<byte> lineSha256, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("H"u8);
        hash.AppendData(Encoding.UTF8.GetBytes(tenant));
        hash.AppendData([0]);
        hash.AppendData(lineSha256);
        Span<byte> full = stackalloc byte[32];
        hash.GetHashAndReset(full);
        full[..Size].CopyTo(destination);
    }

    /// <summary>Convenience overload returning a new array.</summary>
    public static byte[] Compute(string tenant, string? id, ReadOnlySpan<byte> lineBytes)
    {
        var result = new byte[Size];
        Compute(tenant, id, lineBytes, result);
        return result;
    }
}
