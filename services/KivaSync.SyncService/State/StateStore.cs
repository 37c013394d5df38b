using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>How one contact sync ended.</summary>
public enum SyncOutcome
{
    /// <summary>AC accepted the state.</summary>
    Ok,
    /// <summary>A transient failure: retried later.</summary>
    Failed,
    /// <summary>AC refused the contact for a reason retrying cannot fix.</summary>
    Skipped,
    /// <summary>Not attempted: the tenant's AC circuit is open. Queued again without counting an attempt.</summary>
    Deferred,
}

/// <summary>Tenant-wide figures.</summary>
/// <summary>How long backfill contacts wait for history to stop arriving (see claim.lua).</summary>
/// <param name="Settle">No historical entry for this long: history is folded, send.</param>
/// <param name="MaxHold">A contact dirty for this long is sent even while history still arrives.</param>
public sealed record BackfillHold(TimeSpan Settle, TimeSpan MaxHold)
{
    /// <summary>No hold (the debounce alone).</summary>
    public static BackfillHold None { get; } = new(TimeSpan.Zero, TimeSpan.Zero);
}

public sealed record TenantMeta(long Accepted, long NewestEntryTsMs, string? CurrentWeek, long ResyncAllRequested, long ResyncAllDone);

/// <summary>Queue and usage figures of a tenant.</summary>
public sealed record TenantFigures(long Pending, long InFlight, long Customers, long Leads, long? OldestPendingMs, double RequestsPerSecondLastMinute);

/// <summary>All reads and writes of folded state and the contact work queue, in Redis.</summary>
public sealed class StateStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>Slots at the start of the ingest script's ARGV that <see cref="IngestAsync"/> fills (prefix, now, window, generation).</summary>
    public const int IngestHeaderArgs = Schema.IngestArgs.TraceParent - 1;

    /// <summary>Answers of ingest.lua asking for another call before one is given up (each only ever adds keys or moves a generation).</summary>
    private const int IngestAttempts = 8;

    /// <summary>Runs the ingest script for one tenant's part of a batch; <paramref name="args"/> is its ARGV
    /// with <see cref="IngestHeaderArgs"/> free slots first (see Ingest/IngestScriptEntry), <paramref name="batchKeys"/> the
    /// keys its entries name. Returns one code per entry (1 accepted, 2 rejected first time, 0 duplicate). The first
    /// call is sent before the first await, so calls made in order run in order; when the script asks for keys it found at
    /// run time (an email's owner) or another dedup generation it wrote nothing, and the call is made again with them.
    /// <paramref name="dedupWindowMs"/>: see docs/dedup.md.</summary>
    /// <param name="fence">The batch's place in its ship stream (null: no order to keep, e.g. a single call).</param>
    public async Task<int[]> IngestAsync(string tenant, List<RedisValue> args, IngestBatchKeys batchKeys, long nowMs, long dedupWindowMs, IngestFence? fence = null)
    {
        var keys = new RedisKeys(tenant);
        var applied = false;
        try
        {
            var codes = await RunIngestAsync(keys, args, batchKeys, nowMs, dedupWindowMs, fence);
            applied = true;
            return codes;
        }
        finally
        {
            fence?.MarkEnded(applied);
        }
    }

    private async Task<int[]> RunIngestAsync(RedisKeys keys, List<RedisValue> args, IngestBatchKeys batchKeys, long nowMs, long dedupWindowMs, IngestFence? fence)
    {
        var tenant = keys.Tenant;
        var generation = nowMs / dedupWindowMs;
        var extra = new List<string>();
        args[Schema.IngestArgs.StreamAfter - 1] = fence?.Previous is { } before ? before.Seq : "";
        args[Schema.IngestArgs.StreamSeq - 1] = fence is null ? "" : fence.Seq;
        for (var attempt = 1; ; attempt++)
        {
            var (callKeys, callArgs) = IngestCall(keys, args, batchKeys, nowMs, dedupWindowMs, generation, extra, fence?.StreamId ?? "");
            // What the predecessor had sent before this attempt: a "wait" answer means none of those applied it.
            var predecessorSent = fence?.Previous?.Sent ?? 0;
            var call = Db.RunAsync(RedisScripts.Ingest, callKeys, callArgs);
            fence?.MarkSent();
            var answer = (RedisResult[])(await call)!;
            if (answer.Length == 0 || answer[0].Resp2Type != ResultType.BulkString)
            {
                return Array.ConvertAll(answer, c => (int)c);
            }

            if (attempt == IngestAttempts)
            {
                throw new InvalidOperationException($"ingest.lua asked {IngestAttempts} times for another call (last: {(string?)answer[0]}); tenant {tenant}'s keys keep changing");
            }

            switch ((string?)answer[0])
            {
                case Schema.IngestArgs.AnswerKeys:
                    extra.AddRange(answer.Skip(1).Select(k => (string)k!));
                    break;
                case Schema.IngestArgs.AnswerGeneration:
                    generation = (long)answer[1];
                    break;
                case Schema.IngestArgs.AnswerRotate:
                    await RotateDedupAsync(keys, (long)answer[1], generation);
                    break;
                case Schema.IngestArgs.AnswerWait:
                    // Sent again right after the predecessor's next attempt, so Redis runs it after that one.
                    if (fence?.Previous is not { } previous || !await previous.WaitForProgressAsync(predecessorSent))
                    {
                        throw new OperationCanceledException("an earlier batch of this stream failed");
                    }

                    // Not an attempt of its own: it waits as long as its predecessor does, which ends applied or failed.
                    attempt--;
                    break;
                default:
                    throw new InvalidOperationException($"ingest.lua answered {(string?)answer[0]}");
            }
        }
    }

    /// <summary>One ingest call's KEYS and ARGV (the ingest bench replays them as the service sends them).</summary>
    internal static (RedisKey[] Keys, RedisValue[] Args) IngestCall(
        RedisKeys keys, List<RedisValue> args, IngestBatchKeys batchKeys, long nowMs, long dedupWindowMs, long generation, IReadOnlyCollection<string> extra, string streamId = "")
    {
        args[Schema.IngestArgs.Prefix - 1] = keys.Prefix;
        args[Schema.IngestArgs.Now - 1] = nowMs;
        args[Schema.IngestArgs.DedupPeriod - 1] = dedupWindowMs;
        args[Schema.IngestArgs.DedupGeneration - 1] = generation;
        if (args[Schema.IngestArgs.StreamSeq - 1].IsNull)
        {
            args[Schema.IngestArgs.StreamAfter - 1] = "";
            args[Schema.IngestArgs.StreamSeq - 1] = "";
        }

        return (batchKeys.Build(keys, generation, extra, streamId), args.ToArray());
    }

    /// <summary>Moves the tenant's dedup generation from <paramref name="known"/> to <paramref name="generation"/>, dropping the
    /// windowed buckets of generations older than the previous one (docs/dedup.md): 16,384 keys each, all passed in KEYS.</summary>
    private Task RotateDedupAsync(RedisKeys keys, long known, long generation)
    {
        var drop = new List<RedisKey> { keys.Meta };
        for (var g = known - 1; g <= known; g++)
        {
            if (g < generation - 1)
            {
                for (var b = 0; b < 16384; b++)
                {
                    drop.Add(keys.WindowedDedupBucket(g, b.ToString("x4", System.Globalization.CultureInfo.InvariantCulture)));
                }
            }
        }

        return Db.RunAsync(RedisScripts.IngestRotate, [.. drop], [known, generation]);
    }

    /// <summary>The lease deadline a claim made at <paramref name="nowMs"/> gives its contacts (their score in the in-flight
    /// set). It is the claim's fencing token: every write that ends the claim checks that the contact's score is still
    /// this (or the value a renewal moved it to), so a worker whose lease another replica took over changes nothing of the new holder's.</summary>
    public static long LeaseUntil(long nowMs, TimeSpan lease) => nowMs + (long)lease.TotalMilliseconds;

    /// <summary>Moves the leases of contacts this worker holds from <paramref name="heldUntilMs"/> to <paramref name="newUntilMs"/>;
    /// returns false when any of them is no longer held with that deadline (another replica took it over, or it ended).</summary>
    public async Task<bool> RenewAsync(string tenant, IReadOnlyList<string> members, long heldUntilMs, long newUntilMs)
    {
        var keys = new RedisKeys(tenant);
        var args = new List<RedisValue>(members.Count + 2) { heldUntilMs, newUntilMs };
        args.AddRange(members.Select(m => (RedisValue)m));
        var result = await Db.RunAsync(RedisScripts.Renew, [keys.InFlight], [.. args]);
        return (long)result == 1;
    }

    /// <summary>Claims up to <paramref name="max"/> contacts that are due for a sync.</summary>
    /// <param name="bulkThreshold">While more backfill contacts wait, leave those bulk import may take to it; -1: none.</param>
    public async Task<string[]> ClaimAsync(string tenant, long nowMs, TimeSpan debounce, TimeSpan lease, int max, BackfillHold? hold = null, int bulkThreshold = -1)
    {
        var keys = new RedisKeys(tenant);
        hold ??= BackfillHold.None;
        var candidates = bulkThreshold < 0 ? [] : await ClaimCandidatesAsync(keys, nowMs, debounce, (max * 3) + 1000, max, bulkThreshold);
        var result = await Db.RunAsync(
            RedisScripts.Claim,
            [keys.Dirty, keys.InFlight, keys.DirtyLive, keys.Meta, .. candidates],
            [nowMs, (long)debounce.TotalMilliseconds, (long)lease.TotalMilliseconds, max, (long)hold.Settle.TotalMilliseconds, (long)hold.MaxHold.TotalMilliseconds, bulkThreshold, keys.Prefix]);
        return ((RedisResult[])result!).Select(r => (string)r!).ToArray();
    }

    /// <summary>Claims up to <paramref name="max"/> never-synced backfill contacts for one bulk import (see claim_bulk.lua);
    /// none unless more than <paramref name="threshold"/> are waiting.</summary>
    public async Task<string[]> ClaimForBulkImportAsync(string tenant, long nowMs, TimeSpan debounce, TimeSpan lease, int max, BackfillHold hold, int threshold)
    {
        var keys = new RedisKeys(tenant);
        var candidates = await ClaimCandidatesAsync(keys, nowMs, debounce, max * 4, 0, threshold);
        var result = await Db.RunAsync(
            RedisScripts.ClaimBulk,
            [keys.Dirty, keys.InFlight, keys.DirtyLive, keys.Meta, .. candidates],
            [nowMs, (long)debounce.TotalMilliseconds, (long)lease.TotalMilliseconds, max, (long)hold.Settle.TotalMilliseconds, (long)hold.MaxHold.TotalMilliseconds, threshold, keys.Prefix]);
        return ((RedisResult[])result!).Select(r => (string)r!).ToArray();
    }

    /// <summary>The hashes claim.lua / claim_bulk.lua may read, found at run time (the queue's head), so read first: every
    /// member the window of the first <paramref name="window"/> settled ones can hold, plus up to <paramref name="expired"/> whose
    /// lease ran out (claim.lua puts them back at the front). None while no more than <paramref name="threshold"/> backfill contacts
    /// wait (the scripts read no hash then).</summary>
    private async Task<RedisKey[]> ClaimCandidatesAsync(RedisKeys keys, long nowMs, TimeSpan debounce, int window, int expired, int threshold)
    {
        var batch = Db.CreateBatch();
        var dirty = batch.SortedSetLengthAsync(keys.Dirty);
        var live = batch.SortedSetLengthAsync(keys.DirtyLive);
        var head = batch.SortedSetRangeByScoreAsync(keys.Dirty, double.NegativeInfinity, nowMs - (long)debounce.TotalMilliseconds, take: window);
        var lapsed = expired > 0 ? batch.SortedSetRangeByScoreAsync(keys.InFlight, double.NegativeInfinity, nowMs, take: expired) : Task.FromResult(Array.Empty<RedisValue>());
        batch.Execute();
        if (await dirty - await live <= threshold)
        {
            return [];
        }

        return [.. (await lapsed).Concat(await head).Select(m => (RedisKey)keys.Contact(m!))];
    }

    /// <summary>Reads a contact's state; null when it no longer exists (a lead that merged into a customer).</summary>
    public async Task<ContactSnapshot?> ReadAsync(string tenant, string member)
    {
        var keys = new RedisKeys(tenant);
        return ContactSnapshot.From(member, await Db.HashGetAllAsync(keys.Contact(member)));
    }

    /// <summary>Records a sync's outcome and releases its lease (<paramref name="leaseUntilMs"/>, see <see cref="LeaseUntil"/>);
    /// returns the attempt count for failures, -1 when the lease was no longer this sync's (the contact is then queued
    /// to be sent again once its holder is done: this late sync's requests may have reached AC after the holder's).</summary>
    public async Task<long> CompleteAsync(
        string tenant, string member, long leaseUntilMs, SyncOutcome outcome, long nowMs, long syncedVersion,
        string? acId, string? acEmail, string? error, long retryAtMs, string? forceSeen = null)
    {
        var keys = new RedisKeys(tenant);
        var outcomeName = outcome switch
        {
            SyncOutcome.Ok => Schema.SyncState.Ok,
            SyncOutcome.Skipped => Schema.SyncState.Skipped,
            _ => Schema.SyncState.Failed,
        };
        // A merged lead's email owner is found at run time: the script names it ({-2, owner}) and is called again with its keys.
        var owner = "";
        for (var attempt = 0; ; attempt++)
        {
            RedisKey[] callKeys = owner.Length == 0
                ? [keys.Contact(member), keys.InFlight, keys.Dirty, keys.Events(member), keys.EmailIndex]
                : [keys.Contact(member), keys.InFlight, keys.Dirty, keys.Events(member), keys.EmailIndex, keys.Contact(owner), keys.Events(owner)];
            var result = await Db.RunAsync(
                RedisScripts.Complete,
                callKeys,
                [member, outcomeName, nowMs, syncedVersion, acId ?? "", acEmail ?? "", error ?? "", retryAtMs, forceSeen ?? "", keys.Prefix, leaseUntilMs, owner]);
            if (result.Resp2Type != ResultType.Array)
            {
                return (long)result;
            }

            owner = (string)((RedisResult[])result!)[1]!;
            if (attempt == 8)
            {
                throw new InvalidOperationException($"complete.lua: the owner of merged lead {member}'s email keeps changing");
            }
        }
    }

    /// <summary>Reads several contacts in one round trip (null where a hash is gone).</summary>
    public async Task<ContactSnapshot?[]> ReadManyAsync(string tenant, IReadOnlyList<string> members)
    {
        var keys = new RedisKeys(tenant);
        var batch = Db.CreateBatch();
        var reads = members.Select(m => batch.HashGetAllAsync(keys.Contact(m))).ToArray();
        batch.Execute();
        var snapshots = new ContactSnapshot?[members.Count];
        for (var i = 0; i < reads.Length; i++)
        {
            snapshots[i] = ContactSnapshot.From(members[i], await reads[i]);
        }

        return snapshots;
    }

    /// <summary>Some fields of a contact's hash (absent ones left out).</summary>
    public async Task<Dictionary<string, string>> ReadFieldsAsync(string tenant, string member, IReadOnlyList<string> fields)
    {
        var values = await Db.HashGetAsync(new RedisKeys(tenant).Contact(member), [.. fields.Select(f => (RedisValue)f)]);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            if (!values[i].IsNull)
            {
                map[fields[i]] = values[i].ToString();
            }
        }

        return map;
    }

    /// <summary>Whether a contact's hash exists (a lead that merged into a customer no longer has one).</summary>
    public Task<bool> ExistsAsync(string tenant, string member) => Db.KeyExistsAsync(new RedisKeys(tenant).Contact(member));

    /// <summary>Sets fields of a contact only while its hash exists: a lead merged away must not come back as a stub.</summary>
    public Task SetIfExistsAsync(string tenant, string member, params ReadOnlySpan<(string Field, string Value)> fields)
    {
        var args = new RedisValue[fields.Length * 2];
        for (var i = 0; i < fields.Length; i++)
        {
            args[2 * i] = fields[i].Field;
            args[(2 * i) + 1] = fields[i].Value;
        }

        return Db.RunAsync(RedisScripts.SetIfExists, [new RedisKeys(tenant).Contact(member)], args);
    }

    /// <summary>Sets one field of a contact's hash.</summary>
    public Task SetFieldAsync(string tenant, string member, string field, string value) =>
        Db.HashSetAsync(new RedisKeys(tenant).Contact(member), field, value);

    /// <summary>Removes fields of a contact's hash.</summary>
    public Task DeleteFieldsAsync(string tenant, string member, params string[] fields) =>
        Db.HashDeleteAsync(new RedisKeys(tenant).Contact(member), [.. fields.Select(f => (RedisValue)f)]);

    /// <summary>A stored AC id by lower-cased name, of one kind ("fields", "lists", "tags", ...; AcNameCatalog).</summary>
    public async Task<string?> ReadAcIdAsync(string tenant, string kind, string normalizedName)
    {
        var stored = await Db.HashGetAsync(new RedisKeys(tenant).AcNames(kind), normalizedName);
        return stored.IsNullOrEmpty ? null : stored.ToString();
    }

    /// <summary>Stores an AC id by lower-cased name.</summary>
    public Task WriteAcIdAsync(string tenant, string kind, string normalizedName, string id) =>
        Db.HashSetAsync(new RedisKeys(tenant).AcNames(kind), normalizedName, id);

    /// <summary>Forgets every stored AC id of a kind.</summary>
    public Task ForgetAcIdsAsync(string tenant, string kind) => Db.KeyDeleteAsync(new RedisKeys(tenant).AcNames(kind));

    /// <summary>Records that AC accepted the contact's own state (before its follow-up work runs), so a retry
    /// after a failed follow-up does not send the contact again.</summary>
    public Task RecordContactSyncedAsync(string tenant, string member, long syncedVersion, string acId, string acEmail, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        // Only while the hash exists: a lead merged into a customer meanwhile must not come back as a stub.
        return Db.RunAsync(
            RedisScripts.RecordContactSynced,
            [keys.Contact(member)],
            [syncedVersion, acId, acEmail, nowMs]);
    }

    /// <summary>Records a contact a bulk import brought to AC and releases its claim: back to the queue when it
    /// still has follow-up work or changed while the import ran (its version is newer than the one sent).
    /// A claim no longer held with <paramref name="leaseUntilMs"/> records nothing and queues the contact again.</summary>
    public Task RecordBulkImportedAsync(string tenant, string member, long leaseUntilMs, IReadOnlyList<HashEntry> fields, bool requeue, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        var args = new List<RedisValue> { member, nowMs, requeue ? 1 : 0, leaseUntilMs };
        foreach (var field in fields)
        {
            args.Add(field.Name);
            args.Add(field.Value);
        }

        return Db.RunAsync(
            RedisScripts.RecordBulkImported,
            [keys.Contact(member), keys.InFlight, keys.Dirty, keys.Events(member)],
            [.. args]);
    }

    /// <summary>Gives a claimed contact back to the queue untouched (this replica is stopping), so another
    /// replica takes it at once instead of after the lease. A claim no longer held with <paramref name="leaseUntilMs"/>
    /// is left to its holder; the contact is queued to be sent again after it (this sync may have sent part of it).</summary>
    public Task ReleaseAsync(string tenant, string member, long leaseUntilMs, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        return Db.RunAsync(
            RedisScripts.Release,
            [keys.InFlight, keys.Dirty, keys.Contact(member)],
            [member, nowMs, leaseUntilMs]);
    }

    /// <summary>Queues contacts for a sync now; returns how many are queued (already-queued ones count once).</summary>
    /// <param name="force">True for an operator's resync: AC is called even if it already has the latest state.</param>
    public async Task<int> MarkDirtyAsync(string tenant, IReadOnlyCollection<string> members, long nowMs, bool force = false)
    {
        if (members.Count == 0)
        {
            return 0;
        }

        var keys = new RedisKeys(tenant);
        if (force)
        {
            var batch = Db.CreateBatch();
            // A counter, not a flag: a sync clears only the force it saw, never one asked for while it ran. Only on a
            // contact that still exists: a lead that merged into a customer since it was looked up must not come back
            // as a stub hash (a contact with no email that would be sent to AC and linger).
            var writes = members.Select(m => batch.RunAsync(RedisScripts.ForceIfExists, [keys.Contact(m)], [])).ToArray();
            batch.Execute();
            await Task.WhenAll(writes);
        }

        // NX keeps an earlier dirty time, so a forced resync never delays queued work.
        await Db.SortedSetAddAsync(keys.Dirty, members.Select(m => new SortedSetEntry(m, nowMs)).ToArray(), SortedSetWhen.NotExists);
        if (force)
        {
            // An operator waits for it: ahead of any backfill.
            await Db.SortedSetAddAsync(keys.DirtyLive, members.Select(m => new SortedSetEntry(m, nowMs)).ToArray(), SortedSetWhen.NotExists);
        }

        return members.Count;
    }

    /// <summary>Every customer and lead of a tenant, as members, in pages.</summary>
    public async IAsyncEnumerable<string> AllMembersAsync(string tenant)
    {
        var keys = new RedisKeys(tenant);
        await foreach (var id in Db.SetScanAsync(keys.Customers, pageSize: 1000))
        {
            yield return RedisKeys.CustomerMember(id!);
        }

        await foreach (var email in Db.SetScanAsync(keys.Leads, pageSize: 1000))
        {
            yield return RedisKeys.LeadMember(email!);
        }
    }

    /// <summary>Finds the member that owns an email now (case-insensitive).</summary>
    public async Task<string?> FindByEmailAsync(string tenant, string email)
    {
        var keys = new RedisKeys(tenant);
        var owner = await Db.HashGetAsync(keys.EmailIndex, EmailIndexField(email));
        return owner.IsNullOrEmpty ? null : owner.ToString();
    }

    private static string EmailIndexField(string email) => email.Trim().ToLowerInvariant();

    /// <summary>Which of <paramref name="customerIds"/> are known, in order: one SMISMEMBER.</summary>
    public async Task<bool[]> CustomersExistAsync(string tenant, IReadOnlyList<string> customerIds)
    {
        if (customerIds.Count == 0)
        {
            return [];
        }

        return await Db.SetContainsAsync(new RedisKeys(tenant).Customers, [.. customerIds.Select(id => (RedisValue)id)]);
    }

    /// <summary>The members that own <paramref name="emails"/> now (case-insensitive), in order, null where none: one HMGET.</summary>
    public async Task<string?[]> FindByEmailsAsync(string tenant, IReadOnlyList<string> emails)
    {
        if (emails.Count == 0)
        {
            return [];
        }

        var owners = await Db.HashGetAsync(new RedisKeys(tenant).EmailIndex, [.. emails.Select(e => (RedisValue)EmailIndexField(e))]);
        return [.. owners.Select(o => o.IsNullOrEmpty ? null : o.ToString())];
    }

    /// <summary>Whether a customer id is known.</summary>
    public Task<bool> CustomerExistsAsync(string tenant, string customerId) =>
        Db.SetContainsAsync(new RedisKeys(tenant).Customers, customerId);

    /// <summary>Whether a contact is queued or being synced.</summary>
    public async Task<bool> IsPendingAsync(string tenant, string member)
    {
        var keys = new RedisKeys(tenant);
        var batch = Db.CreateBatch();
        var dirty = batch.SortedSetScoreAsync(keys.Dirty, member);
        var inFlight = batch.SortedSetScoreAsync(keys.InFlight, member);
        batch.Execute();
        return (await dirty).HasValue || (await inFlight).HasValue;
    }

    /// <summary>Reads the tenant-wide figures.</summary>
    public async Task<TenantMeta> ReadMetaAsync(string tenant)
    {
        var keys = new RedisKeys(tenant);
        var values = await Db.HashGetAsync(keys.Meta, [Schema.Meta.Accepted, Schema.Meta.NewestTs, Schema.Meta.Week, Schema.Meta.ResyncAll, Schema.Meta.ResyncAllDone]);
        return new TenantMeta(
            (long?)values[0] ?? 0,
            (long?)values[1] ?? -1,
            values[2].IsNullOrEmpty ? null : values[2].ToString(),
            (long?)values[3] ?? 0,
            (long?)values[4] ?? 0);
    }

    /// <summary>Tells the ingest script the tenant's live threshold (entries newer than it jump the queue).</summary>
    public Task SetLiveThresholdAsync(string tenant, TimeSpan threshold) =>
        Db.HashSetAsync(new RedisKeys(tenant).Meta, Schema.Meta.LiveMs, (long)threshold.TotalMilliseconds);

    /// <summary>Marks that resync-all requests up to <paramref name="generation"/> have been queued.</summary>
    public Task MarkResyncAllDoneAsync(string tenant, long generation) =>
        Db.HashSetAsync(new RedisKeys(tenant).Meta, Schema.Meta.ResyncAllDone, generation);

    /// <summary>Rejected-line counts per contract reason.</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadRejectCountsAsync(string tenant)
    {
        var entries = await Db.HashGetAllAsync(new RedisKeys(tenant).Rejects);
        return entries.ToDictionary(e => e.Name.ToString(), e => (long)e.Value, StringComparer.Ordinal);
    }

    /// <summary>Counts and ages a tenant status needs, read in one round trip.</summary>
    public async Task<TenantFigures> ReadFiguresAsync(string tenant, long nowMs)
    {
        var keys = new RedisKeys(tenant);
        var batch = Db.CreateBatch();
        var dirty = batch.SortedSetLengthAsync(keys.Dirty);
        var inFlight = batch.SortedSetLengthAsync(keys.InFlight);
        var oldest = batch.SortedSetRangeByRankWithScoresAsync(keys.Dirty, 0, 0);
        var customers = batch.SetLengthAsync(keys.Customers);
        var leads = batch.SetLengthAsync(keys.Leads);
        var bucket = nowMs / 10_000;
        var used = Enumerable.Range(1, 6).Select(i => batch.StringGetAsync(keys.RateUsed(bucket - i))).ToArray();
        batch.Execute();
        var oldestScores = await oldest;
        var lastMinute = 0L;
        foreach (var u in used)
        {
            lastMinute += (long?)await u ?? 0;
        }

        return new TenantFigures(
            await dirty, await inFlight, await customers, await leads,
            oldestScores.Length == 0 ? null : (long)oldestScores[0].Score,
            lastMinute / 60.0);
    }

    /// <summary>Contacts waiting and in flight.</summary>
    public async Task<(long Dirty, long InFlight)> QueueDepthAsync(string tenant)
    {
        var keys = new RedisKeys(tenant);
        return (await Db.SortedSetLengthAsync(keys.Dirty), await Db.SortedSetLengthAsync(keys.InFlight));
    }
}
