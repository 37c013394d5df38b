using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace KivaSync.AcEmulator;

// The Ecommerce GraphQL API (POST /api/3/ecom/graphql): bulkUpsertOrdersAsync and bulkUpsertRecurringPayments.
// All-or-nothing per call; an accepted call makes the contact and the e-commerce customer at once and applies its
// items ApplyDelay later (AC: about a second), in arrival order.
public sealed partial class EmulatedAccount
{
    /// <summary>At most this many items per GraphQL call (AC's WooCommerce integration never sends more).</summary>
    public const int GraphQlMaxItems = 50;

    /// <summary>At most this many bytes per GraphQL body.</summary>
    public const int GraphQlMaxBytes = 400_000;

    private const string OrdersMutation = "bulkUpsertOrdersAsync";
    private const string RecurringPaymentsMutation = "bulkUpsertRecurringPayments";

    private static readonly string[] CreationSources = ["HISTORICAL", "REAL_TIME"];
    private static readonly string[] OrderStatuses = ["PENDING", "COMPLETED", "CANCELLED", "REFUNDED", "ABANDONED", "FAILED"];
    private static readonly string[] RecurringStatuses = ["ACTIVE", "PAUSED", "CANCELLED", "EXPIRED", "PAYMENT_FAILED", "PENDING"];
    private static readonly string[] BillingIntervals = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"];

    private readonly List<GraphQlItemState> _gqlOrders = [];
    private readonly List<GraphQlItemState> _gqlRecurringPayments = [];
    private readonly List<PendingGraphQlWrite> _gqlPending = [];
    private readonly HashSet<string> _refusedOrderIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refusedRecurringPaymentIds = new(StringComparer.Ordinal);
    private TimeSpan _gqlApplyDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long after an accepted GraphQL call its orders / recurring payments appear (AC: about a second).</summary>
    public TimeSpan GraphQlApplyDelay
    {
        get { lock (_gate) { return _gqlApplyDelay; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate) { _gqlApplyDelay = value; }
        }
    }

    /// <summary>Test switch: GraphQL calls carrying one of these storeOrderIds are refused with a validation error naming it.</summary>
    public void RefuseOrderIds(params string[] storeOrderIds)
    {
        lock (_gate) { _refusedOrderIds.UnionWith(storeOrderIds); }
    }

    /// <summary>Test switch: GraphQL calls carrying one of these storeRecurringPaymentIds are refused naming it.</summary>
    public void RefuseRecurringPaymentIds(params string[] storeRecurringPaymentIds)
    {
        lock (_gate) { _refusedRecurringPaymentIds.UnionWith(storeRecurringPaymentIds); }
    }

    /// <summary>Lifts every refusal set by <see cref="RefuseOrderIds"/> and <see cref="RefuseRecurringPaymentIds"/>.</summary>
    public void AcceptAllGraphQlIds()
    {
        lock (_gate)
        {
            _refusedOrderIds.Clear();
            _refusedRecurringPaymentIds.Clear();
        }
    }

    /// <summary>Accepted GraphQL items not applied yet (they appear GraphQlApplyDelay after their call).</summary>
    public int PendingGraphQlItems
    {
        get
        {
            lock (_gate)
            {
                ApplyDueGraphQl();
                return _gqlPending.Sum(p => p.Items.Count);
            }
        }
    }

    /// <summary>Orders written through GraphQL and applied, oldest first.</summary>
    public IReadOnlyList<EmulatedGraphQlOrder> GraphQlOrders()
    {
        lock (_gate)
        {
            ApplyDueGraphQl();
            return [.. _gqlOrders.Select(SnapshotOrder)];
        }
    }

    /// <summary>Recurring payments written through GraphQL and applied, oldest first.</summary>
    public IReadOnlyList<EmulatedRecurringPayment> RecurringPayments()
    {
        lock (_gate)
        {
            ApplyDueGraphQl();
            return [.. _gqlRecurringPayments.Select(SnapshotRecurringPayment)];
        }
    }

    private static ApiResult GraphQlError(string message) =>
        ApiResult.Ok(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["message"] = message }) });

    private static ApiResult GraphQlValidation(string mutation, JsonObject extensions) =>
        ApiResult.Ok(new JsonObject
        {
            ["data"] = new JsonObject { [mutation] = null },
            ["errors"] = new JsonArray(new JsonObject { ["message"] = "Validation errors", ["extensions"] = extensions }),
        });

    private ApiResult GraphQl(string body, int bodyBytes)
    {
        ApplyDueGraphQl();
        if (bodyBytes > GraphQlMaxBytes)
        {
            return GraphQlError("Request body too large");
        }

        JsonObject root;
        try
        {
            root = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return GraphQlError("Invalid JSON body");
        }

        var query = AcJson.Text(root["query"]) ?? "";
        var variables = root["variables"] as JsonObject ?? [];
        var orders = OrdersArgument().Match(query);
        var payments = RecurringPaymentsArgument().Match(query);
        if (orders.Success == payments.Success)
        {
            // Neither mutation, or both in one call (AC takes one mutation per call).
            return GraphQlError("Invalid query");
        }

        var (mutation, idField, refused, validate, items) = orders.Success
            ? (OrdersMutation, "storeOrderId", _refusedOrderIds, (Func<JsonObject, string?>)ValidateOrder, _gqlOrders)
            : (RecurringPaymentsMutation, "storeRecurringPaymentId", _refusedRecurringPaymentIds, ValidateRecurringPayment, _gqlRecurringPayments);
        var variable = (orders.Success ? orders : payments).Groups[1].Value;
        if (variables[variable] is not JsonArray list)
        {
            return GraphQlError("Variable \"$" + variable + "\" of required type is missing or not a list");
        }

        if (list.Count > GraphQlMaxItems)
        {
            return GraphQlValidation(mutation, new JsonObject
            {
                ["limit"] = "At most " + AcJson.Str(GraphQlMaxItems) + " items per call; got " + AcJson.Str(list.Count),
            });
        }

        var extensions = new JsonObject();
        var accepted = new List<JsonObject>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var item = list[i] as JsonObject;
            var id = item is null ? "" : AcJson.Text(item[idField]) ?? "";
            var reason = item is null ? "An item must be an object." : validate(item);
            if (reason is null && refused.Contains(id))
            {
                reason = idField + " " + id + " is refused by this account.";
            }

            if (reason is not null)
            {
                extensions[AcJson.Str(i) + "-" + idField + "-" + id] = reason;
            }
            else
            {
                accepted.Add(item!);
            }
        }

        if (extensions.Count > 0)
        {
            return GraphQlValidation(mutation, extensions);
        }

        // At once: the contact (if the email is new) and the e-commerce customer.
        foreach (var item in accepted)
        {
            if (AcJson.Text(item["email"])?.Trim() is { Length: > 0 } email)
            {
                var contact = _contactsByEmail.TryGetValue(email, out var found) ? found : AddContact(email);
                EnsureGraphQlCustomer(AcJson.Text(item["legacyConnectionId"])!, AcJson.Text(item["storeCustomerId"]) ?? email, contact.Email);
            }
        }

        var recordId = Guid.NewGuid().ToString();
        _gqlPending.Add(new PendingGraphQlWrite(_time.GetUtcNow() + _gqlApplyDelay, idField, items, [.. accepted.Select(a => (JsonObject)a.DeepClone())]));
        return ApiResult.Ok(new JsonObject { ["data"] = new JsonObject { [mutation] = new JsonObject { ["recordId"] = recordId } } });
    }

    private void EnsureGraphQlCustomer(string connectionId, string externalId, string email)
    {
        if (!_ecomCustomers.Exists(c => c.ConnectionId == connectionId && c.ExternalId == externalId))
        {
            _ecomCustomers.Add(new EcomCustomerState(NextId(), connectionId, externalId, email, false, _time.GetUtcNow()));
        }
    }

    /// <summary>Applies every accepted write whose time has come, in arrival order (called under the lock).</summary>
    private void ApplyDueGraphQl()
    {
        var now = _time.GetUtcNow();
        while (_gqlPending.Count > 0 && _gqlPending[0].Due <= now)
        {
            var write = _gqlPending[0];
            _gqlPending.RemoveAt(0);
            foreach (var item in write.Items)
            {
                var connectionId = AcJson.Text(item["legacyConnectionId"])!;
                var id = AcJson.Text(item[write.IdField])!;
                var existing = write.Target.Find(x => x.ConnectionId == connectionId && x.StoreId == id);
                if (existing is null)
                {
                    existing = new GraphQlItemState(NextId(), connectionId, id, write.Due);
                    write.Target.Add(existing);
                }
                else
                {
                    existing.UpsertCount++;
                }

                // Absent keeps, null clears (kept as an explicit null so tests can tell "cleared" from "never sent").
                foreach (var (key, value) in item)
                {
                    existing.Fields[key] = value?.DeepClone();
                }

                if (item.ContainsKey("suppressAutomations"))
                {
                    existing.SuppressAutomationsSent.Add(AcJson.Bool(item["suppressAutomations"]));
                }

                if (item.ContainsKey("creationSource"))
                {
                    existing.CreationSourcesSent.Add(AcJson.Text(item["creationSource"])!);
                }

                existing.Updated = write.Due;
                if (AcJson.Text(existing.Fields["email"])?.Trim() is { Length: > 0 } email && _contactsByEmail.TryGetValue(email, out var contact))
                {
                    existing.ContactId = contact.Id;
                }
            }
        }
    }

    private string? ValidateOrder(JsonObject o)
    {
        var errors = new List<string>();
        RequireConnection(o, errors);
        RequireText(o, "storeOrderId", errors);
        RequireText(o, "orderNumber", errors);
        RequireEmail(o, errors);
        OptionalText(o, "storeCustomerId", errors);
        RequireDate(o, "storeCreatedDate", required: true, errors);
        RequireDate(o, "storeModifiedDate", required: false, errors);
        RequireEnum(o, "creationSource", CreationSources, required: true, errors);
        RequireEnum(o, "normalizedStatus", OrderStatuses, required: false, errors);
        OptionalText(o, "storeStatus", errors);
        RequireCurrency(o, required: true, errors);
        RequireMoney(o, "finalAmount", required: true, errors);
        RequireMoney(o, "shippingAmount", required: false, errors);
        RequireMoney(o, "discountsAmount", required: false, errors);
        if (o["lineItems"] is not JsonArray { Count: > 0 } lines)
        {
            errors.Add("lineItems: at least one line item is required");
        }
        else
        {
            for (var i = 0; i < lines.Count; i++)
            {
                if (lines[i] is not JsonObject line)
                {
                    errors.Add("lineItems[" + AcJson.Str(i) + "]: must be an object");
                    continue;
                }

                var lineErrors = new List<string>();
                RequireText(line, "name", lineErrors);
                RequireMoney(line, "priceAmount", required: true, lineErrors);
                if (line["quantity"] is not JsonValue q || q.GetValueKind() != JsonValueKind.Number || !q.TryGetValue<int>(out var quantity) || quantity < 1)
                {
                    lineErrors.Add("quantity: a whole number of at least 1 is required");
                }

                OptionalText(line, "sku", lineErrors);
                OptionalText(line, "category", lineErrors);
                OptionalText(line, "storeLineItemId", lineErrors);
                errors.AddRange(lineErrors.Select(e => "lineItems[" + AcJson.Str(i) + "]." + e));
            }
        }

        return errors.Count == 0 ? null : string.Join("; ", errors);
    }

    private string? ValidateRecurringPayment(JsonObject r)
    {
        var errors = new List<string>();
        RequireConnection(r, errors);
        RequireText(r, "storeRecurringPaymentId", errors);
        RequireEmail(r, errors);
        OptionalText(r, "storeCustomerId", errors);
        OptionalText(r, "name", errors);
        RequireEnum(r, "normalizedStatus", RecurringStatuses, required: false, errors);
        OptionalText(r, "storeStatus", errors);
        RequireEnum(r, "billingInterval", BillingIntervals, required: false, errors);
        if (r["billingIntervalCount"] is { } count &&
            (count is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<int>(out var n) || n < 1))
        {
            errors.Add("billingIntervalCount: a whole number of at least 1 (or null) is required");
        }

        RequireDate(r, "nextPaymentDate", required: false, errors);
        RequireDate(r, "cancelledDate", required: false, errors);
        RequireMoney(r, "paymentAmount", required: false, errors);
        RequireCurrency(r, required: false, errors);
        if (r["lineItemNames"] is { } names && (names is not JsonArray array || array.Any(x => x is not JsonValue s || s.GetValueKind() != JsonValueKind.String)))
        {
            errors.Add("lineItemNames: a list of strings (or null) is required");
        }

        if (r["suppressAutomations"] is { } suppress && suppress.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add("suppressAutomations: a Boolean is required");
        }

        return errors.Count == 0 ? null : string.Join("; ", errors);
    }

    private void RequireConnection(JsonObject o, List<string> errors)
    {
        // legacyConnectionId is an Int in GraphQL.
        if (o["legacyConnectionId"] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var id))
        {
            errors.Add("legacyConnectionId: an Int is required");
        }
        else if (!_connections.Exists(c => c.Id == AcJson.Str(id)))
        {
            errors.Add("legacyConnectionId: no connection " + AcJson.Str(id));
        }
    }

    private static void RequireText(JsonObject o, string key, List<string> errors)
    {
        if (o[key] is not JsonValue v || v.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetValue<string>()))
        {
            errors.Add(key + ": a non-empty String is required");
        }
    }

    private static void OptionalText(JsonObject o, string key, List<string> errors)
    {
        if (o[key] is { } node && node.GetValueKind() != JsonValueKind.String)
        {
            errors.Add(key + ": must be a String");
        }
    }

    private static void RequireEmail(JsonObject o, List<string> errors)
    {
        RequireText(o, "email", errors);
        if (AcJson.Text(o["email"]) is { } email && !string.IsNullOrWhiteSpace(email) && !AcJson.IsEmail(email.Trim()))
        {
            errors.Add("email: not a valid email address");
        }
    }

    private static void RequireEnum(JsonObject o, string key, string[] values, bool required, List<string> errors)
    {
        var node = o[key];
        if (node is null)
        {
            if (required)
            {
                errors.Add(key + ": one of " + string.Join(", ", values) + " is required");
            }

            return;
        }

        if (node.GetValueKind() != JsonValueKind.String || !values.Contains(node.GetValue<string>(), StringComparer.Ordinal))
        {
            errors.Add(key + ": must be one of " + string.Join(", ", values));
        }
    }

    private static void RequireDate(JsonObject o, string key, bool required, List<string> errors)
    {
        var node = o[key];
        if (node is null)
        {
            if (required)
            {
                errors.Add(key + ": a date YYYY-MM-DDTHH:MM:SSZ is required");
            }

            return;
        }

        if (node.GetValueKind() != JsonValueKind.String || !GraphQlDate().IsMatch(node.GetValue<string>()) ||
            !DateTime.TryParseExact(node.GetValue<string>(), "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out _))
        {
            errors.Add(key + ": must be a date YYYY-MM-DDTHH:MM:SSZ");
        }
    }

    private static void RequireCurrency(JsonObject o, bool required, List<string> errors)
    {
        var node = o["currency"];
        if (node is null)
        {
            if (required)
            {
                errors.Add("currency: an ISO 4217 code is required");
            }

            return;
        }

        if (node.GetValueKind() != JsonValueKind.String || !Currency().IsMatch(node.GetValue<string>()))
        {
            errors.Add("currency: must be an upper-case ISO 4217 code");
        }
    }

    private static void RequireMoney(JsonObject o, string key, bool required, List<string> errors)
    {
        var node = o[key];
        if (node is null)
        {
            if (required)
            {
                errors.Add(key + ": an amount in currency units is required");
            }

            return;
        }

        // Money is a JSON number in currency units; a string (or cents-looking text) is refused.
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<decimal>(out var amount) || amount < 0)
        {
            errors.Add(key + ": must be a non-negative number in currency units");
        }
    }

    private static string? Text(GraphQlItemState s, string key) => s.Fields.TryGetValue(key, out var v) ? AcJson.Text(v) : null;

    private static decimal? Money(GraphQlItemState s, string key) =>
        s.Fields.TryGetValue(key, out var v) && v is JsonValue value && value.TryGetValue<decimal>(out var d) ? d : null;

    private EmulatedGraphQlOrder SnapshotOrder(GraphQlItemState s)
    {
        var lines = s.Fields.TryGetValue("lineItems", out var node) && node is JsonArray array
            ? array.OfType<JsonObject>().Select(l => new EmulatedLineItem(
                AcJson.Text(l["name"])!, (int)l["quantity"]!.GetValue<decimal>(), l["priceAmount"]!.GetValue<decimal>(),
                AcJson.Text(l["sku"]), AcJson.Text(l["category"]), AcJson.Text(l["storeLineItemId"]))).ToList()
            : [];
        return new EmulatedGraphQlOrder(
            s.Id, s.ConnectionId, s.StoreId, Text(s, "orderNumber")!, Text(s, "email")!, Text(s, "storeCustomerId"),
            Text(s, "storeCreatedDate")!, Text(s, "storeModifiedDate"), Text(s, "creationSource")!, [.. s.CreationSourcesSent],
            Text(s, "normalizedStatus"), Text(s, "storeStatus"), Text(s, "currency")!, Money(s, "finalAmount")!.Value,
            Money(s, "shippingAmount"), Money(s, "discountsAmount"), lines, s.ContactId,
            [.. s.Fields.Keys], s.UpsertCount, s.Created, s.Updated);
    }

    private EmulatedRecurringPayment SnapshotRecurringPayment(GraphQlItemState s) => new(
        s.Id, s.ConnectionId, s.StoreId, Text(s, "storeCustomerId"), Text(s, "email")!, Text(s, "name"),
        Text(s, "normalizedStatus"), Text(s, "storeStatus"), Text(s, "billingInterval"),
        s.Fields.TryGetValue("billingIntervalCount", out var count) && count is JsonValue c ? c.GetValue<int>() : null,
        Text(s, "nextPaymentDate"), Text(s, "cancelledDate"), Money(s, "paymentAmount"), Text(s, "currency"),
        s.Fields.TryGetValue("lineItemNames", out var names) && names is JsonArray a ? [.. a.Select(x => x!.GetValue<string>())] : null,
        s.Fields.TryGetValue("suppressAutomations", out var sup) && sup is JsonValue b ? b.GetValue<bool>() : null,
        [.. s.SuppressAutomationsSent], s.ContactId, [.. s.Fields.Keys], s.UpsertCount, s.Created, s.Updated);

    [GeneratedRegex(@"bulkUpsertOrdersAsync\s*\(\s*orders\s*:\s*\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex OrdersArgument();

    [GeneratedRegex(@"bulkUpsertRecurringPayments\s*\(\s*recurringPayments\s*:\s*\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex RecurringPaymentsArgument();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")]
    private static partial Regex GraphQlDate();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex Currency();
}
