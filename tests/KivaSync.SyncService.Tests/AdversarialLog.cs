using System.Globalization;
using System.Text.Json;

namespace KivaSync.SyncService.Tests;

/// <summary>
/// A small, deterministic log that stays within the contract (one file, ts order) but packs in what the sample
/// generator rarely writes: few ids and emails, so leads turn customers, customers move to leads' and other
/// customers' former addresses and back, contact forms use former emails; case variants, null clears, equal ts,
/// weekly cycles, same order id twice, unknown events, duplicate and bad lines, CRLF, blank lines, odd data JSON.
/// Two customers never share an email at one time (the contract leaves that open).
/// </summary>
internal static class AdversarialLog
{
    private static readonly string[] Events = ["Logged in", "Made a substitution", "Submitted Contact Form", "Customer cancelled", "Delivery Today Reminder Email Sent", "Not In Catalogue", "Order Completed", "Gift Box Purchase"];
    private static readonly string[] Data =
    [
        "1", "1.0", "-0", "1e2", "1E+2", "\"\\u00e9\\\"q\\\\ \\/ \\u2028\"", "\"é – 😀\"", "[ 1 , [ ] , { } ]", "{\"a\" : null}", "true",
        "\"" + string.Concat(Enumerable.Repeat("😀x", 130)) + "\"", "\"" + new string('a', 300) + "\"", "\"\\ud83d\\ude00\"",
    ];

    private static readonly string[] Statuses = ["Active", "Stopped", "Cancelled", "Dead", "Gift Purchaser", "Gift Recipient"];

    public static List<string> Generate(int seed, int entries, DateTimeOffset start, bool tenantKey, string tenant)
    {
        var rng = new Random(seed);
        var ids = Enumerable.Range(1, rng.Next(2, 6)).Select(i => "c" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var emails = Enumerable.Range(1, rng.Next(3, 8)).Select(i => "p" + i.ToString(CultureInfo.InvariantCulture) + "@x.com").ToArray();
        // Customer id -> its current (lower-case) email.
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = new List<string>();
        var t = start;
        var orderN = 0;
        var idN = 0;
        for (var n = 0; n < entries; n++)
        {
            if (rng.Next(4) != 0)
            {
                t = t.AddMilliseconds(rng.Next(1, 5000));
            }

            var members = new List<string> { $"\"ts\":{Q(t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))}" };
            if (tenantKey)
            {
                members.Add($"\"tenant\":{Q(tenant)}");
            }

            if (rng.Next(3) == 0)
            {
                members.Add($"\"id\":\"e{seed}-{++idN}\"");
            }

            var roll = rng.Next(20);
            if (roll == 0)
            {
                members.Add($"\"event\":\"Weekly cycle completed\",\"week\":\"{(rng.Next(2) == 0 ? WeekOf(t) : "2024-W" + rng.Next(1, 53).ToString("D2", CultureInfo.InvariantCulture))}\"");
                lines.Add("{" + string.Join(',', members) + "}");
                continue;
            }

            if (roll == 1)
            {
                lines.Add(rng.Next(2) == 0 ? "{" + members[0] + ",\"level\":\"info\",\"msg\":\"noise\"}" : "{\"ts\":\"bad\"}");
                continue;
            }

            var customer = roll < 13;
            string? cid = null;
            string email;
            if (customer)
            {
                cid = ids[rng.Next(ids.Length)];
                var taken = current.Where(kv => kv.Key != cid).Select(kv => kv.Value).ToHashSet(StringComparer.Ordinal);
                if (!current.TryGetValue(cid, out var mine) || rng.Next(6) == 0)
                {
                    // A new customer or an email change: any address no other customer has now.
                    var free = emails.Where(e => !taken.Contains(e)).ToArray();
                    if (free.Length == 0)
                    {
                        continue;
                    }

                    mine = free[rng.Next(free.Length)];
                    current[cid] = mine;
                }

                email = Variant(rng, mine);
            }
            else
            {
                email = Variant(rng, emails[rng.Next(emails.Length)]);
            }

            var person = new List<string>();
            if (cid is not null)
            {
                person.Add($"\"id\":{Q(cid)}");
            }

            person.Add($"\"email\":{Q(email)}");
            AddMaybe(rng, person, "first_name", ["Ann", "Bo", "Cy"]);
            AddMaybe(rng, person, "last_name", ["Lee", "Ng"]);
            AddMaybe(rng, person, "phone", ["+1-1", "+1-2"]);
            members.Add($"\"{(customer ? "customer" : "contact")}\":{{{string.Join(',', person)}}}");
            if (customer && rng.Next(3) != 0)
            {
                var attrs = new List<string>();
                if (rng.Next(3) == 0)
                {
                    attrs.Add($"\"status\":{Q(Statuses[rng.Next(Statuses.Length)])}");
                }

                if (rng.Next(3) == 0)
                {
                    attrs.Add($"\"next_delivery\":{(rng.Next(3) == 0 ? "null" : Q("2024-06-" + rng.Next(10, 29).ToString(CultureInfo.InvariantCulture)))}");
                }

                if (rng.Next(4) == 0)
                {
                    attrs.Add($"\"cancelled_on\":{(rng.Next(2) == 0 ? "null" : Q("2024-05-0" + rng.Next(1, 9).ToString(CultureInfo.InvariantCulture)))}");
                }

                if (rng.Next(4) == 0)
                {
                    attrs.Add($"\"schedule\":{(rng.Next(3) == 0 ? "null" : Q(rng.Next(2) == 0 ? "weekly" : "bi-weekly"))}");
                }

                if (rng.Next(4) == 0)
                {
                    attrs.Add($"\"box\":{(rng.Next(3) == 0 ? "null" : Q(rng.Next(2) == 0 ? "Small" : "Large"))}");
                }

                if (rng.Next(3) == 0)
                {
                    attrs.Add($"\"order\":{(rng.Next(4) == 0 ? "null" : $"{{\"week\":{Q(rng.Next(2) == 0 ? WeekOf(t) : "2024-W" + rng.Next(1, 53).ToString("D2", CultureInfo.InvariantCulture))},\"state\":{Q(new[] { "open", "closed", "cancelled" }[rng.Next(3)])}}}")}");
                }

                if (rng.Next(4) == 0)
                {
                    attrs.Add($"\"marketing_opt_in\":{(rng.Next(2) == 0 ? "true" : "false")}");
                }

                members.Add($"\"attrs\":{{{string.Join(',', attrs)}}}");
            }

            if (rng.Next(2) == 0)
            {
                var ev = Events[rng.Next(Events.Length)];
                members.Add($"\"event\":{Q(ev)}");
                if (rng.Next(2) == 0)
                {
                    members.Add($"\"data\" : {{ \"n\" : {n} , \"v\":{Data[rng.Next(Data.Length)]} }}");
                }

                if (ev is "Order Completed" or "Gift Box Purchase" && customer && rng.Next(3) != 0)
                {
                    var oid = rng.Next(3) == 0 && orderN > 0 ? $"o-{cid}-{rng.Next(1, orderN + 1)}" : $"o-{cid}-{++orderN}";
                    members.Add($"\"order\":{{\"id\":{Q(oid)},\"total_cents\":{rng.Next(1000, 5000)},\"currency\":\"USD\",\"items\":[{{\"sku\":\"A\",\"qty\":1,\"price_cents\":100}}]}}");
                }
            }

            var line = "{" + string.Join(',', members) + "}";
            if (rng.Next(10) == 0)
            {
                line = rng.Next(2) == 0 ? line + "\r" : " \t" + line + " ";
            }

            if (rng.Next(20) == 0)
            {
                lines.Add(rng.Next(2) == 0 ? "" : "  ");
            }

            lines.Add(line);
            if (rng.Next(15) == 0)
            {
                lines.Add(line);
            }
        }

        return lines;
    }

    private static string Variant(Random rng, string email) => rng.Next(5) == 0 ? char.ToUpperInvariant(email[0]) + email[1..] : email;

    private static void AddMaybe(Random rng, List<string> person, string key, string[] values)
    {
        var r = rng.Next(5);
        if (r == 0)
        {
            person.Add($"\"{key}\":null");
        }
        else if (r <= 2)
        {
            person.Add($"\"{key}\":{Q(values[rng.Next(values.Length)])}");
        }
    }

    private static string WeekOf(DateTimeOffset t) =>
        string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(t.UtcDateTime):D4}-W{ISOWeek.GetWeekOfYear(t.UtcDateTime):D2}");

    private static string Q(string s) => JsonSerializer.Serialize(s);
}
