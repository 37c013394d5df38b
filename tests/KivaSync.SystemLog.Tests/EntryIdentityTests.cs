using System.Security.Cryptography;
using System.Text;

namespace KivaSync.SystemLog.Tests;

/// <summary>The contract's identity: tenant plus id when present, else tenant plus the line's exact bytes.</summary>
public sealed class EntryIdentityTests
{
    private static byte[] Identity(string line, string defaultTenant = Lines.DefaultTenant)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        var outcome = SystemLogParser.Parse(bytes, defaultTenant, Lines.Now);
        return EntryIdentity.Compute(outcome.Tenant, outcome.Id, bytes);
    }

    [Fact]
    public void Compute_SameIdDifferentBytes_SameIdentity()
    {
        var a = Identity("""{"ts":"2024-06-03T14:22:05Z","id":"e-1","event":"Logged in"}""");
        var b = Identity("""{"id":"e-1", "ts":"2024-06-04T00:00:00Z","msg":"replayed with other content"}""");

        Assert.Equal(a, b);
    }

    [Fact]
    public void Compute_SameIdOnRejectedAndAcceptedLine_SameIdentity()
    {
        // A rejected line is counted once per identity too, so its id must be read even when it is rejected.
        var rejected = Identity("""{"ts":"not a time","id":"e-1"}""");
        var accepted = Identity("""{"ts":"2024-06-03T14:22:05Z","id":"e-1"}""");

        Assert.Equal(accepted, rejected);
    }

    [Fact]
    public void Compute_DifferentIds_DifferentIdentities()
    {
        Assert.NotEqual(
            Identity("""{"ts":"2024-06-03T14:22:05Z","id":"e-1"}"""),
            Identity("""{"ts":"2024-06-03T14:22:05Z","id":"e-2"}"""));
    }

    [Fact]
    public void Compute_NoIdSameBytes_SameIdentity()
    {
        const string line = """{"ts":"2024-06-03T14:22:06.001Z","level":"info","msg":"cron: cleanup finished in 3.2s"}""";

        Assert.Equal(Identity(line), Identity(line));
    }

    [Fact]
    public void Compute_NoIdBytesDifferOnlyInWhitespace_DifferentIdentities()
    {
        Assert.NotEqual(
            Identity("""{"ts":"2024-06-03T14:22:06Z","msg":"x"}"""),
            Identity("""{"ts":"2024-06-03T14:22:06Z", "msg":"x"}"""));
    }

    [Fact]
    public void Compute_SameIdDifferentTenants_DifferentIdentities()
    {
        Assert.NotEqual(
            Identity("""{"ts":"2024-06-03T14:22:05Z","tenant":"greenleaf","id":"e-1"}"""),
            Identity("""{"ts":"2024-06-03T14:22:05Z","tenant":"acme","id":"e-1"}"""));
    }

    [Fact]
    public void Compute_SameBytesNoIdDifferentConfiguredTenants_DifferentIdentities()
    {
        const string line = """{"ts":"2024-06-03T14:22:05Z","msg":"x"}""";

        Assert.NotEqual(Identity(line, "greenleaf"), Identity(line, "acme"));
    }

    [Fact]
    public void Compute_TenantKeyEqualToConfiguredTenant_SameIdentityAsNoKey()
    {
        Assert.Equal(
            Identity("""{"ts":"2024-06-03T14:22:05Z","id":"e-1"}""", "greenleaf"),
            Identity("""{"ts":"2024-06-03T14:22:05Z","tenant":"greenleaf","id":"e-1"}""", "acme"));
    }

    [Fact]
    public void Compute_IdEqualToAnotherLinesBytes_DifferentIdentities()
    {
        // The id space and the byte space are kept apart, so no id can impersonate a line.
        var bytes = Encoding.UTF8.GetBytes("abc");

        Assert.NotEqual(EntryIdentity.Compute("greenleaf", "abc", []), EntryIdentity.Compute("greenleaf", null, bytes));
    }

    [Fact]
    public void Compute_TenantAndIdBoundaryShifted_DifferentIdentities()
    {
        Assert.NotEqual(EntryIdentity.Compute("ab", "c", []), EntryIdentity.Compute("a", "bc", []));
    }

    [Fact]
    public void Compute_CrLfAndLfLinesWithEndingStripped_SameIdentity()
    {
        const string content = """{"ts":"2024-06-03T14:22:06Z","msg":"x"}""";
        var crlfFile = Encoding.UTF8.GetBytes(content + "\r\n");
        var lfFile = Encoding.UTF8.GetBytes(content + "\n");
        var fromCrlf = StripEnding(crlfFile);
        var fromLf = StripEnding(lfFile);

        var a = SystemLogParser.Parse(fromCrlf, "greenleaf", Lines.Now);
        var b = SystemLogParser.Parse(fromLf, "greenleaf", Lines.Now);

        Assert.Equal(EntryIdentity.Compute(b.Tenant, b.Id, fromLf), EntryIdentity.Compute(a.Tenant, a.Id, fromCrlf));

        static byte[] StripEnding(byte[] line)
        {
            var end = line.Length;
            if (end > 0 && line[end - 1] == '\n')
            {
                end--;
            }

            if (end > 0 && line[end - 1] == '\r')
            {
                end--;
            }

            return line[..end];
        }
    }

    [Fact]
    public void Compute_SpanOverloadAndArrayOverload_Agree()
    {
        var line = Encoding.UTF8.GetBytes("x");
        Span<byte> dest = stackalloc byte[EntryIdentity.Size];

        EntryIdentity.Compute("greenleaf", null, line, dest);

        Assert.Equal(EntryIdentity.Compute("greenleaf", null, line), dest.ToArray());
        Assert.Equal(16, EntryIdentity.Size);
    }

    [Fact]
    public void ComputeFromLineHash_DiffersFromByteIdentityAndByTenant()
    {
        var hash = new byte[32];

        var fromHash = FromHash("greenleaf", hash);

        Assert.NotEqual(EntryIdentity.Compute("greenleaf", null, hash), fromHash);
        Assert.Equal(fromHash, FromHash("greenleaf", hash));
        Assert.NotEqual(FromHash("acme", hash), fromHash);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(1013)]
    [InlineData(1014)]
    [InlineData(5000)]
    [InlineData(262_144)]
    public void Compute_AnyLineLength_IsTruncatedSha256OfTagTenantZeroBytes(int length)
    {
        // Identities are stored by the shipper and the service: the digest must never drift.
        var line = Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26))).ToArray();
        byte[] message = [(byte)'L', .. "greenleaf"u8, 0, .. line];

        Assert.Equal(SHA256.HashData(message)[..16], EntryIdentity.Compute("greenleaf", null, line));
    }

    [Theory]
    [InlineData("e-1")]
    [InlineData("évt-✓")]
    [InlineData(null)]
    public void Compute_WithId_IsTruncatedSha256OfTagTenantZeroId(string? idOrLong)
    {
        var id = idOrLong ?? new string('x', 3000);
        byte[] message = [(byte)'I', .. "greenleaf"u8, 0, .. Encoding.UTF8.GetBytes(id)];

        Assert.Equal(SHA256.HashData(message)[..16], EntryIdentity.Compute("greenleaf", id, "ignored"u8));
    }

    private static byte[] FromHash(string tenant, byte[] sha256)
    {
        var result = new byte[EntryIdentity.Size];
        EntryIdentity.ComputeFromLineHash(tenant, sha256, result);
        return result;
    }
}
