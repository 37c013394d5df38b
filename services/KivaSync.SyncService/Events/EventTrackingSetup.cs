using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Provisioning;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.Events;

/// <summary>
/// Event tracking switched on and event names registered, found before made. Redis remembers what AC has,
/// so once set up an event costs only its own post; the sync works without a prior provision.
/// </summary>
public sealed class EventTrackingSetup(FollowUpStore store, TenantRegistry tenants, ILogger<EventTrackingSetup> logger)
{
    /// <summary>Makes sure tracking is on and <paramref name="acName"/> is registered, with the fewest requests.</summary>
    public async Task EnsureAsync(string tenant, AcClient client, string acName, CancellationToken ct)
    {
        var (enabled, registered) = await store.ReadTrackingAsync(tenant, [acName]);
        if (enabled && registered[0])
        {
            return;
        }

        if (!enabled && !await client.IsEventTrackingEnabledAsync(ct))
        {
            await client.EnableEventTrackingAsync(ct);
        }

        var names = await client.ListEventNamesAsync(ct);
        if (!names.Contains(acName, StringComparer.OrdinalIgnoreCase))
        {
            await client.RegisterEventNameAsync(acName, ct);
            names = [.. names, acName];
        }

        await store.RecordTrackingAsync(tenant, names);
    }

    /// <summary>Tracking on and every event name of the tenant (catalogue, renames, additions) registered.</summary>
    public async Task<IReadOnlyList<ProvisionedThing>> ProvisionAsync(string tenant, AcClient client, CancellationToken ct)
    {
        var things = new List<ProvisionedThing>();
        var enabled = await client.IsEventTrackingEnabledAsync(ct);
        if (!enabled)
        {
            await client.EnableEventTrackingAsync(ct);
        }

        things.Add(new ProvisionedThing("event_tracking", "Event tracking", null, Created: !enabled));
        var existing = new HashSet<string>(await client.ListEventNamesAsync(ct), StringComparer.OrdinalIgnoreCase);
        var wanted = tenants.TryGet(tenant, out var options)
            ? EventRules.For(options).All.Select(e => e.AcName).Distinct(StringComparer.OrdinalIgnoreCase).ToList()
            : [];
        var registered = 0;
        foreach (var name in wanted)
        {
            var created = !existing.Contains(name) && await client.RegisterEventNameAsync(name, ct);
            registered += created ? 1 : 0;
            things.Add(new ProvisionedThing("event", name, null, created));
        }

        await store.RecordTrackingAsync(tenant, existing.Concat(wanted));
        Log.EventNamesRegistered(logger, tenant, registered);
        return things;
    }
}
