using KivaSync.SyncService.ActiveCampaign;

namespace KivaSync.SyncService.Provisioning;

/// <summary>Something a tenant's AC account needs, found or made in AC.</summary>
/// <param name="Kind">"field", "field_rel", "list", "tag", "event_tracking", "event", "connection".</param>
/// <param name="Name">Its name in AC.</param>
/// <param name="AcId">AC's id; null where AC has none.</param>
/// <param name="Created">True when this run made it.</param>
public sealed record ProvisionedThing(string Kind, string Name, string? AcId, bool Created);

/// <summary>One part of setting up a tenant's AC account. Idempotent: finds before it creates.</summary>
public interface IProvisioningStep
{
    /// <summary>Lower runs first (fields before their list relations, lists before those).</summary>
    int Order { get; }

    /// <summary>Finds or makes this step's things and stores their ids for the sync to use.</summary>
    Task<IReadOnlyList<ProvisionedThing>> RunAsync(string tenant, AcClient client, CancellationToken ct);
}
