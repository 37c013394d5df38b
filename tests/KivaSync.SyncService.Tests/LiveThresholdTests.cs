using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>Historical or live, decided at ingest against the service's clock (a FakeTimeProvider, so the
/// threshold's boundary is exact): an entry is live when its ts is at most the tenant's live threshold old.
/// A live-only event is queued for a live entry and counted as not sent for a historical one.</summary>
public sealed class LiveThresholdTests
{
    private const string Tenant = "greenleaf";
    private const string LiveOnlyEvent = "Delivery Today Reminder Email Sent";
    private static readonly DateTimeOffset Now = new(2024, 6, 20, 12, 0, 0, TimeSpan.Zero);

    private static async Task<ServiceHarness> StartAtNowAsync(Dictionary<string, string?>? extra = null)
    {
        var clock = new FakeTimeProvider(Now);
        return await ServiceHarness.StartAsync(Tenant, extra: extra, configure: b => b.Services.AddSingleton<TimeProvider>(clock));
    }

    private static string Reminder(string customerId, DateTimeOffset ts) =>
        $$$"""{"ts":"{{{ts.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}}}","event":"{{{LiveOnlyEvent}}}","customer":{"id":"{{{customerId}}}","email":"c{{{customerId}}}@example.com"}}""";

    private static async Task<(long[] Queued, long HistoricalNotSent, bool[] DirtyLive)> ShipAndReadAsync(ServiceHarness service, params (string Id, DateTimeOffset Ts)[] entries)
    {
        var ack = (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, [.. entries.Select(e => Reminder(e.Id, e.Ts))]))).Single();
        Assert.Equal((uint)entries.Length, ack.Accepted);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString);
        var db = redis.GetDatabase();
        var p = $"ks:{{{Tenant}}}:";
        var queued = new long[entries.Length];
        var dirtyLive = new bool[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            queued[i] = await db.ListLengthAsync(p + "ev:c:" + entries[i].Id);
            dirtyLive[i] = await db.SortedSetScoreAsync(p + "dirty:live", "c:" + entries[i].Id) is not null;
        }

        var notSent = (long?)await db.HashGetAsync(p + "meta", "ev_historical_not_sent") ?? 0;
        return (queued, notSent, dirtyLive);
    }

    [Fact]
    public async Task Ship_EntriesAtAndJustPastTheDefaultThreshold_OnlyTheOneAtItIsLive()
    {
        await using var service = await StartAtNowAsync();

        var (queued, notSent, dirtyLive) = await ShipAndReadAsync(service,
            ("1", Now - TimeSpan.FromMinutes(10)),
            ("2", Now - TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1)),
            ("3", Now - TimeSpan.FromSeconds(30)));

        Assert.Equal([1L, 0L, 1L], queued);
        Assert.Equal(1, notSent);
        Assert.Equal([true, false, true], dirtyLive);
    }

    [Fact]
    public async Task Ship_TenantsOwnLiveThreshold_DecidesLiveAtItsBoundary()
    {
        await using var service = await StartAtNowAsync(new() { [$"KivaSync:Tenants:{Tenant}:LiveThreshold"] = "00:30:00" });

        var (queued, notSent, _) = await ShipAndReadAsync(service,
            ("1", Now - TimeSpan.FromMinutes(30)),
            ("2", Now - TimeSpan.FromMinutes(30) - TimeSpan.FromMilliseconds(1)),
            ("3", Now - TimeSpan.FromMinutes(20)));

        Assert.Equal([1L, 0L, 1L], queued);
        Assert.Equal(1, notSent);
    }
}
