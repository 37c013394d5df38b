using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>A customer's or lead's folded state and sync bookkeeping, as one read of its Redis hash.
/// Strings are null when never logged and empty when logged as null (cleared).</summary>
public sealed record ContactSnapshot(string Member, IReadOnlyDictionary<string, string> Values)
{
    /// <summary>Hash field names, short because every contact carries them.</summary>
    public static class Fields
    {
        public const string Email = "em";
        public const string EmailLower = "el";
        public const string FirstName = "fn";
        public const string LastName = "ln";
        public const string Phone = "ph";
        public const string Status = "st";
        public const string NextDelivery = "nd";
        public const string CancelledOn = "co";
        public const string Schedule = "sc";
        public const string Box = "bx";
        public const string OrderWeek = "ow";
        public const string OrderState = "os";
        public const string OptIn = "oi";
        public const string Version = "ver";
        public const string LastEntryTs = "last_ts";
        public const string TraceParent = "tp";
        public const string SyncedAt = "synced_at";
        public const string SyncedVersion = "synced_ver";
        public const string AcId = "ac_id";
        public const string AcEmail = "ac_email";
        public const string SyncState = "state";
        public const string Error = "error";
        public const string Attempts = "attempts";
        public const string Force = "force";

        // The recurring payment (subscription): what the mapping reads that the fields above do not hold, kept by
        // ingest.lua per-field last-writer-wins like them but without a new contact version (AC's contact shows none).
        /// <summary>The latest of the four subscriber statuses (absent: never a subscriber).</summary>
        public const string SubscriberStatus = "ss";
        /// <summary>The schedule as the mapping reads it ("WEEKLY 2", "" for none): a change detector only.</summary>
        public const string BillingInterval = "bi";
        /// <summary>total_cents of the latest Order Completed order by ts.</summary>
        public const string PaymentCents = "pa";
        /// <summary>currency of the latest Order Completed order by ts.</summary>
        public const string PaymentCurrency = "pc";
        /// <summary>Recurring payment version: incremented by every entry that changed one of its values.</summary>
        public const string RpVersion = "rpv";
        /// <summary>The recurring payment version of its latest change by a live entry.</summary>
        public const string RpLiveVersion = "rplv";
        /// <summary>The recurring payment version AC last accepted.</summary>
        public const string RpSentVersion = "rp_sent";
        /// <summary>The suppressAutomations AC last accepted ("1"/"0").</summary>
        public const string RpSentSuppress = "rp_sup";
    }

    /// <summary>True for a customer ("c:id"), false for a lead ("l:email").</summary>
    public bool IsCustomer => Member.StartsWith("c:", StringComparison.Ordinal);

    /// <summary>The customer id, or null for a lead.</summary>
    public string? CustomerId => IsCustomer ? Member[2..] : null;

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
