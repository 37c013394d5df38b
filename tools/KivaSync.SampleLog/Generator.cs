using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace KivaSync.SampleLog;

/// <summary>
/// One generation run. Simulates the tenant day by day: each day's lines are built in per-customer
/// time order (so state always follows the log), then sorted by time and written. Only one day's
/// lines and the customers' state are held at any time.
/// </summary>
internal sealed class Generator
{
    private const long Second = 1000;
    private const long Minute = 60 * Second;
    private const long Hour = 60 * Minute;
    private const int TooLongBytes = 270_000;

    private static readonly string[] BadReasons =
        ["invalid_json", "invalid_ts", "invalid_entry", "invalid_email", "unknown_status", "malformed_date"];

    private readonly SampleLogOptions options;
    private readonly SampleLogSummary summary;
    private readonly Random rng;
    // Noise, bad lines, duplicates and ids draw from their own streams, so that changing their
    // rates (or adding the too-long line) leaves the customers' story byte-for-byte the same.
    private readonly Random extraRng;
    private readonly Random idRng;
    private readonly DateTime startDate;
    private readonly int totalDays;
    private readonly string idPrefix;
    private readonly List<SimCustomer> profiles = [];
    private readonly List<SimLead> leads = [];
    private readonly List<SimCustomer> joined = [];
    private readonly ArrayBufferWriter<byte> buffer = new(2048);
    private readonly Utf8JsonWriter json;
    private readonly JsonFields attrs = new();
    private readonly JsonFields data = new();
    private readonly List<(long Ms, long Seq, string Line)> dayLines = [];
    private int profileCursor;
    private long seq;
    private long idCounter;
    private long extraIdCounter;
    private long orderCounter;
    private long badCounter;
    private long realLinesToday;

    public Generator(SampleLogOptions options, SampleLogSummary summary)
    {
        options.Validate();
        this.options = options;
        this.summary = summary;
        rng = new Random(options.Seed);
        extraRng = new Random(unchecked(options.Seed * 31 + 7));
        idRng = new Random(unchecked(options.Seed * 131 + 3));
        startDate = options.Start.UtcDateTime.Date;
        totalDays = options.Weeks * 7;
        idPrefix = "e" + options.Seed.ToString("x", CultureInfo.InvariantCulture) + "-";
        json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        CreatePeople();
    }

    public IEnumerable<string> Lines()
    {
        for (var d = 0; d < totalDays; d++)
        {
            dayLines.Clear();
            realLinesToday = 0;
            SimulateDay(d);
            AddNoiseAndBadLines(d);
            dayLines.Sort(static (a, b) => a.Ms != b.Ms ? a.Ms.CompareTo(b.Ms) : a.Seq.CompareTo(b.Seq));
            foreach (var (_, _, line) in dayLines)
            {
                summary.Lines++;
                yield return line;
                if (options.DuplicateRate > 0 && extraRng.NextDouble() < options.DuplicateRate)
                {
                    // A replayed line: the very same bytes again, as after a shipper restart.
                    summary.Lines++;
                    summary.DuplicateLines++;
                    yield return line;
                }
            }
        }
    }

    // ---------------------------------------------------------------- people

    private void CreatePeople()
    {
        var leadWindow = Math.Max(1, (int)(totalDays * 0.85));
        for (var i = 0; i < options.Leads; i++)
        {
            var (first, firstAscii) = Pick(SampleData.FirstNames);
            var (last, lastAscii) = Pick(SampleData.LastNames);
            var day = rng.Next(leadWindow);
            leads.Add(new SimLead
            {
                Index = i,
                Email = $"{firstAscii}.{lastAscii}.lead{i + 1}@{Pick(SampleData.Domains)}",
                First = first,
                FirstAscii = firstAscii,
                Last = last,
                FirstContactDay = day,
                FollowUpDay = Chance(0.5) ? day + 1 + rng.Next(30) : -1,
            });
        }

        // About a third of leads become customers a few days to weeks later, within the customer budget.
        var conversions = 0;
        foreach (var lead in leads)
        {
            var day = lead.FirstContactDay + 2 + rng.Next(44);
            if (conversions < options.Customers && day < totalDays && Chance(0.35))
            {
                lead.ConvertDay = day;
                conversions++;
            }
        }

        var signupWindow = Math.Max(1, (int)(totalDays * 0.95));
        var index = 0;
        foreach (var lead in leads.Where(l => l.ConvertDay >= 0))
        {
            var (_, lastAscii) = Pick(SampleData.LastNames);
            // Signing up, people often type their address differently: the same email in another case.
            var email = Chance(0.3) ? CaseVariant(lead.Email) : lead.Email;
            profiles.Add(NewProfile(index++, CustomerKind.Regular, lead.ConvertDay, (lead.First, lead.FirstAscii), (lead.Last, lastAscii), email, lead));
        }

        while (index < options.Customers)
        {
            // A quarter of the customers already exist in the first week; the rest arrive over time.
            var day = Chance(0.25) ? rng.Next(Math.Min(7, totalDays)) : rng.Next(signupWindow);
            var roll = rng.NextDouble();
            var kind = roll < 0.74 ? CustomerKind.Regular : roll < 0.86 ? CustomerKind.Promo : roll < 0.94 ? CustomerKind.GiftPurchaser : CustomerKind.GiftRecipient;
            var first = Pick(SampleData.FirstNames);
            var last = Pick(SampleData.LastNames);
            var domain = Pick(SampleData.Domains);
            var n = index + 1;
            var email = rng.Next(3) switch
            {
                0 => $"{first.Ascii}.{last.Ascii}{n}@{domain}",
                1 => $"{first.Ascii}{last.Ascii}{n}@{domain}",
                _ => $"{first.Ascii}_{n}@{domain}",
            };
            if (Chance(0.05))
            {
                email = CaseVariant(email);
            }

            profiles.Add(NewProfile(index++, kind, day, first, last, email, null));
        }

        // Ids grow with signup time, as a database sequence would hand them out.
        profiles.Sort((a, b) => a.SignupDay != b.SignupDay ? a.SignupDay.CompareTo(b.SignupDay) : a.Index.CompareTo(b.Index));
        var next = 48_000 + rng.Next(1000);
        foreach (var p in profiles)
        {
            next += 1 + rng.Next(4);
            p.Id = next.ToString(CultureInfo.InvariantCulture);
        }
    }

    private SimCustomer NewProfile(int index, CustomerKind kind, int day, (string Name, string Ascii) first, (string Name, string Ascii) last, string email, SimLead? lead) => new()
    {
        Index = index,
        Kind = kind,
        SignupDay = day,
        First = first.Name,
        FirstAscii = first.Ascii,
        Last = last.Name,
        LastAscii = last.Ascii,
        Email = email,
        Domain = email[(email.IndexOf('@', StringComparison.Ordinal) + 1)..].ToLowerInvariant(),
        Activity = 0.03 + (rng.NextDouble() * 0.17),
        FromLead = lead,
    };

    // ---------------------------------------------------------------- one day

    private void SimulateDay(int d)
    {
        var date = startDate.AddDays(d);
        var dayMs = Ms(date);
        var dow = date.DayOfWeek;

        Nightly(d, dayMs + (2 * Hour));
        if (dow == DayOfWeek.Wednesday)
        {
            CompleteOrders(date, dayMs + (5 * Hour));
        }

        if (dow == DayOfWeek.Thursday)
        {
            AdjustSomeOrders(date, dayMs + (4 * Hour));
        }

        if (dow == DayOfWeek.Friday)
        {
            DeliveryReminders(date, dayMs + (6 * Hour) + (30 * Minute));
        }

        Daytime(d, date, dayMs);
        if (dow == DayOfWeek.Thursday)
        {
            WeeklyCycle(d, date, dayMs + (23 * Hour));
        }

        if (options.IncludeTooLongLine && d == totalDays / 2)
        {
            AddTooLongLine(dayMs + (13 * Hour) + (7 * Minute));
        }
    }

    /// <summary>02:00–03:00: the nightly jobs mark long-stopped accounts Dead and resume paused ones.</summary>
    private void Nightly(int d, long t)
    {
        foreach (var c in joined)
        {
            if (c.Status is "Stopped" or "Cancelled" && d - c.StatusDay > 56 && Chance(0.03))
            {
                t += Step();
                c.Status = "Dead";
                c.StatusDay = d;
                c.NextDelivery = null;
                c.Box = null;
                c.Schedule = null;
                attrs.Clear().Text("status", "Dead").Text("next_delivery", null).Text("box", null).Text("schedule", null);
                Add(t, Line(t, null, CustomerRef(c), attrs, null, null, level: Chance(0.5) ? "info" : null, msg: "nightly: account marked dead after 8 weeks inactive"));
            }
            else if (c.Status == "Stopped" && c.ResumeDay == d)
            {
                t += Step();
                c.ResumeDay = -1;
                c.Status = "Active";
                c.StatusDay = d;
                c.NextDelivery = NextDeliveryFrom(startDate.AddDays(d), c);
                attrs.Clear().Text("status", "Active").Text("next_delivery", c.NextDelivery);
                Add(t, Line(t, null, CustomerRef(c), attrs, null, null));
            }
            else if (c.Status == "Gift Recipient" && c.OrderState == "closed" && d - c.StatusDay > 42 && Chance(0.01))
            {
                t += Step();
                c.Status = "Dead";
                c.StatusDay = d;
                attrs.Clear().Text("status", "Dead").Text("next_delivery", null);
                c.NextDelivery = null;
                Add(t, Line(t, null, CustomerRef(c), attrs, null, null));
            }
        }
    }

    /// <summary>Wednesday 05:00: this week's open orders are charged (Order Completed) or fail.</summary>
    private void CompleteOrders(DateTime date, long t)
    {
        var week = WeekLabel(date);
        foreach (var c in joined)
        {
            if (c.OrderWeek != week || c.OrderState != "open")
            {
                continue;
            }

            t += Step();
            if (c.Kind == CustomerKind.GiftRecipient && c.Status == "Gift Recipient")
            {
                // The purchaser paid: the recipient's order just closes.
                c.OrderState = "closed";
                c.DeliveryWeek = week;
                attrs.Clear().Order(week, "closed");
                Add(t, Line(t, null, CustomerRef(c), attrs, null, null));
                continue;
            }

            if (Chance(0.03))
            {
                c.OrderState = "cancelled";
                attrs.Clear().Order(week, "cancelled");
                data.Clear().Text("week", week).Text("reason", "payment_failed");
                Add(t, Line(t, "Cancelled Order", CustomerRef(c), attrs, null, data));
                continue;
            }

            var order = BuildOrder(c, week);
            c.OrderState = "closed";
            c.DeliveryWeek = week;
            c.AddOns.Clear();
            attrs.Clear().Order(week, "closed");
            data.Clear().Text("payment", Pick(["card", "card", "card", "paypal", "apple_pay"]));
            Add(t, Line(t, "Order Completed", CustomerRef(c), attrs, order, data));
            lastOrders.Add((c, order));
        }
    }

    private readonly List<(SimCustomer Customer, SimOrder Order)> lastOrders = [];

    /// <summary>Thursday 04:00: support credits a few of Wednesday's orders; the same order id is logged again.</summary>
    private void AdjustSomeOrders(DateTime date, long t)
    {
        foreach (var (c, order) in lastOrders)
        {
            if (Chance(0.04))
            {
                t += Step();
                var adjusted = order with { DiscountCents = order.DiscountCents + 500 };
                data.Clear().Text("adjustment", "goodwill credit").Number("credit_cents", 500);
                Add(t, Line(t, "Order Completed", CustomerRef(c), null, adjusted, data));
            }
        }

        lastOrders.Clear();
        _ = date;
    }

    /// <summary>Friday 06:30: the live-only reminder for every box going out today.</summary>
    private void DeliveryReminders(DateTime date, long t)
    {
        var week = WeekLabel(date);
        foreach (var c in joined)
        {
            if (c.DeliveryWeek == week && c.Status is "Active" or "Gift Recipient" && Chance(0.85))
            {
                t += Step();
                data.Clear().Text("delivery_date", DateText(date)).Text("window", Pick(["8am–12pm", "12pm–4pm", "4pm–8pm"]));
                Add(t, Line(t, "Delivery Today Reminder Email Sent", CustomerRef(c), null, null, data));
            }
        }
    }

    /// <summary>Thursday 23:00: a new week begins; next week's orders open for customers due a box.</summary>
    private void WeeklyCycle(int d, DateTime date, long t)
    {
        var monday = date.AddDays(4);
        var week = WeekLabel(monday);
        var due = joined.Where(c => c.Status == "Active" && OnCadence(c, monday)).ToList();
        data.Clear().Number("orders_opened", due.Count);
        Add(t, Line(t, "Weekly cycle completed", Who.None, null, null, data, week: week));
        var step = Math.Max(1, Math.Min(200, (50 * Minute) / Math.Max(1, joined.Count)));
        t += Second;
        foreach (var c in joined)
        {
            if (c.Status != "Active")
            {
                continue;
            }

            t += step;
            if (OnCadence(c, monday))
            {
                c.OrderWeek = week;
                c.OrderState = "open";
                c.NextDelivery = DateText(monday.AddDays(4));
                c.AddOns.Clear();
                attrs.Clear().Order(week, "open").Text("next_delivery", c.NextDelivery);
                Add(t, Line(t, null, CustomerRef(c), attrs, null, null));
            }
            else if (c.OrderWeek is not null && Chance(0.25))
            {
                // Off-schedule week: some platforms clear the stale order explicitly.
                c.OrderWeek = null;
                c.OrderState = null;
                c.NextDelivery = NextDeliveryFrom(monday, c);
                attrs.Clear().Order(null, null).Text("next_delivery", c.NextDelivery);
                Add(t, Line(t, null, CustomerRef(c), attrs, null, null));
            }
        }

        _ = d;
    }

    /// <summary>08:00–22:00: signups, leads writing in, and customers using the site.</summary>
    private void Daytime(int d, DateTime date, long dayMs)
    {
        // Existing customers first (fixed order keeps the run deterministic), then today's newcomers.
        foreach (var c in joined)
        {
            var chance = c.Status switch
            {
                "Active" => c.Activity,
                "Gift Purchaser" => c.Activity * 0.15,
                "Gift Recipient" => c.Activity * 0.3,
                "Dead" => 0.002,
                _ => 0.02,
            };
            if (c.PromoActivationDay == d)
            {
                var t = DayTime(dayMs);
                data.Clear().Text("promo_code", c.PendingDiscount ?? Pick(SampleData.PromoCodes));
                Add(t, Line(t, "Promo account activation", CustomerRef(c), null, null, data));
                c.PromoActivationDay = -1;
            }
            else if (Chance(chance))
            {
                Session(c, d, date, DayTime(dayMs));
            }
        }

        while (profileCursor < profiles.Count && profiles[profileCursor].SignupDay == d)
        {
            var c = profiles[profileCursor++];
            var t = DayTime(dayMs);
            Signup(c, d, date, t);
            joined.Add(c);
            if (Chance(0.3))
            {
                Session(c, d, date, t + (2 * Minute) + rng.Next((int)(20 * Minute)));
            }
        }

        foreach (var lead in leads)
        {
            if (lead.FirstContactDay == d)
            {
                LeadWritesIn(lead, DayTime(dayMs), first: true);
            }
            else if (lead.FollowUpDay == d && (lead.ConvertDay < 0 || lead.ConvertDay > d))
            {
                LeadWritesIn(lead, DayTime(dayMs), first: false);
            }
        }
    }

    private void Signup(SimCustomer c, int d, DateTime date, long t)
    {
        c.Joined = true;
        c.StatusDay = d;
        summary.Customers++;
        if (c.FromLead is not null)
        {
            summary.LeadsConverted++;
        }

        c.LastLogged = Chance(0.85);
        c.PhoneLogged = Chance(0.4);
        if (c.PhoneLogged)
        {
            c.Phone = NewPhone();
        }

        var who = new Who(true, c.Id, c.Email, c.First, c.LastLogged ? c.Last : null, c.Phone);
        c.OptIn = !Chance(0.08);
        switch (c.Kind)
        {
            case CustomerKind.GiftPurchaser:
                c.Status = "Gift Purchaser";
                attrs.Clear().Text("status", c.Status).Bool("marketing_opt_in", c.OptIn);
                data.Clear().Text("source", "gift checkout");
                Add(t, Line(t, "Gift purchaser account activation", who, attrs, null, data));
                GiftPurchase(c, date, t + (3 * Minute) + rng.Next((int)(5 * Minute)));
                return;
            case CustomerKind.GiftRecipient:
            {
                c.Status = "Gift Recipient";
                c.Box = Pick(SampleData.Boxes);
                var monday = DeliveryMonday(date);
                c.OrderWeek = WeekLabel(monday);
                c.OrderState = "open";
                c.NextDelivery = DateText(monday.AddDays(4));
                attrs.Clear().Text("status", c.Status).Text("box", c.Box.Name).Text("next_delivery", c.NextDelivery)
                    .Order(c.OrderWeek, "open").Bool("marketing_opt_in", c.OptIn);
                // Created by the gift checkout job: a state change, no event.
                Add(t, Line(t, null, who, attrs, null, null, level: "info", msg: "gift: recipient account created"));
                return;
            }
        }

        c.Status = "Active";
        c.Box = Pick(SampleData.Boxes);
        SetSchedule(c, Pick(SampleData.Schedules));
        var deliveryMonday = DeliveryMonday(date);
        c.Phase = Mod(-WeekIndex(deliveryMonday), c.Cadence);
        c.OrderWeek = WeekLabel(deliveryMonday);
        c.OrderState = "open";
        c.NextDelivery = DateText(deliveryMonday.AddDays(4));
        attrs.Clear().Text("status", "Active").Text("schedule", c.Schedule).Text("box", c.Box.Name)
            .Text("next_delivery", c.NextDelivery).Order(c.OrderWeek, "open").Bool("marketing_opt_in", c.OptIn);
        if (c.Kind == CustomerKind.Promo)
        {
            var code = Pick(SampleData.PromoCodes);
            c.PendingDiscount = code;
            c.PromoActivationDay = d + 1 + rng.Next(3);
            data.Clear().Text("promo_code", code).Text("landing", "/promo/" + code.ToLowerInvariant());
            Add(t, Line(t, "New Promo Customer Signup", who, attrs, null, data));
            return;
        }

        data.Clear().Text("source", Pick(["web", "web", "mobile", "referral", "instagram"])).Text("plan", c.Schedule);
        Add(t, Line(t, "New Customer Signup", who, attrs, null, data));
        if (Chance(0.12))
        {
            var t2 = t + (4 * Minute);
            data.Clear().Text("week", c.OrderWeek).Text("box", c.Box.Name);
            Add(t2, Line(t2, "Customer created order from welcome page", CustomerRef(c), null, null, data));
        }
    }

    private void LeadWritesIn(SimLead lead, long t, bool first)
    {
        if (first)
        {
            lead.Appeared = true;
            summary.Leads++;
            data.Clear().Text("subject", Pick(SampleData.ContactSubjects)).Text("page", Pick(["/contact", "/faq", "/delivery-areas"]));
            var name = Chance(0.7) ? lead.First : null;
            Add(t, Line(t, "Submitted Contact Form", new Who(false, null, lead.Email, name, null, null), null, null, data));
            return;
        }

        // Follow-ups bring what the first form lacked: a name, a phone, sometimes a last name.
        var who = new Who(false, null, lead.Email, lead.First, Chance(0.6) ? lead.Last : null, Chance(0.5) ? NewPhone() : null);
        if (Chance(0.5))
        {
            data.Clear().Text("subject", Pick(SampleData.ContactSubjects));
            Add(t, Line(t, "Submitted Contact Form", who, null, null, data));
        }
        else
        {
            Add(t, Line(t, null, who, null, null, null, level: "info", msg: "newsletter: signup form"));
        }
    }

    /// <summary>A visit: log in, do one to three things, sometimes log out.</summary>
    private void Session(SimCustomer c, int d, DateTime date, long t)
    {
        var end = Ms(date) + (22 * Hour);
        var loginRoll = rng.NextDouble();
        if (loginRoll < 0.05)
        {
            data.Clear().Text("link_age_hours", (25 + rng.Next(200)).ToString(CultureInfo.InvariantCulture));
            Add(t, Line(t, "Login via expired magic link failed", CustomerRef(c), null, null, data));
            t += Minute + rng.Next((int)(3 * Minute));
            data.Clear().Text("device", Device());
            Add(t, Line(t, "Logged in via magic link", CustomerRef(c), null, null, data));
        }
        else
        {
            var evt = loginRoll < 0.5 ? "Logged in" : loginRoll < 0.8 ? "Logged in via cookie" : "Logged in via magic link";
            data.Clear().Text("device", Device());
            Add(t, Line(t, evt, CustomerRef(c), null, null, data));
        }

        var actions = 1 + rng.Next(3);
        for (var i = 0; i < actions && t < end - (10 * Minute); i++)
        {
            t += (20 * Second) + rng.Next((int)(6 * Minute));
            Act(c, d, date, t);
        }

        if (Chance(0.3) && t < end - (10 * Minute))
        {
            t += Minute + rng.Next((int)(5 * Minute));
            Add(t, Line(t, "Logged out", CustomerRef(c), null, null, null));
        }
    }

    private void Act(SimCustomer c, int d, DateTime date, long t)
    {
        switch (c.Status)
        {
            case "Active":
                ActActive(c, d, date, t);
                return;
            case "Gift Purchaser":
                ActGiftPurchaser(c, d, date, t);
                return;
            case "Gift Recipient":
                ActGiftRecipient(c, d, date, t);
                return;
            default:
                ActInactive(c, d, date, t);
                return;
        }
    }

    private void ActActive(SimCustomer c, int d, DateTime date, long t)
    {
        var currentWeek = CurrentWeekOf(date);
        var hasOpenOrder = c.OrderWeek == currentWeek && c.OrderState == "open";
        // Order edits only make sense while this week's order is open; otherwise pick among the rest.
        var roll = hasOpenOrder ? rng.Next(87) : 34 + rng.Next(53);
        switch (roll)
        {
            case < 10 when hasOpenOrder:
            {
                var from = Pick(SampleData.Vegetables);
                data.Clear().Text("from", from).Text("to", Pick(SampleData.Vegetables.Where(v => v != from).ToArray()));
                Add(t, Line(t, "Made a substitution", CustomerRef(c), null, null, data));
                break;
            }

            case < 14 when hasOpenOrder:
                data.Clear().Text("item", Pick(SampleData.Vegetables));
                Add(t, Line(t, "Made an un-substition", CustomerRef(c), null, null, data));
                break;
            case < 22 when hasOpenOrder:
            {
                var p = Pick(SampleData.Products);
                c.AddOns.Add(p);
                data.Clear().Text("sku", p.Sku).Text("name", p.Name).Number("price_cents", p.PriceCents).Text("week", currentWeek);
                Add(t, Line(t, "Added add-on to order", CustomerRef(c), null, null, data));
                break;
            }

            case < 26 when hasOpenOrder && c.AddOns.Count > 0:
            {
                var p = c.AddOns[^1];
                c.AddOns.RemoveAt(c.AddOns.Count - 1);
                data.Clear().Text("sku", p.Sku).Text("name", p.Name).Text("week", currentWeek);
                Add(t, Line(t, "Deleted item from order", CustomerRef(c), null, null, data));
                break;
            }

            case < 30 when hasOpenOrder:
            {
                data.Clear().Text("week", currentWeek).Text("prompt", "skip survey");
                Add(t, Line(t, "Customer thinking of skipping order", CustomerRef(c), null, null, data));
                if (Chance(0.5))
                {
                    SkipOrder(c, date, t + Minute + rng.Next((int)(4 * Minute)), currentWeek);
                }

                break;
            }

            case < 34 when hasOpenOrder:
                SkipOrder(c, date, t, currentWeek);
                break;
            case < 37:
            {
                var skipped = NextFriday(date.AddDays(7 * (1 + rng.Next(4))));
                data.Clear().Text("date", DateText(skipped));
                Add(t, Line(t, "Skipped Delivery on Schedule", CustomerRef(c), null, null, data));
                break;
            }

            case < 39:
            {
                var added = NextFriday(date.AddDays(7 * (1 + rng.Next(3))));
                data.Clear().Text("date", DateText(added)).Text("box", c.Box?.Name ?? "Large Veggie");
                Add(t, Line(t, "Added Delivery to Schedule", CustomerRef(c), null, null, data));
                break;
            }

            case < 44:
            {
                var from = c.Box;
                var to = Pick(SampleData.Boxes.Where(b => b != from).ToArray());
                c.Box = to;
                attrs.Clear().Text("box", to.Name);
                data.Clear().Text("from", from?.Name ?? "").Text("to", to.Name);
                Add(t, Line(t, roll < 42 ? "Customer changed box" : "Changed Box Subscription", CustomerRef(c), attrs, null, data));
                break;
            }

            case < 47:
            {
                var from = c.Schedule;
                SetSchedule(c, Pick(SampleData.Schedules.Where(s => s != from).ToArray()));
                c.Phase = Mod(-WeekIndex(DeliveryMonday(date)), c.Cadence);
                c.NextDelivery = NextDeliveryFrom(DeliveryMonday(date), c);
                attrs.Clear().Text("schedule", c.Schedule).Text("next_delivery", c.NextDelivery);
                data.Clear().Text("from", from ?? "").Text("to", c.Schedule!);
                Add(t, Line(t, "Changed Schedule", CustomerRef(c), attrs, null, data));
                break;
            }

            case < 49:
                SetSchedule(c, "weekly");
                c.Phase = 0;
                c.NextDelivery = DateText(DeliveryMonday(date).AddDays(4));
                attrs.Clear().Text("schedule", "weekly").Text("next_delivery", c.NextDelivery);
                data.Clear().Text("schedule", "weekly");
                Add(t, Line(t, "Reset Schedule", CustomerRef(c), attrs, null, data));
                break;
            case < 53:
                RecurringProduct(c, t);
                break;
            case < 56:
                data.Clear().Text("card_brand", Pick(["visa", "mastercard", "amex"])).Text("last4", rng.Next(10000).ToString("D4", CultureInfo.InvariantCulture));
                Add(t, Line(t, "Updated Payment Info", CustomerRef(c), null, null, data));
                break;
            case < 59:
                data.Clear().Text("notes", Pick(SampleData.ShippingNotes));
                Add(t, Line(t, "Updated Shipping Notes", CustomerRef(c), null, null, data));
                break;
            case < 62:
            {
                // Address forms often carry the phone too: a phone may first arrive here, or change.
                var withPhone = Chance(0.4);
                if (withPhone)
                {
                    c.Phone = NewPhone();
                    c.PhoneLogged = true;
                }

                var who = new Who(true, c.Id, c.Email, null, null, withPhone ? c.Phone : null);
                data.Clear().Text("city", Pick(SampleData.Cities)).Text("zip", (94000 + rng.Next(700)).ToString(CultureInfo.InvariantCulture));
                Add(t, Line(t, "Updated Address", who, null, null, data));
                break;
            }

            case < 63:
                data.Clear().Text("birthday", DateText(new DateTime(1950 + rng.Next(55), 1 + rng.Next(12), 1 + rng.Next(28), 0, 0, 0, DateTimeKind.Utc)));
                Add(t, Line(t, "Added Birthday", CustomerRef(c), null, null, data));
                break;
            case < 65:
                data.Clear().Text("via", "email link");
                Add(t, Line(t, "Reset Password", CustomerRef(c), null, null, data));
                break;
            case < 67:
                data.Clear().Text("channel", Pick(["email", "whatsapp", "facebook", "copy link"])).Text("referral_code", "REF-" + c.Id);
                Add(t, Line(t, "Shared with Friends", CustomerRef(c), null, null, data));
                break;
            case < 68:
                data.Clear().Text("code", "GC-" + rng.Next(100000, 999999).ToString(CultureInfo.InvariantCulture)).Number("amount_cents", Pick([2500L, 5000L, 10000L]));
                Add(t, Line(t, "Gift certificate used", CustomerRef(c), null, null, data));
                break;
            case < 70:
            {
                var code = Pick(SampleData.DiscountCodes);
                c.PendingDiscount = code;
                data.Clear().Text("code", code).Number("percent", code.EndsWith('5') ? 15 : 10);
                Add(t, Line(t, "Discount code used", CustomerRef(c), null, null, data));
                break;
            }

            case < 72:
                CustomerContactForm(c, t);
                break;
            case < 75 when Chance(0.35):
                ToggleOptIn(c, t);
                break;
            case < 77 when hasOpenOrder:
                c.OrderState = "cancelled";
                attrs.Clear().Order(currentWeek, "cancelled");
                data.Clear().Text("week", currentWeek).Text("reason", "customer request");
                Add(t, Line(t, "Cancelled Order", CustomerRef(c), attrs, null, data));
                break;
            case < 79 and >= 77 when Chance(0.25):
                Cancel(c, d, date, t);
                break;
            case < 81 and >= 79 when Chance(0.25):
                Pause(c, d, t);
                break;
            case < 83 and >= 81 when Chance(0.3):
                ChangeEmail(c, t);
                break;
            case < 83:
                data.Clear().Text("notes", Pick(SampleData.ShippingNotes));
                Add(t, Line(t, "Updated Shipping Notes", CustomerRef(c), null, null, data));
                break;
            case < 86:
                NameOrPhoneUpdate(c, t);
                break;
            default:
                GiftPurchase(c, date, t);
                break;
        }
    }

    private void ActInactive(SimCustomer c, int d, DateTime date, long t)
    {
        var roll = rng.Next(100);
        switch (roll)
        {
            case < 35:
                Reactivate(c, d, date, t);
                break;
            case < 50:
                data.Clear().Text("card_brand", Pick(["visa", "mastercard"])).Text("last4", rng.Next(10000).ToString("D4", CultureInfo.InvariantCulture));
                Add(t, Line(t, "Updated Payment Info", CustomerRef(c), null, null, data));
                break;
            case < 65:
                ToggleOptIn(c, t);
                break;
            case < 75:
                ChangeEmail(c, t);
                break;
            case < 85:
                CustomerContactForm(c, t);
                break;
            default:
                NameOrPhoneUpdate(c, t);
                break;
        }
    }

    private void ActGiftPurchaser(SimCustomer c, int d, DateTime date, long t)
    {
        var roll = rng.Next(100);
        switch (roll)
        {
            case < 40:
                GiftPurchase(c, date, t);
                break;
            case < 60:
                // The purchaser liked it and subscribes too.
                StartSubscription(c, d, date, t, "Customer created order from welcome page");
                break;
            case < 80:
                ToggleOptIn(c, t);
                break;
            default:
                CustomerContactForm(c, t);
                break;
        }
    }

    private void ActGiftRecipient(SimCustomer c, int d, DateTime date, long t)
    {
        var roll = rng.Next(100);
        switch (roll)
        {
            case < 45:
                StartSubscription(c, d, date, t, "Customer created order from welcome page");
                break;
            case < 70:
                data.Clear().Text("birthday", DateText(new DateTime(1960 + rng.Next(45), 1 + rng.Next(12), 1 + rng.Next(28), 0, 0, 0, DateTimeKind.Utc)));
                Add(t, Line(t, "Added Birthday", CustomerRef(c), null, null, data));
                break;
            case < 85:
                NameOrPhoneUpdate(c, t);
                break;
            default:
                ToggleOptIn(c, t);
                break;
        }
    }

    private void SkipOrder(SimCustomer c, DateTime date, long t, string week)
    {
        c.OrderState = "cancelled";
        c.NextDelivery = NextDeliveryFrom(DeliveryMonday(date).AddDays(7), c);
        attrs.Clear().Order(week, "cancelled").Text("next_delivery", c.NextDelivery);
        data.Clear().Text("week", week);
        Add(t, Line(t, "Order skipped", CustomerRef(c), attrs, null, data));
    }

    private void RecurringProduct(SimCustomer c, long t)
    {
        if (c.Recurring.Count == 0 || Chance(0.4))
        {
            var p = Pick(SampleData.Products);
            c.Recurring.Add(p);
            data.Clear().Text("sku", p.Sku).Text("name", p.Name).Number("qty", 1);
            Add(t, Line(t, "Added recurring product setting", CustomerRef(c), null, null, data));
        }
        else if (Chance(0.5))
        {
            var p = Pick(c.Recurring.ToArray());
            data.Clear().Text("sku", p.Sku).Number("qty", 2 + rng.Next(2));
            Add(t, Line(t, "Updated recurring product setting", CustomerRef(c), null, null, data));
        }
        else
        {
            var p = c.Recurring[^1];
            c.Recurring.RemoveAt(c.Recurring.Count - 1);
            data.Clear().Text("sku", p.Sku);
            Add(t, Line(t, "Removed recurring product setting", CustomerRef(c), null, null, data));
        }
    }

    private void CustomerContactForm(SimCustomer c, long t)
    {
        data.Clear().Text("subject", Pick(SampleData.ContactSubjects));
        if (Chance(0.25))
        {
            // Logged out, the form only knows the address: a "contact" that is this customer.
            Add(t, Line(t, "Submitted Contact Form", new Who(false, null, c.Email, c.First, null, null), null, null, data));
        }
        else
        {
            Add(t, Line(t, "Submitted Contact Form", CustomerRef(c), null, null, data));
        }
    }

    private void ToggleOptIn(SimCustomer c, long t)
    {
        c.OptIn = !c.OptIn;
        attrs.Clear().Bool("marketing_opt_in", c.OptIn);
        if (c.OptIn)
        {
            data.Clear().Text("via", Pick(["preference center", "account settings"]));
            Add(t, Line(t, "Re-subscribed to emails", CustomerRef(c), attrs, null, data));
        }
        else
        {
            data.Clear().Text("campaign", Pick(["weekly-menu", "recipes", "promo-spring", "newsletter"]));
            Add(t, Line(t, "Unsubscribed email", CustomerRef(c), attrs, null, data));
        }
    }

    private void Cancel(SimCustomer c, int d, DateTime date, long t)
    {
        c.Status = "Cancelled";
        c.StatusDay = d;
        c.CancelledOn = DateText(date);
        c.NextDelivery = null;
        attrs.Clear().Text("status", "Cancelled").Text("cancelled_on", c.CancelledOn).Text("next_delivery", null);
        if (c.OrderState == "open")
        {
            c.OrderState = "cancelled";
            attrs.Order(c.OrderWeek, "cancelled");
        }

        data.Clear().Text("reason", Pick(SampleData.CancelReasons));
        Add(t, Line(t, "Customer cancelled", CustomerRef(c), attrs, null, data));
    }

    private void Pause(SimCustomer c, int d, long t)
    {
        c.Status = "Stopped";
        c.StatusDay = d;
        c.NextDelivery = null;
        c.ResumeDay = Chance(0.5) ? d + 14 + rng.Next(42) : -1;
        attrs.Clear().Text("status", "Stopped").Text("next_delivery", null);
        if (c.OrderState == "open")
        {
            c.OrderState = "cancelled";
            attrs.Order(c.OrderWeek, "cancelled");
        }

        // Pausing is a settings change with no catalogue event: a state change only.
        Add(t, Line(t, null, CustomerRef(c), attrs, null, null, level: "info", msg: "subscription paused by customer"));
    }

    private void Reactivate(SimCustomer c, int d, DateTime date, long t)
    {
        if (c.Status == "Dead")
        {
            StartSubscription(c, d, date, t, "Customer created order from welcome page");
            return;
        }

        c.Status = "Active";
        c.StatusDay = d;
        c.ResumeDay = -1;
        c.Box ??= Pick(SampleData.Boxes);
        SetSchedule(c, c.Schedule ?? "weekly");
        c.Phase = Mod(-WeekIndex(DeliveryMonday(date)), c.Cadence);
        c.NextDelivery = DateText(DeliveryMonday(date).AddDays(4));
        attrs.Clear().Text("status", "Active").Text("next_delivery", c.NextDelivery).Text("box", c.Box.Name).Text("schedule", c.Schedule);
        if (c.CancelledOn is not null)
        {
            // Coming back clears the cancellation date.
            c.CancelledOn = null;
            attrs.Text("cancelled_on", null);
        }

        data.Clear().Text("schedule", c.Schedule!);
        Add(t, Line(t, "Reset Schedule", CustomerRef(c), attrs, null, data));
    }

    private void StartSubscription(SimCustomer c, int d, DateTime date, long t, string evt)
    {
        c.Status = "Active";
        c.StatusDay = d;
        c.Box ??= Pick(SampleData.Boxes);
        SetSchedule(c, Pick(SampleData.Schedules));
        var monday = DeliveryMonday(date);
        c.Phase = Mod(-WeekIndex(monday), c.Cadence);
        c.OrderWeek = WeekLabel(monday);
        c.OrderState = "open";
        c.NextDelivery = DateText(monday.AddDays(4));
        attrs.Clear().Text("status", "Active").Text("schedule", c.Schedule).Text("box", c.Box.Name)
            .Text("next_delivery", c.NextDelivery).Order(c.OrderWeek, "open");
        if (c.CancelledOn is not null)
        {
            c.CancelledOn = null;
            attrs.Text("cancelled_on", null);
        }

        data.Clear().Text("week", c.OrderWeek).Text("box", c.Box.Name);
        Add(t, Line(t, evt, CustomerRef(c), attrs, null, data));
    }

    private void GiftPurchase(SimCustomer c, DateTime date, long t)
    {
        var (recipient, _) = Pick(SampleData.FirstNames);
        var box = Pick(SampleData.Boxes);
        data.Clear().Text("recipient", recipient).Text("box", box.Name).Text("delivery_date", DateText(DeliveryMonday(date).AddDays(4)));
        SimOrder? order = null;
        if (Chance(0.75))
        {
            var gift = new SampleData.Product("GIFT-" + box.Sku, "Gift Box: " + box.Name, box.PriceCents + 500, "gift");
            var items = new List<(SampleData.Product, int)> { (gift, 1) };
            if (Chance(0.3))
            {
                items.Add((new SampleData.Product("CARD", "Greeting Card", 399, "gift"), 1));
            }

            order = new SimOrder(NextOrderId(), WeekLabel(date), 0, 0, 0, items);
        }

        Add(t, Line(t, "Gift Box Purchase", CustomerRef(c), null, order, data));
    }

    private void ChangeEmail(SimCustomer c, long t)
    {
        c.EmailChanges++;
        var old = c.Email;
        // Sometimes only the case changes (the same mailbox, typed differently).
        c.Email = Chance(0.3)
            ? CaseVariant(old)
            : $"{c.FirstAscii}.{c.LastAscii}.{c.Index + 1}.{c.EmailChanges}@{Pick(SampleData.Domains)}";
        Add(t, Line(t, null, CustomerRef(c), null, null, null, level: "info", msg: "account: email address updated"));
    }

    private void NameOrPhoneUpdate(SimCustomer c, long t)
    {
        var roll = rng.Next(4);
        Who who;
        switch (roll)
        {
            case 0:
                c.Phone = NewPhone();
                c.PhoneLogged = true;
                who = new Who(true, c.Id, c.Email, null, null, c.Phone);
                break;
            case 1 when !c.LastLogged:
                c.LastLogged = true;
                who = new Who(true, c.Id, c.Email, c.First, c.Last, null);
                break;
            case 1:
            case 2:
                // A changed last name (marriage, a typo fixed).
                var (last, _) = Pick(SampleData.LastNames);
                c.Last = last;
                c.LastLogged = true;
                who = new Who(true, c.Id, c.Email, c.First, c.Last, null);
                break;
            default:
                // A short first name the person prefers.
                c.First = c.First.Length > 3 ? c.First[..3] : c.First + "ie";
                who = new Who(true, c.Id, c.Email, c.First, null, null);
                break;
        }

        Add(t, Line(t, null, who, null, null, null, level: "info", msg: "account: profile updated"));
    }

    private SimOrder BuildOrder(SimCustomer c, string week)
    {
        var box = c.Box ?? SampleData.Boxes[1];
        var items = new List<(SampleData.Product, int)> { (new SampleData.Product(box.Sku, box.Name, box.PriceCents, "box"), 1) };
        foreach (var group in c.AddOns.GroupBy(p => p.Sku))
        {
            items.Add((group.First(), group.Count()));
        }

        foreach (var p in c.Recurring)
        {
            items.Add((p, 1));
        }

        var subtotal = items.Sum(i => i.Item1.PriceCents * i.Item2);
        var shipping = subtotal >= 5000 ? 0 : 500;
        var tax = items.Where(i => i.Item1.Category is "flowers").Sum(i => i.Item1.PriceCents * i.Item2 * 8 / 100);
        long discount = 0;
        if (c.PendingDiscount is { } code)
        {
            discount = subtotal * (code.EndsWith('5') ? 15 : 10) / 100;
            c.PendingDiscount = null;
        }

        return new SimOrder(NextOrderId(), week, shipping, tax, discount, items);
    }

    // ---------------------------------------------------------------- noise and bad lines

    private void AddNoiseAndBadLines(int d)
    {
        var dayMs = Ms(startDate.AddDays(d));
        var real = realLinesToday;
        var noise = RandomRound(real * options.NoiseRate / (1 - options.NoiseRate));
        for (var i = 0; i < noise; i++)
        {
            var t = dayMs + extraRng.NextInt64(24 * Hour);
            var (level, template) = PickExtra(SampleData.Noise);
            var msg = string.Format(CultureInfo.InvariantCulture, template, extraRng.Next(2, 900), extraRng.Next(10));
            summary.NoiseLines++;
            dayLines.Add((t, seq++, Line(t, null, Who.None, null, null, null, level: level, msg: msg, countEvent: false, core: false)));
        }

        var bad = RandomRound(real * options.BadLineRate);
        for (var i = 0; i < bad; i++)
        {
            var t = dayMs + (7 * Hour) + extraRng.NextInt64(15 * Hour);
            var reason = BadReasons[badCounter++ % BadReasons.Length];
            dayLines.Add((t, seq++, BadLine(reason, t)));
            summary.BadLines++;
            summary.BadLinesByReason[reason] = summary.BadLinesByReason.GetValueOrDefault(reason) + 1;
        }
    }

    private string BadLine(string reason, long t)
    {
        var c = joined.Count > 0 ? joined[extraRng.Next(joined.Count)] : null;
        var id = c?.Id ?? "48000";
        var email = c?.Email ?? "nobody@example.com";
        var at = email.IndexOf('@', StringComparison.Ordinal);
        var date = FromMs(t);
        var ts = $"\"ts\":\"{Ts(t)}\"";
        var tenant = options.WriteTenantKey ? $"\"tenant\":\"{options.Tenant}\"" : null;
        var idPart = ChanceExtra(0.5) ? $"\"id\":\"{NextExtraId()}\"" : null;
        var who = $"\"customer\":{{\"id\":\"{id}\",\"email\":\"{email}\"}}";
        var variant = extraRng.Next(4);
        return reason switch
        {
            "invalid_json" => variant switch
            {
                // A line cut short by a crash mid-write.
                0 => Obj(ts, tenant, idPart, "\"event\":\"Logged in\"", who)[..^(4 + extraRng.Next(10))],
                1 => $"{Ts(t)} ERROR worker crashed: System.NullReferenceException at Kiva.Jobs.Runner.Run()",
                2 => $"[{Obj(ts, "\"event\":\"Logged in\"")}]",
                _ => Obj(ts, tenant, idPart, "\"event\":\"Logged out\"", who)[..^1] + ",}",
            },
            "invalid_ts" => variant switch
            {
                0 => Obj($"\"ts\":\"{Ts(t).Replace('T', ' ').TrimEnd('Z')}\"", tenant, idPart, "\"event\":\"Logged in\"", who),
                1 => Obj(tenant, idPart, "\"event\":\"Logged out\"", who),
                2 => Obj($"\"ts\":\"{Ts(t).TrimEnd('Z')}\"", tenant, idPart, "\"event\":\"Updated Payment Info\"", who),
                _ => Obj($"\"ts\":{t / 1000}", tenant, idPart, "\"event\":\"Logged in via cookie\"", who),
            },
            "invalid_entry" => variant switch
            {
                0 => Obj(ts, tenant, idPart, "\"event\":\"Submitted Contact Form\"", who, $"\"contact\":{{\"email\":\"{email}\"}}"),
                1 => Obj(ts, tenant, idPart, "\"event\":\"Logged in\"", $"\"customer\":{{\"email\":\"{email}\"}}"),
                2 => Obj(ts, tenant, idPart, "\"event\":\"Order Completed\"", who,
                    $"\"order\":{{\"id\":\"o-x{++extraIdCounter}\",\"total_cents\":3999,\"items\":[{{\"sku\":\"LVB\",\"name\":\"Large Veggie\",\"qty\":1,\"price_cents\":3999,\"category\":\"box\"}}]}}"),
                _ => Obj(ts, tenant, idPart, who, $"\"attrs\":{{\"order\":{{\"week\":\"{WeekLabel(date)}\",\"state\":\"pending\"}}}}"),
            },
            "invalid_email" => variant switch
            {
                0 => Obj(ts, tenant, idPart, "\"event\":\"Submitted Contact Form\"", $"\"contact\":{{\"email\":\"{email.Replace('@', ' ')}\"}}"),
                1 => Obj(ts, tenant, idPart, "\"event\":\"Logged in\"", $"\"customer\":{{\"id\":\"{id}\",\"email\":\"{email[..(at + 1)]}localhost\"}}"),
                2 => Obj(ts, tenant, idPart, "\"event\":\"Submitted Contact Form\"", "\"contact\":{\"email\":\"jane doe@example.com\",\"first_name\":\"Jane\"}"),
                _ => Obj(ts, tenant, idPart, $"\"customer\":{{\"id\":\"{id}\",\"email\":\"{email.Replace("@", "@@", StringComparison.Ordinal)}\"}}"),
            },
            "unknown_status" => Obj(ts, tenant, idPart, who, $"\"attrs\":{{\"status\":\"{PickExtra(["Paused", "active", "Suspended", "On Hold"])}\"}}"),
            _ => variant switch
            {
                0 => Obj(ts, tenant, idPart, who, $"\"attrs\":{{\"next_delivery\":\"{date.Year}-02-30\"}}"),
                1 => Obj(ts, tenant, idPart, "\"event\":\"Customer cancelled\"", who,
                    $"\"attrs\":{{\"status\":\"Cancelled\",\"cancelled_on\":\"{date.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture)}\"}}"),
                2 => Obj(ts, tenant, idPart, "\"event\":\"Weekly cycle completed\"", $"\"week\":\"{date.Year}-W54\""),
                _ => Obj(ts, tenant, idPart, who, $"\"attrs\":{{\"order\":{{\"week\":\"{date.Year}-W7\",\"state\":\"open\"}}}}"),
            },
        };
    }

    /// <summary>A JSON object from member texts; null members are left out.</summary>
    private static string Obj(params string?[] members) => "{" + string.Join(',', members.Where(m => m is not null)) + "}";

    private void AddTooLongLine(long t)
    {
        var c = joined.Count > 0 ? joined[^1] : null;
        var notes = new StringBuilder(TooLongBytes + 64);
        while (notes.Length < TooLongBytes)
        {
            notes.Append("Please leave the box by the garden shed, not the porch. ");
        }

        data.Clear().Text("notes", notes.ToString());
        var who = c is null ? new Who(false, null, "nobody@example.com", null, null, null) : new Who(true, c.Id, c.Email, null, null, null);
        var line = Line(t, "Updated Shipping Notes", who, null, null, data, countEvent: false, core: false);
        dayLines.Add((t, seq++, line));
        summary.BadLines++;
        summary.BadLinesByReason["too_long"] = summary.BadLinesByReason.GetValueOrDefault("too_long") + 1;
    }

    // ---------------------------------------------------------------- writing a line

    private void Add(long t, string line)
    {
        dayLines.Add((t, seq++, line));
        realLinesToday++;
    }

    private string Line(long t, string? evt, Who who, JsonFields? attrsFields, SimOrder? order, JsonFields? dataFields,
        string? week = null, string? level = null, string? msg = null, bool countEvent = true, bool core = true)
    {
        buffer.Clear();
        json.Reset(buffer);
        json.WriteStartObject();
        Span<char> ts = stackalloc char[24];
        FormatTs(t, ts);
        json.WriteString("ts", ts);
        if (options.WriteTenantKey)
        {
            json.WriteString("tenant", options.Tenant);
        }

        if (core && options.IdRate > 0 && idRng.NextDouble() < options.IdRate)
        {
            json.WriteString("id", NextId());
        }

        if (level is not null)
        {
            json.WriteString("level", level);
        }

        if (msg is not null)
        {
            json.WriteString("msg", msg);
        }

        if (evt is not null)
        {
            json.WriteString("event", evt);
            if (countEvent)
            {
                if (evt != "Weekly cycle completed")
                {
                    summary.Events++;
                }

                summary.EventsByName[evt] = summary.EventsByName.GetValueOrDefault(evt) + 1;
            }
        }

        if (week is not null)
        {
            json.WriteString("week", week);
        }

        if (who.IsSome)
        {
            json.WriteStartObject(who.IsCustomer ? "customer" : "contact");
            if (who.Id is not null)
            {
                json.WriteString("id", who.Id);
            }

            json.WriteString("email", who.Email);
            if (who.First is not null)
            {
                json.WriteString("first_name", who.First);
            }

            if (who.Last is not null)
            {
                json.WriteString("last_name", who.Last);
            }

            if (who.Phone is not null)
            {
                json.WriteString("phone", who.Phone);
            }

            json.WriteEndObject();
        }

        if (attrsFields is { IsEmpty: false })
        {
            json.WritePropertyName("attrs");
            attrsFields.WriteTo(json);
        }

        if (order is not null)
        {
            json.WriteStartObject("order");
            json.WriteString("id", order.Id);
            json.WriteString("week", order.Week);
            json.WriteNumber("total_cents", order.TotalCents);
            json.WriteString("currency", "USD");
            json.WriteNumber("shipping_cents", order.ShippingCents);
            json.WriteNumber("tax_cents", order.TaxCents);
            json.WriteNumber("discount_cents", order.DiscountCents);
            json.WriteStartArray("items");
            foreach (var (p, qty) in order.Items)
            {
                json.WriteStartObject();
                json.WriteString("sku", p.Sku);
                json.WriteString("name", p.Name);
                json.WriteNumber("qty", qty);
                json.WriteNumber("price_cents", p.PriceCents);
                json.WriteString("category", p.Category);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        if (dataFields is { IsEmpty: false })
        {
            json.WritePropertyName("data");
            dataFields.WriteTo(json);
        }

        json.WriteEndObject();
        json.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Most entries name a customer by id and current email only; some also repeat the name.</summary>
    private Who CustomerRef(SimCustomer c) =>
        Chance(0.15) ? new Who(true, c.Id, c.Email, c.First, c.LastLogged ? c.Last : null, null) : new Who(true, c.Id, c.Email, null, null, null);

    // ---------------------------------------------------------------- helpers

    // Platform ids look random: a bijective scramble of a counter, so they never repeat.
    private string NextId() => idPrefix + unchecked((ulong)++idCounter * 0x9E3779B97F4A7C15UL).ToString("x16", CultureInfo.InvariantCulture);

    private string NextExtraId() => idPrefix + unchecked((ulong)(++extraIdCounter + (1L << 40)) * 0x9E3779B97F4A7C15UL).ToString("x16", CultureInfo.InvariantCulture);

    private string NextOrderId() => "o-" + (100_000 + ++orderCounter).ToString(CultureInfo.InvariantCulture);

    private string NewPhone() => string.Create(CultureInfo.InvariantCulture, $"+1-{Pick(["415", "510", "650", "628", "925"])}-555-{rng.Next(10000):D4}");

    private string Device() => Pick(["ios", "android", "web-desktop", "web-mobile"]);

    private static void SetSchedule(SimCustomer c, string schedule)
    {
        c.Schedule = schedule;
        c.Cadence = schedule switch
        {
            "bi-weekly" => 2,
            "every 3 weeks" => 3,
            "every 6 weeks" => 6,
            _ => 1,
        };
    }

    private bool OnCadence(SimCustomer c, DateTime monday) => Mod(WeekIndex(monday) + c.Phase, c.Cadence) == 0;

    private int WeekIndex(DateTime day) => (int)Math.Floor((day - startDate).TotalDays / 7);

    private static int Mod(int a, int m) => ((a % m) + m) % m;

    private string NextDeliveryFrom(DateTime from, SimCustomer c)
    {
        var monday = from.AddDays(-(((int)from.DayOfWeek + 6) % 7));
        for (var i = 0; i < 12; i++)
        {
            if (OnCadence(c, monday.AddDays(7 * i)))
            {
                return DateText(monday.AddDays((7 * i) + 4));
            }
        }

        return DateText(monday.AddDays(4));
    }

    /// <summary>The Monday of the week whose box a change made on <paramref name="date"/> affects:
    /// this week until Tuesday (orders are charged on Wednesday), else next week.</summary>
    private static DateTime DeliveryMonday(DateTime date)
    {
        var sinceMonday = ((int)date.DayOfWeek + 6) % 7;
        var monday = date.AddDays(-sinceMonday);
        return sinceMonday <= 1 ? monday : monday.AddDays(7);
    }

    /// <summary>The tenant's current week on <paramref name="date"/> (daytime): the cycle on Thursday night moves it on.</summary>
    private static string CurrentWeekOf(DateTime date)
    {
        var sinceMonday = ((int)date.DayOfWeek + 6) % 7;
        return WeekLabel(sinceMonday >= 4 ? date.AddDays(7) : date);
    }

    private static DateTime NextFriday(DateTime date) => date.AddDays(((int)DayOfWeek.Friday - (int)date.DayOfWeek + 7) % 7);

    private static string WeekLabel(DateTime date) =>
        string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(date):D4}-W{ISOWeek.GetWeekOfYear(date):D2}");

    private static string DateText(DateTime date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static long Ms(DateTime date) => (date.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    private static DateTime FromMs(long ms) => new(DateTime.UnixEpoch.Ticks + (ms * TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    private static string Ts(long ms)
    {
        Span<char> buffer = stackalloc char[24];
        FormatTs(ms, buffer);
        return new string(buffer);
    }

    /// <summary>Writes "yyyy-MM-ddTHH:mm:ss.fffZ" (24 chars) without the culture machinery: it runs for every line.</summary>
    private static void FormatTs(long ms, Span<char> destination)
    {
        var dt = FromMs(ms);
        Two(destination, 0, dt.Year / 100);
        Two(destination, 2, dt.Year % 100);
        destination[4] = '-';
        Two(destination, 5, dt.Month);
        destination[7] = '-';
        Two(destination, 8, dt.Day);
        destination[10] = 'T';
        Two(destination, 11, dt.Hour);
        destination[13] = ':';
        Two(destination, 14, dt.Minute);
        destination[16] = ':';
        Two(destination, 17, dt.Second);
        destination[19] = '.';
        var milli = dt.Millisecond;
        destination[20] = (char)('0' + (milli / 100));
        Two(destination, 21, milli % 100);
        destination[23] = 'Z';

        static void Two(Span<char> d, int at, int value)
        {
            d[at] = (char)('0' + (value / 10));
            d[at + 1] = (char)('0' + (value % 10));
        }
    }

    private long DayTime(long dayMs)
    {
        // Busier around lunch and the evening: the mean of two uniform draws over 08:00–21:00.
        var span = 13 * Hour;
        return dayMs + (8 * Hour) + ((rng.NextInt64(span) + rng.NextInt64(span)) / 2);
    }

    private long Step() => 200 + rng.Next(3000);

    private int RandomRound(double x)
    {
        var whole = (int)Math.Floor(x);
        return whole + (extraRng.NextDouble() < x - whole ? 1 : 0);
    }

    private bool ChanceExtra(double p) => extraRng.NextDouble() < p;

    private T PickExtra<T>(IReadOnlyList<T> items) => items[extraRng.Next(items.Count)];

    private bool Chance(double p) => rng.NextDouble() < p;

    private T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    private string CaseVariant(string email)
    {
        var at = email.IndexOf('@', StringComparison.Ordinal);
        var variant = char.ToUpperInvariant(email[0]) + email[1..(at + 1)] + char.ToUpperInvariant(email[at + 1]) + email[(at + 2)..];
        if (variant == email)
        {
            variant = email.ToLowerInvariant();
        }

        if (variant == email)
        {
            variant = email.ToUpperInvariant();
        }

        return variant;
    }
}
