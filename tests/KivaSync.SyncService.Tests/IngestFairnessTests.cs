using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Ingest;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>One caller flooding one tenant cannot take the batch slots another caller's tenant needs.</summary>
public sealed class IngestFairnessTests : IAsyncLifetime
{
    private const string TenantA = "greenleaf";
    private const string TenantB = "bluebarn";
    private const string TokenA = "flood-a-5c1e9d7b3f2a4e60";
    private const string TokenB = "ship-b-8e2f4a6c1d3b5f79";
    private const int Slots = 8;
    private ServiceHarness service = null!;
    private ConnectionMultiplexer redis = null!;

    public async Task InitializeAsync()
    {
        var extra = ServiceHarness.IngestOnlyTenant(TenantB);
        extra["KivaSync:Ingest:MaxConcurrentBatches"] = Slots.ToString(System.Globalization.CultureInfo.InvariantCulture);
        extra["KivaSync:Ingest:OverloadRetryAfter"] = "00:00:01.500";
        extra["KivaSync:Callers:shipper-a:Token"] = TokenA;
        extra["KivaSync:Callers:shipper-a:Tenants:0"] = TenantA;
        extra["KivaSync:Callers:shipper-b:Token"] = TokenB;
        extra["KivaSync:Callers:shipper-b:Tenants:0"] = TenantB;
        extra["KivaSync:Callers:shipper-a:Scopes:0"] = "ship";
        extra["KivaSync:Callers:shipper-b:Scopes:0"] = "ship";
        service = await ServiceHarness.StartAsync(TenantA, extra: extra);
        redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString + ",allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        await redis.DisposeAsync();
        await service.DisposeAsync();
    }

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    private static string Signup(string id) =>
        $$$"""{"ts":"2024-06-03T14:22:05Z","customer":{"id":"{{{id}}}","email":"c{{{id}}}@example.com"},"attrs":{"status":"Active"}}""";

    [Fact]
    public async Task Ship_OneCallerFloodsTenantAWith200Streams_EveryTenantBBatchAcceptedAndTheFloodToldToRetry()
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var admission = service.App.Services.GetRequiredService<IngestAdmission>();
        // More than the 100 streams Kestrel allows on one connection: let the client open more connections.
        using var floodChannel = GrpcChannel.ForAddress(service.Address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        var flood = new LogIngest.LogIngestClient(floodChannel);
        var calls = new List<AsyncDuplexStreamingCall<EntryBatch, BatchAck>>();
        // Redis holds every write: each admitted batch keeps its slot until the test lets Redis go.
        await server.ExecuteAsync("CLIENT", "PAUSE", "30000", "WRITE");
        try
        {
            var floodOutcomes = new List<Task<StatusCode>>();
            for (var s = 0; s < 200; s++)
            {
                var call = flood.Ship(Bearer(TokenA));
                calls.Add(call);
                floodOutcomes.Add(FirstOutcomeAsync(call, ServiceHarness.Batch(TenantA, "fp-a" + s, 0, 1, Signup("a" + s))));
            }

            // Wait until every flood stream is either refused or holding a slot.
            var refusals = 0;
            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (true)
                {
                    refusals = floodOutcomes.Count(t => t.IsCompletedSuccessfully && t.Result == StatusCode.ResourceExhausted);
                    if (refusals + admission.InProgress >= 200)
                    {
                        break;
                    }

                    await Task.Delay(20, wait.Token);
                }
            }

            Assert.True(refusals > 0, "the flood was never refused");
            var floodHeld = admission.InProgress;
            Assert.InRange(floodHeld, 1, Slots - 1);

            // Tenant B's shipper sends several batches at once while the flood holds its slots.
            using var b = service.Ingest.Ship(Bearer(TokenB));
            var bBatches = Enumerable.Range(0, 3).Select(i => ServiceHarness.Batch(TenantB, "fp-b", i * 1000, (ulong)i + 1, Signup("b" + i))).ToList();
            var bAcks = Task.Run(async () =>
            {
                var acks = new List<BatchAck>();
                while (acks.Count < bBatches.Count && await b.ResponseStream.MoveNext(CancellationToken.None))
                {
                    acks.Add(b.ResponseStream.Current);
                }

                return acks;
            });
            foreach (var batch in bBatches)
            {
                await b.RequestStream.WriteAsync(batch);
            }

            // Every B batch is being processed (or B's call ended: a refusal shows when its acks are read).
            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                while (admission.InProgress < floodHeld + bBatches.Count && !bAcks.IsCompleted)
                {
                    await Task.Delay(10, wait.Token);
                }
            }

            await server.ExecuteAsync("CLIENT", "UNPAUSE");
            var acks = await bAcks;
            Assert.Equal([1ul, 2ul, 3ul], acks.Select(a => a.Sequence));
            Assert.All(acks, a => Assert.Equal(1u, a.Accepted));
            await b.RequestStream.CompleteAsync();
            var outcomes = await Task.WhenAll(floodOutcomes);
            Assert.Equal(floodHeld, outcomes.Count(o => o == StatusCode.OK));
            Assert.Equal(200 - floodHeld, outcomes.Count(o => o == StatusCode.ResourceExhausted));
        }
        finally
        {
            await server.ExecuteAsync("CLIENT", "UNPAUSE");
            foreach (var call in calls)
            {
                call.Dispose();
            }
        }
    }

    [Fact]
    public async Task Ship_CallerOverItsShare_ResourceExhaustedWithRetryDelayNamingTheShare()
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var admission = service.App.Services.GetRequiredService<IngestAdmission>();
        var calls = new List<AsyncDuplexStreamingCall<EntryBatch, BatchAck>>();
        await server.ExecuteAsync("CLIENT", "PAUSE", "30000", "WRITE");
        RpcException refused;
        try
        {
            // One stream holds at most 4 batches at once; three streams ask for more than the caller's share.
            for (var s = 0; s < 3; s++)
            {
                var call = service.Ingest.Ship(Bearer(TokenA));
                calls.Add(call);
                for (var i = 0; i < 4; i++)
                {
                    try
                    {
                        await call.RequestStream.WriteAsync(ServiceHarness.Batch(TenantA, "fp-s" + s, i * 1000, (ulong)i + 1, Signup($"s{s}-{i}")));
                    }
                    catch (Exception e) when (e is RpcException or InvalidOperationException)
                    {
                        // This stream was refused already: its call has ended.
                        break;
                    }
                }
            }

            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                while (admission.InProgress < Slots / 2)
                {
                    await Task.Delay(10, wait.Token);
                }
            }

            refused = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(Bearer(TokenA), ServiceHarness.Batch(TenantA, "fp-late", 0, 1, Signup("late"))));
        }
        finally
        {
            await server.ExecuteAsync("CLIENT", "UNPAUSE");
            foreach (var call in calls)
            {
                call.Dispose();
            }
        }

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("1500", refused.Trailers.GetValue(GrpcErrors.RetryAfterTrailer));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), refused.GetRpcStatus()!.GetDetail<RetryInfo>().RetryDelay.ToTimeSpan());
        Assert.Contains("shipper-a", refused.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>Sends one batch and reads its outcome: OK with an acknowledgement, or the status the call ended with.</summary>
    private static async Task<StatusCode> FirstOutcomeAsync(AsyncDuplexStreamingCall<EntryBatch, BatchAck> call, EntryBatch batch)
    {
        try
        {
            await call.RequestStream.WriteAsync(batch);
            if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                return StatusCode.Unknown;
            }

            await call.RequestStream.CompleteAsync();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
