using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>A Deep Data connection to find or make.</summary>
public sealed record AcConnectionInput(string Service, string ExternalId, string Name, string LogoUrl, string LinkUrl);

/// <summary>A Deep Data order to create or update (money in cents).</summary>
/// <param name="Source">0 historical, 1 real time.</param>
public sealed record AcOrderInput(
    string ExternalId,
    int Source,
    string Email,
    string ConnectionId,
    string CustomerId,
    long TotalCents,
    long ShippingCents,
    long TaxCents,
    long DiscountCents,
    string Currency,
    string CreatedDate,
    IReadOnlyList<AcOrderProduct> Products);

/// <summary>One order line as AC takes it.</summary>
public sealed record AcOrderProduct(string ExternalId, string Name, long PriceCents, int Quantity, string? Category, string? Sku);

/// <summary>An order as AC has it after a create or an update.</summary>
/// <param name="Source">The source AC keeps for it.</param>
/// <param name="Created">True when this call made it.</param>
public sealed record AcOrder(string Id, int Source, bool Created);

// Deep Data: connection, e-commerce customers and orders. Each find-or-create checks what AC returned,
// since AC ignores unknown filters silently.
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

    /// <summary>Makes the e-commerce customer, or finds it when AC already has one with this external id (422 duplicate).</summary>
    public async Task<string> EnsureEcomCustomerAsync(string connectionId, string externalId, string email, bool acceptsMarketing, CancellationToken ct)
    {
        // Create first: in a backfill nearly every customer is new, so a lookup first would double the
        // requests; AC answers a duplicate with a 422, and only then is it looked up.
        var body = new JsonObject
        {
            ["ecomCustomer"] = new JsonObject
            {
                ["connectionid"] = connectionId,
                ["externalid"] = externalId,
                ["email"] = email,
                ["acceptsMarketing"] = acceptsMarketing ? "1" : "0",
            },
        };
        try
        {
            var json = await SendAsync(HttpMethod.Post, "ecomCustomers", "ecomCustomers", body, ct);
            return Id(json["ecomCustomer"]?["id"]);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
        {
            var made = await FindEcomCustomerAsync(connectionId, externalId, ct);
            if (made is null)
            {
                throw;
            }

            return made;
        }
    }

    /// <summary>
    /// Creates the order, or updates it when AC already has it (<paramref name="knownId"/>, or a 422 duplicate
    /// found by external id). An update sends the source AC already has, so an order keeps its first source.
    /// </summary>
    public async Task<AcOrder> UpsertOrderAsync(AcOrderInput input, string? knownId, int? knownSource, CancellationToken ct)
    {
        if (knownId is not null)
        {
            var updated = await UpdateOrderAsync(knownId, input with { Source = knownSource ?? input.Source }, ct);
            if (updated is not null)
            {
                return updated;
            }
        }

        try
        {
            var json = await SendAsync(HttpMethod.Post, "ecomOrders", "ecomOrders", new JsonObject { ["ecomOrder"] = OrderBody(input) }, ct);
            return ReadOrder(json["ecomOrder"], input.Source) with { Created = true };
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
        {
            var query = $"filters[externalid]={Uri.EscapeDataString(input.ExternalId)}&filters[connectionid]={Uri.EscapeDataString(input.ConnectionId)}";
            var existing = (await ListAllAsync("ecomOrders", query, "ecomOrders", ct))
                .FirstOrDefault(o => Text(o["externalid"]) == input.ExternalId && (Text(o["connectionid"]) is not { } c || c == input.ConnectionId));
            if (existing is null)
            {
                throw;
            }

            // AC has it already: update it, keeping the source AC has.
            var had = ReadOrder(existing, input.Source);
            var updated = await UpdateOrderAsync(had.Id, input with { Source = had.Source }, ct);
            if (updated is null)
            {
                throw;
            }

            return updated;
        }
    }

    private async Task<AcOrder?> UpdateOrderAsync(string id, AcOrderInput input, CancellationToken ct)
    {
        try
        {
            var json = await SendAsync(HttpMethod.Put, $"ecomOrders/{Uri.EscapeDataString(id)}", "ecomOrders/{id}", new JsonObject { ["ecomOrder"] = OrderBody(input) }, ct);
            return ReadOrder(json["ecomOrder"], input.Source);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.NotFound)
        {
            // Deleted in AC: make it again.
            return null;
        }
    }

    private async Task<string?> FindConnectionAsync(AcConnectionInput input, CancellationToken ct)
    {
        var query = $"filters[service]={Uri.EscapeDataString(input.Service)}&filters[externalid]={Uri.EscapeDataString(input.ExternalId)}";
        var found = (await ListAllAsync("connections", query, "connections", ct)).FirstOrDefault(c =>
            string.Equals(Text(c["service"]), input.Service, StringComparison.OrdinalIgnoreCase) && Text(c["externalid"]) == input.ExternalId);
        return found is null ? null : Id(found["id"]);
    }

    private async Task<string?> FindEcomCustomerAsync(string connectionId, string externalId, CancellationToken ct)
    {
        var query = $"filters[externalid]={Uri.EscapeDataString(externalId)}&filters[connectionid]={Uri.EscapeDataString(connectionId)}";
        var found = (await ListAllAsync("ecomCustomers", query, "ecomCustomers", ct))
            .FirstOrDefault(c => Text(c["externalid"]) == externalId && Text(c["connectionid"]) == connectionId);
        return found is null ? null : Id(found["id"]);
    }

    private static JsonObject OrderBody(AcOrderInput input)
    {
        var products = new JsonArray();
        foreach (var p in input.Products)
        {
            var product = new JsonObject
            {
                ["externalid"] = p.ExternalId,
                ["name"] = p.Name,
                ["price"] = p.PriceCents,
                ["quantity"] = p.Quantity,
            };
            if (p.Category is not null)
            {
                product["category"] = p.Category;
            }

            if (p.Sku is not null)
            {
                product["sku"] = p.Sku;
            }

            products.Add(product);
        }

        return new JsonObject
        {
            ["externalid"] = input.ExternalId,
            ["source"] = input.Source.ToString(CultureInfo.InvariantCulture),
            ["email"] = input.Email,
            ["orderProducts"] = products,
            ["totalPrice"] = input.TotalCents,
            ["shippingAmount"] = input.ShippingCents,
            ["taxAmount"] = input.TaxCents,
            ["discountAmount"] = input.DiscountCents,
            ["currency"] = input.Currency,
            ["connectionid"] = input.ConnectionId,
            ["customerid"] = input.CustomerId,
            ["externalCreatedDate"] = input.CreatedDate,
            ["externalUpdatedDate"] = input.CreatedDate,
        };
    }

    private static AcOrder ReadOrder(JsonNode? order, int fallbackSource)
    {
        if (order is null)
        {
            throw new AcRequestException(HttpStatusCode.OK, null, "AC answered without an ecomOrder");
        }

        var source = int.TryParse(Text(order["source"]), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : fallbackSource;
        return new AcOrder(Id(order["id"]), source, false);
    }

    /// <summary>A string or number value as text; null when absent.</summary>
    private static string? Text(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };
}
