using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Tenants;

/// <summary>The configured tenants, with the values derived from their settings.</summary>
public sealed class TenantRegistry(IOptions<KivaSyncOptions> options)
{
    /// <summary>Every configured tenant id.</summary>
    public IReadOnlyCollection<string> TenantIds => options.Value.Tenants.Keys;

    /// <summary>Finds a tenant's settings.</summary>
    public bool TryGet(string tenant, out TenantOptions settings) =>
        options.Value.Tenants.TryGetValue(tenant, out settings!);

    /// <summary>The contact's page in the AC web app: https://ACCOUNT.activehosted.com/app/contacts/&lt;id&gt;,
    /// where ACCOUNT is the first label of the API host unless AccountWebUrl says otherwise.</summary>
    public static string ContactUrl(TenantOptions tenant, string contactId)
    {
        var web = tenant.AccountWebUrl;
        if (string.IsNullOrWhiteSpace(web))
        {
            var host = new Uri(tenant.ApiUrl).Host;
            var account = host.Split('.')[0];
            web = $"https://{account}.activehosted.com";
        }

        return $"{web.TrimEnd('/')}/app/contacts/{Uri.EscapeDataString(contactId)}";
    }
}
