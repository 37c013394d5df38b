namespace KivaSync.SyncService.State;

/// <summary>
/// Every Redis key of a tenant starts with "ks:{tenant}:": the braces make the tenant the hash tag,
/// so all of a tenant's keys live on one Redis Cluster slot and its scripts may touch them together.
/// </summary>
public readonly record struct RedisKeys(string Tenant)
{
    /// <summary>"ks:{tenant}:", the prefix scripts derive their keys from.</summary>
    public string Prefix => $"ks:{{{Tenant}}}:";

    /// <summary>Hash: the state marker (id, since; lost, lost_at, seen:&lt;id&gt; while lost; acked:&lt;id&gt;), see StateGuard.</summary>
    public string Epoch => Prefix + "epoch";

    /// <summary>Tenant-wide counters and state: accepted, newest_ts, week, resync_all.</summary>
    public string Meta => Prefix + "meta";

    /// <summary>Bucket "d:&lt;4 hex&gt;" of lasting entry identities (an intset of 48-bit members; docs/dedup.md).</summary>
    public string DedupBucket(string bucketHex) => Prefix + Schema.KeyParts.Dedup + bucketHex;

    /// <summary>Bucket "r:&lt;generation&gt;:&lt;4 hex&gt;" of windowed entry identities (docs/dedup.md).</summary>
    public string WindowedDedupBucket(long generation, string bucketHex) =>
        string.Concat(Prefix, Schema.KeyParts.DedupWindowed, generation.ToString(System.Globalization.CultureInfo.InvariantCulture), ":", bucketHex);

    /// <summary>Sorted set of contacts waiting for a sync (member "c:id" / "l:email", score = first dirty ms).</summary>
    public string Dirty => Prefix + "dirty";

    /// <summary>Contacts in <see cref="Dirty"/> changed by a live entry: synced first.</summary>
    public string DirtyLive => Prefix + "dirty:live";

    /// <summary>Sorted set of contacts a worker is syncing (score = lease deadline ms).</summary>
    public string InFlight => Prefix + "inflight";

    /// <summary>Hash lower-cased email → member owning it now.</summary>
    public string EmailIndex => Prefix + "email";

    /// <summary>Hash lower-cased email a customer left → "&lt;ts ms&gt; c:&lt;id&gt;" (ts of the entry that moved it away): a contact entry
    /// with that email older than ts, shipped late, is that customer's (written by ingest.lua only).</summary>
    public string FormerEmails => Prefix + "former";

    /// <summary>Set of customer ids.</summary>
    public string Customers => Prefix + "customers";

    /// <summary>Set of lead emails (lower-cased).</summary>
    public string Leads => Prefix + "leads";

    /// <summary>String: the number of a ship stream's last batch applied (ingest.lua; expires an hour after it, streams
    /// live at most ~33 min). Keeps a stream's batches in order while they are pipelined (IngestStream).</summary>
    public string IngestStream(string streamId) => Prefix + "stream:" + streamId;

    /// <summary>Hash reason → count of rejected lines.</summary>
    public string Rejects => Prefix + "rejects";

    /// <summary>List of the latest rejected lines (JSON), capped.</summary>
    public string Rejected => Prefix + "rejected";

    /// <summary>Hash AC field title → AC field id.</summary>
    public string AcFields => Prefix + "ac:fields";

    /// <summary>Hash of one kind of AC object ("fields", "lists", "tags", "events"): lower-cased name → AC id.</summary>
    public string AcNames(string kind) => Prefix + "ac:" + kind;

    /// <summary>Sorted set of dead letters: id → when it was dead-lettered (ms).</summary>
    public string DeadLetters => Prefix + "dead";

    /// <summary>Hash dead-letter id → JSON record (kind, member, reason, attempts, ...).</summary>
    public string DeadLetterInfo => Prefix + "dead:info";

    /// <summary>The AC API budget's slots (zset: request id → expiry ms).</summary>
    public string RateSlots => Prefix + "rl:api";

    /// <summary>AC requests booked in one 10-second bucket (unix seconds / 10).</summary>
    public string RateUsed(long bucket) => UsedBucket(RateSlots, bucket);

    /// <summary>A budget's requests booked in one 10-second bucket: its slots key + ":used:" + bucket.</summary>
    public static string UsedBucket(string slotsKey, long bucket) =>
        slotsKey + Schema.KeyParts.RateUsed + bucket.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Set while AC asked the tenant to back off (429/503 Retry-After).</summary>
    public string RatePause => Prefix + "rl:pause";

    /// <summary>A contact's queued events (list in arrival order, each event data + "\n" + AC name).</summary>
    public string Events(string member) => Prefix + Schema.KeyParts.Events + member;

    /// <summary>A customer's paid orders (hash: order id → order JSON, "t:id" ts ms, "src:id" source of the first entry,
    /// "ct:id" ts ms of its earliest entry, "ac:id" the GraphQL recordId of the call that last sent it and "acsrc:id" the
    /// source it was first sent with (AC keeps it), "rej:id" AC's reason while the order is set aside).</summary>
    public string Orders(string customerId) => Prefix + Schema.KeyParts.Orders + customerId;

    /// <summary>A customer's order ids waiting to be sent (set).</summary>
    public string OrdersPending(string customerId) => Prefix + Schema.KeyParts.OrdersPending + customerId;

    /// <summary>Customers whose contact AC has and whose orders wait for a GraphQL call (zset, score = when queued, ms).</summary>
    public string OrdersQueue => Prefix + "oq";

    /// <summary>Those of them with an order from a live entry: sent after a short batching window, not the backfill's.</summary>
    public string OrdersQueueLive => Prefix + "oq:live";

    /// <summary>Which replica sends the tenant's orders now (string with a lease).</summary>
    public string OrdersSender => Prefix + "oq:sender";

    /// <summary>Hash unknown event name → count of entries.</summary>
    public string UnknownEvents => Prefix + "unknown_events";

    /// <summary>Hash of AC event tracking: "enabled" once switched on, "n:&lt;lower-cased name&gt;" for each registered name.</summary>
    public string AcEventNames => Prefix + "ac:events";

    /// <summary>Hash of Deep Data ids: "connection" → the connection id, "c:&lt;customer id&gt;" → the e-commerce customer id.</summary>
    public string AcEcom => Prefix + "ac:ecom";

    /// <summary>The event-tracking budget's slots (its own budget, same rule as <see cref="RateSlots"/>).</summary>
    public string EventRateSlots => Prefix + "rl:events";

    /// <summary>Set while the tracking endpoint asked us to back off (pauses tracking only).</summary>
    public string EventRatePause => Prefix + "rl:events:pause";

    /// <summary>Events sent to one AC contact (hash, by AC contact id): &lt;event key&gt; → copies AC confirmed, "?&lt;event key&gt;"
    /// while a post's outcome is unknown (Events/EventDelivery.cs).</summary>
    public string EventsDelivered(string acContactId) => Prefix + "evd:" + acContactId;

    /// <summary>A contact's state hash, by member ("c:id" or "l:email").</summary>
    public string Contact(string member) => Prefix + member;

    /// <summary>Customer ids whose recurring payment (subscription) changed since AC last accepted it.</summary>
    public string RecurringPaymentsPending => Prefix + "rpp";

    /// <summary>Held by the replica sending the tenant's recurring payments (one sender at a time).</summary>
    public string RecurringPaymentsLock => Prefix + "rpp:lock";

    /// <summary>Member name of a customer (<see cref="ContactRef"/>).</summary>
    public static string CustomerMember(string customerId) => ContactRef.Customer(customerId).Format();

    /// <summary>Member name of a lead (<see cref="ContactRef"/>).</summary>
    public static string LeadMember(string emailLowerCase) => ContactRef.Lead(emailLowerCase).Format();
}
