using System.Net;
using System.Text;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.Provisioning;

/// <summary>The lists All, Active, Cancelled and Leads; also finds or makes any other list by name (ImportContacts).</summary>
public sealed class ContactListsStep(AcNameCatalog names, TenantRegistry tenants) : IProvisioningStep
{
    /// <summary>The <see cref="AcNameCatalog"/> kind of lists.</summary>
    public const string Kind = "lists";

    /// <summary>Everyone.</summary>
    public const string All = "All";

    /// <summary>Customers with status Active.</summary>
    public const string Active = "Active";

    /// <summary>Customers with status Stopped, Cancelled or Dead.</summary>
    public const string Cancelled = "Cancelled";

    /// <summary>Contacts without a customer account.</summary>
    public const string Leads = "Leads";

    /// <summary>The contract's lists, in its order.</summary>
    public static IReadOnlyList<string> ContractLists { get; } = [All, Active, Cancelled, Leads];

    /// <inheritdoc />
    public int Order => 20;

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProvisionedThing>> RunAsync(string tenant, AcClient client, CancellationToken ct)
    {
        var lists = await client.ListListsAsync(ct);
        var things = new List<ProvisionedThing>();
        foreach (var name in ContractLists)
        {
            var found = await FindOrCreateAsync(tenant, client, name, lists, ct);
            await names.SetAsync(tenant, Kind, name, found.Id);
            things.Add(new ProvisionedThing("list", name, found.Id, found.Created));
        }

        return things;
    }

    /// <summary>The list's id (exact, case-insensitive name), made when the account has none.</summary>
    public Task<AcNamed> GetOrCreateAsync(string tenant, AcClient client, string name, CancellationToken ct) =>
        names.GetOrCreateAsync(tenant, Kind, name, async token => await FindOrCreateAsync(tenant, client, name, await client.ListListsAsync(token), token), ct);

    private async Task<AcNamed> FindOrCreateAsync(string tenant, AcClient client, string name, IReadOnlyList<AcList> lists, CancellationToken ct)
    {
        if (Match(lists, name) is { } existing)
        {
            return new AcNamed(existing.Id, false);
        }

        tenants.TryGet(tenant, out var settings);
        var senderUrl = settings is null ? "https://kiva.example" : WebUrl(settings);
        var reminder = $"You are receiving this because you signed up with {tenant}.";
        var slug = Slug(name);
        // The stringid must be unique too; an account may hold one with another name already.
        string[] stringIds = [slug, slug + "-kiva", slug + "-" + Guid.NewGuid().ToString("N")[..6]];
        foreach (var stringId in stringIds)
        {
            try
            {
                var list = await client.CreateListAsync(name.Trim(), stringId, senderUrl, reminder, ct);
                return new AcNamed(list.Id, true);
            }
            catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
            {
                // Another replica may have made this very list meanwhile: look before trying another stringid.
                if (Match(await client.ListListsAsync(ct), name) is { } made)
                {
                    return new AcNamed(made.Id, false);
                }
            }
        }

        throw new AcRequestException(HttpStatusCode.UnprocessableEntity, "duplicate", $"AC refused every stringid for the list \"{name}\"");
    }

    private static AcList? Match(IReadOnlyList<AcList> lists, string name) =>
        lists.FirstOrDefault(l => string.Equals(l.Name.Trim(), name.Trim(), StringComparison.OrdinalIgnoreCase));

    private static string WebUrl(TenantOptions settings)
    {
        // The list's sender URL: the account's web app (the contact link's base), not the API host.
        var link = TenantRegistry.ContactUrl(settings, "0");
        return link[..link.IndexOf("/app/", StringComparison.Ordinal)];
    }

    private static string Slug(string name)
    {
        var slug = new StringBuilder();
        foreach (var c in name.Trim().ToLowerInvariant())
        {
            slug.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var text = slug.ToString().Trim('-');
        return text.Length == 0 ? "list" : text[..Math.Min(text.Length, 60)];
    }
}
