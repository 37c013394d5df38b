using KivaSync.SyncService.ActiveCampaign;

namespace KivaSync.SyncService.Provisioning;

/// <summary>What a provisioning run found or made, with the AC requests it used.</summary>
public sealed record ProvisionResult(string Tenant, IReadOnlyList<ProvisionedThing> Items, int Created, int AcRequests);

/// <summary>Sets a tenant's AC account up: runs every registered <see cref="IProvisioningStep"/> in order.
/// Each step finds before it creates, so a second run creates nothing.</summary>
public sealed class TenantProvisioner(AcClientFactory clients, IEnumerable<IProvisioningStep> steps)
{
    private readonly IProvisioningStep[] steps = [.. steps.OrderBy(s => s.Order)];

    /// <summary>Runs every step against the tenant's account; throws the AC error of a step that fails.</summary>
    public async Task<ProvisionResult> RunAsync(string tenant, CancellationToken ct)
    {
        var client = clients.For(tenant);
        var items = new List<ProvisionedThing>();
        foreach (var step in steps)
        {
            items.AddRange(await step.RunAsync(tenant, client, ct));
        }

        return new ProvisionResult(tenant, items, items.Count(i => i.Created), client.RequestCount);
    }
}
