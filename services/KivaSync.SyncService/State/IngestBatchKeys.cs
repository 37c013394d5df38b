using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>
/// The keys one tenant's part of a batch names, gathered while its entries are written (Ingest/IngestScriptEntry), so
/// ingest.lua gets every key it touches in KEYS: the contacts' hashes and event lists (a customer's email's lead too,
/// which it may merge), the orders of customers with an order, and the identities' dedup buckets.
/// </summary>
public sealed class IngestBatchKeys
{
    private readonly HashSet<string> members = new(StringComparer.Ordinal);
    private readonly HashSet<string> orders = new(StringComparer.Ordinal);
    private readonly HashSet<string> lasting = new(StringComparer.Ordinal);
    private readonly HashSet<string> windowed = new(StringComparer.Ordinal);

    /// <summary>A customer entry: its hash and events, and the lead of its email (merged when it turns customer).</summary>
    public void Customer(string customerId, string emailLowerCase)
    {
        members.Add(ContactRef.Customer(customerId).Format());
        members.Add(ContactRef.Lead(emailLowerCase).Format());
    }

    /// <summary>A lead entry.</summary>
    public void Lead(string emailLowerCase) => members.Add(ContactRef.Lead(emailLowerCase).Format());

    /// <summary>A customer's paid order.</summary>
    public void Order(string customerId) => orders.Add(customerId);

    /// <summary>An identity's dedup bucket (4 hex digits); <paramref name="isWindowed"/>: in the rotating generations.</summary>
    public void Bucket(string bucketHex, bool isWindowed) => (isWindowed ? windowed : lasting).Add(bucketHex);

    /// <summary>The script's KEYS: the fixed ones (<see cref="Schema.IngestKeys"/>), then these for dedup generation
    /// <paramref name="generation"/>, then <paramref name="extra"/> (owners the script asked for).</summary>
    internal RedisKey[] Build(RedisKeys keys, long generation, IReadOnlyCollection<string> extra, string streamId = "")
    {
        var all = new RedisKey[Schema.IngestKeys.Count + (members.Count * 2) + (orders.Count * 2) + lasting.Count + (windowed.Count * 2) + extra.Count];
        all[Schema.IngestKeys.Meta - 1] = keys.Meta;
        all[Schema.IngestKeys.Epoch - 1] = keys.Epoch;
        all[Schema.IngestKeys.Dirty - 1] = keys.Dirty;
        all[Schema.IngestKeys.DirtyLive - 1] = keys.DirtyLive;
        all[Schema.IngestKeys.EmailIndex - 1] = keys.EmailIndex;
        all[Schema.IngestKeys.FormerEmails - 1] = keys.FormerEmails;
        all[Schema.IngestKeys.Customers - 1] = keys.Customers;
        all[Schema.IngestKeys.Leads - 1] = keys.Leads;
        all[Schema.IngestKeys.RecurringPaymentsPending - 1] = keys.RecurringPaymentsPending;
        all[Schema.IngestKeys.UnknownEvents - 1] = keys.UnknownEvents;
        all[Schema.IngestKeys.Rejects - 1] = keys.Rejects;
        all[Schema.IngestKeys.Rejected - 1] = keys.Rejected;
        all[Schema.IngestKeys.InFlight - 1] = keys.InFlight;
        all[Schema.IngestKeys.Stream - 1] = keys.IngestStream(streamId);
        var i = Schema.IngestKeys.Count;
        foreach (var member in members)
        {
            all[i++] = keys.Contact(member);
            all[i++] = keys.Events(member);
        }

        foreach (var customerId in orders)
        {
            all[i++] = keys.Orders(customerId);
            all[i++] = keys.OrdersPending(customerId);
        }

        foreach (var bucket in lasting)
        {
            all[i++] = keys.DedupBucket(bucket);
        }

        foreach (var bucket in windowed)
        {
            all[i++] = keys.WindowedDedupBucket(generation, bucket);
            all[i++] = keys.WindowedDedupBucket(generation - 1, bucket);
        }

        foreach (var key in extra)
        {
            all[i++] = key;
        }

        return all;
    }
}
