using System.Net;
using KivaSync.ServiceDefaults;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Sync;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.Events;

/// <summary>
/// Sends a contact's queued events, oldest first, under the email AC knows the contact by now. Each leaves
/// the queue only once AC accepted it, so a retry after a failure never sends an accepted one again.
/// A tenant without tracking credentials keeps its events queued (counted in pending work) until it has them.
/// </summary>
public sealed class EventsFollowUp(FollowUpStore store, EventTrackingSetup setup, TenantRegistry tenants, ILogger<EventsFollowUp> logger) : IContactFollowUp
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
                await SendAsync(contact, e, ct);
                await store.RemoveEventAsync(tenant, member, e);
            }
        }
    }

    private async Task SendAsync(SyncedContact contact, QueuedEvent e, CancellationToken ct)
    {
        var tenant = contact.Tenant;
        await setup.EnsureAsync(tenant, contact.Client, e.AcName, ct);
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
            return;
        }

        if (IsConfiguration(result.Message) || result.Message.Contains("contact", StringComparison.OrdinalIgnoreCase))
        {
            // A wrong tracking key, or AC not knowing the contact yet: retrying later can succeed.
            throw new AcRequestException(HttpStatusCode.Conflict, null, $"event tracking refused {e.AcName}: {result.Message}");
        }

        // AC refuses this event itself: resending the same one cannot help. Counted, logged, dropped.
        Log.EventRefused(logger, e.AcName, tenant, Redaction.Email(contact.AcEmail), result.Message);
        await store.CountRefusedAsync(tenant);
    }

    private bool CanTrack(string tenant) =>
        tenants.TryGet(tenant, out var options) && !string.IsNullOrEmpty(options.TrackingAccountId) && !string.IsNullOrEmpty(options.TrackingKey);

    private static bool IsSetupMissing(string message) =>
        message.Contains("not enabled", StringComparison.OrdinalIgnoreCase) || message.Contains("not registered", StringComparison.OrdinalIgnoreCase);

    private static bool IsConfiguration(string message) =>
        message.Contains("key", StringComparison.OrdinalIgnoreCase) || message.Contains("actid", StringComparison.OrdinalIgnoreCase);
}
