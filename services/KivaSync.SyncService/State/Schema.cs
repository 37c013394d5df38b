namespace KivaSync.SyncService.State;

/// <summary>
/// The one home of the Redis schema's names: hash field names, sync states and the ingest script's argument
/// layout. The Lua scripts get them from here: <see cref="RedisScripts"/> prepends a generated header with one Lua
/// table per nested class marked <see cref="LuaTableAttribute"/> (e.g. <c>C.SyncedVersion</c> is
/// <see cref="Contact.SyncedVersion"/>), so a script never spells a field name itself (SchemaConsistencyTests).
/// Renaming a value here is a data migration: every hash written before keeps the old name.
/// </summary>
public static class Schema
{
    /// <summary>A contact's hash ks:{t}:c:&lt;id&gt; / ks:{t}:l:&lt;email&gt; (Lua table <c>C</c>). Short names: every contact carries them.</summary>
    [LuaTable("C")]
    public static class Contact
    {
        public const string Email = "em";
        /// <summary>The email lower-cased as indexed in ks:{t}:email.</summary>
        public const string EmailLower = "el";
        /// <summary>Set on a customer whose email another customer took over in the email index.</summary>
        public const string IndexStale = "ix";
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
        /// <summary>One of <see cref="SyncState"/>.</summary>
        public const string SyncState = "state";
        public const string Error = "error";
        public const string Attempts = "attempts";
        public const string DeadAt = "dead_at";
        /// <summary>A counter, not a flag: a sync clears only the force it saw.</summary>
        public const string Force = "force";
        /// <summary>Bulk import's mark: <see cref="BulkImported"/> or <see cref="BulkRefused"/>.</summary>
        public const string Bulk = "bulk";
        public const string BulkImported = "imported";
        public const string BulkRefused = "refused";

        // The recurring payment (subscription): kept by ingest.lua per-field last-writer-wins like the fields above
        // but without a new contact version (AC's contact shows none).
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

        /// <summary>Prefix of a list's recorded status ("ls:All"): <see cref="ListSubscribed"/>, <see cref="ListUnsubscribed"/>, <see cref="ListLeftInAc"/>.</summary>
        public const string ListPrefix = "ls:";
        public const string ListSubscribed = "1";
        public const string ListUnsubscribed = "2";
        /// <summary>The person unsubscribed from the list inside AC: the sync never subscribes it again.</summary>
        public const string ListLeftInAc = "x";
        /// <summary>The order tag last set.</summary>
        public const string Tag = "otag";
        /// <summary>That tag's association id (what DELETE contactTags takes).</summary>
        public const string TagAssociation = "otag_id";

        /// <summary>Prefix of a field's ts (ms) of its last write: "t:st" for "st" (also in meta and the orders hash).</summary>
        public const string TsPrefix = "t:";
    }

    /// <summary>The values of <see cref="Contact.SyncState"/> (Lua table <c>S</c>).</summary>
    [LuaTable("S")]
    public static class SyncState
    {
        public const string Ok = "ok";
        public const string Failed = "failed";
        public const string Skipped = "skipped";
        public const string Dead = "dead";
    }

    /// <summary>The tenant's meta hash ks:{t}:meta (Lua table <c>M</c>).</summary>
    [LuaTable("M")]
    public static class Meta
    {
        public const string Accepted = "accepted";
        public const string NewestTs = "newest_ts";
        public const string Week = "week";
        public const string ResyncAll = "resync_all";
        public const string ResyncAllDone = "resync_all_done";
        public const string LiveMs = "live_ms";
        public const string HistoryMs = "hist_ms";
        public const string DedupGeneration = "dgen";
        public const string RejectedBytes = "rej_bytes";
        public const string EventsQueued = "ev_queued";
        public const string EventsHistoricalNotSent = "ev_historical_not_sent";
        public const string EventsWithoutContact = "ev_without_contact";
        public const string EventsRefused = "ev_refused";
    }

    /// <summary>The state marker ks:{t}:epoch (Lua table <c>E</c>), see StateGuard.</summary>
    [LuaTable("E")]
    public static class Epoch
    {
        public const string Id = "id";
        public const string Since = "since";
        public const string Lost = "lost";
        public const string LostAt = "lost_at";
        public const string SeenPrefix = "seen:";
        public const string AckedPrefix = "acked:";
        /// <summary>state_check.lua's verdicts.</summary>
        public const string VerdictOk = "ok";
        public const string VerdictLost = "lost";
    }

    /// <summary>A customer's orders hash ks:{t}:o:&lt;id&gt; (Lua table <c>O</c>): the order JSON under its id, and per order these prefixes + id.</summary>
    [LuaTable("O")]
    public static class Orders
    {
        public const string TsPrefix = "t:";
        public const string SourcePrefix = "src:";
        public const string CreatedTsPrefix = "ct:";
        public const string AcPrefix = "ac:";
        public const string AcSourcePrefix = "acsrc:";
        public const string RefusedPrefix = "rej:";
    }

    /// <summary>Event tracking's hash ks:{t}:ac:events and the events-delivered hash ks:{t}:evd:&lt;AC id&gt; (Lua table <c>T</c>).</summary>
    [LuaTable("T")]
    public static class Tracking
    {
        public const string Enabled = "enabled";
        public const string NamePrefix = "n:";
        /// <summary>Prefix of an event key while its post is outstanding or its answer was lost.</summary>
        public const string PostingPrefix = "?";
    }

    /// <summary>The contact member encoding (Lua table <c>K</c>); <see cref="ContactRef"/> is its C# side, members.lua the Lua one.</summary>
    [LuaTable("K")]
    public static class Member
    {
        public const string CustomerPrefix = "c:";
        public const string LeadPrefix = "l:";
    }

    /// <summary>
    /// The ingest script's ARGV (Lua table <c>A</c>; 1-based like Lua): the header, then the entries flat, each
    /// starting with its kind. Written by Ingest/IngestScriptEntry and StateStore.IngestAsync, read by ingest.lua.
    /// </summary>
    [LuaTable("A")]
    public static class IngestArgs
    {
        public const int Prefix = 1;
        public const int Now = 2;
        public const int DedupPeriod = 3;
        /// <summary>The dedup generation the C# side computed the windowed bucket keys for.</summary>
        public const int DedupGeneration = 4;
        /// <summary>The stream's batch that must have been applied before this one ("" none: no check), see IngestStream.</summary>
        public const int StreamAfter = 5;
        /// <summary>This batch's number in its stream ("" none), kept in KEYS[KI.Stream] once applied.</summary>
        public const int StreamSeq = 6;
        public const int TraceParent = 7;
        public const int RejectedMaxEntries = 8;
        public const int RejectedMaxBytes = 9;
        /// <summary>Where the entries start.</summary>
        public const int FirstEntry = 10;

        // Offsets within an entry (from its kind).
        public const int Kind = 0;
        public const int Bucket = 1;
        public const int DedupMember = 2;
        public const int Ts = 3;
        public const int Week = 4;
        public const int Event = 5;
        public const int Order = 6;
        public const int FieldPairs = 7;
        /// <summary>Then: the customer id ("c", "cw"), the email and its lower case ("" when the same; "c", "cw", "l"), the pairs.</summary>
        public const int Rest = 8;
        public const int RejectReason = 3;
        public const int RejectRecord = 4;
        public const int RejectedLength = 5;

        public const string KindCustomer = "c";
        public const string KindCustomerWindowed = "cw";
        public const string KindLead = "l";
        public const string KindNone = "n";
        public const string KindNoneWindowed = "nw";
        public const string KindRejected = "r";

        // The entry's event argument: "" none, these markers alone, else the event data + "\n" + AC name.
        /// <summary>"!" + log name: an event outside the catalogue (counted by name).</summary>
        public const string EventUnknown = "!";
        /// <summary>A historical event that is not sent (counted).</summary>
        public const string EventHistoricalNotSent = "-";
        /// <summary>An event without a customer or contact (counted).</summary>
        public const string EventWithoutContact = "~";

        // The script's answers other than the codes: nothing was written, call again as asked.
        /// <summary>{"keys", key...}: these keys (owners found at run time) must arrive in KEYS.</summary>
        public const string AnswerKeys = "keys";
        /// <summary>{"generation", g}: the tenant's dedup generation is g (ahead of the caller's clock).</summary>
        public const string AnswerGeneration = "generation";
        /// <summary>{"rotate", g}: the tenant's dedup generation is g, older ones must be dropped first (ingest_rotate.lua).</summary>
        public const string AnswerRotate = "rotate";
        /// <summary>{"wait"}: the stream's previous batch is not applied yet (it was asked for keys): call again once it is.</summary>
        public const string AnswerWait = "wait";
    }

    /// <summary>Key name parts after the tenant's prefix "ks:{t}:" that scripts put together (Lua table <c>P</c>);
    /// RedisKeys builds the same names from them. A script may only touch such a key when it arrived in KEYS.</summary>
    [LuaTable("P")]
    public static class KeyParts
    {
        public const string Events = "ev:";
        public const string Orders = "o:";
        public const string OrdersPending = "op:";
        public const string Dedup = "d:";
        public const string DedupWindowed = "r:";
        /// <summary>After a budget's slots key: its usage bucket "&lt;slots&gt;:used:&lt;n&gt;".</summary>
        public const string RateUsed = ":used:";
    }

    /// <summary>The ingest script's fixed KEYS (Lua table <c>KI</c>), before the batch's own keys.</summary>
    [LuaTable("KI")]
    public static class IngestKeys
    {
        public const int Meta = 1;
        public const int Epoch = 2;
        public const int Dirty = 3;
        public const int DirtyLive = 4;
        public const int EmailIndex = 5;
        public const int FormerEmails = 6;
        public const int Customers = 7;
        public const int Leads = 8;
        public const int RecurringPaymentsPending = 9;
        public const int UnknownEvents = 10;
        public const int Rejects = 11;
        public const int Rejected = 12;
        public const int InFlight = 13;
        /// <summary>The stream's last applied batch number (RedisKeys.IngestStream).</summary>
        public const int Stream = 14;
        /// <summary>How many fixed keys there are.</summary>
        public const int Count = 14;
    }
}

/// <summary>Marks a <see cref="Schema"/> class whose constants the Lua header exposes as a table of this name.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class LuaTableAttribute(string name) : Attribute
{
    /// <summary>The Lua table's name.</summary>
    public string Name { get; } = name;
}
