using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KivaSync.AcEmulator;

// Deep Data: connections, e-commerce customers and orders (money in cents).
public sealed partial class EmulatedAccount
{
    private readonly List<ConnectionState> _connections = [];
    private readonly List<EcomCustomerState> _ecomCustomers = [];
    private readonly List<EcomOrderState> _ecomOrders = [];

    /// <summary>All connections, oldest first.</summary>
    public IReadOnlyList<EmulatedConnection> Connections()
    {
        lock (_gate) { return [.. _connections.Select(c => new EmulatedConnection(c.Id, c.Service, c.ExternalId, c.Name, c.LogoUrl, c.LinkUrl))]; }
    }

    /// <summary>All e-commerce customers with the totals AC derives from their orders.</summary>
    public IReadOnlyList<EmulatedEcomCustomer> EcomCustomers()
    {
        lock (_gate)
        {
            ApplyDueGraphQl();
            return [.. _ecomCustomers.Select(c =>
            {
                var (revenue, orders, _) = Totals(c.Id);
                return new EmulatedEcomCustomer(c.Id, c.ConnectionId, c.ExternalId, c.Email, c.AcceptsMarketing, revenue, orders, orders == 0 ? 0 : revenue / orders);
            })];
        }
    }

    /// <summary>All e-commerce orders, oldest first.</summary>
    public IReadOnlyList<EmulatedEcomOrder> EcomOrders()
    {
        lock (_gate)
        {
            return [.. _ecomOrders.Select(o => new EmulatedEcomOrder(
                o.Id, o.ExternalId, o.Source, o.Email, [.. o.Products], o.TotalPrice, o.ShippingAmount, o.TaxAmount, o.DiscountAmount,
                o.Currency, o.ConnectionId, o.CustomerId, o.ContactId, o.ExternalCreatedDate, o.ExternalUpdatedDate, o.Created, o.Updated, o.UpdateCount))];
        }
    }

    private (long Revenue, int Orders, long Products) Totals(string customerId)
    {
        var orders = _ecomOrders.Where(o => o.CustomerId == customerId).ToList();
        // Orders written through GraphQL count for the e-commerce customer they name (money in cents here).
        var customer = _ecomCustomers.Find(c => c.Id == customerId);
        var graphQl = customer is null
            ? []
            : _gqlOrders.Where(o => o.ConnectionId == customer.ConnectionId && SnapshotOrder(o) is var s &&
                                    (s.StoreCustomerId ?? s.Email) == customer.ExternalId).Select(SnapshotOrder).ToList();
        return (orders.Sum(o => o.TotalPrice) + graphQl.Sum(o => (long)(o.FinalAmount * 100)),
            orders.Count + graphQl.Count,
            orders.Sum(o => o.Products.Sum(p => (long)p.Quantity)) + graphQl.Sum(o => o.LineItems.Sum(l => (long)l.Quantity)));
    }

    private static JsonObject Render(ConnectionState c) => new()
    {
        ["isInternal"] = "0",
        ["service"] = c.Service,
        ["externalid"] = c.ExternalId,
        ["name"] = c.Name,
        ["logoUrl"] = c.LogoUrl,
        ["linkUrl"] = c.LinkUrl,
        ["cdate"] = AcJson.Stamp(c.Created),
        ["udate"] = AcJson.Stamp(c.Created),
        ["status"] = "1",
        ["syncStatus"] = "0",
        ["id"] = c.Id,
    };

    private JsonObject Render(EcomCustomerState c)
    {
        var (revenue, orders, products) = Totals(c.Id);
        return new JsonObject
        {
            ["connectionid"] = c.ConnectionId,
            ["externalid"] = c.ExternalId,
            ["email"] = c.Email,
            ["totalRevenue"] = AcJson.Str(revenue),
            ["totalOrders"] = AcJson.Str(orders),
            ["totalProducts"] = AcJson.Str(products),
            ["avgRevenuePerOrder"] = AcJson.Str(orders == 0 ? 0 : revenue / orders),
            ["avgProductCategory"] = "",
            ["tstamp"] = AcJson.Stamp(c.Created),
            ["acceptsMarketing"] = c.AcceptsMarketing ? "1" : "0",
            ["id"] = c.Id,
        };
    }

    private static JsonObject Render(EcomOrderState o)
    {
        var products = new JsonArray();
        foreach (var p in o.Products)
        {
            products.Add(new JsonObject
            {
                ["externalid"] = p.ExternalId,
                ["name"] = p.Name,
                ["price"] = AcJson.Str(p.Price),
                ["quantity"] = AcJson.Str(p.Quantity),
                ["category"] = p.Category ?? "",
                ["sku"] = p.Sku ?? "",
            });
        }

        return new JsonObject
        {
            ["externalid"] = o.ExternalId,
            ["source"] = AcJson.Str(o.Source),
            ["email"] = o.Email,
            ["currency"] = o.Currency,
            ["connectionid"] = o.ConnectionId,
            ["customerid"] = o.CustomerId,
            ["contact"] = o.ContactId,
            ["totalPrice"] = AcJson.Str(o.TotalPrice),
            ["shippingAmount"] = AcJson.Str(o.ShippingAmount),
            ["taxAmount"] = AcJson.Str(o.TaxAmount),
            ["discountAmount"] = AcJson.Str(o.DiscountAmount),
            ["externalCreatedDate"] = o.ExternalCreatedDate,
            ["externalUpdatedDate"] = o.ExternalUpdatedDate ?? "",
            ["orderProducts"] = products,
            ["cdate"] = AcJson.Stamp(o.Created),
            ["udate"] = AcJson.Stamp(o.Updated),
            ["id"] = o.Id,
        };
    }

    private static List<(string, string, string)> Missing(JsonObject body, params string[] keys) =>
        [.. keys.Where(k => string.IsNullOrWhiteSpace(AcJson.Text(body[k])))
                .Select(k => ("field_missing", "The " + k + " field is required.", "/data/attributes/" + k))];

    private ApiResult ListConnections(IQueryCollection q)
    {
        IEnumerable<ConnectionState> found = _connections;
        if (AcJson.Query(q, "filters[service]") is { } service)
        {
            found = found.Where(c => string.Equals(c.Service, service, StringComparison.OrdinalIgnoreCase));
        }

        if (AcJson.Query(q, "filters[externalid]") is { } externalId)
        {
            found = found.Where(c => c.ExternalId == externalId);
        }

        return ApiResult.Ok(AcJson.Page(found.ToList(), q, "connections", Render));
    }

    private ApiResult GetConnection(string id) =>
        _connections.Find(c => c.Id == id) is { } connection
            ? ApiResult.Ok(new JsonObject { ["connection"] = Render(connection) })
            : ApiResult.NotFound("Connection", id);

    private ApiResult CreateConnection(JsonNode? root)
    {
        var c = AcJson.Envelope(root, "connection");
        var missing = Missing(c, "service", "externalid", "name", "logoUrl", "linkUrl");
        if (missing.Count > 0)
        {
            return ApiResult.Unprocessable(missing);
        }

        var service = AcJson.Text(c["service"])!.Trim();
        var externalId = AcJson.Text(c["externalid"])!.Trim();
        if (_connections.Exists(x => string.Equals(x.Service, service, StringComparison.OrdinalIgnoreCase) && x.ExternalId == externalId))
        {
            return ApiResult.Unprocessable("duplicate", "A connection for this service and externalid already exists.", "/data/attributes/externalid");
        }

        var connection = new ConnectionState(NextId(), service, externalId, AcJson.Text(c["name"])!, AcJson.Text(c["logoUrl"])!,
            AcJson.Text(c["linkUrl"])!, _time.GetUtcNow());
        _connections.Add(connection);
        return ApiResult.Created(new JsonObject { ["connection"] = Render(connection) });
    }

    private ApiResult ListEcomCustomers(IQueryCollection q)
    {
        IEnumerable<EcomCustomerState> found = _ecomCustomers;
        if (AcJson.Query(q, "filters[externalid]") is { } externalId)
        {
            found = found.Where(c => c.ExternalId == externalId);
        }

        if (AcJson.Query(q, "filters[connectionid]") is { } connectionId)
        {
            found = found.Where(c => c.ConnectionId == connectionId);
        }

        if (AcJson.Query(q, "filters[email]") is { } email)
        {
            found = found.Where(c => string.Equals(c.Email, email.Trim(), StringComparison.OrdinalIgnoreCase));
        }

        return ApiResult.Ok(AcJson.Page(found.ToList(), q, "ecomCustomers", Render));
    }

    private ApiResult GetEcomCustomer(string id) =>
        _ecomCustomers.Find(c => c.Id == id) is { } customer
            ? ApiResult.Ok(new JsonObject { ["ecomCustomer"] = Render(customer) })
            : ApiResult.NotFound("EcomCustomer", id);

    private ApiResult CreateEcomCustomer(JsonNode? root)
    {
        var c = AcJson.Envelope(root, "ecomCustomer");
        var missing = Missing(c, "connectionid", "externalid", "email");
        if (missing.Count > 0)
        {
            return ApiResult.Unprocessable(missing);
        }

        var connectionId = AcJson.Id(c["connectionid"])!;
        var externalId = AcJson.Text(c["externalid"])!.Trim();
        var email = AcJson.Text(c["email"])!.Trim();
        if (CheckEmail(email, "/data/attributes/email") is { } bad)
        {
            return bad;
        }

        if (!_connections.Exists(x => x.Id == connectionId))
        {
            return ApiResult.Unprocessable("related_missing", "Connection " + connectionId + " does not exist.", "/data/attributes/connectionid");
        }

        if (_ecomCustomers.Exists(x => x.ConnectionId == connectionId && x.ExternalId == externalId))
        {
            return ApiResult.Unprocessable("duplicate", "A customer with this externalid already exists for this connection.", "/data/attributes/externalid");
        }

        var acceptsMarketing = AcJson.Bool(c["acceptsMarketing"]) ?? false;
        var customer = new EcomCustomerState(NextId(), connectionId, externalId, email, acceptsMarketing, _time.GetUtcNow());
        _ecomCustomers.Add(customer);
        return ApiResult.Created(new JsonObject { ["ecomCustomer"] = Render(customer) });
    }

    private ApiResult ListEcomOrders(IQueryCollection q)
    {
        IEnumerable<EcomOrderState> found = _ecomOrders;
        if (AcJson.Query(q, "filters[externalid]") is { } externalId)
        {
            found = found.Where(o => o.ExternalId == externalId);
        }

        if (AcJson.Query(q, "filters[connectionid]") is { } connectionId)
        {
            found = found.Where(o => o.ConnectionId == connectionId);
        }

        if (AcJson.Query(q, "filters[customerid]") is { } customerId)
        {
            found = found.Where(o => o.CustomerId == customerId);
        }

        if (AcJson.Query(q, "filters[email]") is { } email)
        {
            found = found.Where(o => string.Equals(o.Email, email.Trim(), StringComparison.OrdinalIgnoreCase));
        }

        return ApiResult.Ok(AcJson.Page(found.ToList(), q, "ecomOrders", Render));
    }

    private ApiResult GetEcomOrder(string id) =>
        _ecomOrders.Find(o => o.Id == id) is { } order
            ? ApiResult.Ok(new JsonObject { ["ecomOrder"] = Render(order) })
            : ApiResult.NotFound("EcomOrder", id);

    private ApiResult CreateEcomOrder(JsonNode? root)
    {
        var o = AcJson.Envelope(root, "ecomOrder");
        var missing = Missing(o, "externalid", "source", "email", "totalPrice", "currency", "connectionid", "customerid", "externalCreatedDate");
        if (o["orderProducts"] is not JsonArray { Count: > 0 })
        {
            missing.Add(("field_missing", "The orderProducts field is required.", "/data/attributes/orderProducts"));
        }

        if (missing.Count > 0)
        {
            return ApiResult.Unprocessable(missing);
        }

        var order = new EcomOrderState(NextId(), _time.GetUtcNow());
        if (ApplyOrder(order, o) is { } error)
        {
            return error;
        }

        _ecomOrders.Add(order);
        return ApiResult.Created(new JsonObject { ["ecomOrder"] = Render(order) });
    }

    private ApiResult UpdateEcomOrder(string id, JsonNode? root)
    {
        var existing = _ecomOrders.Find(x => x.Id == id);
        if (existing is null)
        {
            return ApiResult.NotFound("EcomOrder", id);
        }

        // Validate on a copy so a rejected PUT changes nothing.
        var draft = new EcomOrderState(existing.Id, existing.Created)
        {
            ExternalId = existing.ExternalId, Source = existing.Source, Email = existing.Email, Products = [.. existing.Products],
            TotalPrice = existing.TotalPrice, ShippingAmount = existing.ShippingAmount, TaxAmount = existing.TaxAmount,
            DiscountAmount = existing.DiscountAmount, Currency = existing.Currency, ConnectionId = existing.ConnectionId,
            CustomerId = existing.CustomerId, ContactId = existing.ContactId, ExternalCreatedDate = existing.ExternalCreatedDate,
            ExternalUpdatedDate = existing.ExternalUpdatedDate,
        };
        if (ApplyOrder(draft, AcJson.Envelope(root, "ecomOrder")) is { } error)
        {
            return error;
        }

        existing.ExternalId = draft.ExternalId;
        existing.Source = draft.Source;
        existing.Email = draft.Email;
        existing.Products = draft.Products;
        existing.TotalPrice = draft.TotalPrice;
        existing.ShippingAmount = draft.ShippingAmount;
        existing.TaxAmount = draft.TaxAmount;
        existing.DiscountAmount = draft.DiscountAmount;
        existing.Currency = draft.Currency;
        existing.ConnectionId = draft.ConnectionId;
        existing.CustomerId = draft.CustomerId;
        existing.ContactId = draft.ContactId;
        existing.ExternalCreatedDate = draft.ExternalCreatedDate;
        existing.ExternalUpdatedDate = draft.ExternalUpdatedDate;
        existing.Updated = _time.GetUtcNow();
        existing.UpdateCount++;
        return ApiResult.Ok(new JsonObject { ["ecomOrder"] = Render(existing) });
    }

    /// <summary>Validates the keys present in o and applies them to order; on error order may be half-changed (callers use a fresh or draft order).</summary>
    private ApiResult? ApplyOrder(EcomOrderState order, JsonObject o)
    {
        if (AcJson.Id(o["connectionid"]) is { } connectionId)
        {
            if (!_connections.Exists(c => c.Id == connectionId))
            {
                return ApiResult.Unprocessable("related_missing", "Connection " + connectionId + " does not exist.", "/data/attributes/connectionid");
            }

            order.ConnectionId = connectionId;
        }

        if (AcJson.Id(o["customerid"]) is { } customerId)
        {
            order.CustomerId = customerId;
        }

        if (!_ecomCustomers.Exists(c => c.Id == order.CustomerId && c.ConnectionId == order.ConnectionId))
        {
            return ApiResult.Unprocessable("related_missing", "Customer " + order.CustomerId + " does not exist for connection " + order.ConnectionId + ".", "/data/attributes/customerid");
        }

        if (AcJson.Text(o["externalid"])?.Trim() is { Length: > 0 } externalId)
        {
            order.ExternalId = externalId;
        }

        if (_ecomOrders.Exists(x => x.Id != order.Id && x.ConnectionId == order.ConnectionId && x.ExternalId == order.ExternalId))
        {
            return ApiResult.Unprocessable("duplicate", "An order with this externalid already exists.", "/data/attributes/externalid");
        }

        if (o.ContainsKey("source"))
        {
            if (AcJson.Id(o["source"]) is not ("0" or "1") || !int.TryParse(AcJson.Id(o["source"]), out var source))
            {
                return ApiResult.Unprocessable("field_invalid", "Source must be 0 (historical) or 1 (real time).", "/data/attributes/source");
            }

            order.Source = source;
        }

        if (AcJson.Text(o["email"])?.Trim() is { } email)
        {
            if (CheckEmail(email, "/data/attributes/email") is { } bad)
            {
                return bad;
            }

            order.Email = email;
        }

        foreach (var (key, set) in new (string, Action<long>)[]
                 {
                     ("totalPrice", v => order.TotalPrice = v), ("shippingAmount", v => order.ShippingAmount = v),
                     ("taxAmount", v => order.TaxAmount = v), ("discountAmount", v => order.DiscountAmount = v),
                 })
        {
            if (o[key] is null)
            {
                continue;
            }

            if (!AcJson.TryWhole(o[key], out var cents))
            {
                return ApiResult.Unprocessable("field_invalid", key + " must be a whole number of cents.", "/data/attributes/" + key);
            }

            set(cents);
        }

        if (AcJson.Text(o["currency"])?.Trim() is { } currency)
        {
            if (currency.Length != 3 || !currency.All(char.IsAsciiLetter))
            {
                return ApiResult.Unprocessable("field_invalid", "Currency must be a 3-letter code.", "/data/attributes/currency");
            }

            order.Currency = currency.ToUpperInvariant();
        }

        foreach (var (key, required) in new[] { ("externalCreatedDate", true), ("externalUpdatedDate", false) })
        {
            if (AcJson.Text(o[key])?.Trim() is not { Length: > 0 } date)
            {
                continue;
            }

            if (!DateTimeOffset.TryParse(date, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            {
                return ApiResult.Unprocessable("field_invalid", key + " must be an ISO 8601 date.", "/data/attributes/" + key);
            }

            if (required)
            {
                order.ExternalCreatedDate = date;
            }
            else
            {
                order.ExternalUpdatedDate = date;
            }
        }

        if (o["orderProducts"] is JsonArray products)
        {
            var read = new List<EmulatedOrderProduct>();
            for (var i = 0; i < products.Count; i++)
            {
                var pointer = "/data/attributes/orderProducts/" + AcJson.Str(i);
                if (products[i] is not JsonObject p)
                {
                    return ApiResult.Unprocessable("field_invalid", "An order product must be an object.", pointer);
                }

                var lacking = Missing(p, "externalid", "name", "price", "quantity");
                if (lacking.Count > 0)
                {
                    return ApiResult.Unprocessable(lacking.Select(m => (m.Item1, m.Item2, m.Item3.Replace("/data/attributes", pointer, StringComparison.Ordinal))));
                }

                if (!AcJson.TryWhole(p["price"], out var price))
                {
                    return ApiResult.Unprocessable("field_invalid", "price must be a whole number of cents.", pointer + "/price");
                }

                if (!AcJson.TryWhole(p["quantity"], out var quantity) || quantity is < 1 or > int.MaxValue)
                {
                    return ApiResult.Unprocessable("field_invalid", "quantity must be a positive whole number.", pointer + "/quantity");
                }

                read.Add(new EmulatedOrderProduct(AcJson.Text(p["externalid"])!, AcJson.Text(p["name"])!, price, (int)quantity,
                    AcJson.Text(p["category"]), AcJson.Text(p["sku"])));
            }

            order.Products = read;
        }

        // AC attaches the order to the contact with its email, creating the contact when there is none.
        order.ContactId = (_contactsByEmail.TryGetValue(order.Email, out var contact) ? contact : AddContact(order.Email)).Id;
        return null;
    }
}
