using System.Net;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Sync;

namespace KivaSync.SyncService.Events;

/// <summary>
/// Sends a customer's waiting paid orders as Deep Data: the e-commerce customer (external id = customer id,
/// email = current email), then each order, created or updated, keeping the source it was first sent with.
/// </summary>
public sealed class OrdersFollowUp(FollowUpStore store, DeepDataSetup setup) : IContactFollowUp
{
    /// <inheritdoc />
    public int Order => 30;

    /// <inheritdoc />
    public Task<bool> HasPendingAsync(string tenant, string member) =>
        member.StartsWith("c:", StringComparison.Ordinal) ? store.HasPendingOrdersAsync(tenant, member[2..]) : Task.FromResult(false);

    /// <inheritdoc />
    public async Task RunAsync(SyncedContact contact, CancellationToken ct)
    {
        if (contact.Snapshot.CustomerId is not { } customerId)
        {
            return;
        }

        var orders = await store.ReadPendingOrdersAsync(contact.Tenant, customerId);
        if (orders.Count == 0)
        {
            return;
        }

        try
        {
            await SendAsync(contact, customerId, orders, useStored: true, ct);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "related_missing")
        {
            // The connection or e-commerce customer we stored is gone from AC: find or make them again.
            await store.ForgetEcomAsync(contact.Tenant);
            await SendAsync(contact, customerId, await store.ReadPendingOrdersAsync(contact.Tenant, customerId), useStored: false, ct);
        }
    }

    private async Task SendAsync(SyncedContact contact, string customerId, IReadOnlyList<StoredOrder> orders, bool useStored, CancellationToken ct)
    {
        var tenant = contact.Tenant;
        var client = contact.Client;
        var (connectionId, _) = await setup.EnsureConnectionAsync(tenant, client, useStored, ct);
        var field = "c:" + customerId;
        var ecomCustomerId = useStored ? await store.ReadEcomIdAsync(tenant, field) : null;
        if (ecomCustomerId is null)
        {
            var acceptsMarketing = contact.Snapshot.Get(ContactSnapshot.Fields.OptIn) == "1";
            ecomCustomerId = await client.EnsureEcomCustomerAsync(connectionId, customerId, contact.AcEmail, acceptsMarketing, ct);
            await store.WriteEcomIdAsync(tenant, field, ecomCustomerId);
        }

        foreach (var stored in orders)
        {
            var o = stored.Order;
            var products = o.Items.Select((item, i) => new AcOrderProduct(
                item.Sku ?? $"{stored.OrderId}-{i + 1}",
                item.Name ?? item.Sku ?? $"item {i + 1}",
                item.PriceCents,
                item.Qty,
                item.Category,
                item.Sku)).ToList();
            var input = new AcOrderInput(
                stored.OrderId, stored.Source, contact.AcEmail, connectionId, ecomCustomerId,
                o.TotalCents, o.ShippingCents, o.TaxCents, o.DiscountCents, o.Currency, o.Ts, products);
            var sent = await client.UpsertOrderAsync(input, stored.AcId, stored.AcSource, ct);
            await store.RecordOrderSentAsync(tenant, customerId, stored, sent.Id, sent.Source);
        }
    }
}
