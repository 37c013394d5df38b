namespace KivaSync.AcEmulator;

// Mutable state behind EmulatedAccount; only touched under the account's lock.

internal sealed class ContactState(string id, string email, DateTimeOffset now)
{
    public string Id { get; } = id;
    public string Email { get; set; } = email;
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public string? Phone { get; set; }
    public Dictionary<string, FieldValueState> Values { get; } = new(StringComparer.Ordinal);
    public DateTimeOffset Created { get; } = now;
    public DateTimeOffset Updated { get; set; } = now;
}

internal sealed class FieldValueState(string id, string contactId, string fieldId, string value, DateTimeOffset now)
{
    public string Id { get; } = id;
    public string ContactId { get; } = contactId;
    public string FieldId { get; } = fieldId;
    public string Value { get; set; } = value;
    public DateTimeOffset Created { get; } = now;
    public DateTimeOffset Updated { get; set; } = now;
}

internal sealed class FieldState(string id, string title, string type, string perstag, string description, DateTimeOffset now)
{
    public string Id { get; } = id;
    public string Title { get; } = title;
    public string Type { get; } = type;
    public string Perstag { get; } = perstag;
    public string Description { get; } = description;
    public DateTimeOffset Created { get; } = now;
    public List<FieldRelState> Rels { get; } = [];
}

internal sealed record FieldRelState(string Id, string FieldId, string RelId, DateTimeOffset Created);

internal sealed record ListState(string Id, string Name, string StringId, string SenderUrl, string SenderReminder, DateTimeOffset Created);

internal sealed class ContactListState(string id, string contactId, string listId, int status, DateTimeOffset now)
{
    public string Id { get; } = id;
    public string ContactId { get; } = contactId;
    public string ListId { get; } = listId;
    public int Status { get; set; } = status;
    public bool UnsubscribedInAc { get; set; }
    public int ResubscribeCount { get; set; }
    public int RefusedResubscribeCount { get; set; }
    public DateTimeOffset Created { get; } = now;
    public DateTimeOffset Updated { get; set; } = now;
}

internal sealed record TagState(string Id, string Name, string TagType, string Description, DateTimeOffset Created);

internal sealed record ContactTagState(string Id, string ContactId, string TagId, DateTimeOffset Created);

internal sealed record ConnectionState(string Id, string Service, string ExternalId, string Name, string LogoUrl, string LinkUrl, DateTimeOffset Created);

internal sealed record EcomCustomerState(string Id, string ConnectionId, string ExternalId, string Email, bool AcceptsMarketing, DateTimeOffset Created);

internal sealed class EcomOrderState(string id, DateTimeOffset now)
{
    public string Id { get; } = id;
    public string ExternalId { get; set; } = "";
    public int Source { get; set; }
    public string Email { get; set; } = "";
    public List<EmulatedOrderProduct> Products { get; set; } = [];
    public long TotalPrice { get; set; }
    public long ShippingAmount { get; set; }
    public long TaxAmount { get; set; }
    public long DiscountAmount { get; set; }
    public string Currency { get; set; } = "";
    public string ConnectionId { get; set; } = "";
    public string CustomerId { get; set; } = "";
    public string ContactId { get; set; } = "";
    public string ExternalCreatedDate { get; set; } = "";
    public string? ExternalUpdatedDate { get; set; }
    public DateTimeOffset Created { get; } = now;
    public DateTimeOffset Updated { get; set; } = now;
    public int UpdateCount { get; set; }
}

internal sealed record BulkContact(
    string Email,
    string? FirstName,
    string? LastName,
    string? Phone,
    IReadOnlyList<string> Tags,
    IReadOnlyList<(string FieldId, string Value)> Fields,
    IReadOnlyList<string> Subscribe,
    IReadOnlyList<string> Unsubscribe);

internal sealed class BulkBatchState(string batchId, IReadOnlyList<BulkContact> contacts, bool excludeAutomations, DateTimeOffset now)
{
    public string BatchId { get; } = batchId;
    public IReadOnlyList<BulkContact> Contacts { get; } = contacts;
    public bool ExcludeAutomations { get; } = excludeAutomations;
    public string Status { get; set; } = "waiting";
    public List<string> Success { get; } = [];
    public List<string> Failure { get; } = [];
    public DateTimeOffset Queued { get; } = now;
    public DateTimeOffset? Completed { get; set; }
}

/// <summary>An order or recurring payment written through GraphQL: its identity and its fields as last merged.</summary>
internal sealed class GraphQlItemState(string id, string connectionId, string storeId, DateTimeOffset now)
{
    public string Id { get; } = id;
    public string ConnectionId { get; } = connectionId;
    public string StoreId { get; } = storeId;
    public Dictionary<string, System.Text.Json.Nodes.JsonNode?> Fields { get; } = new(StringComparer.Ordinal);
    public List<bool?> SuppressAutomationsSent { get; } = [];
    public List<string> CreationSourcesSent { get; } = [];
    public string ContactId { get; set; } = "";
    public int UpsertCount { get; set; } = 1;
    public DateTimeOffset Created { get; } = now;
    public DateTimeOffset Updated { get; set; } = now;
}

/// <summary>An accepted GraphQL call waiting for its asynchronous apply.</summary>
internal sealed record PendingGraphQlWrite(DateTimeOffset Due, string IdField, List<GraphQlItemState> Target, IReadOnlyList<System.Text.Json.Nodes.JsonObject> Items);
