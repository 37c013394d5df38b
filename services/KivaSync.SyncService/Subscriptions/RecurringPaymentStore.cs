using KivaSync.SyncService.State;
using StackExchange.Redis;

namespace KivaSync.SyncService.Subscriptions;

/// <summary>Redis reads and writes of the recurring payments waiting for AC (ks:{t}:rpp and the customers' rp* fields).</summary>
public sealed class RecurringPaymentStore(IConnectionMultiplexer redis)
{
    /// <summary>Dead-letter kind of a recurring payment AC refused.</summary>
    public const string DeadLetterKind = "recurring_payment";

    /// <summary>Dead-letter id prefix: "rp:&lt;customer id&gt;".</summary>
    public const string DeadLetterPrefix = DeadLetterStore.RecurringPaymentPrefix;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Every customer id whose recurring payment waits.</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(string tenant) =>
        [.. (await Db.SetMembersAsync(new RedisKeys(tenant).RecurringPaymentsPending)).Select(v => v.ToString()).Order(StringComparer.Ordinal)];

    /// <summary>How many recurring payments wait.</summary>
    public Task<long> PendingCountAsync(string tenant) => Db.SetLengthAsync(new RedisKeys(tenant).RecurringPaymentsPending);

    /// <summary>Whether this customer's recurring payment waits.</summary>
    public Task<bool> IsPendingAsync(string tenant, string customerId) =>
        Db.SetContainsAsync(new RedisKeys(tenant).RecurringPaymentsPending, customerId);

    /// <summary>The customers' hashes, read in one round trip (null where a hash is gone).</summary>
    public async Task<ContactSnapshot?[]> ReadAsync(string tenant, IReadOnlyList<string> customerIds)
    {
        var keys = new RedisKeys(tenant);
        var batch = Db.CreateBatch();
        var reads = customerIds.Select(id => batch.HashGetAllAsync(keys.Contact(RedisKeys.CustomerMember(id)))).ToList();
        batch.Execute();
        var snapshots = new ContactSnapshot?[customerIds.Count];
        for (var i = 0; i < reads.Count; i++)
        {
            snapshots[i] = ContactSnapshot.From(RedisKeys.CustomerMember(customerIds[i]), await reads[i]);
        }

        return snapshots;
    }

    /// <summary>Records that AC accepted the recurring payment at <paramref name="version"/>.</summary>
    public Task RecordSentAsync(string tenant, string customerId, long version, bool suppressAutomations)
    {
        var keys = new RedisKeys(tenant);
        return Db.RunAsync(RedisScripts.RecurringPaymentSent, [keys.Contact(RedisKeys.CustomerMember(customerId)), keys.RecurringPaymentsPending],
            [customerId, version, suppressAutomations ? 1 : 0]);
    }

    /// <summary>Stops waiting for a customer that has no recurring payment (no subscriber, no hash).</summary>
    public Task DropAsync(string tenant, string customerId) => Db.SetRemoveAsync(new RedisKeys(tenant).RecurringPaymentsPending, customerId);

    /// <summary>Puts a recurring payment back in the queue (a dead letter retried).</summary>
    public Task RequeueAsync(string tenant, string customerId) => Db.SetAddAsync(new RedisKeys(tenant).RecurringPaymentsPending, customerId);

    /// <summary>Takes the tenant's sender lock for <paramref name="hold"/>; false when another replica has it.</summary>
    public Task<bool> TryLockAsync(string tenant, string owner, TimeSpan hold) =>
        Db.StringSetAsync(new RedisKeys(tenant).RecurringPaymentsLock, owner, hold, When.NotExists);

    /// <summary>Releases the lock if still ours.</summary>
    public Task UnlockAsync(string tenant, string owner) =>
        Db.RunAsync(RedisScripts.ReleaseLease,
            [new RedisKeys(tenant).RecurringPaymentsLock], [owner]);

    /// <summary>When the tenant last received historical entries (unix ms; 0 never).</summary>
    public async Task<long> HistoryAtAsync(string tenant) => (long?)await Db.HashGetAsync(new RedisKeys(tenant).Meta, Schema.Meta.HistoryMs) ?? 0;
}
