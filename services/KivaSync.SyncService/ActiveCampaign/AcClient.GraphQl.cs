using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>One line of a GraphQL order; <paramref name="PriceAmount"/> is the unit price in currency units.</summary>
public sealed record AcOrderLineItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("quantity")] int Quantity,
    [property: JsonPropertyName("priceAmount")] decimal PriceAmount,
    [property: JsonPropertyName("sku")] string? Sku,
    [property: JsonPropertyName("category")] string? Category,
    [property: JsonPropertyName("storeLineItemId")] string? StoreLineItemId);

/// <summary>
/// An order for bulkUpsertOrdersAsync (money in currency units, dates YYYY-MM-DDTHH:MM:SSZ). A null member is left
/// out of the call, so AC keeps what it has.
/// </summary>
public sealed record AcOrderUpsert(
    [property: JsonPropertyName("legacyConnectionId")] long LegacyConnectionId,
    [property: JsonPropertyName("storeOrderId")] string StoreOrderId,
    [property: JsonPropertyName("orderNumber")] string OrderNumber,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("storeCustomerId")] string? StoreCustomerId,
    [property: JsonPropertyName("storeCreatedDate")] string StoreCreatedDate,
    [property: JsonPropertyName("storeModifiedDate")] string? StoreModifiedDate,
    [property: JsonPropertyName("creationSource")] string CreationSource,
    [property: JsonPropertyName("normalizedStatus")] string? NormalizedStatus,
    [property: JsonPropertyName("storeStatus")] string? StoreStatus,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("finalAmount")] decimal FinalAmount,
    [property: JsonPropertyName("shippingAmount")] decimal? ShippingAmount,
    [property: JsonPropertyName("discountsAmount")] decimal? DiscountsAmount,
    [property: JsonPropertyName("lineItems")] IReadOnlyList<AcOrderLineItem> LineItems) : IAcGraphQlItem
{
    /// <summary>creationSource of an order first sent from a historical entry (AC runs no automations).</summary>
    public const string Historical = "HISTORICAL";

    /// <summary>creationSource of an order first sent from a live entry.</summary>
    public const string RealTime = "REAL_TIME";

    /// <inheritdoc />
    [JsonIgnore]
    public string StoreId => StoreOrderId;
}

/// <summary>
/// A recurring payment for bulkUpsertRecurringPayments. A null member is left out (AC keeps its value); a member
/// named in <see cref="Cleared"/> (by its GraphQL name, e.g. "nextPaymentDate") is sent as null, which clears it.
/// </summary>
public sealed record AcRecurringPaymentUpsert(
    [property: JsonPropertyName("legacyConnectionId")] long LegacyConnectionId,
    [property: JsonPropertyName("storeRecurringPaymentId")] string StoreRecurringPaymentId,
    [property: JsonPropertyName("storeCustomerId")] string? StoreCustomerId,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("normalizedStatus")] string? NormalizedStatus,
    [property: JsonPropertyName("storeStatus")] string? StoreStatus,
    [property: JsonPropertyName("billingInterval")] string? BillingInterval,
    [property: JsonPropertyName("billingIntervalCount")] int? BillingIntervalCount,
    [property: JsonPropertyName("nextPaymentDate")] string? NextPaymentDate,
    [property: JsonPropertyName("cancelledDate")] string? CancelledDate,
    [property: JsonPropertyName("paymentAmount")] decimal? PaymentAmount,
    [property: JsonPropertyName("currency")] string? Currency,
    [property: JsonPropertyName("lineItemNames")] IReadOnlyList<string>? LineItemNames,
    [property: JsonPropertyName("suppressAutomations")] bool? SuppressAutomations) : IAcGraphQlItem
{
    /// <summary>GraphQL names of the fields to send as null (clears them in AC).</summary>
    [JsonIgnore]
    public IReadOnlyCollection<string> Cleared { get; init; } = [];

    /// <inheritdoc />
    [JsonIgnore]
    public string StoreId => StoreRecurringPaymentId;
}

/// <summary>An item of a GraphQL bulk upsert.</summary>
public interface IAcGraphQlItem
{
    /// <summary>The item's store id (storeOrderId / storeRecurringPaymentId).</summary>
    string StoreId { get; }
}

/// <summary>An item AC refused, with AC's reason; <paramref name="Index"/> is its position in the caller's list.</summary>
public sealed record AcRefusedItem(int Index, string StoreId, string Reason);

/// <summary>
/// What a bulk upsert achieved: every item not in <paramref name="Refused"/> was accepted (AC applies it about a
/// second later). <paramref name="Calls"/> counts the GraphQL calls it took (retries by the pipeline not included).
/// </summary>
public sealed record AcBulkUpsertResult(IReadOnlyList<AcRefusedItem> Refused, int Calls);

// The Ecommerce GraphQL API: typed inputs serialised into "variables" (never into the query text), on the tenant's
// budget and resilience pipeline like every AC call.
public sealed partial class AcClient
{
    /// <summary>AC's limit (as its own WooCommerce integration keeps): items per GraphQL call.</summary>
    public const int GraphQlMaxItems = 50;

    /// <summary>AC's limit: bytes per GraphQL request body.</summary>
    public const int GraphQlMaxBytes = 400_000;

    /// <summary>The mutation name orders go through.</summary>
    public const string OrdersMutation = "bulkUpsertOrdersAsync";

    /// <summary>The mutation name recurring payments go through.</summary>
    public const string RecurringPaymentsMutation = "bulkUpsertRecurringPayments";

    private const string OrdersQuery = "mutation($orders:[OrderInput]){bulkUpsertOrdersAsync(orders:$orders){recordId}}";
    private const string RecurringPaymentsQuery = "mutation($rps:[RecurringPaymentInput]){bulkUpsertRecurringPayments(recurringPayments:$rps){recordId}}";

    private static readonly HashSet<string> ClearableRecurringFields = new(StringComparer.Ordinal)
    {
        "storeCustomerId", "name", "normalizedStatus", "storeStatus", "billingInterval", "billingIntervalCount",
        "nextPaymentDate", "cancelledDate", "paymentAmount", "currency", "lineItemNames",
    };

    /// <summary>Upserts orders (any number: sent at most 50 and 400,000 bytes a call). Items AC refuses come back with
    /// its reason; the rest of their call is sent again at once without them.</summary>
    public Task<AcBulkUpsertResult> BulkUpsertOrdersAsync(IReadOnlyList<AcOrderUpsert> orders, CancellationToken ct) =>
        BulkUpsertAsync(OrdersMutation, OrdersQuery, "orders", "storeOrderId", orders,
            o => JsonSerializer.SerializeToNode(o, AcGraphQlJson.Default.AcOrderUpsert)!.AsObject(), ct);

    /// <summary>Upserts recurring payments, like <see cref="BulkUpsertOrdersAsync"/>.</summary>
    public Task<AcBulkUpsertResult> BulkUpsertRecurringPaymentsAsync(IReadOnlyList<AcRecurringPaymentUpsert> payments, CancellationToken ct) =>
        BulkUpsertAsync(RecurringPaymentsMutation, RecurringPaymentsQuery, "rps", "storeRecurringPaymentId", payments,
            p =>
            {
                var node = JsonSerializer.SerializeToNode(p, AcGraphQlJson.Default.AcRecurringPaymentUpsert)!.AsObject();
                foreach (var field in p.Cleared)
                {
                    if (!ClearableRecurringFields.Contains(field))
                    {
                        throw new ArgumentException($"\"{field}\" is not a recurring payment field the sync may clear", nameof(payments));
                    }

                    node[field] = null;
                }

                return node;
            },
            ct);

    private async Task<AcBulkUpsertResult> BulkUpsertAsync<T>(
        string mutation, string query, string variable, string idField, IReadOnlyList<T> items, Func<T, JsonObject> render, CancellationToken ct)
        where T : IAcGraphQlItem
    {
        var refused = new List<AcRefusedItem>();
        var calls = 0;
        // Size each item once; a call takes items in order while it stays within 50 items and 400,000 bytes.
        var rendered = items.Select((item, i) => (Index: i, Item: item, Json: render(item))).ToList();
        var envelope = Encoding.UTF8.GetByteCount(new JsonObject { ["query"] = query, ["variables"] = new JsonObject { [variable] = new JsonArray() } }.ToJsonString());
        var pending = new Queue<(int Index, T Item, JsonObject Json, int Bytes)>();
        foreach (var (index, item, json) in rendered)
        {
            var bytes = Encoding.UTF8.GetByteCount(json.ToJsonString()) + 1;
            if (envelope + bytes > GraphQlMaxBytes)
            {
                refused.Add(new AcRefusedItem(index, item.StoreId, $"larger than AC's {GraphQlMaxBytes:N0}-byte request limit on its own ({bytes:N0} bytes)"));
                continue;
            }

            pending.Enqueue((index, item, json, bytes));
        }

        while (pending.Count > 0)
        {
            var call = new List<(int Index, T Item, JsonObject Json, int Bytes)>();
            var size = envelope;
            while (pending.Count > 0 && call.Count < GraphQlMaxItems && size + pending.Peek().Bytes <= GraphQlMaxBytes)
            {
                var next = pending.Dequeue();
                size += next.Bytes;
                call.Add(next);
            }

            // A call refused all-or-nothing is sent again at once without the items AC named, until it is accepted.
            while (call.Count > 0)
            {
                calls++;
                var named = await SendGraphQlAsync(mutation, query, variable, idField, call.Select(c => c.Json), ct);
                if (named.Count == 0)
                {
                    break;
                }

                var drop = new HashSet<int>();
                foreach (var (position, storeId, reason) in named)
                {
                    if (position < 0 || position >= call.Count || call[position].Item.StoreId != storeId)
                    {
                        throw new AcRequestException(HttpStatusCode.OK, "graphql", $"AC refused {mutation} naming an item it was not sent ({position}-{idField}-{storeId})");
                    }

                    if (drop.Add(position))
                    {
                        refused.Add(new AcRefusedItem(call[position].Index, storeId, reason));
                    }
                }

                call = [.. call.Where((_, i) => !drop.Contains(i))];
            }
        }

        return new AcBulkUpsertResult([.. refused.OrderBy(r => r.Index)], calls);
    }

    /// <summary>
    /// One GraphQL call. Returns the items a "Validation errors" answer named (position in this call, id, reason);
    /// empty when AC accepted the call. Any other error (no item named, "Invalid query", a too large body) throws
    /// <see cref="AcRequestException"/> with code "graphql": nothing was applied and resending the same call cannot help.
    /// </summary>
    private async Task<List<(int Position, string StoreId, string Reason)>> SendGraphQlAsync(
        string mutation, string query, string variable, string idField, IEnumerable<JsonObject> items, CancellationToken ct)
    {
        var list = new JsonArray();
        foreach (var item in items)
        {
            list.Add(item.DeepClone());
        }

        var body = new JsonObject { ["query"] = query, ["variables"] = new JsonObject { [variable] = list } };
        var json = await SendAsync(HttpMethod.Post, "ecom/graphql", "ecom/graphql " + mutation, body, ct);
        if (json["errors"] is not JsonArray { Count: > 0 } errors)
        {
            if (json["data"]?[mutation]?["recordId"] is null)
            {
                throw new AcRequestException(HttpStatusCode.OK, "graphql", $"AC answered {mutation} without data or errors");
            }

            return [];
        }

        var named = new List<(int, string, string)>();
        var other = new List<string>();
        foreach (var error in errors)
        {
            var message = error?["message"] is JsonValue m && m.TryGetValue<string>(out var s) ? s : "(no message)";
            if (message == "Validation errors" && error?["extensions"] is JsonObject extensions)
            {
                foreach (var (key, reason) in extensions)
                {
                    var text = reason is JsonValue r && r.TryGetValue<string>(out var rs) ? rs : reason?.ToJsonString() ?? "";
                    if (ParseRefusedKey(key, idField) is { } parsed)
                    {
                        named.Add((parsed.Position, parsed.Id, text));
                    }
                    else
                    {
                        other.Add($"{key}: {text}");
                    }
                }

                continue;
            }

            other.Add(message);
        }

        if (other.Count > 0 || named.Count == 0)
        {
            throw new AcRequestException(HttpStatusCode.OK, "graphql",
                $"AC refused {mutation}: {(other.Count == 0 ? "Validation errors naming no item" : string.Join("; ", other))}");
        }

        return named;
    }

    /// <summary>Reads "&lt;i&gt;-&lt;idField&gt;-&lt;id&gt;": the id is everything after the second '-' and may contain '-'.</summary>
    internal static (int Position, string Id)? ParseRefusedKey(string key, string idField)
    {
        var first = key.IndexOf('-', StringComparison.Ordinal);
        if (first <= 0 || !int.TryParse(key.AsSpan(0, first), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var position))
        {
            return null;
        }

        var second = key.IndexOf('-', first + 1);
        if (second < 0 || !key.AsSpan(first + 1, second - first - 1).SequenceEqual(idField))
        {
            return null;
        }

        return (position, key[(second + 1)..]);
    }
}

[JsonSerializable(typeof(AcOrderUpsert))]
[JsonSerializable(typeof(AcRecurringPaymentUpsert))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class AcGraphQlJson : JsonSerializerContext;
