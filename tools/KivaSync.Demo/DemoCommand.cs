using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using KivaSync.Cli;
using KivaSync.Contracts.V1;
using KivaSync.SampleLog;
using KivaSync.SyncService.State;
using KivaSync.Testing.Oracle;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.Demo;

/// <summary>
/// The demo: generate a tenant's sample log, ship it through the real shipper and sync service into
/// the AC emulator (or a real account), and print what happened.
/// </summary>
public static class DemoCommand
{
    private const string Name = "kivasync-demo";

    private const string Epilogue = """
        Run it with: bash .ci/demo [options]

        Environment:
          REDIS_URL       use this Redis instead of starting a local redis-server
          AC_API_URL, AC_API_KEY (and AC_ACCOUNT_WEB_URL, AC_TRACKING_ACTID, AC_TRACKING_KEY)
                          sync into this real AC account instead of the emulator
        """;

    /// <summary>Runs the demo; returns the process exit code (0 ok, 1 failed, 2 bad arguments).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // Small enough to finish in a few minutes at AC's real 5 requests/s.
        var defaults = new SampleLogOptions { Customers = 100, Leads = 30, Weeks = 8 };
        var customers = Number<int>("--customers", "N", $"customers in the sample log (default {defaults.Customers})");
        var leads = Number<int>("--leads", "N", $"leads in the sample log (default {defaults.Leads})");
        var weeks = Number<int>("--weeks", "N", $"weeks of history (default {defaults.Weeks}; every week adds ~35 orders)");
        var seed = Number<int>("--seed", "N", $"generator seed (default {defaults.Seed})");
        var tenant = new Option<string>("--tenant") { HelpName = "ID", Description = $"tenant id (default {defaults.Tenant})" };
        var rate = Number<double>("--rate", "R", "AC requests per second for the tenant (default 5, AC's limit)");
        var workDir = new Option<string>("--work-dir") { HelpName = "DIR", Description = "where the log and the shipper's checkpoint go (default a new temp dir)" };
        var root = new RootCommand($"{Name}: sync a generated sample log into ActiveCampaign, end to end.")
        {
            customers, leads, weeks, seed, tenant, rate, workDir,
        };
        CommandLineConventions.Apply(root, typeof(DemoCommand).Assembly, epilogue: Epilogue);
        root.SetAction(async (result, _) =>
        {
            var options = defaults with
            {
                Customers = result.GetResult(customers) is null ? defaults.Customers : result.GetValue(customers),
                Leads = result.GetResult(leads) is null ? defaults.Leads : result.GetValue(leads),
                Weeks = result.GetResult(weeks) is null ? defaults.Weeks : result.GetValue(weeks),
                Seed = result.GetResult(seed) is null ? defaults.Seed : result.GetValue(seed),
                Tenant = result.GetValue(tenant) ?? defaults.Tenant,
            };
            var requestsPerSecond = result.GetResult(rate) is null ? 5.0 : result.GetValue(rate);
            try
            {
                options.Validate();
                if (requestsPerSecond is <= 0 or > 1000 || double.IsNaN(requestsPerSecond))
                {
                    throw new ArgumentException("--rate must be in (0, 1000]");
                }
            }
            catch (ArgumentException e)
            {
                return await UsageErrorAsync(stderr, e.ParamName is null ? e.Message : e.Message[..e.Message.IndexOf(" (Parameter", StringComparison.Ordinal)], "");
            }

            return await RunDemoAsync(options, requestsPerSecond, result.GetValue(workDir), stdout);
        });

        var parsed = root.Parse(args, CommandLineConventions.Parser);
        if (parsed.Action is not { ClearsParseErrors: true } && CommandLineConventions.FirstError(parsed) is { } problem)
        {
            var hint = parsed.UnmatchedTokens is [var unknown, ..] && unknown.StartsWith('-')
                ? CommandLineConventions.TypoHint(root.Parse([unknown], CommandLineConventions.Parser))
                : "";
            return await UsageErrorAsync(stderr, problem, hint);
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    private static async Task<int> UsageErrorAsync(TextWriter stderr, string problem, string hint)
    {
        await stderr.WriteLineAsync($"{Name}: {problem}");
        if (hint.Length > 0)
        {
            await stderr.WriteLineAsync(hint);
        }

        await stderr.WriteLineAsync($"Try '{Name} --help' (bash .ci/demo --help).");
        return 2;
    }

    /// <summary>A number option; a value that is not one is a parse error naming the option.</summary>
    private static Option<T> Number<T>(string name, string value, string help)
        where T : struct, IParsable<T> => new(name)
    {
        HelpName = value,
        Description = help,
        CustomParser = r =>
        {
            if (r.Tokens.Count != 1)
            {
                return default; // missing or repeated: System.CommandLine reports the arity
            }

            if (T.TryParse(r.Tokens[0].Value, CultureInfo.InvariantCulture, out var n))
            {
                return n;
            }

            r.AddError($"{name} needs a number, not \"{r.Tokens[0].Value}\"");
            return default;
        },
    };

    private static async Task<int> RunDemoAsync(SampleLogOptions options, double rate, string? workDir, TextWriter stdout)
    {
        workDir ??= Path.Combine(Path.GetTempPath(), "kivasync-demo-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(workDir);
        var realAccount = AcAccountSettings.FromEnvironment();
        var redisUrl = Environment.GetEnvironmentVariable("REDIS_URL");

        var logPath = Path.Combine(workDir, "system.log");
        var summary = new SampleLogSummary();
        await using (var file = File.Create(logPath))
        {
            summary = SampleLogGenerator.Write(file, options);
        }

        var logBytes = new FileInfo(logPath).Length;
        await stdout.WriteLineAsync($"KivaSync demo — tenant {options.Tenant}");
        await stdout.WriteLineAsync($"  sample log    {logPath}: {summary.Lines:N0} lines ({logBytes / 1024.0 / 1024.0:F1} MiB), {summary.Customers} customers, {summary.Leads} leads, {options.Weeks} weeks");
        await stdout.WriteLineAsync($"  redis         {(redisUrl is null ? "local redis-server on 127.0.0.1 (started by the demo)" : "REDIS_URL")}");
        await stdout.WriteLineAsync($"  ActiveCampaign {(realAccount is null ? $"emulator on 127.0.0.1, limited to {rate:0.#} requests/s like AC" : realAccount.ApiUrl)}");

        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(options.Tenant, redisUrl, realAccount, rate));
        var clock = Stopwatch.StartNew();
        await using (var shipper = environment.CreateShipper(logPath, Path.Combine(workDir, "shipper-state")))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(logPath);
            var shipped = clock.Elapsed;
            await stdout.WriteLineAsync($"  shipped       every line acknowledged by the sync service in {shipped.TotalSeconds:F1} s");
            await shipper.StopAsync();
        }

        await environment.WaitForIdleAsync(TimeSpan.FromHours(2));
        var elapsed = clock.Elapsed;
        var store = environment.Service.Services.GetRequiredService<StateStore>();
        var meta = await store.ReadMetaAsync(options.Tenant);
        var rejects = await store.ReadRejectCountsAsync(options.Tenant);

        await stdout.WriteLineAsync();
        await stdout.WriteLineAsync($"Synced in {elapsed.TotalSeconds:F1} s ({summary.Lines / elapsed.TotalSeconds:F0} lines/s end to end)");
        await stdout.WriteLineAsync($"  entries accepted      {meta.Accepted:N0}");
        await stdout.WriteLineAsync($"  lines rejected        {rejects.Values.Sum():N0} ({string.Join(", ", rejects.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}"))})");
        if (environment.Account is { } account)
        {
            var requests = account.Requests();
            var contacts = account.Contacts();
            await stdout.WriteLineAsync($"  contacts in AC        {contacts.Count:N0} ({account.BulkImports().Sum(b => b.Success.Count):N0} by bulk import)");
            await stdout.WriteLineAsync($"  events in AC          {account.Events().Count:N0}");
            var orderCalls = requests.Count(r => r.Path.EndsWith("/ecom/graphql", StringComparison.Ordinal) && r.Body?.Contains("bulkUpsertOrdersAsync", StringComparison.Ordinal) == true);
            await stdout.WriteLineAsync($"  orders in AC          {account.GraphQlOrders().Count:N0} through GraphQL in {orderCalls:N0} bulkUpsertOrdersAsync calls (v3 ecomOrders: {account.EcomOrders().Count:N0})");
            await stdout.WriteLineAsync($"  AC API requests       {requests.Count:N0} ({string.Join(", ", requests.GroupBy(r => $"{r.Method} {Endpoint(r.Path)}").OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))})");
            await stdout.WriteLineAsync($"  429 answers from AC   {account.TooManyRequestsCount}");

            var expected = ContractOracle.Compute(File.ReadLines(logPath), options.Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
            var mismatches = ContractCheck.Account(expected, account);
            await stdout.WriteLineAsync($"  contract check        {(mismatches.Count == 0 ? $"all {expected.Contacts.Count} contacts with their custom fields, lists and order tags, {expected.EventCounts.Values.Sum():N0} events and {expected.Orders.Count:N0} orders are as the contract says" : $"{mismatches.Count} differences, first: {mismatches[0]}")}");
            if (mismatches.Count > 0)
            {
                return 1;
            }
        }

        using var channel = GrpcChannel.ForAddress(environment.ServiceAddress);
        var api = new SyncApi.SyncApiClient(channel);
        // Show a customer who changed email: one AC contact, found under the new address.
        var customers = ContractOracle.Compute(File.ReadLines(logPath), options.Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10))
            .Contacts.Where(c => !c.IsLead).ToList();
        var someone = (customers.FirstOrDefault(c => c.FormerEmails.Count > 0) ?? customers.FirstOrDefault())?.CustomerId ?? "";
        if (someone.Length > 0)
        {
            var status = await api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = options.Tenant, CustomerId = someone }, environment.CallerHeaders);
            await stdout.WriteLineAsync();
            await stdout.WriteLineAsync($"GetSyncStatus(tenant={options.Tenant}, customer_id={someone}):");
            await stdout.WriteLineAsync($"  state         {status.State}");
            await stdout.WriteLineAsync($"  email         {status.Email}");
            await stdout.WriteLineAsync($"  last synced   {status.LastSynced?.ToDateTimeOffset():u}");
            await stdout.WriteLineAsync($"  AC contact    {status.AcContactId}  {status.AcContactUrl}");
            await stdout.WriteLineAsync($"  fields        status={status.Fields.Status}, box={status.Fields.Box}, schedule={status.Fields.Schedule}, next delivery={status.Fields.NextDelivery}, cancelled on={status.Fields.CancelledOn}");
        }

        return 0;
    }

    private static string Endpoint(string path)
    {
        // "/api/3/contacts/12" → "contacts/{id}", so requests group by endpoint.
        var parts = path.Replace("/api/3/", "", StringComparison.Ordinal).Split('/');
        return string.Join('/', parts.Select(p => p.Length > 0 && p.All(char.IsAsciiDigit) ? "{id}" : p));
    }
}
