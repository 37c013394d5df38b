using System.Globalization;
using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;
using KivaSync.Testing.Oracle;

namespace KivaSync.SyncService.Tests;

/// <summary>Subscriptions from the log to AC recurring payments (the emulator's GraphQL endpoint): fields as the oracle
/// reads the contract, fifty to a call across customers, live vs historical, coalescing, refusals set aside.</summary>
public sealed class RecurringPaymentsTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string ApiKey = "ac-test-key";
    private AcEmulatorHost emulator = null!;
    private EmulatedAccount account = null!;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        account = emulator.AddAccount(Tenant, ApiKey, "1000", "event-key", requestsPerSecond: 50);
        account.GraphQlApplyDelay = TimeSpan.FromMilliseconds(200);
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    private Task<ServiceHarness> StartServiceAsync() =>
        ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50,
            new Dictionary<string, string?> { ["KivaSync:Sync:BackfillSettle"] = "00:00:00.500" });

    private static string Ts(DateTimeOffset at) => at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static readonly DateTimeOffset Past = new(2024, 6, 3, 10, 0, 0, TimeSpan.Zero);

    private static string Subscriber(int i, DateTimeOffset at, string status = "Active") =>
        $$$"""{"ts":"{{{Ts(at)}}}","event":"New Customer Signup","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"{{{status}}}","schedule":"{{{(i % 3 == 0 ? "bi-weekly" : i % 3 == 1 ? "every 6 weeks" : "every other day")}}}","box":"Box {{{i % 4}}}","next_delivery":"2024-06-{{{10 + (i % 9):D2}}}","marketing_opt_in":true}}""";

    private static string OrderLine(int i, DateTimeOffset at, long cents) =>
        $$$"""{"ts":"{{{Ts(at)}}}","event":"Order Completed","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"order":{"id":"o-{{{i}}}-{{{cents}}}","total_cents":{{{cents}}},"currency":"USD","items":[{"sku":"B","name":"Box","qty":1,"price_cents":{{{cents}}}}]}}""";

    private static string Change(int i, DateTimeOffset at, string attrs) =>
        $$$"""{"ts":"{{{Ts(at)}}}","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{{{attrs}}}}""";

    private int GraphQlCalls(string mutation) =>
        account.Requests().Count(r => r.Path.EndsWith("ecom/graphql", StringComparison.Ordinal) && r.Status == 200 && r.Body?.Contains(mutation, StringComparison.Ordinal) == true);

    private static List<string> Compare(ExpectedAccount expected, IReadOnlyList<EmulatedRecurringPayment> got)
    {
        var diffs = new List<string>();
        var byId = got.ToDictionary(r => r.StoreRecurringPaymentId, StringComparer.Ordinal);
        foreach (var id in expected.RecurringPayments.Keys.Union(byId.Keys))
        {
            diffs.AddRange(RecurringPaymentCheck.Diff(id, expected.RecurringPayments.GetValueOrDefault(id),
                byId.TryGetValue(id, out var rp) ? RecurringPaymentCheck.Fields(rp) : null));
        }

        return diffs;
    }

    [Fact]
    public async Task Sync_HistoricalSubscribers_EveryRecurringPaymentAsTheOracleReadsItFiftyToACall()
    {
        await using var service = await StartServiceAsync();
        var lines = new List<string>();
        for (var i = 1; i <= 120; i++)
        {
            lines.Add(Subscriber(i, Past.AddMinutes(i), status: i % 10 == 0 ? "Cancelled" : "Active"));
            if (i % 2 == 0)
            {
                lines.Add(OrderLine(i, Past.AddDays(1).AddMinutes(i), 3000 + i));
            }
        }

        // Gift customers are no subscribers; a cancelled subscriber turned gift purchaser stays one.
        lines.Add(Change(200, Past, """{"status":"Gift Purchaser","box":"Gift"}""").Replace("c200@", "g200@", StringComparison.Ordinal));
        lines.Add(Change(10, Past.AddDays(2), """{"status":"Gift Purchaser","cancelled_on":"2024-06-05"}"""));
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, [.. lines]));

        var expected = ContractOracle.Compute(lines, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        Assert.Equal(120, expected.RecurringPayments.Count);
        await AcSideHelpers.WaitUntilAsync(() => Task.FromResult(account.RecurringPayments().Count == 120 && account.PendingGraphQlItems == 0),
            "120 recurring payments in AC", TimeSpan.FromSeconds(90));

        Assert.Empty(Compare(expected, account.RecurringPayments()));
        Assert.All(account.RecurringPayments(), rp => Assert.Equal(1, rp.UpsertCount));
        Assert.Equal(3, GraphQlCalls("bulkUpsertRecurringPayments"));
        Assert.Equal(0, account.TooManyRequestsCount);
    }

    [Fact]
    public async Task Sync_LiveChanges_LatestStateSentWithinSecondsWithoutSuppressingAutomations()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, Subscriber(1, Past), Subscriber(2, Past)));
        await AcSideHelpers.WaitUntilAsync(() => Task.FromResult(account.RecurringPayments().Count == 2), "two recurring payments");
        Assert.All(account.RecurringPayments(), rp => Assert.True(rp.SuppressAutomations));

        // Live: customer 1 pauses, then changes its schedule (one coalesced send is enough); customer 2's live entry
        // leaves every recurring payment value as it was.
        var now = DateTimeOffset.UtcNow;
        string[] live =
        [
            Change(1, now.AddSeconds(-3), """{"status":"Stopped"}"""),
            Change(1, now.AddSeconds(-2), """{"schedule":"monthly","next_delivery":null}"""),
            Change(2, now.AddSeconds(-2), """{"box":"Box 2","marketing_opt_in":false}"""),
        ];
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "live", 0, 1, live));

        await AcSideHelpers.WaitUntilAsync(() => Task.FromResult(account.RecurringPayments().Single(r => r.StoreRecurringPaymentId == "1").UpsertCount == 2),
            "customer 1's recurring payment updated", TimeSpan.FromSeconds(15));
        var expected = ContractOracle.Compute([Subscriber(1, Past), Subscriber(2, Past), .. live], Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        Assert.Empty(Compare(expected, account.RecurringPayments()));
        var one = account.RecurringPayments().Single(r => r.StoreRecurringPaymentId == "1");
        Assert.Equal([true, false], one.SuppressAutomationsSent);
        Assert.Equal(("PAUSED", "MONTHLY", 1, (string?)null), (one.NormalizedStatus, one.BillingInterval, one.BillingIntervalCount, one.NextPaymentDate));
        Assert.Equal(1, account.RecurringPayments().Single(r => r.StoreRecurringPaymentId == "2").UpsertCount);

        // GetSyncStatus shows the subscription as sent: status, interval, next payment, nothing pending.
        await AcSideHelpers.WaitUntilAsync(async () => (await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" })).Subscription is { Pending: false },
            "customer 1's subscription no longer pending");
        var status = (await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" })).Subscription;
        Assert.Equal(("PAUSED", "Stopped", "MONTHLY", 1u, "", false), (status.Status, status.StoreStatus, status.BillingInterval, status.BillingIntervalCount, status.NextPaymentDate, status.SuppressAutomations));
        var other = (await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "2" })).Subscription;
        Assert.Equal(("ACTIVE", "", "every other day"), (other.Status, other.BillingInterval, other.UnreadableSchedule));
    }

    [Fact]
    public async Task Sync_RefusedRecurringPayment_SetAsideWithAcsReasonTheOthersLandAndRetryResends()
    {
        await using var service = await StartServiceAsync();
        account.RefuseRecurringPaymentIds("7");
        var lines = Enumerable.Range(1, 50).Select(i => Subscriber(i, Past.AddMinutes(i))).ToArray();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, lines));

        await AcSideHelpers.WaitUntilAsync(() => Task.FromResult(account.RecurringPayments().Count == 49), "49 recurring payments", TimeSpan.FromSeconds(60));
        var dead = await ListRecurringPaymentDeadLettersAsync(service);
        var letter = Assert.Single(dead);
        Assert.Equal(("7", "recurring_payment"), (letter.CustomerId, letter.Kind));
        Assert.False(string.IsNullOrWhiteSpace(letter.Reason));
        Assert.DoesNotContain(account.RecurringPayments(), r => r.StoreRecurringPaymentId == "7");

        account.AcceptAllGraphQlIds();
        await service.Api.RetryDeadLettersAsync(new RetryDeadLettersRequest { Tenant = Tenant, Ids = { letter.Id } });

        await AcSideHelpers.WaitUntilAsync(() => Task.FromResult(account.RecurringPayments().Count == 50), "the retried recurring payment", TimeSpan.FromSeconds(30));
        await AcSideHelpers.WaitUntilAsync(async () => (await ListRecurringPaymentDeadLettersAsync(service)).Count == 0, "the dead letter cleared");
    }

    private static async Task<List<DeadLetter>> ListRecurringPaymentDeadLettersAsync(ServiceHarness service) =>
        [.. (await service.Api.ListDeadLettersAsync(new ListDeadLettersRequest { Tenant = Tenant, Limit = 100 })).DeadLetters.Where(d => d.Id.StartsWith("rp:", StringComparison.Ordinal))];
}
