namespace KivaSync.Testing.Oracle;

/// <summary>Knobs of a tenant's configuration that change what AC must show.</summary>
public sealed record OracleOptions
{
    /// <summary>False when the tenant turns historical events off (live-only ones are never sent when historical).</summary>
    public bool SendHistoricalEvents { get; init; } = true;

    /// <summary>The tenant's renames and additions: log name → AC name (cut to 32 characters).</summary>
    public IReadOnlyDictionary<string, string> EventRenames { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>What one tenant's AC account must show after all the given lines were synced.</summary>
public sealed record ExpectedAccount
{
    /// <summary>The tenant id.</summary>
    public required string Tenant { get; init; }

    /// <summary>The tenant's current week ("YYYY-Www"); null when the tenant has no accepted entry.</summary>
    public required string? CurrentWeek { get; init; }

    /// <summary>One per AC contact: customers (in order of first appearance), then leads.</summary>
    public required IReadOnlyList<ExpectedContact> Contacts { get; init; }

    /// <summary>Deep Data orders by order id (the ecomOrder's external id).</summary>
    public required IReadOnlyDictionary<string, ExpectedOrder> Orders { get; init; }

    /// <summary>Every subscriber's one recurring payment, by storeRecurringPaymentId (= the customer id).</summary>
    public IReadOnlyDictionary<string, ExpectedRecurringPayment> RecurringPayments { get; init; } = new Dictionary<string, ExpectedRecurringPayment>(StringComparer.Ordinal);

    /// <summary>Distinct rejected lines per contract reason name (too_long, invalid_json, ...).</summary>
    public required IReadOnlyDictionary<string, int> RejectedByReason { get; init; }

    /// <summary>Every distinct rejected line: reason and 0-based position in the input.</summary>
    public required IReadOnlyList<ExpectedRejection> Rejections { get; init; }

    /// <summary>Entries whose event is neither in the catalogue nor the tenant's additions, per name.</summary>
    public required IReadOnlyDictionary<string, int> UnknownEvents { get; init; }

    /// <summary>Distinct accepted entries (noise and system entries included).</summary>
    public required int AcceptedEntries { get; init; }

    /// <summary>Lines dropped because an earlier line had the same identity (accepted or rejected).</summary>
    public required int DuplicateLines { get; init; }

    /// <summary>Catalogue events whose entry names no customer or lead: there is no contact to send them for.</summary>
    public required int EventsWithoutContact { get; init; }

    /// <summary>Historical events not sent (live-only, or historical events turned off).</summary>
    public required int HistoricalEventsNotSent { get; init; }

    /// <summary>Situations the contract leaves open (e.g. two customers with one email); empty for a clean log.</summary>
    public required IReadOnlyList<string> Ambiguities { get; init; }

    /// <summary>Every event that must be sent, per AC name, over all contacts.</summary>
    public IReadOnlyDictionary<string, int> EventCounts =>
        Contacts.SelectMany(c => c.Events).GroupBy(e => e.AcName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Total distinct rejected lines.</summary>
    public int RejectedLines => Rejections.Count;

    /// <summary>The contact whose current email is <paramref name="email"/> (case-insensitive).</summary>
    public ExpectedContact? FindByEmail(string email) =>
        Contacts.FirstOrDefault(c => string.Equals(c.Email, email.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The contact of customer <paramref name="customerId"/>.</summary>
    public ExpectedContact? FindByCustomerId(string customerId) =>
        Contacts.FirstOrDefault(c => string.Equals(c.CustomerId, customerId, StringComparison.Ordinal));
}

/// <summary>One AC contact as it must end up.</summary>
public sealed record ExpectedContact
{
    /// <summary>The customer's id; null for a lead.</summary>
    public required string? CustomerId { get; init; }

    /// <summary>True for a lead (no customer account).</summary>
    public bool IsLead => CustomerId is null;

    /// <summary>The email as last logged (compare case-insensitively).</summary>
    public required string Email { get; init; }

    /// <summary>Earlier emails of this contact (lower-cased): no separate AC contact may carry them.</summary>
    public required IReadOnlyList<string> FormerEmails { get; init; }

    /// <summary>First name as last logged; null = never logged, so never sent (not even as "").</summary>
    public required string? FirstName { get; init; }

    /// <summary>Last name as last logged; null = never logged.</summary>
    public required string? LastName { get; init; }

    /// <summary>Phone as last logged; null = never logged.</summary>
    public required string? Phone { get; init; }

    /// <summary>Custom fields by title: the value, "" when cleared (null logged); a title never logged is absent.</summary>
    public required IReadOnlyDictionary<string, string> Fields { get; init; }

    /// <summary>Exactly the lists the contact must be subscribed to (All, Active, Cancelled, Leads).</summary>
    public required IReadOnlySet<string> Lists { get; init; }

    /// <summary>The one order tag (Open Order, Closed Order, Cancelled Order, No Order); null for leads.</summary>
    public required string? OrderTag { get; init; }

    /// <summary>attrs.status as last logged; null when never logged.</summary>
    public required string? Status { get; init; }

    /// <summary>attrs.marketing_opt_in as last logged; null when never logged.</summary>
    public required bool? MarketingOptIn { get; init; }

    /// <summary>The events to send for this contact, in log (ts) order.</summary>
    public required IReadOnlyList<ExpectedEvent> Events { get; init; }

    /// <summary>Events per AC name.</summary>
    public IReadOnlyDictionary<string, int> EventCounts =>
        Events.GroupBy(e => e.AcName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}

/// <summary>One event to send to AC event tracking.</summary>
/// <param name="AcName">The AC event name (at most 32 characters).</param>
/// <param name="LogName">The event as logged.</param>
/// <param name="Ts">The entry's ts.</param>
/// <param name="EventData">The entry's original ts text, a space, the compact "data" JSON; cut to 250 characters.
/// Without "data" it is the ts text alone.</param>
/// <param name="IsLive">False when the entry was historical at "now".</param>
public sealed record ExpectedEvent(string AcName, string LogName, DateTimeOffset Ts, string EventData, bool IsLive);

/// <summary>One Deep Data order as it must end up.</summary>
/// <param name="OrderId">order.id, the ecomOrder's external id.</param>
/// <param name="CustomerId">The customer id (the ecomCustomer's external id).</param>
/// <param name="Email">The customer's current email.</param>
/// <param name="Source">0 historical, 1 real time: as first sent, never changed.</param>
/// <param name="TotalCents">From the latest entry with this order id (as are the other amounts and items).</param>
/// <param name="CreatedAt">The ts of the order's earliest entry (GraphQL storeCreatedDate).</param>
/// <param name="ModifiedAt">The ts of its latest entry (storeModifiedDate).</param>
/// <param name="StoreStatus">The latest entry's event name.</param>
public sealed record ExpectedOrder(
    string OrderId,
    string CustomerId,
    string Email,
    int Source,
    long TotalCents,
    string Currency,
    long ShippingCents,
    long TaxCents,
    long DiscountCents,
    string? Week,
    IReadOnlyList<ExpectedOrderItem> Items,
    DateTimeOffset CreatedAt = default,
    DateTimeOffset ModifiedAt = default,
    string? StoreStatus = null)
{
    /// <summary>GraphQL creationSource: HISTORICAL (source 0) or REAL_TIME (source 1).</summary>
    public string CreationSource => Source == 1 ? "REAL_TIME" : "HISTORICAL";

    /// <summary>GraphQL finalAmount: total_cents in currency units.</summary>
    public decimal FinalAmount => TotalCents / 100m;

    /// <summary>GraphQL shippingAmount in currency units.</summary>
    public decimal ShippingAmount => ShippingCents / 100m;

    /// <summary>GraphQL discountsAmount in currency units.</summary>
    public decimal DiscountsAmount => DiscountCents / 100m;

    /// <summary>A time as GraphQL's date: YYYY-MM-DDTHH:MM:SSZ (UTC).</summary>
    public static string GraphQlDate(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One order line; <see cref="PriceAmount"/> is its unit price in currency units (GraphQL priceAmount).</summary>
public sealed record ExpectedOrderItem(string? Sku, string? Name, long Qty, long PriceCents, string? Category)
{
    /// <summary>price_cents in currency units.</summary>
    public decimal PriceAmount => PriceCents / 100m;
}

/// <summary>A distinct rejected line.</summary>
/// <param name="Reason">The contract's reason name.</param>
/// <param name="LineIndex">0-based position of its first occurrence in the input.</param>
/// <param name="Id">The line's "id" when it could be read.</param>
public sealed record ExpectedRejection(string Reason, int LineIndex, string? Id);

/// <summary>The oracle's reading of a single line.</summary>
/// <param name="IsBlank">Empty or whitespace only: skipped without a count.</param>
/// <param name="Reason">The contract's reject reason name; null when the line is accepted (or blank).</param>
/// <param name="Tenant">The line's tenant ("tenant" key, else the default).</param>
/// <param name="Id">The line's "id" when readable.</param>
/// <param name="Identity">Tenant plus id, or tenant plus the exact line: equal identities are one entry.</param>
public sealed record LineVerdict(bool IsBlank, string? Reason, string Tenant, string? Id, string Identity)
{
    /// <summary>True when the line becomes an entry.</summary>
    public bool IsAccepted => !IsBlank && Reason is null;
}

/// <summary>One subscriber's AC recurring payment as it must end up.</summary>
/// <param name="Id">storeRecurringPaymentId: the customer id.</param>
/// <param name="CustomerId">storeCustomerId: the customer id.</param>
/// <param name="Email">The customer's current email.</param>
/// <param name="NormalizedStatus">ACTIVE, PAUSED, CANCELLED or EXPIRED.</param>
/// <param name="StoreStatus">The latest subscriber status as logged.</param>
/// <param name="Fields">Exactly the other fields that must be sent, by their GraphQL name, with their value (null: sent as
/// null, AC clears it): name, lineItemNames (string[]), billingInterval, billingIntervalCount (int), nextPaymentDate,
/// cancelledDate, paymentAmount (decimal, currency units), currency. A field never logged is not in it.</param>
/// <param name="SuppressAutomations">True unless a live entry changed one of its values (all lines sent once, at the end).</param>
/// <param name="UnreadableSchedule">A logged schedule the mapping cannot read (an anomaly), else null.</param>
public sealed record ExpectedRecurringPayment(
    string Id,
    string CustomerId,
    string Email,
    string NormalizedStatus,
    string StoreStatus,
    IReadOnlyDictionary<string, object?> Fields,
    bool SuppressAutomations,
    string? UnreadableSchedule);
