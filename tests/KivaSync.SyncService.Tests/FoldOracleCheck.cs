using System.Globalization;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Subscriptions;
using KivaSync.Testing.Oracle;
using StackExchange.Redis;
using F = KivaSync.SyncService.State.ContactSnapshot.Fields;

namespace KivaSync.SyncService.Tests;

/// <summary>Compares a tenant's folded Redis state (after ingest, before any sync) with what the contract
/// oracle says its AC account must show: contacts, custom fields, opt-in, order tag, queued events, orders, counters.</summary>
internal static class FoldOracleCheck
{
    /// <summary>Every difference, one line each; empty when the fold agrees with the oracle.
    /// With <paramref name="eventOrder"/> false events are compared as multisets (files shipped out of ts order).</summary>
    public static async Task<List<string>> DiffAsync(IDatabase db, string tenant, ExpectedAccount expected, bool eventOrder)
    {
        var diffs = new List<string>();
        var p = $"ks:{{{tenant}}}:";
        var customers = (await db.SetMembersAsync(p + "customers")).Select(v => v.ToString()).ToHashSet(StringComparer.Ordinal);
        var leads = (await db.SetMembersAsync(p + "leads")).Select(v => v.ToString()).ToHashSet(StringComparer.Ordinal);
        var meta = (await db.HashGetAllAsync(p + "meta")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);
        var week = meta.GetValueOrDefault("week");
        if (week is null && meta.TryGetValue("newest_ts", out var newest))
        {
            var utc = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(newest, CultureInfo.InvariantCulture)).UtcDateTime;
            week = string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(utc):D4}-W{ISOWeek.GetWeekOfYear(utc):D2}");
        }

        if (week != expected.CurrentWeek)
        {
            diffs.Add($"current week {week} != {expected.CurrentWeek}");
        }

        var wantCustomers = expected.Contacts.Where(c => !c.IsLead).Select(c => c.CustomerId!).ToHashSet(StringComparer.Ordinal);
        var wantLeads = expected.Contacts.Where(c => c.IsLead).Select(c => c.Email.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        foreach (var extra in customers.Except(wantCustomers))
        {
            diffs.Add($"customer {extra} in Redis, not in the oracle");
        }

        foreach (var extra in leads.Except(wantLeads))
        {
            diffs.Add($"lead {extra} in Redis, not in the oracle");
        }

        foreach (var want in expected.Contacts)
        {
            var member = want.IsLead ? "l:" + want.Email.ToLowerInvariant() : "c:" + want.CustomerId;
            if (want.IsLead ? !leads.Contains(member[2..]) : !customers.Contains(member[2..]))
            {
                diffs.Add($"{member} missing from {(want.IsLead ? "leads" : "customers")}");
            }

            var hash = (await db.HashGetAllAsync(p + member)).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);
            if (hash.Count == 0)
            {
                diffs.Add($"{member} has no hash");
                continue;
            }

            Check(member, "email", want.Email, hash.GetValueOrDefault(F.Email));
            Check(member, "first name", want.FirstName, hash.GetValueOrDefault(F.FirstName));
            Check(member, "last name", want.LastName, hash.GetValueOrDefault(F.LastName));
            Check(member, "phone", want.Phone, hash.GetValueOrDefault(F.Phone));
            if (!want.IsLead)
            {
                Check(member, "status", want.Fields.GetValueOrDefault(ContractOracle.FieldStatus), hash.GetValueOrDefault(F.Status));
                Check(member, "next delivery", want.Fields.GetValueOrDefault(ContractOracle.FieldNextDelivery), hash.GetValueOrDefault(F.NextDelivery));
                Check(member, "cancelled on", want.Fields.GetValueOrDefault(ContractOracle.FieldCancelledOn), hash.GetValueOrDefault(F.CancelledOn));
                Check(member, "schedule", want.Fields.GetValueOrDefault(ContractOracle.FieldSchedule), hash.GetValueOrDefault(F.Schedule));
                Check(member, "box", want.Fields.GetValueOrDefault(ContractOracle.FieldBox), hash.GetValueOrDefault(F.Box));
                Check(member, "opt-in", want.MarketingOptIn switch { true => "1", false => "0", null => null }, hash.GetValueOrDefault(F.OptIn));
                var ow = hash.GetValueOrDefault(F.OrderWeek);
                var tag = !string.IsNullOrEmpty(ow) && ow == week
                    ? hash.GetValueOrDefault(F.OrderState) switch { "open" => ContractOracle.OpenOrder, "closed" => ContractOracle.ClosedOrder, _ => ContractOracle.CancelledOrder }
                    : ContractOracle.NoOrder;
                Check(member, "order tag", want.OrderTag, tag);
            }

            var queued = (await db.ListRangeAsync(p + "ev:" + member)).Select(v => v.ToString()).ToList();
            var wanted = want.Events.Select(e => e.EventData + "\n" + e.AcName).ToList();
            if (!eventOrder)
            {
                queued.Sort(StringComparer.Ordinal);
                wanted.Sort(StringComparer.Ordinal);
            }

            if (!queued.SequenceEqual(wanted))
            {
                var missing = wanted.Except(queued).Take(3);
                var extra = queued.Except(wanted).Take(3);
                diffs.Add($"{member} events: {queued.Count} queued, {wanted.Count} expected; missing [{string.Join(" | ", missing).Replace('\n', '/')}] extra [{string.Join(" | ", extra).Replace('\n', '/')}]");
            }
        }

        // Orders: per customer, the ids, source and the latest amounts.
        foreach (var (orderId, order) in expected.Orders)
        {
            var okey = p + "o:" + order.CustomerId;
            var json = await db.HashGetAsync(okey, orderId);
            if (json.IsNull)
            {
                diffs.Add($"order {orderId} of {order.CustomerId} missing");
                continue;
            }

            var stored = PendingOrder.FromJson(json!);
            var src = await db.HashGetAsync(okey, "src:" + orderId);
            if (src.ToString() != order.Source.ToString(CultureInfo.InvariantCulture))
            {
                diffs.Add($"order {orderId} source {src} != {order.Source}");
            }

            if (stored.TotalCents != order.TotalCents || stored.Items.Count != order.Items.Count)
            {
                diffs.Add($"order {orderId} total {stored.TotalCents}/{stored.Items.Count} items != {order.TotalCents}/{order.Items.Count}");
            }
        }

        var storedOrders = 0;
        foreach (var cid in customers)
        {
            storedOrders += (await db.HashKeysAsync(p + "o:" + cid)).Count(k => !k.ToString().Contains(':', StringComparison.Ordinal));
        }

        if (storedOrders != expected.Orders.Count)
        {
            diffs.Add($"{storedOrders} orders stored, {expected.Orders.Count} expected");
        }

        // Recurring payments: every subscriber's, read from the folded state with the service's mapping, equals the
        // oracle's; nothing has been sent, so suppressAutomations is true unless a live entry changed a value.
        var pendingRps = (await db.SetMembersAsync(p + "rpp")).Select(v => v.ToString()).ToHashSet(StringComparer.Ordinal);
        foreach (var cid in customers)
        {
            var snapshot = ContactSnapshot.From("c:" + cid, await db.HashGetAllAsync(p + "c:" + cid))!;
            var got = SubscriberSnapshot.Map(snapshot);
            var want = expected.RecurringPayments.GetValueOrDefault(cid);
            diffs.AddRange(RecurringPaymentCheck.Diff(cid, want, got is null ? null : RecurringPaymentCheck.Fields(got, SubscriberSnapshot.SuppressAutomations(snapshot))));
            if ((want is not null) != pendingRps.Contains(cid))
            {
                diffs.Add($"c:{cid} recurring payment pending: {pendingRps.Contains(cid)}, subscriber: {want is not null}");
            }
        }

        // Counters.
        Check("meta", "accepted", expected.AcceptedEntries.ToString(CultureInfo.InvariantCulture), meta.GetValueOrDefault("accepted", "0"));
        var rejects = (await db.HashGetAllAsync(p + "rejects")).ToDictionary(e => e.Name.ToString(), e => (int)e.Value, StringComparer.Ordinal);
        foreach (var reason in ContractOracle.RejectReasons)
        {
            if (rejects.GetValueOrDefault(reason) != expected.RejectedByReason.GetValueOrDefault(reason))
            {
                diffs.Add($"rejects {reason}: {rejects.GetValueOrDefault(reason)} != {expected.RejectedByReason.GetValueOrDefault(reason)}");
            }
        }

        var unknown = (await db.HashGetAllAsync(p + "unknown_events")).ToDictionary(e => e.Name.ToString(), e => (int)e.Value, StringComparer.Ordinal);
        foreach (var name in unknown.Keys.Union(expected.UnknownEvents.Keys))
        {
            if (unknown.GetValueOrDefault(name) != expected.UnknownEvents.GetValueOrDefault(name))
            {
                diffs.Add($"unknown event {name}: {unknown.GetValueOrDefault(name)} != {expected.UnknownEvents.GetValueOrDefault(name)}");
            }
        }

        Check("meta", "historical not sent", expected.HistoricalEventsNotSent.ToString(CultureInfo.InvariantCulture), meta.GetValueOrDefault("ev_historical_not_sent", "0"));
        Check("meta", "without contact", expected.EventsWithoutContact.ToString(CultureInfo.InvariantCulture), meta.GetValueOrDefault("ev_without_contact", "0"));
        return diffs;

        void Check(string member, string what, string? want, string? got)
        {
            if (!string.Equals(want, got, StringComparison.Ordinal))
            {
                diffs.Add($"{member} {what}: \"{got}\" != expected \"{want}\"");
            }
        }
    }
}
