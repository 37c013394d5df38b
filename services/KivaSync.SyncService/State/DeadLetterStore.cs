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

    /// <summary>Kind of an order AC refused (set aside with AC's reason; Detail holds the order id).</summary>
    public const string OrderKind = "order";

    // KEYS: contact hash, inflight, dead, dead:info, dirty, the member's events. ARGV: member, reason, attempts, now, record JSON,
    // lease deadline held (fencing token). A lead merged into a customer meanwhile is not dead-lettered; events it still holds
    // go back to the queue, whose next sync finds the lead gone and hands them to the customer (complete.lua). A contact
    // another replica took over is that one's: not dead-lettered, sent once more after it (as complete.lua does).
    private const string DeadLetterContact = LeaseFence.Lua + """
        if taken_over(KEYS[2], KEYS[1], KEYS[5], ARGV[1], ARGV[6], ARGV[4]) then return -1 end
        redis.call('ZREM', KEYS[2], ARGV[1])
        if redis.call('EXISTS', KEYS[1]) == 0 then
          if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('ZADD', KEYS[5], 'NX', ARGV[4], ARGV[1]) end
          return 0
        end
        redis.call('HSET', KEYS[1], 'state', 'dead', 'error', ARGV[2], 'attempts', ARGV[3], 'dead_at', ARGV[4])
        redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
        redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
        return 1
        """;

    // KEYS: dead, dead:info, dirty, dirty:live, prefix-derived contact hash, the customer's orders hash and waiting set.
    // ARGV: id, member, now, the order id of an order dead letter ('' for other kinds): the order waits again.
    private const string Retry = """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[2], ARGV[1])
        if ARGV[4] ~= '' then
          redis.call('HDEL', KEYS[6], 'rej:' .. ARGV[4])
          if redis.call('HEXISTS', KEYS[6], ARGV[4]) == 1 then redis.call('SADD', KEYS[7], ARGV[4]) end
        end
        if redis.call('EXISTS', KEYS[5]) == 1 then
          redis.call('HSET', KEYS[5], 'attempts', 0)
          if redis.call('HGET', KEYS[5], 'state') == 'dead' then redis.call('HSET', KEYS[5], 'state', 'failed') end
          redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
          redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
        end
        return 1
        """;

    // KEYS: inflight, dirty, contact hash, the member's events. ARGV: member, retry at ms, lease deadline held (fencing token).
    // A lead merged meanwhile comes back only for events it still holds (complete.lua hands them over). A contact another
    // replica took over is left to it and sent once more after it (as complete.lua does).
    private const string Defer = LeaseFence.Lua + """
        if taken_over(KEYS[1], KEYS[3], KEYS[2], ARGV[1], ARGV[3], ARGV[2]) then return -1 end
        redis.call('ZREM', KEYS[1], ARGV[1])
        if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1]) end
        return 1
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Dead-letters a claimed contact whose sync kept failing: releases its lease (<paramref name="leaseUntilMs"/>,
    /// see StateStore.LeaseUntil) and takes it out of the queue.</summary>
    public Task AddContactAsync(string tenant, string member, long leaseUntilMs, string email, string reason, long attempts, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        var record = new DeadLetterRecord(member, ContactKind, member, email, reason, attempts, nowMs);
        return Db.ScriptEvaluateAsync(
            DeadLetterContact,
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
        var orderId = record is { Kind: OrderKind } && member.StartsWith("c:", StringComparison.Ordinal) ? record.Detail : "";
        var customerId = orderId.Length > 0 ? member[2..] : "";
        var result = await Db.ScriptEvaluateAsync(
            Retry,
            [keys.DeadLetters, keys.DeadLetterInfo, keys.Dirty, keys.DirtyLive, keys.Contact(member), keys.Orders(customerId), keys.OrdersPending(customerId)],
            [id, member, nowMs, orderId]);
        if ((long)result == 1 && id.StartsWith("rp:", StringComparison.Ordinal))
        {
            // A recurring payment AC refused waits again with the tenant's others (Subscriptions/RecurringPaymentsSender).
            await Db.SetAddAsync(keys.RecurringPaymentsPending, id[3..]);
        }

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
        return Db.ScriptEvaluateAsync(Defer, [keys.InFlight, keys.Dirty, keys.Contact(member), keys.Events(member)], [member, retryAtMs, leaseUntilMs]);
    }
}
