namespace KivaSync.AcEmulator;

// Copies of the emulator's state handed to tests; never live views.

/// <summary>A contact. FieldValues maps field id to value; a field never set is absent, a cleared one is "".</summary>
public sealed record EmulatedContact(
    string Id,
    string Email,
    string? FirstName,
    string? LastName,
    string? Phone,
    IReadOnlyDictionary<string, string> FieldValues,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>A custom field. Relations are list ids the field is available on ("0" = all lists).</summary>
public sealed record EmulatedField(string Id, string Title, string Type, string Perstag, IReadOnlyList<string> Relations);

/// <summary>A list.</summary>
public sealed record EmulatedList(string Id, string Name, string StringId, string SenderUrl, string SenderReminder);

/// <summary>
/// A contact's membership of a list. Status 1 = subscribed, 2 = unsubscribed.
/// UnsubscribedInAc: the person unsubscribed inside AC at some point (stays true after a re-subscribe).
/// ResubscribeCount: how often an API call set status 1 on this membership while it was 2 (AC obeys that).
/// RefusedResubscribeCount: how often a bulk import asked to subscribe it while it was 2 (AC refuses that).
/// </summary>
public sealed record EmulatedContactList(
    string Id,
    string ContactId,
    string ListId,
    int Status,
    bool UnsubscribedInAc,
    int ResubscribeCount,
    int RefusedResubscribeCount,
    DateTimeOffset UpdatedAt);

/// <summary>A tag.</summary>
public sealed record EmulatedTag(string Id, string Name, string TagType, string Description);

/// <summary>A tag on a contact; Id is the association id (what DELETE contactTags/{id} takes).</summary>
public sealed record EmulatedContactTag(string Id, string ContactId, string TagId, DateTimeOffset CreatedAt);

/// <summary>A tracked event AC accepted; Id is its tracking log id (GET contacts/{id}/trackingLogs).</summary>
public sealed record EmulatedEvent(string Name, string Email, string? EventData, DateTimeOffset ReceivedAt, string ContactId, string Id);

/// <summary>A Deep Data connection.</summary>
public sealed record EmulatedConnection(string Id, string Service, string ExternalId, string Name, string LogoUrl, string LinkUrl);

/// <summary>An e-commerce customer with the totals AC derives from its orders (money in cents).</summary>
public sealed record EmulatedEcomCustomer(
    string Id,
    string ConnectionId,
    string ExternalId,
    string Email,
    bool AcceptsMarketing,
    long TotalRevenue,
    int TotalOrders,
    long AverageOrderValue);

/// <summary>One product line of an order (price in cents).</summary>
public sealed record EmulatedOrderProduct(string ExternalId, string Name, long Price, int Quantity, string? Category, string? Sku);

/// <summary>An e-commerce order (money in cents). Source 0 = historical, 1 = real time. UpdateCount counts PUTs.</summary>
public sealed record EmulatedEcomOrder(
    string Id,
    string ExternalId,
    int Source,
    string Email,
    IReadOnlyList<EmulatedOrderProduct> Products,
    long TotalPrice,
    long ShippingAmount,
    long TaxAmount,
    long DiscountAmount,
    string Currency,
    string ConnectionId,
    string CustomerId,
    string ContactId,
    string ExternalCreatedDate,
    string? ExternalUpdatedDate,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int UpdateCount);

/// <summary>A bulk import batch. Status: waiting, active, completed. Success holds contact ids, Failure emails.</summary>
public sealed record EmulatedBulkImport(
    string BatchId,
    string Status,
    int QueuedContacts,
    bool ExcludeAutomations,
    IReadOnlyList<string> Success,
    IReadOnlyList<string> Failure,
    DateTimeOffset QueuedAt,
    DateTimeOffset? CompletedAt);

/// <summary>
/// One request the account received (API calls incl. 403/429/503, and event-tracking posts). Status 0: no answer,
/// the connection was dropped (<see cref="EmulatedAccount.DropNextEventAnswers"/> and its siblings).
/// Path is what follows the account prefix ("/api/3/contact/sync") or "/event". Body is the
/// request body of API calls (null for event posts, whose key is a secret).
/// </summary>
public sealed record EmulatedRequest(string Method, string Path, string Query, int Status, DateTimeOffset At, string? Body);

/// <summary>One line item of a GraphQL order: PriceAmount is the unit price in currency units.</summary>
public sealed record EmulatedLineItem(string Name, int Quantity, decimal PriceAmount, string? Sku, string? Category, string? StoreLineItemId);

/// <summary>
/// An order written through the Ecommerce GraphQL API (money in currency units). CreationSource is what AC keeps (the
/// latest sent); CreationSourcesSent every value sent, in order. FieldsSent: every input key ever sent (a cleared one
/// included). UpsertCount counts the applied upserts.
/// </summary>
public sealed record EmulatedGraphQlOrder(
    string Id,
    string LegacyConnectionId,
    string StoreOrderId,
    string OrderNumber,
    string Email,
    string? StoreCustomerId,
    string StoreCreatedDate,
    string? StoreModifiedDate,
    string CreationSource,
    IReadOnlyList<string> CreationSourcesSent,
    string? NormalizedStatus,
    string? StoreStatus,
    string Currency,
    decimal FinalAmount,
    decimal? ShippingAmount,
    decimal? DiscountsAmount,
    IReadOnlyList<EmulatedLineItem> LineItems,
    string ContactId,
    IReadOnlyList<string> FieldsSent,
    int UpsertCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// A recurring payment written through GraphQL. A field never sent and a field cleared with null both read null here;
/// FieldsSent tells them apart. SuppressAutomationsSent: the value each upsert carried (null: the upsert left it out).
/// </summary>
public sealed record EmulatedRecurringPayment(
    string Id,
    string LegacyConnectionId,
    string StoreRecurringPaymentId,
    string? StoreCustomerId,
    string Email,
    string? Name,
    string? NormalizedStatus,
    string? StoreStatus,
    string? BillingInterval,
    int? BillingIntervalCount,
    string? NextPaymentDate,
    string? CancelledDate,
    decimal? PaymentAmount,
    string? Currency,
    IReadOnlyList<string>? LineItemNames,
    bool? SuppressAutomations,
    IReadOnlyList<bool?> SuppressAutomationsSent,
    string ContactId,
    IReadOnlyList<string> FieldsSent,
    int UpsertCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
