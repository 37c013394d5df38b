using System.Diagnostics;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Provisioning;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace KivaSync.SyncService.Sync;

/// <summary>
/// Backfill in the fewest requests: contacts AC has never had from us are sent 250 at a time by bulk import,
/// each with its final fields, list subscriptions and order tag (one request instead of a contact/sync, list
/// and tag requests per contact). Once AC reports the batch done, each contact is recorded as synced (its AC
/// id, email, lists and tag, so nothing is sent twice) and goes back to the queue only if it still has
/// follow-up work (events, orders) or changed meanwhile. A contact AC refused goes the one-by-one way, which
/// reports why.
/// </summary>
public sealed partial class BulkBackfill(
    StateStore store,
    AcClientFactory clients,
    AcFieldCatalog fieldCatalog,
    ContactListsStep lists,
    ListsAndTagsFollowUp listsAndTags,
    IEnumerable<IContactFollowUp> followUps,
    IOptions<KivaSyncOptions> options,
    TimeProvider time,
    SyncTelemetry telemetry,
    ILogger<BulkBackfill> logger)
{
    /// <summary>Contact hash field set when bulk import refused the contact: it is synced one by one.</summary>
    public const string BulkField = Schema.Contact.Bulk;

    /// <summary>How long to wait for AC to finish a batch before handing its contacts back. The claim's lease is the
    /// normal one: if this replica dies mid-import another takes the contacts over and imports them again, which
    /// bulk import (by email) makes harmless.</summary>
    public static readonly TimeSpan ImportTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Sends one bulk import for the tenant if enough never-synced backfill contacts wait; returns how many it claimed.</summary>
    public async Task<int> RunOnceAsync(string tenant, TenantOptions settings, CancellationToken ct)
    {
        var sync = options.Value.Sync;
        var claimedAt = Now();
        var members = await store.ClaimForBulkImportAsync(
            tenant, claimedAt, sync.Debounce, sync.Lease, AcClient.BulkMaxContacts,
            new BackfillHold(sync.BackfillSettle, sync.BackfillMaxHold), settings.BulkImportThreshold);
        if (members.Length == 0)
        {
            return 0;
        }

        // AC may take minutes on an import (ImportTimeout is longer than the lease): the claims are renewed meanwhile,
        // so no other replica imports or syncs these contacts again while this one is alive.
        await using var lease = new LeaseKeeper(store, time, tenant, members, StateStore.LeaseUntil(claimedAt, sync.Lease), sync.Lease, ct);

        using var activity = telemetry.Source.StartActivity(SyncTelemetry.Spans.BulkImport);
        activity?.SetTag(SyncTelemetry.Tags.Tenant, tenant);
        activity?.SetTag(SyncTelemetry.Tags.Lines, members.Length);
        try
        {
            // AC calls stop when a lease is lost too (lease.Token); ct still tells a shutdown apart.
            await ImportAsync(tenant, members, lease, lease.Token);
        }
        catch (Exception e) when (e is AcRequestException or AcTransientException or HttpRequestException or TimeoutException or Polly.CircuitBreaker.BrokenCircuitException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            // Nothing recorded: the contacts go back to the queue untouched and are tried again (bulk import is
            // idempotent by email, so a batch AC did take is harmless to send again). Also when a lease was lost.
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            LogBulkFailed(logger, e, tenant, members.Length);
            await ReleaseAsync(tenant, members, lease);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await ReleaseAsync(tenant, members, lease);
            throw;
        }

        return members.Length;
    }

    private async Task ImportAsync(string tenant, string[] members, LeaseKeeper lease, CancellationToken ct)
    {
        var client = clients.For(tenant);
        var snapshots = (await store.ReadManyAsync(tenant, members)).OfType<ContactSnapshot>().ToList();

        var fieldIds = await fieldCatalog.EnsureAsync(tenant, client, ct);
        var listIds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ContactListsStep.ContractLists)
        {
            listIds[name] = (await lists.GetOrCreateAsync(tenant, client, name, ct)).Id;
        }

        var week = await listsAndTags.CurrentWeekAsync(tenant);
        var plans = snapshots.Select(s => ListsAndTagsFollowUp.Desired(s.Values, s.IsCustomer, week)).ToList();
        var rows = snapshots.Select((s, i) => new AcBulkContact(
            s.Email,
            s.Get(ContactSnapshot.Fields.FirstName),
            s.Get(ContactSnapshot.Fields.LastName),
            s.Get(ContactSnapshot.Fields.Phone),
            plans[i].Tag is { } tag ? [tag] : null,
            s.IsCustomer ? ContactSyncer.CustomFieldValues(s, fieldIds) : null,
            [.. plans[i].Lists.Where(l => l.Value == AcClient.Subscribed).Select(l => listIds[l.Key])])).ToList();

        // Automations stay off: this is history, not people acting now.
        var batchIds = await client.BulkImportAsync(rows, excludeAutomations: true, ct);
        var infos = new List<AcBulkImportInfo>();
        foreach (var batchId in batchIds)
        {
            infos.Add(await WaitAsync(client, batchId, ct));
        }

        var ids = MapContactIds(rows, infos);
        // Renewal stops before the writes that end the claims, so they carry the deadline Redis has.
        await lease.DisposeAsync();
        var heldUntil = lease.UntilMs;
        var now = Now();
        var done = 0;
        for (var i = 0; i < snapshots.Count; i++)
        {
            var snapshot = snapshots[i];
            if (ids[i] is not { } acId)
            {
                // Refused (or not mappable to an id): the one-by-one sync sends it and reports AC's reason.
                await store.SetFieldAsync(tenant, snapshot.Member, BulkField, Schema.Contact.BulkRefused);
                await store.ReleaseAsync(tenant, snapshot.Member, heldUntil, now);
                continue;
            }

            var fields = new List<HashEntry>
            {
                new(ContactSnapshot.Fields.SyncedVersion, snapshot.Version),
                new(ContactSnapshot.Fields.AcId, acId),
                new(ContactSnapshot.Fields.AcEmail, snapshot.Email),
                new(ContactSnapshot.Fields.SyncedAt, now),
                new(ContactSnapshot.Fields.SyncState, Schema.SyncState.Ok),
                new(BulkField, Schema.Contact.BulkImported),
            };
            fields.AddRange(plans[i].Lists.Select(l => new HashEntry(ListsAndTagsFollowUp.ListField + l.Key, ListsAndTagsFollowUp.Status(l.Value))));
            if (plans[i].Tag is { } tag)
            {
                fields.Add(new HashEntry(ListsAndTagsFollowUp.TagField, tag));
            }

            await store.RecordBulkImportedAsync(tenant, snapshot.Member, heldUntil, fields, await HasFollowUpsAsync(tenant, snapshot.Member), now);
            done++;
        }

        telemetry.ContactSyncs.Add(
            done,
            new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, tenant),
            new KeyValuePair<string, object?>(SyncTelemetry.Tags.Outcome, "BulkImported"));
        LogBulkImported(logger, tenant, done, snapshots.Count - done, batchIds.Count);
    }

    /// <summary>AC's answer lists the ids of the contacts it took, in request order, and the emails it refused:
    /// walk the rows in order to pair them. If the counts do not add up, pair none (the one-by-one sync will).</summary>
    internal static string?[] MapContactIds(IReadOnlyList<AcBulkContact> rows, IReadOnlyList<AcBulkImportInfo> infos)
    {
        var ids = new string?[rows.Count];
        var success = infos.SelectMany(i => i.Success).ToList();
        var failed = infos.SelectMany(i => i.Failure).Select(e => e.Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        var taken = rows.Count(r => !failed.Contains(r.Email.Trim().ToLowerInvariant()));
        if (taken != success.Count)
        {
            return ids;
        }

        var next = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            if (!failed.Contains(rows[i].Email.Trim().ToLowerInvariant()))
            {
                ids[i] = success[next++];
            }
        }

        return ids;
    }

    private async Task<AcBulkImportInfo> WaitAsync(AcClient client, string batchId, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + ImportTimeout;
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            await Task.Delay(delay, time, ct);
            var info = await client.GetImportInfoAsync(batchId, ct);
            if (info.IsDone)
            {
                return info;
            }

            if (time.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"AC had not finished bulk import batch {batchId} after {ImportTimeout}");
            }

            // Each poll costs a request of the tenant's budget: poll less often the longer it takes.
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
        }
    }

    private async Task<bool> HasFollowUpsAsync(string tenant, string member)
    {
        foreach (var followUp in followUps)
        {
            if (followUp is not ListsAndTagsFollowUp && await followUp.HasPendingAsync(tenant, member))
            {
                return true;
            }
        }

        return false;
    }

    private async Task ReleaseAsync(string tenant, IEnumerable<string> members, LeaseKeeper lease)
    {
        await lease.DisposeAsync();
        var now = Now();
        foreach (var member in members)
        {
            await store.ReleaseAsync(tenant, member, lease.UntilMs, now);
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(200, LogLevel.Information, "Bulk import for tenant {Tenant}: {Imported} contacts imported, {Refused} left to the one-by-one sync, in {Requests} request(s)")]
    private static partial void LogBulkImported(ILogger logger, string tenant, int imported, int refused, int requests);

    [LoggerMessage(201, LogLevel.Warning, "Bulk import of {Count} contacts for tenant {Tenant} failed; they go back to the queue")]
    private static partial void LogBulkFailed(ILogger logger, Exception exception, string tenant, int count);
}
