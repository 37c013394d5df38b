using System.Globalization;
using StackExchange.Redis;
using F = KivaSync.SyncService.State.ContactSnapshot.Fields;

namespace KivaSync.SyncService.Tests;

/// <summary>What ingest.lua keeps for the customer's recurring payment (subscription), beyond the contact's fields.</summary>
public sealed class SubscriptionFoldTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string Key = "ks:{greenleaf}:c:1";
    private ServiceHarness service = null!;
    private ConnectionMultiplexer redis = null!;
    private long batch;

    public async Task InitializeAsync()
    {
        service = await ServiceHarness.StartAsync(Tenant);
        redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await redis.DisposeAsync();
        await service.DisposeAsync();
    }

    private IDatabase Db => redis.GetDatabase();

    private static string Historical(string attrs, string ts = "2024-06-03T14:22:05Z", string email = "a@example.com") =>
        $$$"""{"ts":"{{{ts}}}","customer":{"id":"1","email":"{{{email}}}"},"attrs":{{{attrs}}}}""";

    private static string Live(string attrs, string email = "a@example.com") =>
        Historical(attrs, DateTimeOffset.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), email);

    private static string OrderLine(string evt, string orderId, long cents, string currency, string ts) =>
        $$$"""{"ts":"{{{ts}}}","event":"{{{evt}}}","customer":{"id":"1","email":"a@example.com"},"order":{"id":"{{{orderId}}}","total_cents":{{{cents}}},"currency":"{{{currency}}}","items":[{"sku":"X","qty":1,"price_cents":{{{cents}}}}]}}""";

    private async Task ShipAsync(params string[] lines)
    {
        batch++;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "f" + batch, 0, 1, lines));
    }

    private async Task<Dictionary<string, string>> HashAsync() =>
        (await Db.HashGetAllAsync(Key)).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);

    [Fact]
    public async Task Ship_GiftStatusAfterASubscriberStatus_LatestSubscriberStatusKept()
    {
        await ShipAsync(Historical("""{"status":"Stopped"}"""), Historical("""{"status":"Gift Purchaser"}""", "2024-06-04T00:00:00Z"));

        var hash = await HashAsync();
        Assert.Equal("Gift Purchaser", hash[F.Status]);
        Assert.Equal("Stopped", hash[F.SubscriberStatus]);
        Assert.True(await Db.SetContainsAsync("ks:{greenleaf}:rpp", "1"));
    }

    [Fact]
    public async Task Ship_OlderSubscriberStatusShippedLate_NewerOneStays()
    {
        await ShipAsync(Historical("""{"status":"Dead"}""", "2024-06-05T00:00:00Z"));
        await ShipAsync(Historical("""{"status":"Active"}"""));

        Assert.Equal("Dead", (await HashAsync())[F.SubscriberStatus]);
    }

    [Fact]
    public async Task Ship_GiftStatusesOnly_NotASubscriberNotPending()
    {
        await ShipAsync(Historical("""{"status":"Gift Recipient","box":"Fruit"}"""));

        var hash = await HashAsync();
        Assert.False(hash.ContainsKey(F.SubscriberStatus));
        Assert.False(await Db.KeyExistsAsync("ks:{greenleaf}:rpp"));
    }

    [Fact]
    public async Task Ship_OrderCompleted_LatestByTsIsThePaymentWithoutANewContactVersion()
    {
        await ShipAsync(Historical("""{"status":"Active"}"""));
        var version = (await HashAsync())[F.Version];

        await ShipAsync(OrderLine("Order Completed", "o-2", 5000, "EUR", "2024-06-10T00:00:00Z"));
        await ShipAsync(OrderLine("Order Completed", "o-1", 4599, "USD", "2024-06-07T00:00:00Z"));
        await ShipAsync(OrderLine("Gift Box Purchase", "g-1", 9900, "USD", "2024-06-11T00:00:00Z"));

        var hash = await HashAsync();
        Assert.Equal(("5000", "EUR"), (hash[F.PaymentCents], hash[F.PaymentCurrency]));
        // AC's contact shows no payment: no contact request for it.
        Assert.Equal(version, hash[F.Version]);
        Assert.Equal("2", hash[F.RpVersion]);
    }

    [Fact]
    public async Task Ship_LiveEntryLeavingEveryRecurringPaymentValue_NoChangeNoLiveVersion()
    {
        await ShipAsync(Historical("""{"status":"Active","schedule":"bi-weekly","box":"Large","next_delivery":"2024-06-07"}"""));
        var before = await HashAsync();

        // The same reading of the schedule, the same box and date, a gift status, an opt-out: no recurring payment value changes.
        await ShipAsync(Live("""{"status":"Gift Purchaser","schedule":"Bi-Weekly","box":"Large","next_delivery":"2024-06-07","marketing_opt_in":false}"""));

        var after = await HashAsync();
        Assert.Equal(before[F.RpVersion], after[F.RpVersion]);
        Assert.False(after.ContainsKey(F.RpLiveVersion));
        Assert.Equal("Bi-Weekly", after[F.Schedule]);
    }

    [Theory]
    [InlineData("""{"schedule":"every 3 weeks"}""", "a@example.com")]
    [InlineData("""{"next_delivery":"2024-06-14"}""", "a@example.com")]
    [InlineData("""{"box":null}""", "a@example.com")]
    [InlineData("""{"status":"Cancelled"}""", "a@example.com")]
    [InlineData("{}", "new@example.com")]
    public async Task Ship_LiveEntryChangingAValue_LiveVersionIsTheNewVersion(string attrs, string email)
    {
        await ShipAsync(Historical("""{"status":"Active","schedule":"weekly","box":"Large","next_delivery":"2024-06-07"}"""));
        Assert.False((await HashAsync()).ContainsKey(F.RpLiveVersion));

        await ShipAsync(Live(attrs, email));

        var hash = await HashAsync();
        Assert.Equal("2", hash[F.RpVersion]);
        Assert.Equal("2", hash[F.RpLiveVersion]);
    }
}
