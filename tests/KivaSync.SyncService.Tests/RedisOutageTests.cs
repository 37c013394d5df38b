using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Tests;

/// <summary>Redis going away must make the service refuse (so the shipper waits and resends), never lose or fake an ack.</summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private ServiceHarness service = null!;

    // With AOF, as in production: a Redis that comes back without its data is StateLossTests' subject.
    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Tenant, redis: await KivaSync.Testing.Redis.RedisServerProcess.StartAsync(appendOnly: true));

    public async Task DisposeAsync() => await service.DisposeAsync();

    private static string Line(int i) =>
        $$$"""{"ts":"2024-06-03T14:22:{{{i:D2}}}Z","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"Active"}}""";

    [Fact]
    public async Task Ship_RedisDown_UnavailableWithRetryDelayAndAfterRestartTheResendIsAccepted()
    {
        await service.Redis.KillAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Line(1), Line(2))));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("Redis", error.Status.Detail, StringComparison.Ordinal);
        Assert.NotNull(error.Trailers.GetValue("retry-after-ms"));

        await service.Redis.RestartAsync();
        var ack = await ShipWhenRedisIsBackAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Line(1), Line(2)));

        Assert.Equal(2u, ack.Accepted);
    }

    [Fact]
    public async Task GetSyncStatus_RedisDown_Unavailable()
    {
        await service.Redis.KillAsync();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" }));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    private async Task<BatchAck> ShipWhenRedisIsBackAsync(EntryBatch batch)
    {
        // The client reconnects in the background; the shipper would keep resending the same way.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return (await service.ShipAsync(batch)).Single();
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }
}
