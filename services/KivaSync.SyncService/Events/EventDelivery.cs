using System.Security.Cryptography;
using System.Text;
using KivaSync.SyncService.ActiveCampaign;

namespace KivaSync.SyncService.Events;

/// <summary>
/// The rule that tells whether an event whose post lost its answer reached AC. AC's tracking post has no idempotency
/// key, but AC lists what it filed under a contact (trackingLogs), and the event data carries the original ts, so the
/// event is found by its name and data. Two log entries may legitimately carry the same name and data (same ts and
/// data, different ids), so finding one proves nothing: the post arrived when AC lists MORE copies of the event than
/// this sync had confirmed on that AC contact before. The confirmed copies are counted per AC contact in Redis
/// (<c>ks:{t}:evd:&lt;AC contact id&gt;</c>) as AC accepts each post.
/// </summary>
public static class EventDelivery
{
    /// <summary>The event's key in the confirmed counts: a 64-bit digest of its name (AC compares names
    /// case-insensitively) and its data, so that the counts stay small whatever the data's length.</summary>
    public static string Key(QueuedEvent e)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(e.AcName.ToLowerInvariant() + "\n" + e.Data));
        return Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }

    /// <summary>How many of AC's tracking logs are this event: same name (case-insensitive), same data.</summary>
    public static int CountOnAc(IEnumerable<AcTrackingLog> logs, QueuedEvent e) =>
        logs.Count(l => string.Equals(l.Type, e.AcName, StringComparison.OrdinalIgnoreCase) && string.Equals(l.Value, e.Data, StringComparison.Ordinal));

    /// <summary>True when AC holds more copies of the event than were confirmed before this post: the post arrived.</summary>
    public static bool IsDelivered(int onAc, long confirmedBefore) => onAc > confirmedBefore;
}
