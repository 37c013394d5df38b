using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;
using KivaSync.SampleLog;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.Tenants;
using KivaSync.SyncService.TestSync;
using KivaSync.Testing.Oracle;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>The TestSync RPC: a dry run of a log against the real service, Redis and the AC emulator.</summary>
public sealed class TestSyncTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private AcEmulatorHost emulator = null!;
    private ServiceHarness service = null!;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        var account = emulator.AddAccount(Tenant, "test-key", "1000", "event-key", 50);
        service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(account.Name).ToString(), requestsPerSecond: 50, extra: new Dictionary<string, string?>
        {
            [$"KivaSync:Tenants:{Tenant}:TrackingUrl"] = emulator.TrackingUrl.ToString(),
            [$"KivaSync:Tenants:{Tenant}:EventsPerSecond"] = "20",
            ["KivaSync:Tenants:other:ApiUrl"] = "http://127.0.0.1:9/unused",
            ["KivaSync:Tenants:other:ApiKey"] = "other-key",
            ["KivaSync:Tenants:other:SendHistoricalEvents"] = "false",
            ["KivaSync:Tenants:other:BulkImportThreshold"] = "11",
        });
    }

    public async Task DisposeAsync()
    {
        await service.DisposeAsync();
        await emulator.DisposeAsync();
    }

    [Fact]
    public async Task TestSync_GeneratedSampleLog_MatchesTheContractOracle()
    {
        var lines = SampleLogGenerator.GenerateLines(new SampleLogOptions { Customers = 60, Leads = 20, Weeks = 12, BadLineRate = 0.03, IncludeTooLongLine = true }).ToList();
        var expected = ContractOracle.Compute(lines, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));

        var report = await RunAsync(Tenant, lines, chunkSize: 7_919);

        Assert.Equal((ulong)lines.Count(l => !string.IsNullOrWhiteSpace(l)), report.Lines);
        Assert.Equal((ulong)expected.AcceptedEntries, report.Entries);
        Assert.Equal((ulong)expected.DuplicateLines, report.Duplicates);
        Assert.Equal(expected.RejectedByReason.OrderBy(r => r.Key), report.RejectedByReason.Select(r => KeyValuePair.Create(r.Key, (int)r.Value)).OrderBy(r => r.Key));
        Assert.Equal((ulong)expected.Contacts.Count(c => !c.IsLead), report.Customers);
        Assert.Equal((ulong)expected.Contacts.Count(c => c.IsLead), report.Leads);
        Assert.Equal(expected.EventCounts.OrderBy(e => e.Key), report.EventsByName.Select(e => KeyValuePair.Create(e.Key, (int)e.Value)).OrderBy(e => e.Key));
        Assert.Equal((ulong)expected.Orders.Count, report.Orders);
        Assert.Equal(
            expected.Orders.Values.GroupBy(o => o.Currency).ToDictionary(g => g.Key, g => g.Sum(o => o.TotalCents)).OrderBy(t => t.Key),
            report.OrderTotalsCents.OrderBy(t => t.Key));
        Assert.Equal(expected.UnknownEvents.OrderBy(e => e.Key), report.UnknownEvents.Select(e => KeyValuePair.Create(e.Key, (int)e.Value)).OrderBy(e => e.Key));
        Assert.Equal((ulong)expected.EventsWithoutContact, report.EventsWithoutContact);
        Assert.Equal((ulong)expected.HistoricalEventsNotSent, report.HistoricalEventsNotSent);
        Assert.Equal((ulong)expected.RecurringPayments.Count, report.Subscribers);
        Assert.Equal((ulong)((expected.RecurringPayments.Count + 49) / 50), report.RequestsByKind["recurring_payment"]);
        // The first rejections, with their 1-based line numbers in the tested log.
        Assert.Equal(
            expected.Rejections.Take(TestSyncRunner.MaxListedRejections).Select(r => (r.Reason, (ulong)r.LineIndex + 1)),
            report.Rejections.Select(r => (r.Reason, r.Line)));
        Assert.NotEmpty(report.Rejections);
        Assert.All(report.Rejections, r => Assert.NotEmpty(r.Detail));
    }

    [Fact]
    public async Task TestSync_SampleLog_LeavesRedisStateAndEmulatorUntouched()
    {
        var lines = SampleLogGenerator.GenerateLines(new SampleLogOptions { Customers = 30, Leads = 10, Weeks = 6 }).ToList();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString);
        var before = await KeysAsync(redis);

        var report = await RunAsync(Tenant, lines, chunkSize: 65_536);

        Assert.True(report.Customers > 0);
        Assert.Equal(before, await KeysAsync(redis));
        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant });
        Assert.Equal(0ul, status.EntriesAccepted);
        Assert.Equal(0ul, status.Customers);
        Assert.Empty(status.RejectedByReason);
        Assert.Empty(emulator.Account(Tenant).Requests());
    }

    [Fact]
    public async Task TestSync_SmallLog_CountsRequestsPerContactAndEstimatesAtTheBudgets()
    {
        var now = DateTimeOffset.UtcNow;
        var live = now.AddSeconds(-5).ToString("O");
        string[] lines =
        [
            """{"ts":"2024-06-03T14:22:05Z","event":"New Customer Signup","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active","marketing_opt_in":true}}""",
            """{"ts":"2024-06-03T14:22:06Z","event":"Delivery Today Reminder Email Sent","customer":{"id":"1","email":"a@example.com"}}""",
            """{"ts":"2024-06-03T14:22:07Z","event":"Order Completed","customer":{"id":"1","email":"a@example.com"},"order":{"id":"o-1","total_cents":4599,"currency":"USD","items":[{"sku":"LVB"}]}}""",
            """{"ts":"2024-06-03T14:22:08Z","event":"Order Completed","customer":{"id":"1","email":"a@example.com"},"order":{"id":"o-1","total_cents":5000,"currency":"USD","items":[{"sku":"LVB"}]}}""",
            """{"ts":"2024-06-04T10:00:00Z","customer":{"id":"2","email":"b@example.com"},"attrs":{"status":"Cancelled","marketing_opt_in":false}}""",
            """{"ts":"2024-06-04T10:00:01Z","customer":{"id":"3","email":"b@example.com"}}""",
            """{"ts":"2024-06-05T08:00:00Z","event":"Submitted Contact Form","contact":{"email":"lead@example.org"}}""",
            """{"ts":"2024-06-05T08:00:01Z","event":"Dance party"}""",
            """{"ts":"2024-06-05T08:00:02Z","event":"Logged in"}""",
            "{not json",
            "{not json",
            $$$"""{"ts":"{{{live}}}","event":"Delivery Today Reminder Email Sent","customer":{"id":"1","email":"a@example.com"}}""",
        ];

        var report = await RunAsync(Tenant, lines, chunkSize: 10);

        Assert.Equal(12ul, report.Lines);
        Assert.Equal(1ul, report.Duplicates);
        Assert.Equal(1ul, report.RejectedByReason["invalid_json"]);
        Assert.Equal(10ul, report.Rejections.Single().Line);
        Assert.Equal(3ul, report.Customers);
        Assert.Equal(1ul, report.Leads);
        // 4 contacts ≤ the threshold: one sync each, lists All+Active (1), none after opt-out (2), All (3), All+Leads (lead), 3 order tags.
        Assert.Equal(4ul, report.RequestsByKind["contact_sync"]);
        Assert.Equal(5ul, report.RequestsByKind["contact_list"]);
        Assert.Equal(3ul, report.RequestsByKind["contact_tag"]);
        Assert.Equal(1ul, report.RequestsByKind["bulkUpsertOrdersAsync"]);
        Assert.False(report.RequestsByKind.ContainsKey("ecom_customer") || report.RequestsByKind.ContainsKey("ecom_order"));
        Assert.False(report.RequestsByKind.ContainsKey("bulk_import"));
        // Sent: signup, order completed ×2, contact form, the live reminder; the historical reminder is live-only.
        Assert.Equal(5ul, report.RequestsByKind["event"]);
        Assert.Equal(1ul, report.EventsByName["Delivery reminder email sent"]);
        Assert.Equal(1ul, report.HistoricalEventsNotSent);
        Assert.Equal(1ul, report.EventsWithoutContact);
        Assert.Equal(1ul, report.UnknownEvents["Dance party"]);
        Assert.Equal(1ul, report.Orders);
        Assert.Equal(5000, report.OrderTotalsCents["USD"]);
        Assert.Single(report.EmailConflicts);
        Assert.Contains("b@example.com", report.EmailConflicts[0], StringComparison.Ordinal);
        Assert.Equal(0ul, report.CustomersWithoutEmail);
        var contactSide = report.RequestsByKind.Where(r => r.Key != "event").Sum(r => (long)r.Value);
        Assert.Equal((ulong)contactSide + 5, report.RequestsTotal);
        Assert.Equal((ulong)contactSide + 1, report.RequestsWithoutHistoricalEvents);
        // The two budgets run in parallel: contact requests at 50/s, events at 20/s.
        Assert.Equal(TimeSpan.FromSeconds(Math.Max(contactSide / 50.0, 5 / 20.0)), report.EstimatedBackfill.ToTimeSpan());
    }

    [Fact]
    public async Task TestSync_OverBulkThresholdWithHistoricalEventsOff_BulkImportsAndSendsNoHistoricalEvent()
    {
        var lines = Enumerable.Range(1, 300).Select(i =>
            $$$"""{"ts":"2024-06-03T14:22:05Z","event":"Logged in","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"Active"}}""").ToList();

        var report = await RunAsync("other", lines, chunkSize: 4_096);

        Assert.Equal(300ul, report.Customers);
        Assert.Equal(2ul, report.RequestsByKind["bulk_import"]);
        Assert.False(report.RequestsByKind.ContainsKey("contact_sync"));
        Assert.Empty(report.EventsByName);
        Assert.Equal(300ul, report.HistoricalEventsNotSent);
        Assert.Equal(report.RequestsTotal, report.RequestsWithoutHistoricalEvents);
    }

    [Fact]
    public async Task TestSync_FirstChunkWithoutTenant_InvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => RunAsync("", ["{}"], 10));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("tenant", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestSync_UnconfiguredTenant_NotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => RunAsync("nobody", ["{}"], 10));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public void Finish_RenameCutInsideAnEmoji_CountedUnderTheNameTheServiceSends()
    {
        // 31 characters, then an emoji (two UTF-16 units): AC's 32-character cut falls between its halves.
        var rename = new string('a', 31) + "\U0001F600 box";
        var options = new TenantOptions { EventNames = { ["Logged in"] = rename } };
        var runner = new TestSyncRunner(Tenant, options, DateTimeOffset.UtcNow, _ => false);
        runner.Write(Encoding.UTF8.GetBytes("""{"ts":"2024-06-03T14:22:05Z","event":"Logged in","customer":{"id":"1","email":"a@example.com"}}""" + "\n"));

        var report = runner.Finish();

        var name = Assert.Single(report.EventsByName).Key;
        Assert.Equal(EventRules.For(options).All.Single(e => e.LogName == "Logged in").AcName, name);
        Assert.Equal(new string('a', 31), name);
    }

    [Fact]
    public void Write_LogOverTheLimit_RefusesTheRest()
    {
        var runner = new TestSyncRunner(Tenant, new TenantOptions(), DateTimeOffset.UtcNow, _ => false, maxLogBytes: 100);

        Assert.True(runner.Write(new byte[60]));
        Assert.False(runner.Write(new byte[60]));
        Assert.True(runner.IsOverLimit);
    }

    [Fact]
    public void Finish_LineOverTheLimitFedInPieces_OneTooLongRejectAndTheNextLineRead()
    {
        var runner = new TestSyncRunner(Tenant, new TenantOptions(), DateTimeOffset.UtcNow, _ => false);
        var piece = Encoding.ASCII.GetBytes(new string('x', 100_000));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(runner.Write(piece));
        }

        runner.Write(Encoding.UTF8.GetBytes("\r\n" + """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"}}""" + "\n"));

        var report = runner.Finish();

        Assert.Equal(1ul, report.RejectedByReason["too_long"]);
        var rejection = Assert.Single(report.Rejections);
        Assert.Equal((1ul, "too_long"), (rejection.Line, rejection.Reason));
        Assert.Contains("300000 bytes", rejection.Detail, StringComparison.Ordinal);
        Assert.Equal(1ul, report.Customers);
    }

    [Fact]
    public async Task TestSync_600MiBWithoutANewline_OneTooLongRejectAndTheHeapDoesNotGrowWithTheStream()
    {
        const int chunkBytes = 1024 * 1024;
        var data = ByteString.CopyFrom(Enumerable.Repeat((byte)'x', chunkBytes).ToArray());
        using var call = service.Api.TestSync();
        await call.RequestStream.WriteAsync(new TestSyncChunk { Tenant = Tenant, Data = data });
        long baseline = 0;
        long peak = 0;
        for (var mib = 1; mib < 600; mib++)
        {
            await call.RequestStream.WriteAsync(new TestSyncChunk { Data = data });
            // In this process: the service's heap after a full collection, early in the line and then as it goes on.
            if (mib == 32)
            {
                baseline = GC.GetTotalMemory(forceFullCollection: true);
            }
            else if (mib > 32 && mib % 128 == 0)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
            }
        }

        peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
        await call.RequestStream.CompleteAsync();
        var report = await call;

        Assert.Equal(1ul, report.RejectedByReason["too_long"]);
        Assert.Equal(1ul, report.Lines);
        Assert.Contains($"{600L * chunkBytes} bytes", Assert.Single(report.Rejections).Detail, StringComparison.Ordinal);
        // The line is skipped, not held: 568 MiB more of it may cost the heap no more than a few buffers.
        Assert.True(peak - baseline < 48L * 1024 * 1024, $"the heap grew by {(peak - baseline) / (1024 * 1024)} MiB while the line went on");
    }

    [Fact]
    public async Task TestSync_MoreCallsThanTheReplicaTakes_RefusedResourceExhaustedWithRetryAfter()
    {
        await using var limited = await ServiceHarness.StartAsync("bluebarn", extra: new Dictionary<string, string?>
        {
            ["KivaSync:Api:MaxConcurrentTestSyncs"] = "1",
        });
        var line = ByteString.CopyFromUtf8("""{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"}}""" + "\n");
        using var first = limited.Api.TestSync();
        using var second = limited.Api.TestSync();
        foreach (var call in new[] { first, second })
        {
            try
            {
                await call.RequestStream.WriteAsync(new TestSyncChunk { Tenant = "bluebarn", Data = line });
            }
            catch (RpcException)
            {
                // Refused before its first chunk went out: the refusal is in its response.
            }
        }

        // Both are open: the one the replica could not take ends at once, the other waits for the rest of its log.
        // (Bounded: without a limit neither ends, and the test must fail rather than hang.)
        var refusedCall = await Task.WhenAny(first.ResponseAsync, second.ResponseAsync).WaitAsync(TimeSpan.FromSeconds(60));
        var (refused, admitted) = refusedCall == first.ResponseAsync ? (first, second) : (second, first);
        var error = await Assert.ThrowsAsync<RpcException>(() => refused.ResponseAsync);
        await admitted.RequestStream.CompleteAsync();
        var report = await admitted;

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("MaxConcurrentTestSyncs", error.Status.Detail, StringComparison.Ordinal);
        Assert.NotNull(error.Trailers.GetValue("retry-after-ms"));
        Assert.Equal(1ul, report.Customers);
    }

    [Fact]
    public async Task TestSync_Subscribers_RecurringPaymentsPerFiftyAndUnreadableSchedulesAsAnomalies()
    {
        var lines = new List<string>();
        for (var i = 1; i <= 51; i++)
        {
            var schedule = i switch { 1 => "every other tuesday", 2 => "every 0 weeks", _ => "every 3 weeks" };
            lines.Add($$$"""{"ts":"2024-06-03T10:00:{{{i % 60:D2}}}Z","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"Active","schedule":"{{{schedule}}}"}}""");
        }

        // A gift purchaser is no subscriber; a later readable schedule clears customer 2's anomaly.
        lines.Add("""{"ts":"2024-06-03T11:00:00Z","customer":{"id":"g","email":"g@example.com"},"attrs":{"status":"Gift Purchaser","schedule":"whenever"}}""");
        lines.Add("""{"ts":"2024-06-04T11:00:00Z","customer":{"id":"2","email":"c2@example.com"},"attrs":{"schedule":"Monthly"}}""");

        var report = await RunAsync(Tenant, lines, chunkSize: 4_096);

        Assert.Equal(51ul, report.Subscribers);
        Assert.Equal(2ul, report.RequestsByKind["recurring_payment"]);
        var anomaly = Assert.Single(report.ScheduleAnomalies);
        Assert.Contains("customer 1:", anomaly, StringComparison.Ordinal);
        Assert.Contains("every other tuesday", anomaly, StringComparison.Ordinal);
    }

    private async Task<TestSyncReport> RunAsync(string tenant, IReadOnlyList<string> lines, int chunkSize)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
        using var call = service.Api.TestSync();
        for (var offset = 0; offset < bytes.Length; offset += chunkSize)
        {
            var chunk = new TestSyncChunk { Data = ByteString.CopyFrom(bytes, offset, Math.Min(chunkSize, bytes.Length - offset)) };
            if (offset == 0)
            {
                chunk.Tenant = tenant;
            }

            await call.RequestStream.WriteAsync(chunk);
        }

        await call.RequestStream.CompleteAsync();
        return await call;
    }

    private static async Task<List<string>> KeysAsync(ConnectionMultiplexer redis)
    {
        var server = redis.GetServers().Single();
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: "*"))
        {
            keys.Add(key.ToString());
        }

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }
}
