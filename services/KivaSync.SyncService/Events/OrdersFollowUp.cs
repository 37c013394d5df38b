using KivaSync.SyncService.State;
using KivaSync.SyncService.Sync;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.Events;

/// <summary>
/// Hands a customer's waiting paid orders to the tenant's <see cref="OrderSender"/> once AC has the contact: the
/// sender writes them through AC's Ecommerce GraphQL API, many customers' orders fifty to a call. No request here.
/// </summary>
public sealed class OrdersFollowUp(FollowUpStore store, TenantRegistry tenants, TimeProvider time) : IContactFollowUp
{
    /// <inheritdoc />
    public int Order => 30;

    /// <inheritdoc />
    public async Task<bool> HasPendingAsync(string tenant, string member) =>
        ContactRef.Parse(member).CustomerId is { } customerId &&
        await store.HasPendingOrdersAsync(tenant, customerId) &&
        !await store.IsQueuedForOrdersAsync(tenant, customerId);

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

        // An order from a live entry goes within seconds; historical ones wait to fill calls of fifty.
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var rules = tenants.TryGet(contact.Tenant, out var options) ? EventRules.For(options) : null;
        var live = rules is not null && orders.Any(o => rules.IsLive(o.TsMs, now));
        await store.QueueOrdersAsync(contact.Tenant, customerId, live, now);
    }
}
