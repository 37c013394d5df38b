using System.Diagnostics;
using System.Net;
using KivaSync.ServiceDefaults;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Provisioning;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace KivaSync.SyncService.Sync;

/// <summary>
/// Sends one contact's folded state to AC: contact/sync with the five custom fields, or — when the
/// customer's email changed since AC last saw it — an update by AC contact id, so no second contact
/// is ever made. Records the outcome (synced, failed and retried later, or skipped with a reason).
/// </summary>
public sealed class ContactSyncer(
    StateStore store,
    AcClientFactory clients,
    AcFieldCatalog fieldCatalog,
    IOptions<KivaSyncOptions> options,
    TimeProvider time,
    SyncTelemetry telemetry,
    IEnumerable<IContactFollowUp> followUps,
    DeadLetterStore deadLetters,
    AcNameCatalog names,
    AcCircuitBreakers breakers,
    ILogger<ContactSyncer> logger)
{
    private readonly IContactFollowUp[] followUps = [.. followUps.OrderBy(f => f.Order)];

    /// <summary>Syncs one claimed contact and releases its claim, whatever happens. <paramref name="leaseUntilMs"/> is the
    /// deadline it was claimed with (<see cref="StateStore.LeaseUntil"/>): the lease is renewed while the sync runs, and
    /// the writes that end it are fenced by it, so a replica that took the contact over is never disturbed.</summary>
    public async Task SyncAsync(string tenant, string member, long leaseUntilMs, CancellationToken ct)
    {
        await using var lease = new LeaseKeeper(store, time, tenant, [member], leaseUntilMs, options.Value.Sync.Lease, ct);
        // Renewal stops before any write that ends the claim, so that write carries the deadline Redis has.
        async Task<long> HeldUntilAsync()
        {
            await lease.DisposeAsync();
            return lease.UntilMs;
        }

        var snapshot = await store.ReadAsync(tenant, member);
        if (snapshot is null)
        {
            // Gone (a lead merged into a customer): nothing sent, which "skipped" tells the completion.
            await store.CompleteAsync(tenant, member, await HeldUntilAsync(), SyncOutcome.Skipped, Now(), 0, null, null, null, 0);
            return;
        }

        if (snapshot.IsUpToDateInAc && !await HasPendingFollowUpsAsync(tenant, member))
        {
            // E.g. a weekly cycle's resync of a contact whose AC data cannot have changed: no request.
            var lastSynced = long.TryParse(snapshot.Get(ContactSnapshot.Fields.SyncedAt), out var at) ? at : Now();
            await store.CompleteAsync(tenant, member, await HeldUntilAsync(), SyncOutcome.Ok, lastSynced, snapshot.Version, snapshot.AcId, snapshot.AcEmail, null, 0);
            return;
        }

        // A contact's sync is asynchronous work that folds any number of ingest batches: it gets a trace of
        // its own, linked to the ingest span of the batch that last changed the contact.
        Activity.Current = null;
        var ingest = IngestContextOf(snapshot);
        using var activity = telemetry.Source.StartActivity(
            SyncTelemetry.Spans.SyncContact, ActivityKind.Internal, default(ActivityContext), links: ingest == default ? null : [new ActivityLink(ingest)]);
        activity?.SetTag(SyncTelemetry.Tags.Tenant, tenant);
        activity?.SetTag(SyncTelemetry.Tags.Member, snapshot.IsCustomer ? "customer" : "lead");
        activity?.SetTag(SyncTelemetry.Tags.Email, Redaction.Email(snapshot.Email));
        (SyncOutcome Outcome, string? Error, AcContact? Contact) result;
        try
        {
            result = await TrySyncAsync(tenant, snapshot, lease.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down mid-sync: hand the contact back now rather than after the lease.
            await store.ReleaseAsync(tenant, member, await HeldUntilAsync(), Now());
            throw;
        }
        catch (OperationCanceledException) when (lease.Lost)
        {
            // The lease was lost mid-sync (another replica may be syncing the contact): stop sending; the release
            // queues the contact to be sent once more after that replica, since part of this sync may have reached AC.
            activity?.SetStatus(ActivityStatusCode.Error, "lease lost");
            Log.SyncLeaseLost(logger, tenant, Redaction.Email(snapshot.Email));
            await store.ReleaseAsync(tenant, member, await HeldUntilAsync(), Now());
            return;
        }

        var (outcome, error, contact) = result;
        activity?.SetTag(SyncTelemetry.Tags.Outcome, outcome.ToString());
        telemetry.ContactSyncs.Add(
            1,
            new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, tenant),
            new KeyValuePair<string, object?>(SyncTelemetry.Tags.Outcome, outcome.ToString()));

        var heldUntil = await HeldUntilAsync();
        var now = Now();
        switch (outcome)
        {
            case SyncOutcome.Ok:
                await store.CompleteAsync(tenant, member, heldUntil, outcome, now, snapshot.Version, contact!.Id, snapshot.Email, null, 0, snapshot.Get(ContactSnapshot.Fields.Force));
                if (snapshot.Get(ContactSnapshot.Fields.SyncState) == Schema.SyncState.Dead)
                {
                    await deadLetters.ClearAsync(tenant, member);
                }

                break;
            case SyncOutcome.Deferred:
                // The tenant's circuit is open: try again once it may have closed, without counting an attempt.
                breakers.IsOpen(tenant, out var remaining);
                await deadLetters.DeferAsync(tenant, member, heldUntil, now + (long)Math.Max(remaining.TotalMilliseconds, 1000));
                break;
            case SyncOutcome.Skipped:
                activity?.SetStatus(ActivityStatusCode.Error, error);
                Log.SyncSkipped(logger, tenant, Redaction.Email(snapshot.Email), error!);
                await store.CompleteAsync(tenant, member, heldUntil, outcome, now, snapshot.Version, snapshot.AcId, snapshot.AcEmail, error, 0);
                break;
            default:
                activity?.SetStatus(ActivityStatusCode.Error, error);
                var attempts = long.TryParse(snapshot.Get(ContactSnapshot.Fields.Attempts), out var a) ? a + 1 : 1;
                if (attempts >= options.Value.Sync.MaxAttempts)
                {
                    await deadLetters.AddContactAsync(tenant, member, heldUntil, snapshot.Email, error!, attempts, now);
                    telemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>(SyncTelemetry.Tags.Kind, DeadLetterStore.ContactKind));
                    Log.DeadLettered(logger, tenant, Redaction.Email(snapshot.Email), attempts, error!);
                    break;
                }

                var delay = RetryDelay(attempts);
                await store.CompleteAsync(tenant, member, heldUntil, outcome, now, snapshot.Version, snapshot.AcId, snapshot.AcEmail, error, now + (long)delay.TotalMilliseconds);
                Log.SyncFailed(logger, tenant, attempts, delay, error!);
                break;
        }
    }

    private async Task<(SyncOutcome Outcome, string? Error, AcContact? Contact)> TrySyncAsync(string tenant, ContactSnapshot snapshot, CancellationToken ct)
    {
        try
        {
            var client = clients.For(tenant);
            var fieldValues = snapshot.IsCustomer ? CustomFieldValues(snapshot, await fieldCatalog.EnsureAsync(tenant, client, ct)) : [];

            var input = new AcContactInput(
                snapshot.Email,
                snapshot.Get(ContactSnapshot.Fields.FirstName),
                snapshot.Get(ContactSnapshot.Fields.LastName),
                snapshot.Get(ContactSnapshot.Fields.Phone),
                fieldValues);

            if (snapshot.IsUpToDateInAc)
            {
                // AC has this state already; only follow-up work (e.g. queued events) is waiting.
                var known = new AcContact(snapshot.AcId!, snapshot.AcEmail ?? snapshot.Email);
                await RunFollowUpsAsync(new SyncedContact(tenant, snapshot, known.Id, known.Email, client, CreatedNow: false), ct);
                return (SyncOutcome.Ok, null, known);
            }

            AcContact? contact = null;
            // Exact comparison: a change of case only is also sent by id, since contact/sync matches
            // emails case-insensitively and would keep the old spelling.
            if (snapshot.AcId is { } acId && !string.Equals(snapshot.AcEmail?.Trim(), snapshot.Email.Trim(), StringComparison.Ordinal))
            {
                try
                {
                    // The email changed: update the contact AC already has, by id.
                    contact = await client.UpdateContactAsync(acId, input, ct);
                }
                catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
                {
                    // AC already has another contact with the new email: that one is this person now.
                    contact = null;
                }
            }

            var createdNow = false;
            if (contact is null)
            {
                contact = await client.SyncContactAsync(input, ct);
                createdNow = contact.Created;
            }

            // The contact's own state is in AC now: record that before follow-ups, so a failing
            // follow-up retries only itself and not the contact request too.
            await store.RecordContactSyncedAsync(tenant, snapshot.Member, snapshot.Version, contact.Id, snapshot.Email, Now());
            await RunFollowUpsAsync(new SyncedContact(tenant, snapshot, contact.Id, snapshot.Email, client, createdNow), ct);
            return (SyncOutcome.Ok, null, contact);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "related_missing")
        {
            // A field, list or tag we cached was deleted in AC: find or make them again on the next attempt.
            await fieldCatalog.InvalidateAsync(tenant);
            await names.InvalidateAsync(tenant, ContactListsStep.Kind);
            await names.InvalidateAsync(tenant, OrderTagsStep.Kind);
            return (SyncOutcome.Failed, e.Message, null);
        }
        catch (BrokenCircuitException e)
        {
            return (SyncOutcome.Deferred, e.Message, null);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.Forbidden)
        {
            return (SyncOutcome.Failed, $"AC refused the tenant's API key (403); check KivaSync:Tenants:{tenant}:ApiKey", null);
        }
        catch (AcRequestException e) when (e.Status is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest)
        {
            // AC refuses this contact's data (e.g. an email or value it does not take): retrying cannot help.
            return (SyncOutcome.Skipped, e.Message, null);
        }
        catch (AcRequestException e)
        {
            return (SyncOutcome.Failed, e.Message, null);
        }
        catch (Exception e) when (e is AcTransientException or AcOutcomeUnknownException or HttpRequestException or TimeoutRejectedException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            return (SyncOutcome.Failed, e.Message, null);
        }
    }

    private async Task<bool> HasPendingFollowUpsAsync(string tenant, string member)
    {
        foreach (var followUp in followUps)
        {
            if (await followUp.HasPendingAsync(tenant, member))
            {
                return true;
            }
        }

        return false;
    }

    private async Task RunFollowUpsAsync(SyncedContact contact, CancellationToken ct)
    {
        foreach (var followUp in followUps)
        {
            await followUp.RunAsync(contact, ct);
        }
    }

    /// <summary>A customer's five custom fields as (field id, value): never-logged ones left out, cleared ones "".</summary>
    internal static List<KeyValuePair<string, string>> CustomFieldValues(ContactSnapshot snapshot, IReadOnlyDictionary<string, string> ids)
    {
        var values = new List<KeyValuePair<string, string>>();
        AddField(values, ids, AcCustomFields.CustomerStatus, snapshot.Get(ContactSnapshot.Fields.Status));
        AddField(values, ids, AcCustomFields.NextDelivery, snapshot.Get(ContactSnapshot.Fields.NextDelivery));
        AddField(values, ids, AcCustomFields.CancelledOn, snapshot.Get(ContactSnapshot.Fields.CancelledOn));
        AddField(values, ids, AcCustomFields.Schedule, snapshot.Get(ContactSnapshot.Fields.Schedule));
        AddField(values, ids, AcCustomFields.BoxName, snapshot.Get(ContactSnapshot.Fields.Box));
        return values;
    }

    private static void AddField(List<KeyValuePair<string, string>> values, IReadOnlyDictionary<string, string> ids, AcFieldDefinition field, string? value)
    {
        // Never logged: never sent. Logged as null: "" clears the field in AC.
        if (value is not null)
        {
            values.Add(new(ids[field.Title], value));
        }
    }

    private TimeSpan RetryDelay(long attempts)
    {
        var max = options.Value.Sync.MaxRetryDelay;
        var seconds = Math.Min(Math.Pow(2, Math.Min(attempts, 20)), max.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static ActivityContext IngestContextOf(ContactSnapshot snapshot) =>
        snapshot.Get(ContactSnapshot.Fields.TraceParent) is { } tp && ActivityContext.TryParse(tp, null, isRemote: true, out var context)
            ? context
            : default;
}
