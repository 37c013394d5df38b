using System.Globalization;
using KivaSync.SyncService.State;
using KivaSync.SystemLog;
using F = KivaSync.SyncService.State.ContactSnapshot.Fields;

namespace KivaSync.SyncService.Subscriptions;

/// <summary>Reads a customer's folded Redis state as the input of the contract's recurring payment mapping.</summary>
public static class SubscriberSnapshot
{
    /// <summary>The mapping's input from a customer's hash; null for a lead.</summary>
    public static SubscriberState? From(ContactSnapshot snapshot)
    {
        if (snapshot.CustomerId is not { } customerId)
        {
            return null;
        }

        var cents = snapshot.Get(F.PaymentCents);
        var currency = snapshot.Get(F.PaymentCurrency);
        return new SubscriberState(
            customerId,
            snapshot.Email,
            snapshot.Get(F.SubscriberStatus),
            Read(snapshot, F.Box),
            Read(snapshot, F.Schedule),
            Read(snapshot, F.NextDelivery),
            Read(snapshot, F.CancelledOn),
            cents is not null && currency is not null ? (long.Parse(cents, CultureInfo.InvariantCulture), currency) : null);
    }

    /// <summary>The customer's recurring payment; null for a lead or a customer that never was a subscriber.</summary>
    public static RecurringPayment? Map(ContactSnapshot snapshot) =>
        From(snapshot) is { } state ? RecurringPaymentMapping.Map(state) : null;

    /// <summary>Whether AC's copy must not fire subscription automations: no live entry changed one of the
    /// recurring payment's values since the version AC last accepted.</summary>
    public static bool SuppressAutomations(ContactSnapshot snapshot) =>
        Long(snapshot, F.RpLiveVersion) <= Long(snapshot, F.RpSentVersion);

    /// <summary>The hash keeps a never-logged field absent and a logged null as "".</summary>
    private static Logged<string> Read(ContactSnapshot snapshot, string field) => snapshot.Get(field) switch
    {
        null => Logged<string>.Absent,
        "" => Logged<string>.Of(null),
        var value => Logged<string>.Of(value),
    };

    private static long Long(ContactSnapshot snapshot, string field) =>
        long.TryParse(snapshot.Get(field), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
}
