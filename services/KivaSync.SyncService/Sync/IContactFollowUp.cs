using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.State;

namespace KivaSync.SyncService.Sync;

/// <summary>A contact as AC knows it right after its sync (or when AC already had its latest state).</summary>
/// <param name="Tenant">Tenant id.</param>
/// <param name="Snapshot">The folded state that was synced.</param>
/// <param name="AcId">AC's contact id.</param>
/// <param name="AcEmail">The email AC knows the contact by now.</param>
/// <param name="Client">The tenant's AC client.</param>
/// <param name="CreatedNow">True when this sync made the contact in AC (it has no lists, tags or unsubscribes yet).</param>
public sealed record SyncedContact(string Tenant, ContactSnapshot Snapshot, string AcId, string AcEmail, AcClient Client, bool CreatedNow);

/// <summary>
/// Work that needs the contact to exist in AC first: list statuses and the order tag, events, orders.
/// Runs after every contact sync, in <see cref="Order"/>, also when the contact itself needed no request.
/// Throwing an AC exception fails the contact's sync, which is retried; so each step records what it
/// has sent as it goes, and a retry never sends it twice.
/// </summary>
public interface IContactFollowUp
{
    /// <summary>Lower runs first.</summary>
    int Order { get; }

    /// <summary>True when this step has something to send for the contact even though its state is unchanged (e.g. queued events).</summary>
    Task<bool> HasPendingAsync(string tenant, string member);

    /// <summary>Brings this part of the contact up to date in AC.</summary>
    Task RunAsync(SyncedContact contact, CancellationToken ct);
}
