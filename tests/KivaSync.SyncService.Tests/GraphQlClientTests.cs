using KivaSync.AcEmulator;
using KivaSync.SyncService.ActiveCampaign;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.SyncService.Tests;

/// <summary>The typed Ecommerce GraphQL client against the AC emulator: limits, the all-or-nothing refusal, the budget.</summary>
public sealed class GraphQlClientTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string ApiKey = "ac-test-key";
    private AcEmulatorHost emulator = null!;
    private EmulatedAccount account = null!;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        account = emulator.AddAccount(Tenant, ApiKey, "1000", "event-key", requestsPerSecond: 5);
        account.GraphQlApplyDelay = TimeSpan.Zero;
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    private async Task<(ServiceHarness Service, AcClient Client, long Connection)> StartAsync()
    {
        var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 5,
            new Dictionary<string, string?> { ["KivaSync:Sync:Enabled"] = "false" });
        var client = service.App.Services.GetRequiredService<AcClientFactory>().For(Tenant);
        var (id, _) = await client.EnsureConnectionAsync(new AcConnectionInput("kivasync", Tenant, "Kiva", "https://x.example/f.ico", "https://x.example"), CancellationToken.None);
        return (service, client, long.Parse(id, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static AcOrderUpsert Order(long connection, string id, long cents = 4599) => new(
        connection, id, id, "buyer@example.com", "c-1", "2024-06-07T10:00:00Z", null, AcOrderUpsert.Historical, "COMPLETED", "Order Completed",
        "USD", cents / 100m, 5m, null, [new AcOrderLineItem("Large Veggie Box", 1, (cents - 500) / 100m, "LVB", "box", null)]);

    [Theory]
    [InlineData("3-storeOrderId-o-99812", 3, "o-99812")]
    [InlineData("12-storeOrderId-a-b--c-", 12, "a-b--c-")]
    [InlineData("0-storeOrderId-", 0, "")]
    public void ParseRefusedKey_IdWithDashes_EverythingAfterSecondDashIsTheId(string key, int position, string id) =>
        Assert.Equal((position, id), AcClient.ParseRefusedKey(key, "storeOrderId"));

    [Theory]
    [InlineData("limit")]
    [InlineData("x-storeOrderId-1")]
    [InlineData("1-storeRecurringPaymentId-1")]
    public void ParseRefusedKey_NotAnItemKey_Null(string key) => Assert.Null(AcClient.ParseRefusedKey(key, "storeOrderId"));

    [Fact]
    public async Task BulkUpsertOrdersAsync_OneRefusedOfFifty_SetAsideWithReasonAndTheOther49Land()
    {
        var (service, client, connection) = await StartAsync();
        await using var _ = service;
        account.RefuseOrderIds("o-7-x");
        var orders = Enumerable.Range(0, 50).Select(i => Order(connection, i == 7 ? "o-7-x" : "o-" + i)).ToList();

        var result = await client.BulkUpsertOrdersAsync(orders, CancellationToken.None);

        var refused = Assert.Single(result.Refused);
        Assert.Equal((7, "o-7-x"), (refused.Index, refused.StoreId));
        Assert.Contains("refused", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(2, result.Calls);
        var landed = account.GraphQlOrders();
        Assert.Equal(49, landed.Count);
        Assert.DoesNotContain(landed, o => o.StoreOrderId == "o-7-x");
        Assert.Equal(45.99m, landed[0].FinalAmount);
        Assert.Equal(40.99m, Assert.Single(landed[0].LineItems).PriceAmount);
    }

    [Fact]
    public async Task BulkUpsertOrdersAsync_120Orders_FiftyACallOnTheSharedBudgetWithout429()
    {
        var (service, client, connection) = await StartAsync();
        await using var _ = service;

        var result = await client.BulkUpsertOrdersAsync([.. Enumerable.Range(0, 120).Select(i => Order(connection, "o-" + i))], CancellationToken.None);

        Assert.Empty(result.Refused);
        Assert.Equal(3, result.Calls);
        var calls = account.Requests().Where(r => r.Path.EndsWith("/ecom/graphql", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.DoesNotContain("o-1\"", c.Body!.Split("variables")[0], StringComparison.Ordinal));
        Assert.Equal(120, account.GraphQlOrders().Count);
        Assert.Equal(0, account.TooManyRequestsCount);
    }

    [Fact]
    public async Task BulkUpsertRecurringPaymentsAsync_ClearedField_SentAsNullAndAbsentOnesKept()
    {
        var (service, client, connection) = await StartAsync();
        await using var _ = service;
        await client.BulkUpsertRecurringPaymentsAsync([new AcRecurringPaymentUpsert(connection, "c-1", "c-1", "sub@example.com", "Box", "ACTIVE", "Active",
            "WEEKLY", 1, "2024-06-10T00:00:00Z", null, 39.99m, "USD", ["Box"], true)], CancellationToken.None);

        await client.BulkUpsertRecurringPaymentsAsync([new AcRecurringPaymentUpsert(connection, "c-1", null, "sub@example.com", null, "CANCELLED", "Cancelled",
            null, null, null, "2024-06-12T00:00:00Z", null, null, null, false) { Cleared = ["nextPaymentDate"] }], CancellationToken.None);

        var rp = Assert.Single(account.RecurringPayments());
        Assert.Equal(("CANCELLED", (string?)null, "2024-06-12T00:00:00Z", "WEEKLY", (decimal?)39.99m, false),
            (rp.NormalizedStatus, rp.NextPaymentDate, rp.CancelledDate, rp.BillingInterval, rp.PaymentAmount, rp.SuppressAutomations));
    }
}
