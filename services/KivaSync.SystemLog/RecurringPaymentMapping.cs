using System.Globalization;

namespace KivaSync.SystemLog;

/// <summary>A value of a customer's state as the log gave it: never logged (absent: never sent, so AC keeps
/// what it has), logged as null (sent as null: AC clears it), or logged with a value.</summary>
public readonly record struct Logged<T>(bool IsLogged, T? Value)
{
    /// <summary>Never logged.</summary>
    public static Logged<T> Absent => default;

    /// <summary>Logged (null: logged as null).</summary>
    public static Logged<T> Of(T? value) => new(true, value);

    /// <summary>The same presence with the value mapped (a logged null stays null).</summary>
    public Logged<TOut> Map<TOut>(Func<T, TOut?> map) => IsLogged ? new(true, Value is null ? default : map(Value)) : default;
}

/// <summary>What the recurring payment of one customer is read from: the customer's folded state.</summary>
/// <param name="CustomerId">The customer id (storeRecurringPaymentId and storeCustomerId).</param>
/// <param name="Email">The customer's current email.</param>
/// <param name="SubscriberStatus">The latest of the four subscriber statuses the customer had (as logged); null when it
/// never had one (then it is no subscriber).</param>
/// <param name="Box">attrs.box.</param>
/// <param name="Schedule">attrs.schedule.</param>
/// <param name="NextDelivery">attrs.next_delivery (YYYY-MM-DD).</param>
/// <param name="CancelledOn">attrs.cancelled_on (YYYY-MM-DD).</param>
/// <param name="LatestOrder">total_cents and currency of the customer's latest Order Completed order by ts; null when none.</param>
public sealed record SubscriberState(
    string CustomerId,
    string Email,
    string? SubscriberStatus,
    Logged<string> Box,
    Logged<string> Schedule,
    Logged<string> NextDelivery,
    Logged<string> CancelledOn,
    (long TotalCents, string Currency)? LatestOrder);

/// <summary>A billing interval read from a schedule text.</summary>
public sealed record BillingInterval(string Interval, int Count);

/// <summary>One customer's AC recurring payment as the contract's mapping gives it. Every <see cref="Logged{T}"/> field
/// is left out of the upsert when absent and sent as null when logged as null.</summary>
/// <param name="UnreadableSchedule">The schedule text when one is logged that the mapping cannot read (an anomaly to
/// report: the billing interval is then null, never guessed); otherwise null.</param>
public sealed record RecurringPayment(
    string StoreRecurringPaymentId,
    string StoreCustomerId,
    string Email,
    string NormalizedStatus,
    string StoreStatus,
    Logged<string> Name,
    Logged<IReadOnlyList<string>> LineItemNames,
    Logged<string> BillingInterval,
    Logged<int?> BillingIntervalCount,
    Logged<string> NextPaymentDate,
    Logged<string> CancelledDate,
    Logged<decimal?> PaymentAmount,
    Logged<string> Currency,
    string? UnreadableSchedule);

/// <summary>
/// The contract's "Subscription" mapping (shared/contract/system-log.md): who is a subscriber and what its one AC
/// recurring payment holds. Pure: no I/O, so test-sync's estimate and the recurring-payment follow-up read it alike.
/// </summary>
public static class RecurringPaymentMapping
{
    /// <summary>AC's billing intervals the log's schedules map to.</summary>
    public const string Weekly = "WEEKLY";

    /// <summary>AC's monthly billing interval.</summary>
    public const string Monthly = "MONTHLY";

    /// <summary>Whether a status makes a customer a subscriber (Active, Stopped, Cancelled, Dead; not the gift statuses).</summary>
    public static bool IsSubscriberStatus(string? status) => status is CustomerStatuses.Active or CustomerStatuses.Stopped
        or CustomerStatuses.Cancelled or CustomerStatuses.Dead;

    /// <summary>AC's normalizedStatus for a subscriber status; throws for a status that is none.</summary>
    public static string NormalizedStatus(string subscriberStatus) => subscriberStatus switch
    {
        CustomerStatuses.Active => "ACTIVE",
        CustomerStatuses.Stopped => "PAUSED",
        CustomerStatuses.Cancelled => "CANCELLED",
        CustomerStatuses.Dead => "EXPIRED",
        _ => throw new ArgumentException($"'{subscriberStatus}' is not a subscriber status", nameof(subscriberStatus)),
    };

    /// <summary>Reads a schedule text: weekly, bi-weekly, every N weeks, monthly, every N months (N a whole number ≥ 1,
    /// case-insensitive, extra spaces ignored). Null for any other text.</summary>
    public static BillingInterval? ReadSchedule(string schedule)
    {
        var words = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 1)
        {
            return words[0].ToUpperInvariant() switch
            {
                "WEEKLY" => new BillingInterval(Weekly, 1),
                "BI-WEEKLY" => new BillingInterval(Weekly, 2),
                "MONTHLY" => new BillingInterval(Monthly, 1),
                _ => null,
            };
        }

        // "every N weeks": N only ASCII digits (no sign, no decimals), within AC's Int.
        if (words.Length != 3 || !words[0].Equals("every", StringComparison.OrdinalIgnoreCase)
            || !words[1].All(char.IsAsciiDigit)
            || !int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
        {
            return null;
        }

        return words[2].ToUpperInvariant() switch
        {
            "WEEKS" => new BillingInterval(Weekly, n),
            "MONTHS" => new BillingInterval(Monthly, n),
            _ => null,
        };
    }

    /// <summary>The customer's recurring payment; null when the customer is no subscriber.</summary>
    public static RecurringPayment? Map(SubscriberState state)
    {
        if (!IsSubscriberStatus(state.SubscriberStatus))
        {
            return null;
        }

        var status = state.SubscriberStatus!;
        var interval = state.Schedule.Map(ReadSchedule);
        var unreadable = state.Schedule is { IsLogged: true, Value: { } text } && interval.Value is null ? text : null;
        return new RecurringPayment(
            state.CustomerId,
            state.CustomerId,
            state.Email,
            NormalizedStatus(status),
            status,
            state.Box,
            state.Box.IsLogged ? Logged<IReadOnlyList<string>>.Of(state.Box.Value is { } box ? [box] : []) : default,
            interval.Map(i => i.Interval),
            interval.IsLogged ? Logged<int?>.Of(interval.Value?.Count) : default,
            state.NextDelivery.Map(Midnight),
            state.CancelledOn.Map(Midnight),
            state.LatestOrder is { } o ? Logged<decimal?>.Of(o.TotalCents / 100m) : default,
            state.LatestOrder is { } c ? Logged<string>.Of(c.Currency.ToUpperInvariant()) : default,
            unreadable);
    }

    /// <summary>A YYYY-MM-DD date at T00:00:00Z, AC's date format.</summary>
    private static string Midnight(string date) => date + "T00:00:00Z";
}
