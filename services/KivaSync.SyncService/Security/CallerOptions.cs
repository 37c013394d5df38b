namespace KivaSync.SyncService.Security;

/// <summary>One caller of the gRPC API, section "KivaSync:Callers:&lt;name&gt;".</summary>
public sealed class CallerOptions
{
    /// <summary>The tenant-list entry that grants every tenant.</summary>
    public const string AllTenants = "*";

    /// <summary>The bearer token this caller sends ("authorization: Bearer &lt;token&gt;"). A secret: never logged or echoed.</summary>
    public string? Token { get; set; }

    /// <summary>The subject CN of this caller's mTLS client certificate ("shipper-a" or "CN=shipper-a"), where the cluster provides one.</summary>
    public string? CertificateSubject { get; set; }

    /// <summary>Tenant ids this caller may read, resync and ship entries for; "*" for every tenant.</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>What this caller may do: "ship", "read", "operate" (see <see cref="CallerScopes"/>). Required: a caller
    /// without scopes stops the service at start-up rather than getting every right silently.</summary>
    public List<string> Scopes { get; set; } = [];
}
