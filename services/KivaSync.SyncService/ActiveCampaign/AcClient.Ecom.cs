using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>A Deep Data connection to find or make.</summary>
public sealed record AcConnectionInput(string Service, string ExternalId, string Name, string LogoUrl, string LinkUrl);

// Deep Data in v3: only the connection (orders and recurring payments go through GraphQL, AcClient.GraphQl.cs; the
// sync never writes v3 ecomOrders or ecomCustomers). The find checks what AC returned: AC ignores unknown filters.
public sealed partial class AcClient
{
    /// <summary>Finds the connection for (service, external id), or makes it. Returns its id and whether this call made it.</summary>
    public async Task<(string Id, bool Created)> EnsureConnectionAsync(AcConnectionInput input, CancellationToken ct)
    {
        if (await FindConnectionAsync(input, ct) is { } found)
        {
            return (found, false);
        }

        var body = new JsonObject
        {
            ["connection"] = new JsonObject
            {
                ["service"] = input.Service,
                ["externalid"] = input.ExternalId,
                ["name"] = input.Name,
                ["logoUrl"] = input.LogoUrl,
                ["linkUrl"] = input.LinkUrl,
            },
        };
        try
        {
            var json = await SendAsync(HttpMethod.Post, "connections", "connections", body, ct);
            return (Id(json["connection"]?["id"]), true);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
        {
            // Made meanwhile (another replica): it exists now.
            var made = await FindConnectionAsync(input, ct);
            if (made is null)
            {
                throw;
            }

            return (made, false);
        }
    }

    private async Task<string?> FindConnectionAsync(AcConnectionInput input, CancellationToken ct)
    {
        var query = $"filters[service]={Uri.EscapeDataString(input.Service)}&filters[externalid]={Uri.EscapeDataString(input.ExternalId)}";
        var found = (await ListAllAsync("connections", query, "connections", ct)).FirstOrDefault(c =>
            string.Equals(Text(c["service"]), input.Service, StringComparison.OrdinalIgnoreCase) && Text(c["externalid"]) == input.ExternalId);
        return found is null ? null : Id(found["id"]);
    }

    /// <summary>A string or number value as text; null when absent.</summary>
    private static string? Text(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };
}
