using System.Globalization;
using KivaSync.SyncService.ActiveCampaign;

namespace KivaSync.SyncService.Events;

/// <summary>The contract's "Orders" mapping: a stored paid order as AC's GraphQL OrderInput.</summary>
public static class OrderMapping
{
    /// <summary>The order for bulkUpsertOrdersAsync: storeOrderId = orderNumber = order.id, storeCustomerId = the customer
    /// id, amounts in currency units (cents / 100, exact), unit prices, creationSource as first sent.</summary>
    public static AcOrderUpsert ToUpsert(StoredOrder stored, long connectionId, string customerId, string email)
    {
        var o = stored.Order;
        var lines = o.Items.Select((item, i) => new AcOrderLineItem(
            // GraphQL requires a name; the log's name is optional (the sku, else the line's position, stands in).
            item.Name ?? item.Sku ?? $"item {i + 1}",
            item.Qty,
            Units(item.PriceCents),
            item.Sku,
            item.Category,
            $"{stored.OrderId}-{i + 1}")).ToList();
        return new AcOrderUpsert(
            connectionId,
            stored.OrderId,
            stored.OrderId,
            email,
            customerId,
            Date(stored.CreatedTsMs),
            Date(stored.TsMs),
            stored.SourceToSend == 1 ? AcOrderUpsert.RealTime : AcOrderUpsert.Historical,
            "COMPLETED",
            o.Event ?? "Order Completed",
            o.Currency.ToUpperInvariant(),
            Units(o.TotalCents),
            Units(o.ShippingCents),
            Units(o.DiscountCents),
            lines);
    }

    /// <summary>Cents as currency units, exactly (decimal: 4599 → 45.99).</summary>
    public static decimal Units(long cents) => cents / 100m;

    /// <summary>A unix-ms time as AC's GraphQL date, YYYY-MM-DDTHH:MM:SSZ (UTC).</summary>
    public static string Date(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
