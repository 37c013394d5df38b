using KivaSync.SyncService.Provisioning;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>
/// The tenant's AC custom-field ids, made on first use through the same step provisioning runs
/// (<see cref="CustomFieldsStep"/>: find, every page, exact case-insensitive title, before create), so running
/// twice or on two replicas never makes a second field. Ids live in the <see cref="AcNameCatalog"/> ("fields").
/// </summary>
public sealed class AcFieldCatalog(AcNameCatalog names, CustomFieldsStep step)
{
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Title → AC field id for the contract's five fields, creating any that are missing.</summary>
    public async Task<IReadOnlyDictionary<string, string>> EnsureAsync(string tenant, AcClient client, CancellationToken ct)
    {
        if (await KnownAsync(tenant) is { } known)
        {
            return known;
        }

        await gate.WaitAsync(ct);
        try
        {
            if (await KnownAsync(tenant) is { } again)
            {
                return again;
            }

            await step.RunAsync(tenant, client, ct);
            return await KnownAsync(tenant) ?? throw new InvalidOperationException("custom fields were provisioned but their ids are not stored");
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Forgets the tenant's ids (AC said a field no longer exists).</summary>
    public Task InvalidateAsync(string tenant) => names.InvalidateAsync(tenant, CustomFieldsStep.Kind);

    private async Task<IReadOnlyDictionary<string, string>?> KnownAsync(string tenant)
    {
        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in AcCustomFields.All)
        {
            if (await names.TryGetAsync(tenant, CustomFieldsStep.Kind, field.Title) is not { } id)
            {
                return null;
            }

            ids[field.Title] = id;
        }

        return ids;
    }
}
