using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Events;

namespace KivaSync.SyncService.Provisioning;

/// <summary>Event tracking switched on and every event name of the tenant registered (AC names, at most 32 characters).</summary>
public sealed class EventTrackingStep(EventTrackingSetup setup) : IProvisioningStep
{
    /// <inheritdoc />
    public int Order => 70;

    /// <inheritdoc />
    public Task<IReadOnlyList<ProvisionedThing>> RunAsync(string tenant, AcClient client, CancellationToken ct) =>
        setup.ProvisionAsync(tenant, client, ct);
}

/// <summary>The tenant's Deep Data connection, its id stored for the orders.</summary>
public sealed class DeepDataConnectionStep(DeepDataSetup setup) : IProvisioningStep
{
    /// <inheritdoc />
    public int Order => 80;

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProvisionedThing>> RunAsync(string tenant, AcClient client, CancellationToken ct)
    {
        var (id, created) = await setup.EnsureConnectionAsync(tenant, client, useStored: false, ct);
        return [new ProvisionedThing("connection", $"{DeepDataSetup.Service} {tenant}", id, created)];
    }
}
