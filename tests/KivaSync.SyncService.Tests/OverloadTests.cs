using Grpc.Core;
using Google.Rpc;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Ingest;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>The service bounds the batches it processes at once and tells the overflow when to come back.</summary>
public sealed class OverloadTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private ServiceHarness service = null!;
    private ConnectionMultiplexer redis = null!;

    public async Task InitializeAsync()
    {
        service = await ServiceHarness.StartAsync(Tenant, extra: new Dictionary<string, string?>
        {
            ["KivaSync:Ingest:MaxConcurrentBatches"] = "1",
            ["KivaSync:Ingest:OverloadRetryAfter"] = "00:00:02.500",
        });
        redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString + ",allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        await redis.DisposeAsync();
        await service.DisposeAsync();
    }

    private static string Signup(string id, string email) =>
        $$$"""{"ts":"2024-06-03T14:22:05Z","customer":{"id":"{{{id}}}","email":"{{{email}}}"},"attrs":{"status":"Active"}}""";

    [Fact]
    public async Task Ship_MoreBatchesAtOnceThanAllowed_ResourceExhaustedWithRetryDelayAndTheHeldBatchStillAcknowledged()
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        // Redis holds every write for a while: the first batch stays in processing, taking the only slot.
        await server.ExecuteAsync("CLIENT", "PAUSE", "20000", "WRITE");
        using var first = service.Ingest.Ship();
        RpcException refused;
        try
        {
            await first.RequestStream.WriteAsync(ServiceHarness.Batch(Tenant, "fp-a", 0, 1, Signup("1", "a@example.com")));
            var admission = service.App.Services.GetRequiredService<IngestAdmission>();
            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            {
                while (admission.InProgress < 1)
                {
                    await Task.Delay(10, wait.Token);
                }
            }

            refused = await Assert.ThrowsAsync<RpcException>(() =>
                service.ShipAsync(ServiceHarness.Batch(Tenant, "fp-b", 0, 1, Signup("2", "b@example.com"))));
        }
        finally
        {
            await server.ExecuteAsync("CLIENT", "UNPAUSE");
        }

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("2500", refused.Trailers.GetValue(GrpcErrors.RetryAfterTrailer));
        var retry = refused.GetRpcStatus()!.GetDetail<RetryInfo>();
        Assert.Equal(TimeSpan.FromMilliseconds(2500), retry.RetryDelay.ToTimeSpan());

        // The batch that held the slot is acknowledged once Redis lets it through, and the slot is free again.
        Assert.True(await first.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(1u, first.ResponseStream.Current.Accepted);
        await first.RequestStream.CompleteAsync();
        var resent = (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp-b", 0, 1, Signup("2", "b@example.com")))).Single();
        Assert.Equal(1u, resent.Accepted);
    }
}
