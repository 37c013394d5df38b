namespace KivaSync.SystemLog;

/// <summary>One accepted system-log line, typed. See shared/contract/system-log.md "An entry".</summary>
/// <param name="Tenant">The entry's tenant: its "tenant" key, else the file's configured tenant.</param>
/// <param name="Ts">The entry's "ts", offset preserved (in UTC when the offset is beyond ±14:00, which a DateTimeOffset cannot carry).</param>
/// <param name="Id">The platform's entry id, when present; it is then the entry's identity.</param>
/// <param name="Event">The "event" name exactly as logged, when present.</param>
/// <param name="Customer">The "customer" object, when present (then <see cref="Contact"/> is null).</param>
/// <param name="Contact">The "contact" object (a lead), when present (then <see cref="Customer"/> is null).</param>
/// <param name="Attrs">The "attrs" changes, when present. Only meaningful with a customer.</param>
/// <param name="Order">The paid "order", when present.</param>
/// <param name="DataJson">The "data" value as compact JSON, when present.</param>
/// <param name="Week">The "week" label (with "Weekly cycle completed"), when present.</param>
public sealed record LogEntry(
    string Tenant,
    DateTimeOffset Ts,
    string? Id,
    string? Event,
    Person? Customer,
    Person? Contact,
    AttrChanges? Attrs,
    PaidOrder? Order,
    string? DataJson,
    string? Week)
{
    /// <summary>The customer or lead this entry is about, if any.</summary>
    public Person? Subject => Customer ?? Contact;

    /// <summary>The "ts" exactly as logged (event data carries the original text, not a reformatted time).</summary>
    public string TsText { get; init; } = "";
}

/// <summary>A "customer" (with <see cref="CustomerId"/>) or "contact" (lead, no id) object.
/// Name and phone are null when the object did not carry them (absent or JSON null): a value
/// never logged is never sent to AC.</summary>
public sealed record Person(string? CustomerId, string Email, string? FirstName, string? LastName, string? Phone);

/// <summary>A change to one attribute: absent (leave as is), set to a value, or cleared (JSON null).</summary>
public readonly record struct Change<T>(bool IsPresent, T? Value)
{
    /// <summary>The key was absent: the value stays as it was.</summary>
    public static Change<T> Absent => default;

    /// <summary>The key was present with this value (null clears).</summary>
    public static Change<T> To(T? value) => new(true, value);
}

/// <summary>The customer's order for a week, as carried in attrs.order.</summary>
public sealed record OrderAttr(string Week, OrderState State);

/// <summary>attrs.order.state.</summary>
public enum OrderState
{
    /// <summary>"open"</summary>
    Open,
    /// <summary>"closed"</summary>
    Closed,
    /// <summary>"cancelled"</summary>
    Cancelled,
}

/// <summary>The "attrs" object: only present keys change the state.</summary>
public sealed record AttrChanges
{
    /// <summary>attrs.status; never cleared (null is rejected as unknown_status).</summary>
    public Change<string> Status { get; init; }

    /// <summary>attrs.next_delivery as YYYY-MM-DD; null clears.</summary>
    public Change<string> NextDelivery { get; init; }

    /// <summary>attrs.cancelled_on as YYYY-MM-DD; null clears.</summary>
    public Change<string> CancelledOn { get; init; }

    /// <summary>attrs.schedule; null clears.</summary>
    public Change<string> Schedule { get; init; }

    /// <summary>attrs.box; null clears.</summary>
    public Change<string> Box { get; init; }

    /// <summary>attrs.order; null clears (no order).</summary>
    public Change<OrderAttr> Order { get; init; }

    /// <summary>attrs.marketing_opt_in; null when absent (never cleared).</summary>
    public bool? MarketingOptIn { get; init; }
}

/// <summary>A paid order ("order" with Order Completed / Gift Box Purchase).</summary>
public sealed record PaidOrder(
    string Id,
    string? Week,
    long TotalCents,
    string Currency,
    long ShippingCents,
    long TaxCents,
    long DiscountCents,
    IReadOnlyList<OrderItem> Items);

/// <summary>One line of a paid order.</summary>
public sealed record OrderItem(string? Sku, string? Name, int Qty, long PriceCents, string? Category);
