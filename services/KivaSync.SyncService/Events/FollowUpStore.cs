using KivaSync.SyncService.State;
using StackExchange.Redis;

namespace KivaSync.SyncService.Events;

/// <summary>One event waiting on a contact's queue.</summary>
/// <param name="Raw">The queue member as stored (removed exactly once AC accepted it).</param>
/// <param name="AcName">The AC event name.</param>
/// <param name="Data">The event data: original ts, a space, the compact data JSON (cut to 250 characters).</param>
public sealed record QueuedEvent(RedisValue Raw, string AcName, string Data)
{
    /// <summary>Reads a queue item: data, "\n", AC name (the data holds no raw newline: a validated ts and compact JSON).</summary>
    public static QueuedEvent Parse(RedisValue raw)
    {
        var text = raw.ToString();
        var cut = text.IndexOf('\n', StringComparison.Ordinal);
        return new QueuedEvent(raw, text[(cut + 1)..], text[..cut]);
    }
}

/// <summary>A customer's order waiting for AC.</summary>
/// <param name="TsMs">Ts of the entry stored (to tell whether a newer one arrived while sending).</param>
/// <param name="Source">Source of the first entry (1 live, 0 historical).</param>
/// <param name="AcId">The recordId of the GraphQL call that last sent it, once sent.</param>
/// <param name="AcSource">The source it was first sent with (AC keeps it), once sent.</param>
/// <param name="CreatedTsMs">Ts of the order's earliest entry (falls back to <paramref name="TsMs"/>).</param>
public sealed record StoredOrder(string OrderId, PendingOrder Order, long TsMs, int Source, string? AcId, int? AcSource, long CreatedTsMs = 0)
{
    /// <summary>The source to send: the one it was first sent with, else its first entry's (the contract's creationSource rule).</summary>
    public int SourceToSend => AcSource ?? Source;
}

/// <summary>A customer in the tenant's order queue.</summary>
/// <param name="CustomerId">The customer id.</param>
/// <param name="QueuedAtMs">When it was queued (ms).</param>
/// <param name="Live">True when it waits with an order from a live entry.</param>
public sealed record QueuedOrderCustomer(string CustomerId, long QueuedAtMs, bool Live);

/// <summary>The tenant's order queue at a glance.</summary>
/// <param name="Customers">Customers waiting (both queues).</param>
/// <param name="OldestLiveMs">When the oldest live one was queued; null when none.</param>
/// <param name="NewestMs">When the latest one was queued; null when none.</param>
public sealed record OrderQueueHead(IReadOnlyList<QueuedOrderCustomer> Customers, long? OldestLiveMs, long? NewestMs);

/// <summary>Tenant-wide event figures, for status and test-sync style reports.</summary>
public sealed record EventFigures(long Queued, long HistoricalNotSent, long WithoutContact, long Refused, IReadOnlyDictionary<string, long> Unknown);

/// <summary>Redis reads and writes of the events and orders waiting for AC, and of the AC ids they need.</summary>
public sealed class FollowUpStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>The oldest events of a contact's queue, in arrival order.</summary>
    public async Task<IReadOnlyList<QueuedEvent>> ReadEventsAsync(string tenant, string member, int max)
    {
        var raw = await Db.ListRangeAsync(new RedisKeys(tenant).Events(member), 0, max - 1);
        return [.. raw.Select(QueuedEvent.Parse)];
    }

    /// <summary>
    /// Marks that an event is being posted to AC contact <paramref name="acContactId"/>, until AC answers. False when
    /// the mark is already there: an earlier post of it got no answer (lost, timed out, or the replica stopped
    /// mid-post), so it may have reached AC and must be looked up before it is sent again.
    /// </summary>
    public Task<bool> BeginEventPostAsync(string tenant, string acContactId, QueuedEvent e) =>
        Db.HashSetAsync(new RedisKeys(tenant).EventsDelivered(acContactId), Schema.Tracking.PostingPrefix + EventDelivery.Key(e), 1, When.NotExists);

    /// <summary>How many copies of this event AC confirmed on the AC contact so far (see <see cref="EventDelivery"/>).</summary>
    public async Task<long> ConfirmedCopiesAsync(string tenant, string acContactId, QueuedEvent e) =>
        (long?)await Db.HashGetAsync(new RedisKeys(tenant).EventsDelivered(acContactId), EventDelivery.Key(e)) ?? 0;

    /// <summary>
    /// AC has the event: atomically off the queue (its first occurrence from the head, the one sent: an identical event
    /// logged twice with different ids is still sent twice, one removal each), one more confirmed copy on the AC
    /// contact, and its post mark gone.
    /// </summary>
    public Task RecordEventDeliveredAsync(string tenant, string member, string acContactId, QueuedEvent e)
    {
        var keys = new RedisKeys(tenant);
        var key = EventDelivery.Key(e);
        return Db.RunAsync(
            RedisScripts.EventDelivered,
            [keys.Events(member), keys.EventsDelivered(acContactId)],
            [e.Raw, key]);
    }

    /// <summary>AC refused the event for good: off the queue, its post mark gone, no copy confirmed.</summary>
    public Task DropRefusedEventAsync(string tenant, string member, string acContactId, QueuedEvent e)
    {
        var keys = new RedisKeys(tenant);
        return Db.RunAsync(
            RedisScripts.EventRefused,
            [keys.Events(member), keys.EventsDelivered(acContactId)],
            [e.Raw, EventDelivery.Key(e)]);
    }

    /// <summary>AC answered the post without filing the event (a later attempt may succeed): its post mark goes.</summary>
    public Task EndEventPostAsync(string tenant, string acContactId, QueuedEvent e) =>
        Db.HashDeleteAsync(new RedisKeys(tenant).EventsDelivered(acContactId), Schema.Tracking.PostingPrefix + EventDelivery.Key(e));

    /// <summary>Whether a contact has queued events.</summary>
    public Task<bool> HasEventsAsync(string tenant, string member) => Db.KeyExistsAsync(new RedisKeys(tenant).Events(member));

    /// <summary>Whether a customer has orders waiting.</summary>
    public Task<bool> HasPendingOrdersAsync(string tenant, string customerId) => Db.KeyExistsAsync(new RedisKeys(tenant).OrdersPending(customerId));

    /// <summary>Events queued plus orders waiting for one contact.</summary>
    public async Task<long> PendingCountAsync(string tenant, string member)
    {
        var keys = new RedisKeys(tenant);
        var batch = Db.CreateBatch();
        var events = batch.ListLengthAsync(keys.Events(member));
        var orders = ContactRef.Parse(member).CustomerId is { } customerId ? batch.SetLengthAsync(keys.OrdersPending(customerId)) : Task.FromResult(0L);
        batch.Execute();
        return await events + await orders;
    }

    /// <summary>A customer's orders waiting for AC.</summary>
    public async Task<IReadOnlyList<StoredOrder>> ReadPendingOrdersAsync(string tenant, string customerId)
    {
        var keys = new RedisKeys(tenant);
        var ids = await Db.SetMembersAsync(keys.OrdersPending(customerId));
        var orders = new List<StoredOrder>(ids.Length);
        foreach (var id in ids.Select(i => i.ToString()).Order(StringComparer.Ordinal))
        {
            var v = await Db.HashGetAsync(keys.Orders(customerId), [
                id, Schema.Orders.TsPrefix + id, Schema.Orders.SourcePrefix + id, Schema.Orders.AcPrefix + id, Schema.Orders.AcSourcePrefix + id, Schema.Orders.CreatedTsPrefix + id]);
            if (v[0].IsNullOrEmpty)
            {
                continue;
            }

            orders.Add(new StoredOrder(
                id, PendingOrder.FromJson(v[0]!), (long)v[1], v[2] == "1" ? 1 : 0,
                v[3].IsNullOrEmpty ? null : v[3].ToString(), v[4].IsNullOrEmpty ? null : (int)v[4],
                v[5].IsNullOrEmpty ? (long)v[1] : (long)v[5]));
        }

        return orders;
    }

    /// <summary>Queues a customer (whose contact AC has) for the order sender; <paramref name="live"/> when one of its
    /// waiting orders comes from a live entry. A customer already queued keeps its place.</summary>
    public Task QueueOrdersAsync(string tenant, string customerId, bool live, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        var tx = Db.CreateTransaction();
        _ = tx.SortedSetAddAsync(keys.OrdersQueue, customerId, nowMs, SortedSetWhen.NotExists);
        if (live)
        {
            _ = tx.SortedSetAddAsync(keys.OrdersQueueLive, customerId, nowMs, SortedSetWhen.NotExists);
        }

        return tx.ExecuteAsync();
    }

    /// <summary>Customers waiting in the order queue.</summary>
    public Task<long> OrderQueueLengthAsync(string tenant) => Db.SortedSetLengthAsync(new RedisKeys(tenant).OrdersQueue);

    /// <summary>Whether a customer waits in the order queue.</summary>
    public async Task<bool> IsQueuedForOrdersAsync(string tenant, string customerId) =>
        (await Db.SortedSetScoreAsync(new RedisKeys(tenant).OrdersQueue, customerId)).HasValue;

    /// <summary>The head of the tenant's order queue: live customers first, then the oldest; at most <paramref name="max"/>.</summary>
    public async Task<OrderQueueHead> ReadOrderQueueAsync(string tenant, int max)
    {
        var keys = new RedisKeys(tenant);
        var live = await Db.SortedSetRangeByRankWithScoresAsync(keys.OrdersQueueLive, 0, max - 1);
        var all = await Db.SortedSetRangeByRankWithScoresAsync(keys.OrdersQueue, 0, max - 1);
        var newest = await Db.SortedSetRangeByRankWithScoresAsync(keys.OrdersQueue, -1, -1);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var customers = new List<QueuedOrderCustomer>();
        foreach (var e in live)
        {
            seen.Add(e.Element!);
            customers.Add(new QueuedOrderCustomer(e.Element!, (long)e.Score, Live: true));
        }

        customers.AddRange(all.Where(e => !seen.Contains(e.Element!)).Select(e => new QueuedOrderCustomer(e.Element!, (long)e.Score, Live: false)));
        return new OrderQueueHead(
            [.. customers.Take(max)],
            live.Length == 0 ? null : (long)live[0].Score,
            newest.Length == 0 ? null : (long)newest[0].Score);
    }

    /// <summary>Takes a customer out of the order queue once none of its orders waits (a new one may have arrived).</summary>
    public Task DequeueOrdersIfDoneAsync(string tenant, string customerId)
    {
        var keys = new RedisKeys(tenant);
        return Db.RunAsync(
            RedisScripts.OrdersDequeueIfDone,
            [keys.OrdersPending(customerId), keys.OrdersQueue, keys.OrdersQueueLive],
            [customerId]);
    }

    /// <summary>Becomes (or stays) the tenant's order sender for <paramref name="lease"/>; false while another replica is.</summary>
    public async Task<bool> HoldOrderSenderAsync(string tenant, string replica, TimeSpan lease) =>
        (long)await Db.RunAsync(
            RedisScripts.HoldLease,
            [new RedisKeys(tenant).OrdersSender],
            [replica, (long)lease.TotalMilliseconds]) == 1;

    /// <summary>Stops being the tenant's order sender (on shutdown), so another replica takes over at once.</summary>
    public Task ReleaseOrderSenderAsync(string tenant, string replica) =>
        Db.RunAsync(
            RedisScripts.ReleaseLease,
            [new RedisKeys(tenant).OrdersSender], [replica]);

    /// <summary>Records that AC accepted the order (GraphQL <paramref name="recordId"/>, sent with <paramref name="sentSource"/>,
    /// which stays its source); it stops waiting unless a newer entry replaced it meanwhile.</summary>
    public Task RecordOrderAcceptedAsync(string tenant, string customerId, StoredOrder order, string recordId, int sentSource)
    {
        var keys = new RedisKeys(tenant);
        return Db.RunAsync(
            RedisScripts.OrderAccepted,
            [keys.Orders(customerId), keys.OrdersPending(customerId)],
            [order.OrderId, recordId, sentSource, order.TsMs]);
    }

    /// <summary>Sets an order AC refused aside with AC's reason: it stops waiting until retried (dead letters) or a newer
    /// entry changes it. Returns false when a newer entry replaced it meanwhile (that one is sent instead).</summary>
    public async Task<bool> SetOrderAsideAsync(string tenant, string customerId, StoredOrder order, string reason) =>
        (long)await Db.RunAsync(
            RedisScripts.OrderSetAside,
            [new RedisKeys(tenant).Orders(customerId), new RedisKeys(tenant).OrdersPending(customerId)],
            [order.OrderId, reason, order.TsMs]) == 1;

    /// <summary>A customer's orders: how many AC has (sent at least once), how many wait, how many are set aside.</summary>
    public async Task<(int Sent, int Pending, int SetAside)> ReadOrderCountsAsync(string tenant, string customerId)
    {
        var keys = new RedisKeys(tenant);
        var fields = await Db.HashKeysAsync(keys.Orders(customerId));
        var pending = await Db.SetLengthAsync(keys.OrdersPending(customerId));
        return (fields.Count(f => f.StartsWith(Schema.Orders.AcPrefix)), (int)pending, fields.Count(f => f.StartsWith(Schema.Orders.RefusedPrefix)));
    }

    /// <summary>Whether event tracking is known to be on, and which of <paramref name="names"/> are known to be registered.</summary>
    public async Task<(bool Enabled, bool[] Registered)> ReadTrackingAsync(string tenant, IReadOnlyList<string> names)
    {
        var fields = new RedisValue[names.Count + 1];
        fields[0] = Schema.Tracking.Enabled;
        for (var i = 0; i < names.Count; i++)
        {
            fields[i + 1] = Schema.Tracking.NamePrefix + names[i].ToLowerInvariant();
        }

        var values = await Db.HashGetAsync(new RedisKeys(tenant).AcEventNames, fields);
        return (values[0] == "1", [.. values.Skip(1).Select(v => v == "1")]);
    }

    /// <summary>Remembers that tracking is on and these names are registered.</summary>
    public Task RecordTrackingAsync(string tenant, IEnumerable<string> names) =>
        Db.HashSetAsync(new RedisKeys(tenant).AcEventNames,
            [new HashEntry(Schema.Tracking.Enabled, "1"), .. names.Select(n => new HashEntry(Schema.Tracking.NamePrefix + n.ToLowerInvariant(), "1"))]);

    /// <summary>Forgets what is known about tracking (AC said it is off or a name is not registered).</summary>
    public Task ForgetTrackingAsync(string tenant) => Db.KeyDeleteAsync(new RedisKeys(tenant).AcEventNames);

    /// <summary>A stored Deep Data id: "connection".</summary>
    public async Task<string?> ReadEcomIdAsync(string tenant, string field)
    {
        var v = await Db.HashGetAsync(new RedisKeys(tenant).AcEcom, field);
        return v.IsNullOrEmpty ? null : v.ToString();
    }

    /// <summary>Stores a Deep Data id.</summary>
    public Task WriteEcomIdAsync(string tenant, string field, string id) => Db.HashSetAsync(new RedisKeys(tenant).AcEcom, field, id);

    /// <summary>Forgets the stored Deep Data ids (AC no longer has them).</summary>
    public Task ForgetEcomAsync(string tenant) => Db.KeyDeleteAsync(new RedisKeys(tenant).AcEcom);

    /// <summary>Counts an event AC refused for good.</summary>
    public Task CountRefusedAsync(string tenant) => Db.HashIncrementAsync(new RedisKeys(tenant).Meta, Schema.Meta.EventsRefused);

    /// <summary>The tenant's event figures.</summary>
    public async Task<EventFigures> ReadFiguresAsync(string tenant)
    {
        var keys = new RedisKeys(tenant);
        var meta = await Db.HashGetAsync(keys.Meta, [Schema.Meta.EventsQueued, Schema.Meta.EventsHistoricalNotSent, Schema.Meta.EventsWithoutContact, Schema.Meta.EventsRefused]);
        var unknown = await Db.HashGetAllAsync(keys.UnknownEvents);
        return new EventFigures(
            (long?)meta[0] ?? 0, (long?)meta[1] ?? 0, (long?)meta[2] ?? 0, (long?)meta[3] ?? 0,
            unknown.ToDictionary(e => e.Name.ToString(), e => (long)e.Value, StringComparer.Ordinal));
    }
}
