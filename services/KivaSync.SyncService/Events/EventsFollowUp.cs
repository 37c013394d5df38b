using System.Net;
using KivaSync.ServiceDefaults;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Sync;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.Events;

/// <summary>
/// Sends a contact's queued events, oldest first, under the email AC knows the contact by now. Each leaves
/// the queue only once AC accepted it, so a retry after a failure never sends an accepted one again; a post whose
/// answer was lost is looked up in AC before it is sent again (<see cref="EventDelivery"/>), so none is filed twice.
/// A tenant without tracking credentials keeps its events queued (counted in pending work) until it has them.
/// </summary>
public sealed class EventsFollowUp(
    FollowUpStore store, EventTrackingSetup setup, TenantRegistry tenants, SyncTelemetry telemetry, ILogger<EventsFollowUp> logger) : IContactFollowUp
{
    private const int Page = 100;

    /// <inheritdoc />
    public int Order => 20;

    /// <inheritdoc />
    public Task<bool> HasPendingAsync(string tenant, string member) =>
        CanTrack(tenant) ? store.HasEventsAsync(tenant, member) : Task.FromResult(false);

    /// <inheritdoc />
    public async Task RunAsync(SyncedContact contact, CancellationToken ct)
    {
        var tenant = contact.Tenant;
        var member = contact.Snapshot.Member;
        if (!contact.Client.CanTrackEvents)
        {
            return;
        }

        while (true)
        {
            var events = await store.ReadEventsAsync(tenant, member, Page);
            if (events.Count == 0)
            {
                return;
            }

            foreach (var e in events)
            {
                await DeliverAsync(contact, e, ct);
            }
        }
    }

    /// <summary>
    /// Posts one event so that AC files it once. A mark in Redis covers every post until AC answers, so a post whose
    /// answer never came (lost, timed out, or this replica stopped mid-post) is looked up before any resend, in this
    /// sync or a later one. A look-up that fails leaves the event queued and marked: it is never sent blind.
    /// </summary>
    private async Task DeliverAsync(SyncedContact contact, QueuedEvent e, CancellationToken ct)
    {
        var (tenant, member, acId) = (contact.Tenant, contact.Snapshot.Member, contact.AcId);
        await setup.EnsureAsync(tenant, contact.Client, e.AcName, ct);
        var inDoubt = !await store.BeginEventPostAsync(tenant, acId, e);
        for (var lostAnswers = 0; ; lostAnswers++)
        {
            if (inDoubt && await FoundOnAcAsync(contact, e, ct))
            {
                await store.RecordEventDeliveredAsync(tenant, member, acId, e);
                return;
            }

            bool accepted;
            try
            {
                accepted = await SendAsync(contact, e, ct);
            }
            catch (AcOutcomeUnknownException) when (lostAnswers == 0)
            {
                // Look it up at once. A second lost answer in a row fails the sync; its retry looks it up again.
                inDoubt = true;
                continue;
            }

            if (accepted)
            {
                await store.RecordEventDeliveredAsync(tenant, member, acId, e);
            }
            else
            {
                await store.DropRefusedEventAsync(tenant, member, acId, e);
            }

            return;
        }
    }

    /// <summary>Reads the contact's tracking logs (all pages, on the API budget) and applies <see cref="EventDelivery"/>'s rule.</summary>
    private async Task<bool> FoundOnAcAsync(SyncedContact contact, QueuedEvent e, CancellationToken ct)
    {
        var outcome = "failed";
        try
        {
            var logs = await contact.Client.ListTrackingLogsAsync(contact.AcId, ct);
            var onAc = EventDelivery.CountOnAc(logs, e);
            var confirmed = await store.ConfirmedCopiesAsync(contact.Tenant, contact.AcId, e);
            var delivered = EventDelivery.IsDelivered(onAc, confirmed);
            outcome = delivered ? "delivered" : "not_delivered";
            Log.EventLookedUp(logger, e.AcName, contact.Tenant, contact.AcId, onAc, confirmed, delivered);
            return delivered;
        }
        finally
        {
            telemetry.EventLookups.Add(
                1,
                new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, contact.Tenant),
                new KeyValuePair<string, object?>(SyncTelemetry.Tags.Lookup, outcome));
        }
    }

    /// <summary>Sends the event (tracking set up for it); true when AC accepted it, false when AC refused it for good
    /// (counted, logged). Throws when a later attempt can succeed.</summary>
    private async Task<bool> SendAsync(SyncedContact contact, QueuedEvent e, CancellationToken ct)
    {
        var tenant = contact.Tenant;
        var result = await contact.Client.SendEventAsync(e.AcName, e.Data, contact.AcEmail, ct);
        if (!result.Accepted && IsSetupMissing(result.Message))
        {
            // Switched off or unregistered inside AC since we looked: set up again, then send once more.
            await store.ForgetTrackingAsync(tenant);
            await setup.EnsureAsync(tenant, contact.Client, e.AcName, ct);
            result = await contact.Client.SendEventAsync(e.AcName, e.Data, contact.AcEmail, ct);
        }

        if (result.Accepted)
        {
            return true;
        }

        if (IsConfiguration(result.Message) || result.Message.Contains("contact", StringComparison.OrdinalIgnoreCase))
        {
            // A wrong tracking key, or AC not knowing the contact yet: retrying later can succeed. AC answered, so it
            // did not file the event: no look-up needed next time.
            await store.EndEventPostAsync(tenant, contact.AcId, e);
            throw new AcRequestException(HttpStatusCode.Conflict, null, $"event tracking refused {e.AcName}: {result.Message}");
        }

        // AC refuses this event itself: resending the same one cannot help. Counted, logged, dropped.
        Log.EventRefused(logger, e.AcName, tenant, Redaction.Email(contact.AcEmail), result.Message);
        await store.CountRefusedAsync(tenant);
        return false;
    }

    private bool CanTrack(string tenant) =>
        tenants.TryGet(tenant, out var options) && !string.IsNullOrEmpty(options.TrackingAccountId) && !string.IsNullOrEmpty(options.TrackingKey);

    private static bool IsSetupMissing(string message) =>
        message.Contains("not enabled", StringComparison.OrdinalIgnoreCase) || message.Contains("not registered", StringComparison.OrdinalIgnoreCase);

    private static bool IsConfiguration(string message) =>
        message.Contains("key", StringComparison.OrdinalIgnoreCase) || message.Contains("actid", StringComparison.OrdinalIgnoreCase);
}
