using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf.WellKnownTypes;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.Tenants;
using KivaSync.SystemLog;
using RejectReason = KivaSync.SystemLog.RejectReason;

namespace KivaSync.SyncService.TestSync;

/// <summary>
/// A dry run of a tenant's log: parse, dedup and fold it in memory exactly as the contract says, and count
/// what a backfill would send to AC. Touches no Redis state and makes no AC call.
/// </summary>
/// <remarks>
/// Requests are counted for a backfill that sends each contact once with its final state:
/// <list type="bullet">
/// <item>contacts: more than the tenant's BulkImportThreshold → bulk import, 250 contacts a request, lists and
/// the order tag inside the rows; otherwise one contact/sync each plus one contactLists request per list it is
/// subscribed to and one contactTags request for a customer's order tag;</item>
/// <item>events: one request each (on the account's budget unless the tenant set EventsPerSecond);</item>
/// <item>orders: one bulkUpsertOrdersAsync call per fifty distinct order ids;</item>
/// <item>provisioning a fresh account: see <see cref="ProvisionRequests"/>.</item>
/// </list>
/// The estimated time is all requests at RequestsPerSecond; with EventsPerSecond set, the larger of the contact-side
/// requests at RequestsPerSecond and the events at EventsPerSecond, since the two budgets are then spent in parallel.
/// </remarks>
public sealed class TestSyncRunner
{
    /// <summary>Largest log one test sync reads (the bytes of lines it reads; an over-long line's skipped rest does not
    /// count); more is refused so one call cannot exhaust a replica's memory.</summary>
    public const long DefaultMaxLogBytes = 512L * 1024 * 1024;

    /// <summary>Bytes of one line held at most: the contract's limit plus a '\r' of a "\r\n" ending. Past it the line
    /// is too_long and the rest of it is only hashed (for its identity, as the shipper does), never buffered.</summary>
    private const int MaxHeldLineBytes = SystemLogParser.MaxLineBytes + 1;

    /// <summary>Rejected lines listed one by one in the report; the rest are only counted.</summary>
    public const int MaxListedRejections = 100;

    /// <summary>Email conflicts listed in the report.</summary>
    public const int MaxListedConflicts = 100;

    /// <summary>Contacts per bulk import request (AC's limit).</summary>
    public const int BulkImportBatch = 250;

    private readonly string tenant;
    private readonly TenantOptions options;
    private readonly DateTimeOffset now;
    private readonly Func<string, bool> otherTenantAccepted;
    private readonly long maxLogBytes;
    private readonly ArrayBufferWriter<byte> partial = new();
    private readonly HashSet<UInt128> seen = [];
    private readonly List<Accepted> entries = [];
    private readonly Dictionary<string, ulong> rejectedByReason = new(StringComparer.Ordinal);
    private readonly List<TestSyncRejection> rejections = [];
    private long bytesRead;
    private SkippedLine? skipped;
    private ulong lineNumber;
    private ulong lines;
    private ulong duplicates;

    /// <summary>Creates a run for <paramref name="tenant"/>.</summary>
    /// <param name="tenant">The tested tenant: lines without a "tenant" key are its.</param>
    /// <param name="options">The tenant's settings (thresholds, budgets, event names).</param>
    /// <param name="now">The time the entries count as processed at (historical vs live).</param>
    /// <param name="otherTenantAccepted">Whether a line naming another tenant would be routed there (configured and
    /// allowed for the caller) rather than rejected as invalid_entry, as ingest does.</param>
    /// <param name="maxLogBytes">The size limit of the log.</param>
    public TestSyncRunner(string tenant, TenantOptions options, DateTimeOffset now, Func<string, bool> otherTenantAccepted, long maxLogBytes = DefaultMaxLogBytes)
    {
        this.tenant = tenant;
        this.options = options;
        this.now = now;
        this.otherTenantAccepted = otherTenantAccepted;
        this.maxLogBytes = maxLogBytes;
    }

    /// <summary>Requests provisioning a fresh account takes: GET fields + 5 fields + 5 field relations, GET lists +
    /// 4 lists, 4 tag look-ups + 4 tags, enabling event tracking, GET event names + one per AC event name, one connection.</summary>
    public int ProvisionRequests => 1 + 5 + 5 + 1 + 4 + 4 + 4 + 1 + 1 + AcEventNames().Count + 1;

    /// <summary>True once more than the size limit was written.</summary>
    public bool IsOverLimit => bytesRead > maxLogBytes;

    /// <summary>Bytes of lines read so far (an over-long line's skipped rest not counted).</summary>
    public long BytesRead => bytesRead;

    /// <summary>Feeds the next piece of the log (cut anywhere). Returns false, reading nothing more, once the log is over the limit.</summary>
    public bool Write(ReadOnlySpan<byte> data)
    {
        if (IsOverLimit)
        {
            return false;
        }

        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            var piece = newline < 0 ? data : data[..newline];
            if (skipped is not null)
            {
                skipped.Append(piece);
            }
            else if (partial.WrittenCount + piece.Length > MaxHeldLineBytes)
            {
                // Too long already: hash what was held and the rest as it comes, hold nothing more.
                bytesRead += MaxHeldLineBytes - partial.WrittenCount;
                skipped = new SkippedLine();
                skipped.Append(partial.WrittenSpan);
                skipped.Append(piece);
                partial.Clear();
            }
            else if (newline >= 0 && partial.WrittenCount == 0)
            {
                bytesRead += piece.Length + 1;
                ReadLine(piece);
            }
            else
            {
                bytesRead += piece.Length + (newline >= 0 ? 1 : 0);
                partial.Write(piece);
            }

            if (newline < 0)
            {
                break;
            }

            EndLine();
            data = data[(newline + 1)..];
        }

        return !IsOverLimit;
    }

    /// <summary>A line's '\n' was reached: read the held line, or count the skipped one as too_long.</summary>
    private void EndLine()
    {
        if (skipped is { } line)
        {
            skipped = null;
            RecordTooLong(line);
        }
        else if (partial.WrittenCount > 0)
        {
            ReadLine(partial.WrittenSpan);
            partial.Clear();
        }
        else
        {
            // The fast path read it already.
        }
    }

    private void RecordTooLong(SkippedLine line)
    {
        lineNumber++;
        lines++;
        // The identity ingest gives a too-long line (from its SHA-256, as the shipper sends it), so repeats are duplicates there too.
        Span<byte> identity = stackalloc byte[EntryIdentity.Size];
        EntryIdentity.ComputeFromLineHash(tenant, line.Finish(out var length), identity);
        if (!seen.Add(BinaryPrimitives.ReadUInt128LittleEndian(identity)))
        {
            duplicates++;
            return;
        }

        Reject(RejectReason.TooLong, string.Create(CultureInfo.InvariantCulture, $"line is {length} bytes; the limit is {SystemLogParser.MaxLineBytes}"));
    }

    /// <summary>Reads the last line (without a final newline), folds everything and builds the report.</summary>
    public TestSyncReport Finish()
    {
        EndLine();

        var fold = new Fold(options, now);
        // Each customer's state is the fold of its entries in ts order; ties keep file order.
        entries.Sort(static (a, b) => a.TsTicks != b.TsTicks ? a.TsTicks.CompareTo(b.TsTicks) : a.Position.CompareTo(b.Position));
        foreach (var accepted in entries)
        {
            fold.Apply(accepted.Entry);
        }

        return BuildReport(fold);
    }

    private void ReadLine(ReadOnlySpan<byte> line)
    {
        lineNumber++;
        var outcome = SystemLogParser.Parse(line, tenant, now);
        if (outcome.IsBlank)
        {
            return;
        }

        lines++;
        var raw = line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
        if (outcome.Tenant != tenant)
        {
            if (otherTenantAccepted(outcome.Tenant))
            {
                // Ingest would route it to its own tenant: not part of this tenant's sync.
                return;
            }

            // As ingest does: a line naming a tenant the caller may not write is this tenant's invalid_entry.
            outcome = outcome with
            {
                Entry = null,
                Reason = RejectReason.InvalidEntry,
                Detail = $"tenant \"{outcome.Tenant}\" is not configured or not allowed for this caller",
                Tenant = tenant,
            };
        }

        Span<byte> identity = stackalloc byte[EntryIdentity.Size];
        EntryIdentity.Compute(outcome.Tenant, outcome.Id, raw, identity);
        if (!seen.Add(BinaryPrimitives.ReadUInt128LittleEndian(identity)))
        {
            duplicates++;
            return;
        }

        if (outcome.Entry is { } entry)
        {
            entries.Add(new Accepted(entry, entry.Ts.UtcTicks, entries.Count));
            return;
        }

        Reject(outcome.Reason, outcome.Detail);
    }

    private void Reject(RejectReason why, string? detail)
    {
        var reason = why.ToContractName();
        rejectedByReason[reason] = rejectedByReason.GetValueOrDefault(reason) + 1;
        if (rejections.Count < MaxListedRejections)
        {
            rejections.Add(new TestSyncRejection { Reason = reason, Line = lineNumber, Detail = detail ?? "" });
        }
    }

    /// <summary>An over-long line being skipped: only its SHA-256 (without the line ending) and length are kept.</summary>
    private sealed class SkippedLine
    {
        private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long length;
        private bool heldCr;

        public void Append(ReadOnlySpan<byte> piece)
        {
            if (piece.IsEmpty)
            {
                return;
            }

            // A final '\r' belongs to a "\r\n" ending unless more of the line follows.
            if (heldCr)
            {
                hash.AppendData("\r"u8);
            }

            heldCr = piece[^1] == (byte)'\r';
            hash.AppendData(heldCr ? piece[..^1] : piece);
            length += piece.Length;
        }

        public byte[] Finish(out long lineLength)
        {
            lineLength = heldCr ? length - 1 : length;
            var digest = hash.GetHashAndReset();
            hash.Dispose();
            return digest;
        }
    }

    private TestSyncReport BuildReport(Fold fold)
    {
        var report = new TestSyncReport
        {
            Tenant = tenant,
            Lines = lines,
            Entries = (ulong)entries.Count,
            Duplicates = duplicates,
            Customers = (ulong)fold.Customers.Count,
            Leads = (ulong)fold.Leads.Count,
            Orders = (ulong)fold.Orders.Count,
            EventsWithoutContact = fold.EventsWithoutContact,
            HistoricalEventsNotSent = fold.HistoricalNotSent,
            CustomersWithoutEmail = (ulong)fold.Customers.Values.Count(c => string.IsNullOrEmpty(c.Email)),
        };
        report.RejectedByReason.Add(rejectedByReason);
        report.Rejections.Add(rejections);
        report.UnknownEvents.Add(fold.UnknownEvents);
        report.EventsByName.Add(fold.EventsByName);
        report.EmailConflicts.Add(fold.Conflicts.Take(MaxListedConflicts));
        foreach (var order in fold.Orders.Values)
        {
            report.OrderTotalsCents[order.Currency] = report.OrderTotalsCents.GetValueOrDefault(order.Currency) + order.TotalCents;
        }

        // Contacts: one bulk import row each above the threshold (lists and tag in the row), else one sync each
        // plus its list subscriptions and its order tag.
        var contacts = fold.Customers.Count + fold.Leads.Count;
        var requests = new Dictionary<string, ulong>(StringComparer.Ordinal);
        if (contacts > options.BulkImportThreshold)
        {
            requests["bulk_import"] = (ulong)((contacts + BulkImportBatch - 1) / BulkImportBatch);
        }
        else if (contacts > 0)
        {
            requests["contact_sync"] = (ulong)contacts;
            var listRequests = fold.Customers.Values.Concat(fold.Leads.Values).Sum(c => c.ListCount());
            if (listRequests > 0)
            {
                requests["contact_list"] = (ulong)listRequests;
            }

            if (fold.Customers.Count > 0)
            {
                requests["contact_tag"] = (ulong)fold.Customers.Count;
            }
        }

        if (fold.Orders.Count > 0)
        {
            // Orders go through GraphQL, many customers' orders fifty to a call (no v3 ecomCustomers/ecomOrders).
            requests[AcClient.OrdersMutation] = (ulong)((fold.Orders.Count + AcClient.GraphQlMaxItems - 1) / AcClient.GraphQlMaxItems);
        }

        // Subscriptions: one recurring payment per subscriber, fifty to a request; a schedule the mapping cannot read is
        // an anomaly (the contract's one mapping decides, RecurringPaymentMapping).
        var payments = fold.Customers.Values
            .Select(c => RecurringPaymentMapping.Map(new SubscriberState(c.CustomerId!, c.Email, c.SubscriberStatus, default, c.Schedule, default, default, null)))
            .OfType<RecurringPayment>().ToList();
        report.Subscribers = (ulong)payments.Count;
        if (payments.Count > 0)
        {
            requests["recurring_payment"] = (ulong)((payments.Count + AcClient.GraphQlMaxItems - 1) / AcClient.GraphQlMaxItems);
        }

        report.ScheduleAnomalies.Add(payments.Where(p => p.UnreadableSchedule is not null).Take(MaxListedConflicts).Select(p => string.Create(CultureInfo.InvariantCulture,
            $"customer {p.StoreCustomerId}: schedule \"{p.UnreadableSchedule}\" is none of weekly, bi-weekly, every N weeks, monthly, every N months: its recurring payment gets no billing interval")));

        requests["provision"] = (ulong)ProvisionRequests;
        var contactSide = requests.Values.Aggregate(0UL, (a, b) => a + b);
        var events = fold.EventsByName.Values.Aggregate(0UL, (a, b) => a + b);
        if (events > 0)
        {
            requests["event"] = events;
        }

        report.RequestsByKind.Add(requests);
        report.RequestsTotal = contactSide + events;
        report.RequestsWithoutHistoricalEvents = contactSide + fold.LiveEvents;
        report.EstimatedBackfill = Duration.FromTimeSpan(Estimate(contactSide, events));
        report.EstimatedBackfillWithoutHistoricalEvents = Duration.FromTimeSpan(Estimate(contactSide, fold.LiveEvents));
        return report;
    }

    // Events share the account's budget unless the tenant gave them their own (then the two are spent in parallel).
    private TimeSpan Estimate(ulong contactSide, ulong events) =>
        TimeSpan.FromSeconds(options.EventsPerSecond is { } own
            ? Math.Max(contactSide / options.RequestsPerSecond, events / own)
            : (contactSide + events) / options.RequestsPerSecond);

    private HashSet<string> AcEventNames() =>
        new(EventRules.For(options).All.Select(static e => e.AcName), StringComparer.OrdinalIgnoreCase);

    /// <summary>The AC name a log event is sent under for this tenant (renames and additions first, cut as the
    /// service cuts them), or null when unknown: the service's own rules, so a test sync names what a sync sends.</summary>
    private static string? AcNameOf(TenantOptions options, string logName) =>
        EventRules.For(options).TryGet(logName, out var definition) ? definition.AcName : null;

    private readonly record struct Accepted(LogEntry Entry, long TsTicks, int Position);

    private sealed class Contact(string email)
    {
        public string? CustomerId { get; set; }
        public string Email { get; set; } = email;
        public string? Status { get; set; }
        public bool? OptIn { get; set; }

        /// <summary>The latest subscriber status (null: never a subscriber) and the schedule as logged, for the recurring payment.</summary>
        public string? SubscriberStatus { get; set; }
        public Logged<string> Schedule { get; set; }

        /// <summary>Lists the contact ends up subscribed to (All, Leads, Active, Cancelled; none after an opt-out).</summary>
        public int ListCount()
        {
            if (CustomerId is null)
            {
                return 2;
            }

            if (OptIn == false)
            {
                return 0;
            }

            return Status is "Active" or "Stopped" or "Cancelled" or "Dead" ? 2 : 1;
        }
    }

    private sealed record Order(string CustomerId, string Currency, long TotalCents);

    /// <summary>The contract's fold, in memory: customers by id, their current emails, leads by email.</summary>
    private sealed class Fold(TenantOptions options, DateTimeOffset now)
    {
        private readonly HashSet<string> historicalOff = new(options.HistoricalEventsOff, StringComparer.Ordinal);
        private readonly Dictionary<string, Contact> customerByEmail = new(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> conflictEmails = new(StringComparer.OrdinalIgnoreCase);

        public Dictionary<string, Contact> Customers { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Contact> Leads { get; } = new(StringComparer.OrdinalIgnoreCase);
        public Dictionary<string, Order> Orders { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, ulong> EventsByName { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, ulong> UnknownEvents { get; } = new(StringComparer.Ordinal);
        public List<string> Conflicts { get; } = [];
        public ulong EventsWithoutContact { get; private set; }
        public ulong HistoricalNotSent { get; private set; }
        public ulong LiveEvents { get; private set; }

        public void Apply(LogEntry e)
        {
            Contact? subject = null;
            if (e.Customer is { CustomerId: { } customerId } customer)
            {
                subject = CustomerFor(customerId, customer.Email);
                if (e.Attrs is { } attrs)
                {
                    if (attrs.Status is { IsPresent: true, Value: { } status })
                    {
                        subject.Status = status;
                        if (RecurringPaymentMapping.IsSubscriberStatus(status))
                        {
                            subject.SubscriberStatus = status;
                        }
                    }

                    if (attrs.Schedule.IsPresent)
                    {
                        subject.Schedule = Logged<string>.Of(attrs.Schedule.Value);
                    }

                    if (attrs.MarketingOptIn is { } optIn)
                    {
                        subject.OptIn = optIn;
                    }
                }
            }
            else if (e.Contact is { } contact)
            {
                subject = ContactFor(contact.Email);
            }

            // The weekly cycle is a system entry: never sent, and the order tag is one request whatever the week.
            if (e.Event is { } logName && logName != EventCatalog.WeeklyCycleCompleted)
            {
                CountEvent(logName, e, subject);
            }

            if (e.Order is { } order && e.Event is EventCatalog.OrderCompleted or EventCatalog.GiftBoxPurchase
                && e.Customer?.CustomerId is { } owner)
            {
                // A repeated order id is an update: the latest amounts count, once.
                Orders[order.Id] = new Order(owner, order.Currency, order.TotalCents);
            }
        }

        private void CountEvent(string logName, LogEntry e, Contact? subject)
        {
            if (AcNameOf(options, logName) is not { } acName)
            {
                UnknownEvents[logName] = UnknownEvents.GetValueOrDefault(logName) + 1;
                return;
            }

            if (subject is null)
            {
                EventsWithoutContact++;
                return;
            }

            var live = now - e.Ts <= options.LiveThreshold;
            var liveOnly = EventCatalog.TryGet(logName, out var definition) && definition.LiveOnly;
            if (live)
            {
                LiveEvents++;
            }
            else if (liveOnly || !options.SendHistoricalEvents || historicalOff.Contains(logName))
            {
                HistoricalNotSent++;
                return;
            }

            EventsByName[acName] = EventsByName.GetValueOrDefault(acName) + 1;
        }

        private Contact CustomerFor(string id, string email)
        {
            if (!Customers.TryGetValue(id, out var state))
            {
                // A lead with this email is from now on this customer.
                state = Leads.Remove(email, out var lead) ? lead : new Contact(email);
                state.CustomerId = id;
                Customers[id] = state;
                Claim(state, email);
                state.Email = email;
                return state;
            }

            if (!string.Equals(state.Email, email, StringComparison.OrdinalIgnoreCase))
            {
                if (customerByEmail.TryGetValue(state.Email, out var current) && current == state)
                {
                    customerByEmail.Remove(state.Email);
                }

                Claim(state, email);
                // A lead with the new email merges into this customer.
                Leads.Remove(email);
            }

            state.Email = email;
            return state;
        }

        private void Claim(Contact state, string email)
        {
            if (customerByEmail.TryGetValue(email, out var other) && other != state && conflictEmails.Add(email))
            {
                Conflicts.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{email}: customer {state.CustomerId} claims the current email of customer {other.CustomerId} (the later claim wins)"));
            }

            customerByEmail[email] = state;
        }

        private Contact ContactFor(string email)
        {
            // A contact whose email is a customer's current one is about that customer.
            if (customerByEmail.TryGetValue(email, out var customer))
            {
                return customer;
            }

            if (!Leads.TryGetValue(email, out var lead))
            {
                lead = new Contact(email);
                Leads[email] = lead;
            }

            return lead;
        }
    }
}
