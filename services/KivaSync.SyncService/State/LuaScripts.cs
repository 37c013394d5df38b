using System.Reflection;

namespace KivaSync.SyncService.State;

/// <summary>The Redis scripts, embedded from State/Scripts/*.lua.</summary>
internal static class LuaScripts
{
    public static string Ingest { get; } = Load("ingest.lua");

    public static string Claim { get; } = Load("claim.lua");

    public static string ClaimBulk { get; } = Load("claim_bulk.lua");

    public static string Complete { get; } = Load("complete.lua");

    public static string RateLimit { get; } = Load("ratelimit.lua");

    private static string Load(string name)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith("." + name, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
