using System.Security.Cryptography;
using System.Text;

namespace KivaSync.SystemLog;

/// <summary>
/// The contract's identity of an entry: tenant plus "id" when present, else tenant plus the
/// line's exact bytes (without line ending). Reduced to a 128-bit SHA-256 prefix so that
/// deduplication stores 16 bytes per entry whatever the line's length; a collision needs
/// ~2^64 entries in one tenant.
/// </summary>
/// <remarks>The hashed message is: a one-byte domain tag, the tenant as UTF-8, a 0 byte, the payload.
/// Short messages are hashed in one shot from the stack; long lines are streamed (same digest).</remarks>
public static class EntryIdentity
{
    /// <summary>Size of an identity in bytes.</summary>
    public const int Size = 16;

    private const int StackMessageBytes = 1024;

    /// <summary>Computes the identity of a line into <paramref name="destination"/> (16 bytes).</summary>
    public static void Compute(string tenant, string? id, ReadOnlySpan<byte> lineBytes, Span<byte> destination)
    {
        // A one-byte domain tag keeps "id" identities and byte identities from ever colliding.
        if (id is null)
        {
            Hash("L"u8, tenant, lineBytes, destination);
            return;
        }

        var idBytes = id.Length <= StackMessageBytes / 4 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(id.Length)] : new byte[Encoding.UTF8.GetByteCount(id)];
        var n = Encoding.UTF8.GetBytes(id, idBytes);
        Hash("I"u8, tenant, idBytes[..n], destination);
    }

    /// <summary>Computes the identity of a too-long line whose bytes were not shipped, from their SHA-256.</summary>
    public static void ComputeFromLineHash(string tenant, ReadOnlySpan<byte> lineSha256, Span<byte> destination) =>
        Hash("H"u8, tenant, lineSha256, destination);

    /// <summary>Convenience overload returning a new array.</summary>
    public static byte[] Compute(string tenant, string? id, ReadOnlySpan<byte> lineBytes)
    {
        var result = new byte[Size];
        Compute(tenant, id, lineBytes, result);
        return result;
    }

    private static void Hash(ReadOnlySpan<byte> tag, string tenant, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> full = stackalloc byte[SHA256.HashSizeInBytes];
        var tenantBytes = Encoding.UTF8.GetByteCount(tenant);
        var total = tag.Length + tenantBytes + 1 + payload.Length;
        if (total <= StackMessageBytes)
        {
            Span<byte> message = stackalloc byte[StackMessageBytes];
            tag.CopyTo(message);
            var pos = tag.Length + Encoding.UTF8.GetBytes(tenant, message[tag.Length..]);
            message[pos++] = 0;
            payload.CopyTo(message[pos..]);
            SHA256.HashData(message[..total], full);
        }
        else
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(tag);
            hash.AppendData(Encoding.UTF8.GetBytes(tenant));
            hash.AppendData([0]);
            hash.AppendData(payload);
            hash.GetHashAndReset(full);
        }

        full[..Size].CopyTo(destination);
    }
}
