using System.Net;
using KivaSync.SyncService.ActiveCampaign;

namespace KivaSync.SyncService.Provisioning;

/// <summary>The four order tags: exactly one of them is on every customer.</summary>
public sealed class OrderTagsStep(AcNameCatalog names) : IProvisioningStep
{
    /// <summary>The <see cref="AcNameCatalog"/> kind of tags.</summary>
    public const string Kind = "tags";

    /// <summary>The customer's order for the current week is open.</summary>
    public const string OpenOrder = "Open Order";

    /// <summary>The customer's order for the current week is closed.</summary>
    public const string ClosedOrder = "Closed Order";

    /// <summary>The customer's order for the current week is cancelled.</summary>
    public const string CancelledOrder = "Cancelled Order";

    /// <summary>No order for the current week.</summary>
    public const string NoOrder = "No Order";

    /// <summary>The four, in the contract's order.</summary>
    public static IReadOnlyList<string> OrderTags { get; } = [OpenOrder, ClosedOrder, CancelledOrder, NoOrder];

    /// <inheritdoc />
    public int Order => 30;

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProvisionedThing>> RunAsync(string tenant, AcClient client, CancellationToken ct)
    {
        var things = new List<ProvisionedThing>();
        foreach (var name in OrderTags)
        {
            var found = await FindOrCreateAsync(client, name, ct);
            await names.SetAsync(tenant, Kind, name, found.Id);
            things.Add(new ProvisionedThing("tag", name, found.Id, found.Created));
        }

        return things;
    }

    /// <summary>The tag's id (exact, case-insensitive name), made when the account has none.</summary>
    public Task<AcNamed> GetOrCreateAsync(string tenant, AcClient client, string name, CancellationToken ct) =>
        names.GetOrCreateAsync(tenant, Kind, name, token => FindOrCreateAsync(client, name, token), ct);

    /// <summary>Tag id → name of every order tag the account has, found by name in AC when not known yet (never made):
    /// what a contact may carry, whoever tagged it (a bulk import tags by name, so its tags' ids are not recorded).</summary>
    public async Task<IReadOnlyDictionary<string, string>> FindExistingAsync(string tenant, AcClient client, CancellationToken ct)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in OrderTags)
        {
            if (await names.GetOrFindAsync(tenant, Kind, name, async token => (await client.FindTagAsync(name, token))?.Id, ct) is { } id)
            {
                ids[id] = name;
            }
        }

        return ids;
    }

    private static async Task<AcNamed> FindOrCreateAsync(AcClient client, string name, CancellationToken ct)
    {
        if (await client.FindTagAsync(name, ct) is { } existing)
        {
            return new AcNamed(existing.Id, false);
        }

        try
        {
            var tag = await client.CreateTagAsync(name, "Set by KivaSync: the customer's order for the current week", ct);
            return new AcNamed(tag.Id, true);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
        {
            // Made meanwhile by another replica.
            var made = await client.FindTagAsync(name, ct);
            if (made is null)
            {
                throw;
            }

            return new AcNamed(made.Id, false);
        }
    }
}
