using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using KivaSync.SampleLog;
using KivaSync.Testing.Oracle;

namespace KivaSync.Cli.Tests;

/// <summary>Every command whose RPC the service already serves, run in-process against the real service, Redis and the emulator.</summary>
public sealed class CliServiceTests(SyncedTenantFixture fixture) : IClassFixture<SyncedTenantFixture>
{
    private const string Tenant = SyncedTenantFixture.Tenant;

    private ExpectedAccount Expected => ContractOracle.Compute(File.ReadLines(fixture.LogPath), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));

    [Fact]
    public async Task Status_Tenant_JsonShowsTheSyncedTenant()
    {
        var result = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", Tenant, "--json");

        Assert.Equal(0, result.Code);
        using var json = result.Json();
        var root = json.RootElement;
        Assert.Equal(Tenant, root.GetProperty("tenant").GetString());
        Assert.Equal((ulong)Expected.Contacts.Count(c => !c.IsLead), ulong.Parse(root.GetProperty("customers").GetString()!));
        Assert.Equal((ulong)Expected.AcceptedEntries, ulong.Parse(root.GetProperty("entriesAccepted").GetString()!));
        Assert.Equal(Expected.RejectedByReason.Count, root.GetProperty("rejectedByReason").EnumerateObject().Count());
        Assert.Equal(200, root.GetProperty("rateLimitPerSecond").GetDouble());
    }

    [Fact]
    public async Task Status_Tenant_TextShowsModeProgressQueueAndRejects()
    {
        var result = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", Tenant);

        Assert.Equal(0, result.Code);
        Assert.Contains($"Tenant {Tenant}: live", result.Out, StringComparison.Ordinal);
        Assert.Contains("[##############################] 100%", result.Out, StringComparison.Ordinal);
        Assert.Contains("0 waiting, 0 in flight", result.Out, StringComparison.Ordinal);
        Assert.Contains("rejected lines     " + Expected.RejectedLines, result.Out, StringComparison.Ordinal);
        Assert.Contains("invalid_json", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusWatch_NotATerminal_OneLinePerPollUntilCaughtUp()
    {
        var result = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", Tenant, "--watch", "--interval", "0.1");

        Assert.Equal(0, result.Code);
        var line = Assert.Single(result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("100%", line, StringComparison.Ordinal);
        Assert.Contains("live", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusWatch_Terminal_RedrawsTheBarThenPrintsTheStatus()
    {
        var result = await CliRun.RunAsync(fixture.CliEnvironment, terminal: true, default, "status", "--tenant", Tenant, "--watch");

        Assert.Equal(0, result.Code);
        Assert.StartsWith("\r[", result.Out, StringComparison.Ordinal);
        Assert.Contains($"Tenant {Tenant}: live", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_Customer_SyncedWithAcLink()
    {
        var someone = Expected.Contacts.First(c => !c.IsLead);

        var text = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", Tenant, "--customer", someone.CustomerId!);
        var json = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", Tenant, "--email", someone.Email.ToUpperInvariant(), "--json");

        Assert.Equal(0, text.Code);
        Assert.Contains($"Customer {someone.CustomerId} ({someone.Email}): Synced", text.Out, StringComparison.Ordinal);
        Assert.Contains("https://greenleaf.activehosted.com/app/contacts/", text.Out, StringComparison.Ordinal);
        Assert.Equal(0, json.Code);
        using var doc = json.Json();
        Assert.Equal("SYNC_STATE_SYNCED", doc.RootElement.GetProperty("state").GetString());
        Assert.Equal(someone.CustomerId, doc.RootElement.GetProperty("customerId").GetString());
        Assert.StartsWith("https://greenleaf.activehosted.com/app/contacts/", doc.RootElement.GetProperty("acContactUrl").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_UnknownCustomer_NotFoundExit5()
    {
        var result = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", Tenant, "--customer", "no-such-customer");

        Assert.Equal(5, result.Code);
        Assert.Contains("NOT_FOUND", result.Err, StringComparison.Ordinal);
        Assert.Contains("no-such-customer", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_UnknownTenant_NotFoundExit5()
    {
        // The demo's caller may use greenleaf only: another tenant is refused before existence is checked.
        var result = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", "nobody", "--json");

        Assert.Equal(4, result.Code);
        using var json = result.Json();
        Assert.Equal("PERMISSION_DENIED", json.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Resync_KnownAndUnknown_QueuesKnownExit1ListsUnknown()
    {
        var someone = Expected.Contacts.First(c => !c.IsLead);
        var lead = Expected.Contacts.First(c => c.IsLead);

        var result = await CliRun.RunAsync(fixture.CliEnvironment, "resync", "--tenant", Tenant, "--customer", someone.CustomerId!, "nobody-404", "--email", lead.Email, "--json");

        Assert.Equal(1, result.Code);
        using var json = result.Json();
        Assert.Equal(2, json.RootElement.GetProperty("queued").GetInt32());
        Assert.Equal(["nobody-404"], json.RootElement.GetProperty("notFound").EnumerateArray().Select(e => e.GetString()));
        await fixture.Environment.WaitForIdleAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task Resync_All_QueuesEveryContactExit0()
    {
        var result = await CliRun.RunAsync(fixture.CliEnvironment, "resync", "--tenant", Tenant, "--all");

        Assert.Equal(0, result.Code);
        Assert.Contains($"Queued {Expected.Contacts.Count} contact(s)", result.Out, StringComparison.Ordinal);
        await fixture.Environment.WaitForIdleAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task TestSync_TwoFiles_ReportMatchesTheOracleAndNamesFileLines()
    {
        // The log split in two files (the first without a final newline): the report is the same as for one file.
        var lines = File.ReadAllLines(fixture.LogPath);
        var first = Path.Combine(fixture.WorkDirectory, "part1.log");
        var second = Path.Combine(fixture.WorkDirectory, "part2.log.gz");
        File.WriteAllText(first, string.Join('\n', lines.Take(lines.Length / 2)));
        await using (var gz = new System.IO.Compression.GZipStream(File.Create(second), System.IO.Compression.CompressionLevel.Fastest))
        {
            await gz.WriteAsync(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines.Skip(lines.Length / 2)) + "\n"));
        }

        var json = await CliRun.RunAsync(fixture.CliEnvironment, "test-sync", "--tenant", Tenant, first, second, "--json");
        var text = await CliRun.RunAsync(fixture.CliEnvironment, "test-sync", "--tenant", Tenant, first, second);

        var expected = Expected;
        Assert.Equal(1, json.Code);
        using var doc = json.Json();
        var report = doc.RootElement.GetProperty("report");
        Assert.Equal(expected.AcceptedEntries, int.Parse(report.GetProperty("entries").GetString()!));
        Assert.Equal(expected.Contacts.Count(c => !c.IsLead), int.Parse(report.GetProperty("customers").GetString()!));
        Assert.Equal(expected.Contacts.Count(c => c.IsLead), int.Parse(report.GetProperty("leads").GetString()!));
        Assert.Equal(expected.Orders.Count, int.Parse(report.GetProperty("orders").GetString()!));
        Assert.Equal(expected.EventCounts.OrderBy(e => e.Key),
            report.GetProperty("eventsByName").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, int.Parse(p.Value.GetString()!))).OrderBy(e => e.Key));
        var files = doc.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(lines.Length / 2, files[0].GetProperty("lines").GetInt32());
        Assert.Equal(lines.Length / 2 + 1, files[1].GetProperty("firstLine").GetInt32());
        // A rejected line is named by file and line in the text report.
        var rejection = expected.Rejections[0];
        var where = rejection.LineIndex < lines.Length / 2 ? $"{first}:{rejection.LineIndex + 1}" : $"{second}:{rejection.LineIndex + 1 - lines.Length / 2}";
        Assert.Equal(1, text.Code);
        Assert.Contains(where, text.Out, StringComparison.Ordinal);
        Assert.Contains("estimated backfill", text.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestSync_CleanLog_Exit0()
    {
        var clean = Path.Combine(fixture.WorkDirectory, "clean.log");
        File.WriteAllLines(clean, SampleLogGenerator.GenerateLines(new SampleLogOptions { Customers = 5, Leads = 2, Weeks = 2, BadLineRate = 0, Seed = 7 }));

        var result = await CliRun.RunAsync(fixture.CliEnvironment, "test-sync", "--tenant", Tenant, clean);

        Assert.Equal(0, result.Code);
        Assert.Contains("rejected lines     0", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCommand_WrongToken_AuthExit4WithoutPrintingTheToken()
    {
        var environment = new Dictionary<string, string?>(fixture.CliEnvironment) { ["KIVASYNC_TOKEN"] = "wrong-token-0123456789abcdef" };

        var result = await CliRun.RunAsync(environment, "status", "--tenant", Tenant);
        var none = await CliRun.RunAsync(new Dictionary<string, string?>(fixture.CliEnvironment) { ["KIVASYNC_TOKEN"] = null }, "status", "--tenant", Tenant);

        Assert.Equal(4, result.Code);
        Assert.Contains("UNAUTHENTICATED", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-token", result.Err + result.Out, StringComparison.Ordinal);
        Assert.Equal(4, none.Code);
    }

    [Fact]
    public async Task AnyCommand_TokenOption_OverridesTheEnvironment()
    {
        var environment = new Dictionary<string, string?>(fixture.CliEnvironment) { ["KIVASYNC_TOKEN"] = "wrong-token-0123456789abcdef" };

        var result = await CliRun.RunAsync(environment, "status", "--tenant", Tenant, "--token", fixture.Environment.CallerToken);

        Assert.Equal(0, result.Code);
    }

    [Fact]
    public async Task AnyCommand_ServiceUnreachable_Exit3SaysWhere()
    {
        // A port that was free a moment ago: nothing listens there.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await CliRun.RunAsync(fixture.CliEnvironment, "status", "--tenant", Tenant, "--service", $"http://127.0.0.1:{port}");

        Assert.Equal(3, result.Code);
        Assert.Contains($"cannot reach the sync service at http://127.0.0.1:{port}/", result.Err, StringComparison.Ordinal);
    }
}
