using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.Events;

/// <summary>The tenant's Deep Data connection, found before made; its id is kept in Redis.</summary>
public sealed class DeepDataSetup(FollowUpStore store, TenantRegistry tenants, ILogger<DeepDataSetup> logger)
{
    /// <summary>The connection's service name in AC.</summary>
    public const string Service = "kivasync";

    /// <summary>The connection of a tenant: service "kivasync", external id = the tenant id, linked to its AC account.</summary>
    public static AcConnectionInput ConnectionFor(string tenant, TenantOptions options)
    {
        // The contract names no shop URL: the connection links to the tenant's AC account.
        var web = TenantRegistry.ContactUrl(options, "0");
        var site = web[..web.IndexOf("/app/", StringComparison.Ordinal)];
        return new AcConnectionInput(Service, tenant, $"Kiva {tenant}", site + "/favicon.ico", site);
    }

    /// <summary>The connection id: from Redis, else found or made in AC (and stored).</summary>
    public async Task<(string Id, bool Created)> EnsureConnectionAsync(string tenant, AcClient client, bool useStored, CancellationToken ct)
    {
        if (useStored && await store.ReadEcomIdAsync(tenant, "connection") is { } known)
        {
            return (known, false);
        }

        if (!tenants.TryGet(tenant, out var options))
        {
            throw new InvalidOperationException($"tenant \"{tenant}\" is not configured");
        }

        var (id, created) = await client.EnsureConnectionAsync(ConnectionFor(tenant, options), ct);
        await store.WriteEcomIdAsync(tenant, "connection", id);
        Log.ConnectionReady(logger, id, tenant, created ? "created" : "found");
        return (id, created);
    }
}
