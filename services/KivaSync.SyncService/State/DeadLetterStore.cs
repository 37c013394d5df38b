using System.Text.Json;
using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>One piece of work that failed after its bounded retries.</summary>
/// <param name="Id">Its id: the member ("c:42", "l:a@b.com") for a contact; the owner's choice for other kinds.</param>
/// <param name="Kind">"contact", "event" or "order".</param>
/// <param name="Member">The contact it belongs to: retrying queues that contact again.</param>
/// <param name="Email">The contact's email when it failed.</param>
/// <param name="Reason">Why, as AC or the sync said it.</param>
/// <param name="Attempts">Attempts made.</param>
/// <param name="FailedAtMs">When it was dead-lettered (unix ms).</param>
/// <param name="Detail">What it was about (an event's AC name, an order id); empty for a contact.</param>
public sealed record DeadLetterRecord(string Id, string Kind, string Member, string Email, string Reason, long Attempts, long FailedAtMs, string Detail = "");

/// <summary>
/// A tenant's dead letters: sorted set ks:{t}:dead (id → failed at ms) and hash ks:{t}:dead:info (id → JSON record).
/// A dead-lettered contact has state "dead" in its hash and is out of the work queue until it is retried
/// (RetryDeadLetters) or a new entry changes it.
/// </summary>
public sealed class DeadLetterStore(IConnectionMultiplexer redis)
{
    /// <summary>Kind of a contact's own sync.</summary>
    public const string ContactKind = "contact";

    /// <summary>Dead-letter id prefix of a recurring payment: "rp:&lt;customer id&gt;" (Subscriptions/RecurringPaymentStore).</summary>
    public const string RecurringPaymentPrefix = "rp:";

    /// <summary>Kind of an order AC refused (set aside with AC's reason; Detail holds the order id).</summary>
    public const string OrderKind = "order";

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Dead-letters a claimed contact whose sync kept failing: releases its lease (<paramref name="leaseUntilMs"/>,
    /// see StateStore.LeaseUntil) and takes it out of the queue.</summary>
    public Task AddContactAsync(string tenant, string member, long leaseUntilMs, string email, string reason, long attempts, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        var record = new DeadLetterRecord(member, ContactKind, member, email, reason, attempts, nowMs);
        return Db.RunAsync(
            RedisScripts.DeadLetterContact,
            [keys.Contact(member), keys.InFlight, keys.DeadLetters, keys.DeadLetterInfo, keys.Dirty, keys.Events(member)],
            [member, reason, attempts, nowMs, JsonSerializer.Serialize(record), leaseUntilMs]);
    }

    /// <summary>Records a dead letter of another kind (an event, an order); retrying it queues its contact again.</summary>
    public async Task AddAsync(string tenant, DeadLetterRecord record)
    {
        var keys = new RedisKeys(tenant);
        var tx = Db.CreateTransaction();
        _ = tx.SortedSetAddAsync(keys.DeadLetters, record.Id, record.FailedAtMs);
        _ = tx.HashSetAsync(keys.DeadLetterInfo, record.Id, JsonSerializer.Serialize(record));
        await tx.ExecuteAsync();
    }

    /// <summary>Dead letters oldest first, and how many there are.</summary>
    public async Task<(IReadOnlyList<DeadLetterRecord> Page, long Total)> ListAsync(string tenant, int offset, int limit)
    {
        var keys = new RedisKeys(tenant);
        var ids = await Db.SortedSetRangeByRankAsync(keys.DeadLetters, offset, offset + limit - 1);
        var total = await Db.SortedSetLengthAsync(keys.DeadLetters);
        if (ids.Length == 0)
        {
            return ([], total);
        }

        var json = await Db.HashGetAsync(keys.DeadLetterInfo, ids);
        var page = new List<DeadLetterRecord>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            page.Add(json[i].IsNullOrEmpty
                ? new DeadLetterRecord(ids[i]!, ContactKind, ids[i]!, "", "", 0, 0)
                : JsonSerializer.Deserialize<DeadLetterRecord>(json[i].ToString())!);
        }

        return (page, total);
    }

    /// <summary>Every dead-letter id of the tenant.</summary>
    public async Task<IReadOnlyList<string>> AllIdsAsync(string tenant) =>
        [.. (await Db.SortedSetRangeByRankAsync(new RedisKeys(tenant).DeadLetters)).Select(v => v.ToString())];

    /// <summary>Takes a dead letter out and queues its contact for a sync now (attempts start again). False when it is not a dead letter.</summary>
    public async Task<bool> RetryAsync(string tenant, string id, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        var info = await Db.HashGetAsync(keys.DeadLetterInfo, id);
        var record = info.IsNullOrEmpty ? null : JsonSerializer.Deserialize<DeadLetterRecord>(info.ToString());
        var member = record?.Member ?? id;
        // An order AC refused waits again; its contact's sync hands it to the order sender.
        var customerId = ContactRef.TryParse(member, out var contact) ? contact.CustomerId : null;
        var orderId = record is { Kind: OrderKind } && customerId is not null ? record.Detail : "";
        // A recurring payment AC refused waits again with the tenant's others (Subscriptions/RecurringPaymentsSender).
        var recurringPayment = id.StartsWith(RecurringPaymentPrefix, StringComparison.Ordinal) ? id[RecurringPaymentPrefix.Length..] : "";
        var result = await Db.RunAsync(
            RedisScripts.DeadLetterRetry,
            [keys.DeadLetters, keys.DeadLetterInfo, keys.Dirty, keys.DirtyLive, keys.Contact(member), keys.Orders(customerId ?? ""), keys.OrdersPending(customerId ?? ""), keys.RecurringPaymentsPending],
            [id, member, nowMs, orderId, recurringPayment]);
        return (long)result == 1;
    }

    /// <summary>Removes a contact's dead letter (its sync succeeded after all).</summary>
    public async Task ClearAsync(string tenant, string member)
    {
        var keys = new RedisKeys(tenant);
        await Db.SortedSetRemoveAsync(keys.DeadLetters, member);
        await Db.HashDeleteAsync(keys.DeadLetterInfo, member);
    }

    /// <summary>Hands a claimed contact back to the queue for later without counting an attempt (AC is unreachable
    /// for the whole tenant: the contact itself did nothing wrong).</summary>
    public Task DeferAsync(string tenant, string member, long leaseUntilMs, long retryAtMs)
    {
        var keys = new RedisKeys(tenant);
        return Db.RunAsync(RedisScripts.Defer, [keys.InFlight, keys.Dirty, keys.Contact(member), keys.Events(member)], [member, retryAtMs, leaseUntilMs]);
    }
}
