using System.Buffers.Binary;
using System.Globalization;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.State;
using KivaSync.SystemLog;
using StackExchange.Redis;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// Writes entries as the flat ARGV list the ingest script reads (State/Scripts/ingest.lua): no JSON to
/// decode inside Redis, which is where ingest spends its time. The positions and codes are declared once in
/// <see cref="Schema.IngestArgs"/> (ingest.lua reads them from there too); the keys each entry names go to
/// <see cref="IngestBatchKeys"/>. Per entry:
/// <list type="bullet">
/// <item>accepted: kind ("c" customer, "l" lead, "n" none; "cw"/"nw" when the identity is only kept for
/// the dedup window), bucket, member, ts (unix ms), week ("" unless a weekly cycle), event, order (both
/// below), number of field pairs, then for "c" the customer id, for "c"/"l" the email and its lower case ("" when the same),
/// then the pairs (fn, ln, ph and attribute changes; "" clears).</item>
/// <item>rejected: "r", bucket, member, reason, the record to keep in the tenant's list of rejections (JSON, see <see cref="StoredText.RejectionRecord"/>).</item>
/// </list>
/// Event: "" none (or the weekly cycle), "!" + log name for an unknown event, "-" for a historical event
/// that is not sent, "~" for an event without a customer or contact, else event data + "\n" + AC name (queued as is;
/// data first since it holds no raw newline: a validated ts and compact JSON).
/// Order: "" none, else source ("1" live, "0" historical) + the order as JSON + "\n" + order id.
/// </summary>
internal static class IngestScriptEntry
{
    /// <summary>Arguments before the entries (after the store's own): traceparent ("" none), then the bounds of the
    /// tenant's list of rejections: most records and most bytes.</summary>
    public static void WriteHeader(List<RedisValue> args, string? traceParent, int maxRejectedEntries, long maxRejectedBytes)
    {
        if (args.Count != Schema.IngestArgs.TraceParent - 1)
        {
            throw new InvalidOperationException($"the ingest header starts at ARGV[{Schema.IngestArgs.TraceParent}], not {args.Count + 1}");
        }

        args.Add(traceParent ?? "");
        args.Add(maxRejectedEntries);
        args.Add(maxRejectedBytes);
    }

    /// <param name="maxTextBytes">An unknown event's name is kept as a field name: cut to this (<see cref="StoredText.Cut"/>).</param>
    public static void WriteAccepted(List<RedisValue> args, IngestBatchKeys keys, ReadOnlySpan<byte> identity, LogEntry entry, EventRules rules, long nowMs, int maxTextBytes)
    {
        var windowed = !NeedsLastingIdentity(entry);
        var person = entry.Subject;
        var kind = person is null
            ? (windowed ? Schema.IngestArgs.KindNoneWindowed : Schema.IngestArgs.KindNone)
            : entry.Customer is not null ? (windowed ? Schema.IngestArgs.KindCustomerWindowed : Schema.IngestArgs.KindCustomer) : Schema.IngestArgs.KindLead;
        args.Add(kind);
        keys.Bucket(WriteIdentity(args, identity, windowed), windowed);
        args.Add(entry.Ts.ToUnixTimeMilliseconds());
        args.Add(entry.Event == EventCatalog.WeeklyCycleCompleted && entry.Week is not null ? entry.Week : "");
        if (WriteEventAndOrder(args, entry, rules, nowMs, maxTextBytes) && person?.CustomerId is { } orderCustomer)
        {
            keys.Order(orderCustomer);
        }

        var countAt = args.Count;
        args.Add(0);
        if (person is null)
        {
            return;
        }

        if (person.CustomerId is not null)
        {
            args.Add(person.CustomerId);
        }

        var lower = person.Email.ToLowerInvariant();
        if (person.CustomerId is { } customerId)
        {
            keys.Customer(customerId, lower);
        }
        else
        {
            keys.Lead(lower);
        }

        args.Add(person.Email);
        args.Add(string.Equals(lower, person.Email, StringComparison.Ordinal) ? "" : lower);
        var start = args.Count;
        AddIfCarried(args, ContactSnapshot.Fields.FirstName, person.FirstName);
        AddIfCarried(args, ContactSnapshot.Fields.LastName, person.LastName);
        AddIfCarried(args, ContactSnapshot.Fields.Phone, person.Phone);
        if (entry.Customer is not null && entry.Attrs is { } attrs)
        {
            AddChange(args, ContactSnapshot.Fields.Status, attrs.Status);
            if (RecurringPaymentMapping.IsSubscriberStatus(attrs.Status.Value))
            {
                args.Add(ContactSnapshot.Fields.SubscriberStatus);
                args.Add(attrs.Status.Value!);
            }

            if (attrs.Schedule.IsPresent)
            {
                args.Add(ContactSnapshot.Fields.BillingInterval);
                args.Add(attrs.Schedule.Value is { } schedule && RecurringPaymentMapping.ReadSchedule(schedule) is { } interval
                    ? interval.Interval + " " + interval.Count.ToString(CultureInfo.InvariantCulture)
                    : "");
            }

            AddChange(args, ContactSnapshot.Fields.NextDelivery, attrs.NextDelivery);
            AddChange(args, ContactSnapshot.Fields.CancelledOn, attrs.CancelledOn);
            AddChange(args, ContactSnapshot.Fields.Schedule, attrs.Schedule);
            AddChange(args, ContactSnapshot.Fields.Box, attrs.Box);
            if (attrs.Order.IsPresent)
            {
                args.Add(ContactSnapshot.Fields.OrderWeek);
                args.Add(attrs.Order.Value?.Week ?? "");
                args.Add(ContactSnapshot.Fields.OrderState);
                args.Add(attrs.Order.Value is { } order ? OrderStateName(order.State) : "");
            }

            if (attrs.MarketingOptIn is { } optIn)
            {
                args.Add(ContactSnapshot.Fields.OptIn);
                args.Add(optIn ? "1" : "0");
            }
        }

        // The latest Order Completed order's total and currency are the subscription's payment (not gift boxes).
        if (entry.Customer is not null && entry.Event == EventCatalog.OrderCompleted && entry.Order is { } paid)
        {
            args.Add(ContactSnapshot.Fields.PaymentCents);
            args.Add(paid.TotalCents);
            args.Add(ContactSnapshot.Fields.PaymentCurrency);
            args.Add(paid.Currency);
        }

        args[countAt] = (args.Count - start) / 2;
    }

    /// <summary>What the script does with the entry's event and paid order; decided here, where the tenant's
    /// rules are, so the script only queues and counts. Returns whether the entry stores an order.</summary>
    private static bool WriteEventAndOrder(List<RedisValue> args, LogEntry entry, EventRules rules, long nowMs, int maxTextBytes)
    {
        var live = rules.IsLive(entry, nowMs);
        if (entry.Event is not { } name || name == EventCatalog.WeeklyCycleCompleted)
        {
            args.Add("");
        }
        else if (!rules.TryGet(name, out var definition))
        {
            args.Add(Schema.IngestArgs.EventUnknown + StoredText.Cut(name, maxTextBytes));
        }
        else if (entry.Subject is null)
        {
            args.Add(Schema.IngestArgs.EventWithoutContact);
        }
        else if (!rules.ShouldSend(definition, live))
        {
            args.Add(Schema.IngestArgs.EventHistoricalNotSent);
        }
        else
        {
            args.Add(EventRules.EventData(entry) + "\n" + definition.AcName);
        }

        // A Deep Data order needs a customer (its e-commerce customer's external id is the customer id).
        if (entry.Order is { } order && entry.Customer is not null && entry.Event is EventCatalog.OrderCompleted or EventCatalog.GiftBoxPurchase)
        {
            args.Add((live ? "1" : "0") + PendingOrder.ToJson(entry, order) + "\n" + order.Id);
            return true;
        }

        args.Add("");
        return false;
    }

    public static void WriteRejected(List<RedisValue> args, IngestBatchKeys keys, ReadOnlySpan<byte> identity, RejectReason reason, byte[] record)
    {
        args.Add(Schema.IngestArgs.KindRejected);
        // A rejection is counted once forever: its identity is lasting.
        keys.Bucket(WriteIdentity(args, identity, windowed: false), isWindowed: false);
        args.Add(reason.ToContractName());
        args.Add(record);
    }

    /// <summary>
    /// Whether replaying the entry could repeat an effect, so its identity must be kept for good:
    /// events (sent to AC once), orders, weekly cycles and contact (lead) entries. A customer
    /// state-only entry or a noise line replays harmlessly (the fold is per-field last-writer-wins
    /// and queues nothing when no value changes), so its identity is only kept for the dedup window.
    /// </summary>
    public static bool NeedsLastingIdentity(LogEntry entry) =>
        entry.Event is not null || entry.Order is not null || entry.Contact is not null || entry.Week is not null;

    /// <summary>
    /// Adds the identity's first 64 bits as a bucket and an integer member (docs/dedup.md): lasting
    /// identities in 65,536 buckets (16 bits) with a 48-bit member, windowed ones in 16,384 buckets
    /// (14 bits) with a 50-bit member; buckets are named by 4 hex digits. Integer members keep Redis sets in their compact intset encoding.
    /// </summary>
    /// <returns>The bucket.</returns>
    public static string WriteIdentity(List<RedisValue> args, ReadOnlySpan<byte> identity, bool windowed)
    {
        var prefix = BinaryPrimitives.ReadUInt64BigEndian(identity);
        var bucketBits = windowed ? 14 : 16;
        var bucket = prefix >> (64 - bucketBits);
        var member = prefix & ((1UL << (64 - bucketBits)) - 1);
        var bucketHex = bucket.ToString("x4", CultureInfo.InvariantCulture);
        args.Add(bucketHex);
        args.Add(member.ToString(CultureInfo.InvariantCulture));
        return bucketHex;
    }

    public static string OrderStateName(OrderState state) => state switch
    {
        OrderState.Open => "open",
        OrderState.Closed => "closed",
        _ => "cancelled",
    };

    private static void AddIfCarried(List<RedisValue> args, string name, string? value)
    {
        // A null or absent name was not carried: it must never blank what AC has.
        if (value is not null)
        {
            args.Add(name);
            args.Add(value);
        }
    }

    private static void AddChange(List<RedisValue> args, string name, Change<string> change)
    {
        if (change.IsPresent)
        {
            args.Add(name);
            args.Add(change.Value ?? "");
        }
    }
}
