using KivaSync.SyncService.State;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.SyncService.Tests;

/// <summary>The contact work queue: live work ahead of backfill, coalescing, leases.</summary>
public sealed class QueueTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Tenant);

    public async Task DisposeAsync() => await service.DisposeAsync();

    private StateStore Store => service.App.Services.GetRequiredService<StateStore>();

    private static string Entry(string id, DateTimeOffset ts) =>
        $$$"""{"ts":"{{{ts.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}}","customer":{"id":"{{{id}}}","email":"c{{{id}}}@example.com"},"attrs":{"status":"Active"}}""";

    [Fact]
    public async Task Claim_LiveEntryAfterABackfill_LiveContactHandedOutFirst()
    {
        var history = Enumerable.Range(1, 50).Select(i => Entry(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new DateTimeOffset(2024, 6, 3, 10, 0, i % 60, TimeSpan.Zero))).ToArray();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, history));
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "live", 0, 1, Entry("live-1", DateTimeOffset.UtcNow)));

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 10_000;
        var first = await Store.ClaimAsync(Tenant, now, TimeSpan.Zero, TimeSpan.FromMinutes(1), max: 1);
        var next = await Store.ClaimAsync(Tenant, now, TimeSpan.Zero, TimeSpan.FromMinutes(1), max: 3);

        Assert.Equal(["c:live-1"], first);
        Assert.Equal(3, next.Length);
        Assert.DoesNotContain("c:live-1", next);
    }

    [Fact]
    public async Task Claim_LiveEntryDuringDebounce_HandedOutAtOnceWhileBackfillWaitsToSettle()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, Entry("old", new DateTimeOffset(2024, 6, 3, 10, 0, 0, TimeSpan.Zero))));
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "live", 0, 1, Entry("new", DateTimeOffset.UtcNow)));

        var claimed = await Store.ClaimAsync(Tenant, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1), max: 10);

        Assert.Equal(["c:new"], claimed);
    }

    [Fact]
    public async Task Claim_HistoryStillArriving_BackfillHeldUntilHistorySettles()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, Entry("old", new DateTimeOffset(2024, 6, 3, 10, 0, 0, TimeSpan.Zero))));
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "live", 0, 1, Entry("new", DateTimeOffset.UtcNow)));
        var hold = new BackfillHold(Settle: TimeSpan.FromSeconds(30), MaxHold: TimeSpan.FromHours(1));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var whileArriving = await Store.ClaimAsync(Tenant, now + 1_000, TimeSpan.Zero, TimeSpan.FromMinutes(1), 10, hold);
        var settled = await Store.ClaimAsync(Tenant, now + 31_000, TimeSpan.Zero, TimeSpan.FromMinutes(1), 10, hold);

        // Live work is never held; the backfill contact waits until no history came for the settle time.
        Assert.Equal(["c:new"], whileArriving);
        Assert.Equal(["c:old"], settled);
    }

    [Fact]
    public async Task Claim_HistoryArrivingForLong_BackfillContactGoesAfterTheMaxHold()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, Entry("old", new DateTimeOffset(2024, 6, 3, 10, 0, 0, TimeSpan.Zero))));
        var hold = new BackfillHold(Settle: TimeSpan.FromHours(2), MaxHold: TimeSpan.FromMinutes(10));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var held = await Store.ClaimAsync(Tenant, now + (5 * 60_000), TimeSpan.Zero, TimeSpan.FromMinutes(1), 10, hold);
        var afterMaxHold = await Store.ClaimAsync(Tenant, now + (11 * 60_000), TimeSpan.Zero, TimeSpan.FromMinutes(1), 10, hold);

        Assert.Empty(held);
        Assert.Equal(["c:old"], afterMaxHold);
    }

    [Fact]
    public async Task Claim_ManyContactsLeftToBulkImport_ContactsBehindThemAreStillHandedOut()
    {
        var history = Enumerable.Range(1, 60).Select(i => Entry(i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), new DateTimeOffset(2024, 6, 3, 10, 0, 0, TimeSpan.Zero))).ToArray();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, history));
        // c:59 is already in AC (e.g. bulk imported and back for its events): the one-by-one sync's work.
        var db = service.App.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase();
        await db.HashSetAsync(new RedisKeys(Tenant).Contact("c:59"), [new("ac_id", "59"), new("state", "ok")]);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 60_000;

        var claimed = await Store.ClaimAsync(Tenant, now, TimeSpan.Zero, TimeSpan.FromMinutes(1), 4, BackfillHold.None, bulkThreshold: 50);
        var forBulk = await Store.ClaimForBulkImportAsync(Tenant, now, TimeSpan.Zero, TimeSpan.FromMinutes(1), 250, BackfillHold.None, threshold: 50);

        // The 59 never-synced contacts ahead of it in the queue are left to one bulk import, which takes them all.
        Assert.Equal(["c:59"], claimed);
        Assert.Equal(59, forBulk.Length);
        Assert.DoesNotContain("c:59", forBulk);
    }

    [Fact]
    public async Task Claim_ContactAlreadyInFlight_NotHandedOutTwiceUntilItsLeaseEnds()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Entry("1", new DateTimeOffset(2024, 6, 3, 10, 0, 0, TimeSpan.Zero))));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1_000;
        var first = await Store.ClaimAsync(Tenant, now, TimeSpan.Zero, TimeSpan.FromSeconds(30), 5);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 200, 2, Entry("1", new DateTimeOffset(2024, 6, 4, 10, 0, 0, TimeSpan.Zero))));

        var whileLeased = await Store.ClaimAsync(Tenant, now + 1_000, TimeSpan.Zero, TimeSpan.FromSeconds(30), 5);
        var afterLease = await Store.ClaimAsync(Tenant, now + 31_000, TimeSpan.Zero, TimeSpan.FromSeconds(30), 5);

        Assert.Equal(["c:1"], first);
        Assert.Empty(whileLeased);
        Assert.Equal(["c:1"], afterLease);
    }
}
