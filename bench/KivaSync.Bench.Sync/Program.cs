using System.Diagnostics;
using System.Globalization;
using KivaSync.AcEmulator;
using KivaSync.Demo;
using KivaSync.SampleLog;
using KivaSync.Testing.Oracle;

// Issue #5's benchmarks. "backfill": a generated tenant's whole history, shipped and synced into an empty
// emulator account; reports the AC requests used by kind against the minimum the contract needs, and the
// backfill time that implies at AC's 5 requests/s. "live": after a small history, lines are appended at a
// steady rate within the budget (5/s); reports the time from each append to its AC call, p50 and p95.
var mode = args.FirstOrDefault() ?? "backfill";
var options = Options.Parse(args.Skip(1).ToArray());
var work = Directory.CreateTempSubdirectory("kivasync-bench-sync-").FullName;
try
{
    if (mode == "live")
    {
        await Live.RunAsync(options, work);
    }
    else
    {
        await Backfill.RunAsync(options, work);
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

internal sealed record Options(int Customers, int Weeks, double Rate, int Seconds)
{
    public static Options Parse(string[] args)
    {
        var o = new Options(5000, 12, 2, 60);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            o = args[i].TrimStart('-') switch
            {
                "customers" => o with { Customers = int.Parse(value, CultureInfo.InvariantCulture) },
                "weeks" => o with { Weeks = int.Parse(value, CultureInfo.InvariantCulture) },
                "rate" => o with { Rate = double.Parse(value, CultureInfo.InvariantCulture) },
                "seconds" => o with { Seconds = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }
}

internal static class Backfill
{
    private const string Tenant = "greenleaf";

    public static async Task RunAsync(Options options, string work)
    {
        var log = Path.Combine(work, "system.log");
        var generated = SampleLogGenerator.Write(log, new SampleLogOptions { Seed = 3, Customers = options.Customers, Leads = options.Customers / 5, Weeks = options.Weeks }, 1.0, gzip: false);
        Console.WriteLine($"backfill bench: {generated}");
        var expected = ContractOracle.Compute(File.ReadLines(log), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));

        // The budgets are raised (with the emulator's limit) so the run takes minutes, not the hours it
        // would take at 5/s; what is measured is the number of requests, which the budget does not change.
        await using var environment = await DemoEnvironment.StartAsync(
            new DemoSettings(Tenant, null, null, RequestsPerSecond: 1000),
            [KeyValuePair.Create<string, string?>($"KivaSync:Tenants:{Tenant}:EventsPerSecond", "5000")]);
        var clock = Stopwatch.StartNew();
        await using (var shipper = environment.CreateShipper(log, Path.Combine(work, "state")))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(log).WaitAsync(TimeSpan.FromMinutes(30));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromHours(2));
        var elapsed = clock.Elapsed;
        var account = environment.Account!;
        var mismatches = ContractCheck.Account(expected, account);

        var requests = account.Requests();
        var byKind = requests.GroupBy(r => Kind(r)).OrderByDescending(g => g.Count()).ToList();
        var api = requests.Count(r => r.Path != "/event");
        var events = requests.Count(r => r.Path == "/event");

        var contacts = expected.Contacts.Count;
        var bulkImports = (contacts + 249) / 250;
        var minimum = new Dictionary<string, long>
        {
            // Provisioning an empty account: 5 fields + their 5 list relations, 4 lists, 4 tags, event tracking on,
            // every catalogue event name, the Deep Data connection; plus one listing per kind to find existing ones.
            ["provisioning"] = 5 + 5 + 4 + 4 + 1 + ContractOracle.Catalogue.Count(c => c.Value.AcName is { Length: > 0 } && c.Key != "Weekly cycle completed") + 1 + 5,
            // Every contact with its final fields, lists and order tag: bulk import, 250 a request, one status read each.
            ["contacts (bulk import + status)"] = bulkImports * 2L,
            ["e-commerce customers"] = expected.Orders.Values.Select(o => o.CustomerId).Distinct().Count(),
            ["orders"] = expected.Orders.Count,
        };
        var minimumApi = minimum.Values.Sum();
        var minimumEvents = expected.EventCounts.Values.Sum();

        Console.WriteLine();
        Console.WriteLine($"customers {expected.Contacts.Count(c => !c.IsLead)}, leads {expected.Contacts.Count(c => c.IsLead)}, events to send {minimumEvents}, orders {expected.Orders.Count}");
        Console.WriteLine($"run took {elapsed.TotalSeconds:F0} s at 1000 API requests/s and 5000 events/s; account matches the contract: {(mismatches.Count == 0 ? "yes" : $"NO ({mismatches.Count} differences, e.g. {mismatches[0]})")}");
        Console.WriteLine();
        Console.WriteLine("AC requests by kind:");
        foreach (var g in byKind)
        {
            Console.WriteLine($"  {g.Key,-44} {g.Count(),9:N0}");
        }

        Console.WriteLine();
        Console.WriteLine("minimum the contract needs (API):");
        foreach (var (what, n) in minimum)
        {
            Console.WriteLine($"  {what,-44} {n,9:N0}");
        }

        Console.WriteLine($"API requests used {api:N0} vs minimum {minimumApi:N0}: {(double)api / minimumApi:F3} x");
        Console.WriteLine($"event posts used {events:N0} vs minimum {minimumEvents:N0}: {(double)events / Math.Max(1, minimumEvents):F3} x");
        Console.WriteLine($"all requests {api + events:N0} vs minimum {minimumApi + minimumEvents:N0}: {(double)(api + events) / (minimumApi + minimumEvents):F3} x");
        Console.WriteLine($"at 5 requests/s (API) and 5 events/s (own budget, in parallel): backfill {Hours(Math.Max(api, events) / 5.0)}; without historical events: {Hours(api / 5.0)}");
        Console.WriteLine($"429 answers: {account.TooManyRequestsCount}");
    }

    private static string Hours(double seconds) => TimeSpan.FromSeconds(seconds).ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>Method and path with ids replaced, e.g. "PUT /api/3/contacts/{id}".</summary>
    private static string Kind(EmulatedRequest request)
    {
        var parts = request.Path.Split('/').Select(p => p.Length > 0 && (char.IsDigit(p[0]) || p.Length > 30) ? "{id}" : p);
        return $"{request.Method} {string.Join('/', parts)}";
    }
}

internal static class Live
{
    private const string Tenant = "greenleaf";

    public static async Task RunAsync(Options options, string work)
    {
        var log = Path.Combine(work, "system.log");
        var history = SampleLogGenerator.GenerateLines(new SampleLogOptions { Seed = 4, Customers = 100, Leads = 10, Weeks = 2, BadLineRate = 0 }).ToList();
        await File.WriteAllLinesAsync(log, history);
        var expected = ContractOracle.Compute(history, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        var customers = expected.Contacts.Where(c => !c.IsLead).ToList();
        Console.WriteLine($"live bench: history of {history.Count} lines ({customers.Count} customers), then {options.Rate}/s for {options.Seconds} s at AC's 5 requests/s");

        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, RequestsPerSecond: 5));
        await using var shipper = environment.CreateShipper(log, Path.Combine(work, "state"));
        await shipper.StartAsync();
        await shipper.WaitForFileShippedAsync(log).WaitAsync(TimeSpan.FromMinutes(5));
        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(30));
        Console.WriteLine("history synced; appending");

        var appended = new List<(int Seq, bool IsEvent, DateTimeOffset At)>();
        var interval = TimeSpan.FromSeconds(1 / options.Rate);
        var total = (int)(options.Rate * options.Seconds);
        var start = Stopwatch.StartNew();
        for (var seq = 0; seq < total; seq++)
        {
            var wait = (interval * seq) - start.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var c = customers[seq % customers.Count];
            var now = DateTimeOffset.UtcNow;
            var ts = now.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var who = $"\"customer\":{{\"id\":\"{c.CustomerId}\",\"email\":\"{c.Email}\"}}";
            // Half events (event tracking), half state changes (a contact sync).
            var isEvent = seq % 2 == 0;
            var line = isEvent
                ? $"{{\"ts\":\"{ts}\",\"tenant\":\"{Tenant}\",\"event\":\"Logged in\",{who},\"data\":{{\"seq\":{seq}}}}}"
                : $"{{\"ts\":\"{ts}\",\"tenant\":\"{Tenant}\",{who},\"attrs\":{{\"box\":\"bench-box-{seq}\"}}}}";
            await File.AppendAllTextAsync(log, line + "\n");
            appended.Add((seq, isEvent, now));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(5));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var account = environment.Account!;
        var events = account.Events();
        var requests = account.Requests();
        var eventLatency = new List<double>();
        var contactLatency = new List<double>();
        var missing = 0;
        foreach (var (seq, isEvent, at) in appended)
        {
            DateTimeOffset? seen = isEvent
                ? events.FirstOrDefault(e => e.EventData?.Contains($"\"seq\":{seq}}}", StringComparison.Ordinal) == true)?.ReceivedAt
                : requests.FirstOrDefault(r => r.Body?.Contains($"bench-box-{seq}\"", StringComparison.Ordinal) == true && r.Status < 300)?.At;
            if (seen is null)
            {
                missing++;
                continue;
            }

            (isEvent ? eventLatency : contactLatency).Add((seen.Value - at).TotalMilliseconds);
        }

        Console.WriteLine($"appended {appended.Count}; not seen at AC: {missing} (a state change superseded by a newer one before its sync is coalesced, by design)");
        Report("event (append → POST /event)", eventLatency);
        Report("contact change (append → contact sync)", contactLatency);
        Report("all", [.. eventLatency, .. contactLatency]);
        Console.WriteLine($"429 answers: {account.TooManyRequestsCount}");
    }

    private static void Report(string what, List<double> ms)
    {
        if (ms.Count == 0)
        {
            Console.WriteLine($"{what}: no samples");
            return;
        }

        ms.Sort();
        double P(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        Console.WriteLine($"{what,-42} n={ms.Count,4}  p50 {P(0.5),7:F0} ms  p95 {P(0.95),7:F0} ms  max {ms[^1],7:F0} ms");
    }
}
