using System.Globalization;
using System.IO.Compression;
using System.Text;
using KivaSync.Demo;
using KivaSync.SampleLog;
using KivaSync.SyncService.State;
using KivaSync.Testing.Oracle;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.EndToEnd.Tests;

/// <summary>
/// Issue #5's acceptance run: a tenant's whole history (an overlapping gzip archive, then the live file)
/// through the shipper, the service on real Redis and the emulator answering 5 % of API requests 503;
/// the emulator must then show every rule of the contract — contacts, custom fields, list statuses,
/// order tags, events (names, data, counts) and Deep Data orders (count, source, totals) — as the
/// oracle computes them independently from the log. Then a live phase: entries stamped now bring
/// live-only events and real-time (source 1) orders.
/// </summary>
public sealed class AccountEndToEndTests() : WorkDirectoryTest("account-e2e")
{
    private const string Tenant = "greenleaf";

    [Fact]
    public async Task ShipAndSync_HistoryWithOverlappingArchiveAnd503s_ThenLive_AccountShowsEveryRuleOfTheContract()
    {
        var options = new SampleLogOptions { Seed = 5, Customers = 300, Leads = 60, Weeks = 30 };
        var lines = SampleLogGenerator.GenerateLines(options).ToList();
        // The archive holds the first 60 % of the history, the live file everything from 40 % on: 20 % overlap.
        var archivePath = Path.Combine(WorkDir, "system.log.1.gz");
        var livePath = Path.Combine(WorkDir, "system.log");
        WriteGzip(archivePath, lines.Take(lines.Count * 6 / 10));
        await File.WriteAllLinesAsync(livePath, lines.Skip(lines.Count * 4 / 10));

        // The budgets and the emulator's limit are raised together to keep the test short; the emulator's
        // 503s ask for no wait (Retry-After: 0) so that 5 % of failures do not stretch it to minutes.
        await using var environment = await DemoEnvironment.StartAsync(
            new DemoSettings(Tenant, RedisUrl: null, RealAccount: null, RequestsPerSecond: 200),
            [KeyValuePair.Create<string, string?>($"KivaSync:Tenants:{Tenant}:EventsPerSecond", "500")]);
        var account = environment.Account!;
        account.FailureRate = 0.05;
        account.FaultRetryAfterSeconds = 0;

        // History: the archive first, then the live file (which repeats the archive's last 20 %).
        var state = Path.Combine(WorkDir, "state");
        await using (var shipper = environment.CreateShipper(archivePath, state))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(archivePath).WaitAsync(TimeSpan.FromMinutes(3));
        }

        await using (var shipper = environment.CreateShipper(livePath, state))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(livePath).WaitAsync(TimeSpan.FromMinutes(3));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(8));
        var history = ContractOracle.Compute(lines, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        AssertLogCoversTheContract(history);
        Assert.Empty(ContractCheck.Account(history, account));
        var store = environment.Service.Services.GetRequiredService<StateStore>();
        Assert.Equal(history.AcceptedEntries, (await store.ReadMetaAsync(Tenant)).Accepted);
        Assert.Equal(0, account.TooManyRequestsCount);
        Assert.All(account.EcomOrders(), order => Assert.Equal(0, order.Source));

        // Live: entries stamped now, appended to the live file.
        var customer = history.Contacts.First(c => !c.IsLead && c.Status == "Active");
        var repeated = history.Orders.Values.First(o => o.CustomerId != customer.CustomerId);
        var now = DateTimeOffset.UtcNow;
        string Ts(int ms) => (now + TimeSpan.FromMilliseconds(ms)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var who = $"\"customer\":{{\"id\":\"{customer.CustomerId}\",\"email\":\"{customer.Email}\"}}";
        var liveLines = new[]
        {
            $"{{\"ts\":\"{Ts(0)}\",\"tenant\":\"{Tenant}\",\"event\":\"Delivery Today Reminder Email Sent\",{who}}}",
            $"{{\"ts\":\"{Ts(1)}\",\"tenant\":\"{Tenant}\",\"event\":\"Logged in\",{who},\"data\":{{\"via\":\"password\"}}}}",
            $"{{\"ts\":\"{Ts(2)}\",\"tenant\":\"{Tenant}\",\"event\":\"Order Completed\",{who},\"order\":{{\"id\":\"o-live-1\",\"total_cents\":5499,\"currency\":\"USD\",\"items\":[{{\"sku\":\"LVB\",\"name\":\"Large Veggie Box\",\"qty\":1,\"price_cents\":5499,\"category\":\"box\"}}]}}}}",
            // A correction of a historical order: new amounts, but it keeps the source it was first sent with (0).
            $"{{\"ts\":\"{Ts(3)}\",\"tenant\":\"{Tenant}\",\"event\":\"Order Completed\",\"customer\":{{\"id\":\"{repeated.CustomerId}\",\"email\":\"{repeated.Email}\"}},\"order\":{{\"id\":\"{repeated.OrderId}\",\"total_cents\":{repeated.TotalCents + 100},\"currency\":\"{repeated.Currency}\",\"items\":[{{\"sku\":\"FIX\",\"name\":\"Correction\",\"qty\":1,\"price_cents\":{repeated.TotalCents + 100},\"category\":\"box\"}}]}}}}",
        };
        await File.AppendAllLinesAsync(livePath, liveLines);
        await using (var shipper = environment.CreateShipper(livePath, state))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(livePath).WaitAsync(TimeSpan.FromMinutes(1));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(2));
        var all = ContractOracle.Compute(lines.Concat(liveLines), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        Assert.Empty(ContractCheck.Account(all, account));
        var liveOrder = Assert.Single(account.EcomOrders(), o => o.ExternalId == "o-live-1");
        Assert.Equal(1, liveOrder.Source);
        Assert.Equal(0, Assert.Single(account.EcomOrders(), o => o.ExternalId == repeated.OrderId).Source);
        Assert.Contains(account.Events(), e => e.Name == "Delivery reminder email sent" && e.EventData!.StartsWith(Ts(0)[..19], StringComparison.Ordinal));
    }

    /// <summary>The generated history must exercise what the issue lists, or the comparison proves little.</summary>
    private static void AssertLogCoversTheContract(ExpectedAccount expected)
    {
        Assert.True(expected.Contacts.Count(c => !c.IsLead) >= 300, "at least 300 customers");
        Assert.Contains(expected.Contacts, c => c.FormerEmails.Count > 0);
        Assert.Contains(expected.Contacts, c => c.MarketingOptIn == false);
        Assert.Contains(expected.Contacts, c => c.IsLead);
        Assert.Contains(expected.RejectedByReason, r => r.Value > 0);
        Assert.True(expected.HistoricalEventsNotSent > 0, "live-only events in the history are not sent");
        var sent = expected.EventCounts.Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var (logName, (acName, liveOnly)) in ContractOracle.Catalogue)
        {
            if (!liveOnly && logName != "Weekly cycle completed")
            {
                Assert.True(sent.Contains(acName), $"the history sends at least one \"{acName}\"");
            }
        }

        Assert.Contains(expected.Orders.Values, o => o.Items.Count > 0);
    }

    private static void WriteGzip(string path, IEnumerable<string> lines)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        foreach (var line in lines)
        {
            gzip.Write(Encoding.UTF8.GetBytes(line));
            gzip.WriteByte((byte)'\n');
        }
    }
}
