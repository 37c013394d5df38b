using System.Text.Json;
using System.Text.Json.Serialization;
using KivaSync.SystemLog;

namespace KivaSync.SyncService.Events;

/// <summary>A paid order as stored in Redis until AC has it: the latest entry's amounts and items (money in cents).</summary>
/// <param name="Ts">The latest entry's ts as logged.</param>
/// <param name="Event">The latest entry's event name (AC's storeStatus); null in orders stored before it was kept.</param>
public sealed record PendingOrder(
    [property: JsonPropertyName("ts")] string Ts,
    [property: JsonPropertyName("week")] string? Week,
    [property: JsonPropertyName("total")] long TotalCents,
    [property: JsonPropertyName("cur")] string Currency,
    [property: JsonPropertyName("ship")] long ShippingCents,
    [property: JsonPropertyName("tax")] long TaxCents,
    [property: JsonPropertyName("disc")] long DiscountCents,
    [property: JsonPropertyName("items")] IReadOnlyList<PendingOrderItem> Items,
    [property: JsonPropertyName("ev")] string? Event = null)
{
    /// <summary>The stored form of an entry's order.</summary>
    public static string ToJson(LogEntry entry, PaidOrder order) =>
        JsonSerializer.Serialize(
            new PendingOrder(entry.TsText, order.Week, order.TotalCents, order.Currency, order.ShippingCents, order.TaxCents, order.DiscountCents,
                [.. order.Items.Select(i => new PendingOrderItem(i.Sku, i.Name, i.Qty, i.PriceCents, i.Category))], entry.Event),
            PendingOrderJson.Default.PendingOrder);

    /// <summary>Reads the stored form.</summary>
    public static PendingOrder FromJson(string json) =>
        JsonSerializer.Deserialize(json, PendingOrderJson.Default.PendingOrder) ?? throw new JsonException("an empty order");
}

/// <summary>One order line.</summary>
public sealed record PendingOrderItem(
    [property: JsonPropertyName("sku")] string? Sku,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("qty")] int Qty,
    [property: JsonPropertyName("price")] long PriceCents,
    [property: JsonPropertyName("cat")] string? Category);

[JsonSerializable(typeof(PendingOrder))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class PendingOrderJson : JsonSerializerContext;
