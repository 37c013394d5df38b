using System.Globalization;

namespace KivaSync.Testing.Oracle;

/// <summary>
/// Computes, from log lines alone, what a tenant's ActiveCampaign account must show according to
/// shared/contract/system-log.md ("What a tenant's AC account must show"). It is a second reading of
/// the contract, independent of services/KivaSync.SystemLog: its own line checks, its own event
/// catalogue, its own fold. End-to-end tests compare the AC emulator's state with its answer.
/// </summary>
public static class ContractOracle
{
    /// <summary>The contract's catalogue as written there: log name → (AC name, live-only).</summary>
    public static IReadOnlyDictionary<string, (string AcName, bool LiveOnly)> Catalogue { get; } = new Dictionary<string, (string, bool)>(StringComparer.Ordinal)
    {
        ["Delivery Today Reminder Email Sent"] = ("Delivery reminder email sent", true),
        ["New Customer Signup"] = ("New Customer Signup", false),
        ["Login via expired magic link failed"] = ("Expired magic link login failed", false),
        ["Logged in"] = ("Logged in", false),
        ["Logged in via cookie"] = ("Logged in via cookie", false),
        ["Logged in via magic link"] = ("Logged in via magic link", false),
        ["Logged out"] = ("Logged out", false),
        ["Made a substitution"] = ("Made a substitution", false),
        ["Made an un-substition"] = ("Made an un-substition", false),
        ["Added add-on to order"] = ("Added add-on to order", false),
        ["Deleted item from order"] = ("Deleted item from order", false),
        ["New Promo Customer Signup"] = ("New Promo Customer Signup", false),
        ["Customer created order from welcome page"] = ("Order created from welcome page", false),
        ["Customer changed box"] = ("Customer changed box", false),
        ["Order skipped"] = ("Order skipped", false),
        ["Customer cancelled"] = ("Customer cancelled", false),
        ["Customer thinking of skipping order"] = ("Thinking of skipping order", false),
        ["Gift certificate used"] = ("Gift certificate used", false),
        ["Discount code used"] = ("Discount code used", false),
        ["Submitted Contact Form"] = ("Submitted Contact Form", false),
        ["Gift purchaser account activation"] = ("Gift purchaser activation", false),
        ["Promo account activation"] = ("Promo account activation", false),
        ["Updated Payment Info"] = ("Updated Payment Info", false),
        ["Re-subscribed to emails"] = ("Re-subscribed to emails", false),
        ["Unsubscribed email"] = ("Unsubscribed email", false),
        ["Updated Shipping Notes"] = ("Updated Shipping Notes", false),
        ["Added Delivery to Schedule"] = ("Added Delivery to Schedule", false),
        ["Shared with Friends"] = ("Shared with Friends", false),
        ["Skipped Delivery on Schedule"] = ("Skipped Delivery on Schedule", false),
        ["Updated Address"] = ("Updated Address", false),
        ["Reset Password"] = ("Reset Password", false),
        ["Cancelled Order"] = ("Cancelled Order", false),
        ["Added Birthday"] = ("Added Birthday", false),
        ["Changed Schedule"] = ("Changed Schedule", false),
        ["Removed recurring product setting"] = ("Removed recurring product", false),
        ["Updated recurring product setting"] = ("Updated recurring product", false),
        ["Added recurring product setting"] = ("Added recurring product setting", false),
        ["Changed Box Subscription"] = ("Changed Box Subscription", false),
        ["Gift Box Purchase"] = ("Gift Box Purchase", false),
        ["Order Completed"] = ("Order Completed", false),
        ["Reset Schedule"] = ("Reset Schedule", false),
    };

    /// <summary>The system entry that sets the current week; never sent.</summary>
    public const string WeeklyCycle = "Weekly cycle completed";

    /// <summary>The contract's reject reasons, in its check order.</summary>
    public static IReadOnlyList<string> RejectReasons { get; } =
        ["too_long", "invalid_json", "invalid_ts", "invalid_entry", "invalid_email", "unknown_status", "malformed_date"];

    /// <summary>Custom field titles.</summary>
    public const string FieldStatus = "Customer Status", FieldNextDelivery = "Next Delivery", FieldCancelledOn = "Cancelled On",
        FieldSchedule = "Schedule", FieldBox = "Box Name";

    /// <summary>List names.</summary>
    public const string ListAll = "All", ListActive = "Active", ListCancelled = "Cancelled", ListLeads = "Leads";

    /// <summary>Order tags.</summary>
    public const string OpenOrder = "Open Order", ClosedOrder = "Closed Order", CancelledOrder = "Cancelled Order", NoOrder = "No Order";

    /// <summary>The oracle's verdict on one line processed at <paramref name="now"/>, without folding it.</summary>
    public static LineVerdict Classify(string line, string defaultTenant, DateTimeOffset now) => OracleLineReader.Read(line, defaultTenant, now).Verdict;

    /// <summary>
    /// What <paramref name="defaultTenant"/>'s AC account must show after <paramref name="lines"/> (one or more
    /// files concatenated, line endings removed) were synced, with every entry processed at <paramref name="now"/>.
    /// </summary>
    public static ExpectedAccount Compute(IEnumerable<string> lines, string defaultTenant, DateTimeOffset now, TimeSpan liveThreshold, OracleOptions? options = null)
    {
        var all = ComputeAll(lines, defaultTenant, now, liveThreshold, options);
        return all.TryGetValue(defaultTenant, out var account) ? account : Empty(defaultTenant);
    }

    /// <summary>Like <see cref="Compute"/>, for every tenant the lines name.</summary>
    public static IReadOnlyDictionary<string, ExpectedAccount> ComputeAll(IEnumerable<string> lines, string defaultTenant, DateTimeOffset now, TimeSpan liveThreshold, OracleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        options ??= new OracleOptions();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tenants = new Dictionary<string, TenantFold>(StringComparer.Ordinal);
        var index = 0;
        foreach (var line in lines)
        {
            var position = index++;
            var (verdict, entry) = OracleLineReader.Read(line, defaultTenant, now);
            if (verdict.IsBlank)
            {
                continue;
            }

            var fold = Fold(verdict.Tenant);
            if (!seen.Add(verdict.Identity))
            {
                fold.Duplicates++;
                continue;
            }

            if (verdict.Reason is { } reason)
            {
                fold.Rejections.Add(new ExpectedRejection(reason, position, verdict.Id));
                continue;
            }

            fold.Entries.Add((entry!, position));
        }

        return tenants.ToDictionary(t => t.Key, t => t.Value.Finish(now, liveThreshold, options), StringComparer.Ordinal);

        TenantFold Fold(string tenant)
        {
            if (!tenants.TryGetValue(tenant, out var fold))
            {
                fold = new TenantFold(tenant);
                tenants[tenant] = fold;
            }

            return fold;
        }
    }

    private static ExpectedAccount Empty(string tenant) => new TenantFold(tenant).Finish(DateTimeOffset.UnixEpoch, TimeSpan.Zero, new OracleOptions());

    /// <summary>A value with the fold position it was logged at, so merges can keep the latest.</summary>
    private readonly record struct Stamped(string? Value, long At)
    {
        public static Stamped Later(Stamped a, Stamped b) => b.Value is not null && (a.Value is null || b.At > a.At) ? b : a;
    }

    private sealed class ContactState(string email)
    {
        public string? CustomerId { get; set; }
        public string Email { get; set; } = email;
        public List<string> FormerEmails { get; } = [];
        public Stamped First { get; set; }
        public Stamped Last { get; set; }
        public Stamped Phone { get; set; }
        public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);
        public string? Status { get; set; }
        public bool? OptIn { get; set; }
        public (string Week, string State)? Order { get; set; }
        public List<(ExpectedEvent Event, long At)> Events { get; } = [];

        // What the recurring payment reads: the latest subscriber status, the attrs as logged (absent/null/value)
        // and the latest Order Completed's total and currency; RpLive: a live entry changed one of its values.
        public string? SubscriberStatus { get; set; }
        public Optional<string> Box { get; set; }
        public Optional<string> Schedule { get; set; }
        public Optional<string> NextDelivery { get; set; }
        public Optional<string> CancelledOn { get; set; }
        public (long Cents, string Currency)? Payment { get; set; }
        public bool RpLive { get; set; }
        public long FirstSeen { get; init; }
    }

    private sealed class TenantFold(string tenant)
    {
        public List<(OracleEntry Entry, int Position)> Entries { get; } = [];
        public List<ExpectedRejection> Rejections { get; } = [];
        public int Duplicates { get; set; }

        private readonly Dictionary<string, ContactState> customers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ContactState> customerByEmail = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, ContactState> leads = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, (ExpectedOrder Order, string CustomerId)> orders = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> unknown = new(StringComparer.Ordinal);
        private readonly List<string> ambiguities = [];
        private int eventsWithoutContact;
        private int historicalNotSent;

        public ExpectedAccount Finish(DateTimeOffset now, TimeSpan liveThreshold, OracleOptions options)
        {
            // Each state is the fold of its entries in ts order; ties keep input (file) order.
            var ordered = Entries.OrderBy(e => e.Entry.Ts.UtcTicks).ThenBy(e => e.Position).ToList();
            string? cycleWeek = null;
            long at = 0;
            foreach (var (entry, _) in ordered)
            {
                at++;
                Apply(entry, at, now, liveThreshold, options);
                if (entry.Event == WeeklyCycle && entry.Week is not null)
                {
                    cycleWeek = entry.Week;
                }
            }

            var currentWeek = cycleWeek ?? (ordered.Count == 0 ? null : IsoWeekLabel(ordered.Max(e => e.Entry.Ts)));
            var contacts = customers.Values.OrderBy(c => c.FirstSeen)
                .Concat(leads.Values.OrderBy(c => c.FirstSeen))
                .Select(c => ToExpected(c, currentWeek))
                .ToList();
            var recurringPayments = customers.Values.Select(ToRecurringPayment).OfType<ExpectedRecurringPayment>()
                .ToDictionary(r => r.Id, StringComparer.Ordinal);
            var finalOrders = orders.ToDictionary(
                o => o.Key,
                o => o.Value.Order with { Email = customers.TryGetValue(o.Value.CustomerId, out var c) ? c.Email : o.Value.Order.Email },
                StringComparer.Ordinal);
            return new ExpectedAccount
            {
                Tenant = tenant,
                CurrentWeek = currentWeek,
                Contacts = contacts,
                Orders = finalOrders,
                RecurringPayments = recurringPayments,
                RejectedByReason = Rejections.GroupBy(r => r.Reason, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
                Rejections = Rejections,
                UnknownEvents = unknown,
                AcceptedEntries = Entries.Count,
                DuplicateLines = Duplicates,
                EventsWithoutContact = eventsWithoutContact,
                HistoricalEventsNotSent = historicalNotSent,
                Ambiguities = ambiguities,
            };
        }

        private void Apply(OracleEntry e, long at, DateTimeOffset now, TimeSpan liveThreshold, OracleOptions options)
        {
            ContactState? subject = null;
            string? rpBefore = null;
            if (e.Customer is { Id: not null } customer)
            {
                // Taken before the email changes: the email is one of the recurring payment's values.
                rpBefore = customers.TryGetValue(customer.Id, out var known) ? RpValues(known) : "";
                subject = CustomerFor(customer, at);
            }
            else if (e.Contact is { } contact)
            {
                subject = ContactFor(contact, at);
            }

            var live = now - e.Ts <= liveThreshold;

            // attrs are customers' only; on a contact entry they change nothing.
            if (e.Customer is not null && e.Attrs is { } attrs && subject is not null)
            {
                ApplyAttrs(subject, attrs);
            }

            // The subscription's payment is the latest Order Completed's (a gift box is no subscription payment).
            if (e.Order is { } paid && e.Event == "Order Completed" && e.Customer is { Id: not null } && subject is not null)
            {
                subject.Payment = (paid.TotalCents, paid.Currency);
            }

            // An entry that leaves every recurring payment value as it was changes nothing, live or not.
            if (rpBefore is not null && live && RpValues(subject!) != rpBefore)
            {
                subject!.RpLive = true;
            }
            if (e.Event is { } name && name != WeeklyCycle)
            {
                if (AcNameOf(name, options) is { } ac)
                {
                    if (subject is null)
                    {
                        eventsWithoutContact++;
                    }
                    else if (live || (!ac.LiveOnly && options.SendHistoricalEvents))
                    {
                        var eventData = e.DataJson is null ? e.TsText : e.TsText + " " + e.DataJson;
                        eventData = Cut(eventData, 250);

                        subject.Events.Add((new ExpectedEvent(ac.Name, name, e.Ts, eventData, live), at));
                    }
                    else
                    {
                        historicalNotSent++;
                    }
                }
                else
                {
                    unknown[name] = unknown.GetValueOrDefault(name) + 1;
                }
            }

            if (e.Order is { } order && e.Event is "Order Completed" or "Gift Box Purchase")
            {
                if (e.Customer is { Id: { } customerId } && subject is not null)
                {
                    var items = order.Items.ToList();
                    var known = orders.TryGetValue(order.Id, out var existing);
                    var source = known ? existing.Order.Source : live ? 1 : 0;
                    orders[order.Id] = (new ExpectedOrder(order.Id, customerId, subject.Email, source, order.TotalCents, order.Currency,
                        order.ShippingCents, order.TaxCents, order.DiscountCents, order.Week, items,
                        known ? existing.Order.CreatedAt : e.Ts, e.Ts, e.Event), customerId);
                }
                else
                {
                    ambiguities.Add($"order {order.Id} at {e.TsText} names no customer: no Deep Data order is possible");
                }
            }
        }

        /// <summary>The first <paramref name="length"/> UTF-16 units, without splitting a character in two
        /// (half a surrogate pair cannot be sent: it would arrive as U+FFFD).</summary>
        private static string Cut(string value, int length) =>
            value.Length <= length ? value : value[..(char.IsHighSurrogate(value[length - 1]) ? length - 1 : length)];

        private static (string Name, bool LiveOnly)? AcNameOf(string logName, OracleOptions options)
        {
            if (options.EventRenames.TryGetValue(logName, out var renamed))
            {
                var liveOnly = Catalogue.TryGetValue(logName, out var row) && row.LiveOnly;
                return (Cut(renamed, 32), liveOnly);
            }

            return Catalogue.TryGetValue(logName, out var known) ? (known.AcName, known.LiveOnly) : null;
        }

        private ContactState CustomerFor(OraclePerson p, long at)
        {
            var id = p.Id!;
            if (!customers.TryGetValue(id, out var state))
            {
                // A lead with this email is from now on this customer.
                if (leads.Remove(p.Email, out var lead))
                {
                    state = lead;
                }
                else
                {
                    state = new ContactState(p.Email) { FirstSeen = at };
                }

                state.CustomerId = id;
                customers[id] = state;
                if (customerByEmail.TryGetValue(p.Email, out var other) && other != state)
                {
                    ambiguities.Add($"customers {other.CustomerId} and {id} share the email {p.Email}");
                }

                customerByEmail[p.Email] = state;
                state.Email = p.Email;
            }
            else if (!string.Equals(state.Email, p.Email, StringComparison.Ordinal))
            {
                if (!string.Equals(state.Email, p.Email, StringComparison.OrdinalIgnoreCase))
                {
                    // A new address: the same contact, the old address is a former one.
                    if (customerByEmail.TryGetValue(state.Email, out var current) && current == state)
                    {
                        customerByEmail.Remove(state.Email);
                    }

                    state.FormerEmails.Add(state.Email.ToLowerInvariant());
                    if (customerByEmail.TryGetValue(p.Email, out var other) && other != state)
                    {
                        ambiguities.Add($"customer {id} took the email {p.Email} of customer {other.CustomerId}");
                    }

                    customerByEmail[p.Email] = state;
                    if (leads.Remove(p.Email, out var lead))
                    {
                        ambiguities.Add($"customer {id} changed to the email of lead {p.Email}: the lead merges into the customer");
                        Merge(state, lead);
                    }
                }

                // Only the case changed, or a new address: the latest spelling is the one to send.
                state.Email = p.Email;
                customerByEmail[p.Email] = state;
            }

            ApplyNames(state, p, at);
            return state;
        }

        private ContactState ContactFor(OraclePerson p, long at)
        {
            // A contact whose email is a customer's current one is about that customer.
            if (customerByEmail.TryGetValue(p.Email, out var customer))
            {
                ApplyNames(customer, p, at);
                return customer;
            }

            if (!leads.TryGetValue(p.Email, out var lead))
            {
                lead = new ContactState(p.Email) { FirstSeen = at };
                leads[p.Email] = lead;
            }

            lead.Email = p.Email;
            ApplyNames(lead, p, at);
            return lead;
        }

        private static void Merge(ContactState into, ContactState lead)
        {
            into.First = Stamped.Later(into.First, lead.First);
            into.Last = Stamped.Later(into.Last, lead.Last);
            into.Phone = Stamped.Later(into.Phone, lead.Phone);
            into.Events.AddRange(lead.Events);
            into.Events.Sort((a, b) => a.At.CompareTo(b.At));
        }

        private static void ApplyNames(ContactState state, OraclePerson p, long at)
        {
            // A name or phone absent (or null) in this object leaves the last logged one.
            state.First = Stamped.Later(state.First, new Stamped(p.First, at));
            state.Last = Stamped.Later(state.Last, new Stamped(p.Last, at));
            state.Phone = Stamped.Later(state.Phone, new Stamped(p.Phone, at));
        }

        private static void ApplyAttrs(ContactState state, OracleAttrs a)
        {
            if (a.Status is { } status)
            {
                state.Status = status;
                state.Fields[FieldStatus] = status;
                if (status is "Active" or "Stopped" or "Cancelled" or "Dead")
                {
                    state.SubscriberStatus = status;
                }
            }

            if (a.Box.IsPresent)
            {
                state.Box = a.Box;
            }

            if (a.Schedule.IsPresent)
            {
                state.Schedule = a.Schedule;
            }

            if (a.NextDelivery.IsPresent)
            {
                state.NextDelivery = a.NextDelivery;
            }

            if (a.CancelledOn.IsPresent)
            {
                state.CancelledOn = a.CancelledOn;
            }

            Set(FieldNextDelivery, a.NextDelivery);
            Set(FieldCancelledOn, a.CancelledOn);
            Set(FieldSchedule, a.Schedule);
            Set(FieldBox, a.Box);
            if (a.Order.IsPresent)
            {
                state.Order = a.Order.Value;
            }

            if (a.MarketingOptIn is { } optIn)
            {
                state.OptIn = optIn;
            }

            void Set(string title, Optional<string> change)
            {
                if (change.IsPresent)
                {
                    // Null clears: an empty field, never a made-up date.
                    state.Fields[title] = change.Value ?? "";
                }
            }
        }

        private static ExpectedContact ToExpected(ContactState c, string? currentWeek)
        {
            var lists = new HashSet<string>(StringComparer.Ordinal);
            if (c.CustomerId is null)
            {
                lists.Add(ListAll);
                lists.Add(ListLeads);
            }
            else if (c.OptIn != false)
            {
                // Opt-out wins: subscribed to nothing until marketing_opt_in true arrives.
                lists.Add(ListAll);
                if (c.Status == "Active")
                {
                    lists.Add(ListActive);
                }
                else if (c.Status is "Stopped" or "Cancelled" or "Dead")
                {
                    lists.Add(ListCancelled);
                }
            }

            string? tag = null;
            if (c.CustomerId is not null)
            {
                tag = c.Order is { } order && order.Week == currentWeek
                    ? order.State switch
                    {
                        "open" => OpenOrder,
                        "closed" => ClosedOrder,
                        _ => CancelledOrder,
                    }
                    : NoOrder;
            }

            var email = c.Email;
            return new ExpectedContact
            {
                CustomerId = c.CustomerId,
                Email = email,
                FormerEmails = c.FormerEmails.Where(f => !string.Equals(f, email, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.Ordinal).ToList(),
                FirstName = c.First.Value,
                LastName = c.Last.Value,
                Phone = c.Phone.Value,
                Fields = c.CustomerId is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(c.Fields, StringComparer.Ordinal),
                Lists = lists,
                OrderTag = tag,
                Status = c.Status,
                MarketingOptIn = c.OptIn,
                Events = c.Events.Select(e => e.Event).ToList(),
            };
        }

        /// <summary>The contract's "Subscription" table read on its own (never the service's mapping): null for a
        /// customer that never had a subscriber status.</summary>
        private static ExpectedRecurringPayment? ToRecurringPayment(ContactState c)
        {
            if (c.CustomerId is null || c.SubscriberStatus is not { } status)
            {
                return null;
            }

            var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (c.Box.IsPresent)
            {
                fields["name"] = c.Box.Value;
                fields["lineItemNames"] = c.Box.Value is null ? Array.Empty<string>() : new[] { c.Box.Value };
            }

            string? unreadable = null;
            if (c.Schedule.IsPresent)
            {
                var interval = c.Schedule.Value is null ? null : ReadSchedule(c.Schedule.Value);
                fields["billingInterval"] = interval?.Interval;
                fields["billingIntervalCount"] = interval?.Count;
                unreadable = c.Schedule.Value is not null && interval is null ? c.Schedule.Value : null;
            }

            if (c.NextDelivery.IsPresent)
            {
                fields["nextPaymentDate"] = c.NextDelivery.Value is null ? null : c.NextDelivery.Value + "T00:00:00Z";
            }

            if (c.CancelledOn.IsPresent)
            {
                fields["cancelledDate"] = c.CancelledOn.Value is null ? null : c.CancelledOn.Value + "T00:00:00Z";
            }

            if (c.Payment is { } payment)
            {
                fields["paymentAmount"] = payment.Cents / 100m;
                fields["currency"] = payment.Currency.ToUpperInvariant();
            }

            var normalized = status switch
            {
                "Active" => "ACTIVE",
                "Stopped" => "PAUSED",
                "Cancelled" => "CANCELLED",
                _ => "EXPIRED",
            };
            return new ExpectedRecurringPayment(c.CustomerId, c.CustomerId, c.Email, normalized, status, fields, !c.RpLive, unreadable);
        }

        /// <summary>weekly, bi-weekly, every N weeks, monthly, every N months; case-insensitive, extra spaces
        /// ignored, N a whole number ≥ 1 (an AC Int).</summary>
        private static (string Interval, int Count)? ReadSchedule(string text)
        {
            var m = System.Text.RegularExpressions.Regex.Match(text,
                "^ *(?:(?<w>weekly)|(?<b>bi-weekly)|(?<m>monthly)|every +(?<n>[0-9]+) +(?<u>weeks|months)) *$",
                System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
            if (!m.Success)
            {
                return null;
            }

            if (m.Groups["w"].Success)
            {
                return ("WEEKLY", 1);
            }

            if (m.Groups["b"].Success)
            {
                return ("WEEKLY", 2);
            }

            if (m.Groups["m"].Success)
            {
                return ("MONTHLY", 1);
            }

            var digits = m.Groups["n"].Value.TrimStart('0');
            if (digits.Length == 0 || digits.Length > 10 || long.Parse(digits, CultureInfo.InvariantCulture) > int.MaxValue)
            {
                return null;
            }

            var n = int.Parse(digits, CultureInfo.InvariantCulture);
            return (m.Groups["u"].Value.Equals("weeks", StringComparison.OrdinalIgnoreCase) ? "WEEKLY" : "MONTHLY", n);
        }

        /// <summary>Every recurring payment value of the customer as one comparable text (also before it is a subscriber).</summary>
        private static string RpValues(ContactState c)
        {
            var r = ToRecurringPayment(c) ?? ToRecurringPayment(new ContactState(c.Email)
            {
                CustomerId = c.CustomerId, SubscriberStatus = "Active", Box = c.Box, Schedule = c.Schedule,
                NextDelivery = c.NextDelivery, CancelledOn = c.CancelledOn, Payment = c.Payment,
            })!;
            var status = c.SubscriberStatus ?? "-";
            return string.Join("\u0001", new[] { r.Email, status }.Concat(r.Fields.OrderBy(f => f.Key, StringComparer.Ordinal)
                .Select(f => f.Key + "=" + (f.Value is string[] list ? "[" + string.Join(",", list) + "]" : Convert.ToString(f.Value, CultureInfo.InvariantCulture)))));
        }

        private static string IsoWeekLabel(DateTimeOffset instant)
        {
            var utc = instant.UtcDateTime;
            return string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(utc):D4}-W{ISOWeek.GetWeekOfYear(utc):D2}");
        }
    }
}
