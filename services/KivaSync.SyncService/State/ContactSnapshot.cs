using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>A customer's or lead's folded state and sync bookkeeping, as one read of its Redis hash.
/// Strings are null when never logged and empty when logged as null (cleared).</summary>
public sealed record ContactSnapshot(string Member, IReadOnlyDictionary<string, string> Values)
{
    /// <summary>The hash field names the code reads most, as named in their one home <see cref="Schema.Contact"/>.</summary>
    public static class Fields
    {
        public const string Email = Schema.Contact.Email;
        public const string EmailLower = Schema.Contact.EmailLower;
        public const string FirstName = Schema.Contact.FirstName;
        public const string LastName = Schema.Contact.LastName;
        public const string Phone = Schema.Contact.Phone;
        public const string Status = Schema.Contact.Status;
        public const string NextDelivery = Schema.Contact.NextDelivery;
        public const string CancelledOn = Schema.Contact.CancelledOn;
        public const string Schedule = Schema.Contact.Schedule;
        public const string Box = Schema.Contact.Box;
        public const string OrderWeek = Schema.Contact.OrderWeek;
        public const string OrderState = Schema.Contact.OrderState;
        public const string OptIn = Schema.Contact.OptIn;
        public const string Version = Schema.Contact.Version;
        public const string LastEntryTs = Schema.Contact.LastEntryTs;
        public const string TraceParent = Schema.Contact.TraceParent;
        public const string SyncedAt = Schema.Contact.SyncedAt;
        public const string SyncedVersion = Schema.Contact.SyncedVersion;
        public const string AcId = Schema.Contact.AcId;
        public const string AcEmail = Schema.Contact.AcEmail;
        public const string SyncState = Schema.Contact.SyncState;
        public const string Error = Schema.Contact.Error;
        public const string Attempts = Schema.Contact.Attempts;
        public const string Force = Schema.Contact.Force;
        public const string SubscriberStatus = Schema.Contact.SubscriberStatus;
        public const string BillingInterval = Schema.Contact.BillingInterval;
        public const string PaymentCents = Schema.Contact.PaymentCents;
        public const string PaymentCurrency = Schema.Contact.PaymentCurrency;
        public const string RpVersion = Schema.Contact.RpVersion;
        public const string RpLiveVersion = Schema.Contact.RpLiveVersion;
        public const string RpSentVersion = Schema.Contact.RpSentVersion;
        public const string RpSentSuppress = Schema.Contact.RpSentSuppress;
    }

    /// <summary>True for a customer ("c:id"), false for a lead ("l:email").</summary>
    public bool IsCustomer => ContactRef.IsCustomerMember(Member);

    /// <summary>The customer id, or null for a lead.</summary>
    public string? CustomerId => ContactRef.Parse(Member).CustomerId;

    /// <summary>A field's value: null when absent.</summary>
    public string? Get(string field) => Values.TryGetValue(field, out var value) ? value : null;

    /// <summary>The current email as last logged.</summary>
    public string Email => Get(Fields.Email) ?? "";

    /// <summary>State version: incremented by every entry that changed the contact.</summary>
    public long Version => long.TryParse(Get(Fields.Version), out var v) ? v : 0;

    /// <summary>The version AC last accepted.</summary>
    public long SyncedVersion => long.TryParse(Get(Fields.SyncedVersion), out var v) ? v : 0;

    /// <summary>AC's contact id, once synced.</summary>
    public string? AcId => string.IsNullOrEmpty(Get(Fields.AcId)) ? null : Get(Fields.AcId);

    /// <summary>The email AC knows the contact by, once synced.</summary>
    public string? AcEmail => string.IsNullOrEmpty(Get(Fields.AcEmail)) ? null : Get(Fields.AcEmail);

    /// <summary>True when AC already has this contact's exact state and nobody forced a resync: the contact
    /// itself needs no request (follow-up work such as list statuses or events may still be pending).</summary>
    public bool IsUpToDateInAc =>
        SyncedVersion >= Version && AcId is not null && string.IsNullOrEmpty(Get(Fields.Force));

    /// <summary>Builds a snapshot from HGETALL; null when the hash does not exist.</summary>
    public static ContactSnapshot? From(string member, HashEntry[] entries)
    {
        if (entries.Length == 0)
        {
            return null;
        }

        var values = new Dictionary<string, string>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            values[entry.Name!] = entry.Value.ToString();
        }

        return new ContactSnapshot(member, values);
    }
}
