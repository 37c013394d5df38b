using Grpc.Core;
using Grpc.Health.V1;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Hosting;
using KivaSync.Testing.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>
/// Redis coming back without the tenant's state (restarted without persistence, restored from an old snapshot)
/// must stop the service loudly — readiness, status, metric, log, refusals — never carry on as if nothing happened.
/// A Redis that keeps its state (AOF) raises no alarm. Real redis-server processes, killed with SIGKILL.
/// </summary>
public sealed class StateLossTests
{
    private const string Tenant = "greenleaf";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string Line(int i) =>
        $$$"""{"ts":"2024-06-03T14:22:{{{i % 60:D2}}}Z","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"Active"}}""";

    [Fact]
    public async Task Ship_RedisRestartedWithoutPersistence_RefusedAsStateLostReadinessFailsUntilAcknowledged()
    {
        var logs = new CapturingLoggerProvider();
        await using var service = await ServiceHarness.StartAsync(Tenant, configure: b => b.Logging.AddProvider(logs));
        Assert.Equal(2u, (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Line(1), Line(2)))).Single().Accepted);

        await service.Redis.KillAsync();
        await service.Redis.RestartAsync();

        Assert.True(await EventuallyAsync(async () => !await ServingAsync(service)), "readiness never failed after Redis came back empty");
        var refused = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 100, 2, Line(3))));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("REDIS_STATE_LOST", ErrorReasons(refused));
        Assert.Contains("kivasync state acknowledge --tenant greenleaf", refused.Status.Detail, StringComparison.Ordinal);
        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant });
        Assert.True(status.StateLost);
        Assert.Contains("came back empty", status.StateLostReason, StringComparison.Ordinal);
        Assert.Equal(1, StateLostGauge(service, Tenant));
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Critical && e.Text.Contains("Redis lost the state of tenant greenleaf", StringComparison.Ordinal));
        var resync = await Assert.ThrowsAsync<RpcException>(async () => await service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = Tenant, All = true }));
        Assert.Equal(StatusCode.FailedPrecondition, resync.StatusCode);

        var acknowledged = await service.Api.AcknowledgeStateLossAsync(new AcknowledgeStateLossRequest { Tenant = Tenant });

        Assert.True(acknowledged.WasLost);
        Assert.True(await ServingAsync(service));
        Assert.Equal(0, StateLostGauge(service, Tenant));
        Assert.False((await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant })).StateLost);
        // The re-shipped log is taken again from its start.
        Assert.Equal(2u, (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Line(1), Line(2)))).Single().Accepted);
    }

    [Fact]
    public async Task Ship_RedisRestartedWithAof_NoFalseAlarm()
    {
        var redis = await RedisServerProcess.StartAsync(appendOnly: true); // the harness disposes it
        await using var service = await ServiceHarness.StartAsync(Tenant, redis: redis);
        Assert.Equal(2u, (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Line(1), Line(2)))).Single().Accepted);

        await redis.KillAsync();
        await redis.RestartAsync();

        // Back once Redis answers (the client reconnects in the background), with everything it had.
        Assert.True(await EventuallyAsync(() => ServingAsync(service)), "readiness did not come back");
        await Guard(service).CheckAllAsync();
        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant });
        Assert.False(status.StateLost, status.StateLostReason);
        Assert.Equal(2u, status.EntriesAccepted);
        Assert.Equal(1u, (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 100, 2, Line(3)))).Single().Accepted);
    }

    [Fact]
    public async Task Check_RedisRestoredFromOlderSnapshot_StateLost()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant);
        Assert.Equal(2u, (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Line(1), Line(2)))).Single().Accepted);
        await Guard(service).CheckAllAsync();
        // A snapshot now (the marker is in it), then more acknowledged work the snapshot does not have.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString + ",allowAdmin=true"))
        {
            await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("SAVE");
        }

        Assert.Equal(1u, (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 100, 2, Line(3)))).Single().Accepted);
        await Guard(service).CheckAllAsync();

        await service.Redis.KillAsync();
        await service.Redis.RestartAsync();

        Assert.True(await EventuallyAsync(async () => !await ServingAsync(service)), "readiness never failed after Redis went back in time");
        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant });
        Assert.True(status.StateLost);
        Assert.Contains("older data", status.StateLostReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ReplicaStartedAfterTheLossWasSeen_SeesItToo()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Line(1)));
        await service.Redis.KillAsync();
        await service.Redis.RestartAsync();
        Assert.True(await EventuallyAsync(async () => !await ServingAsync(service)), "readiness never failed after Redis came back empty");

        // A replica that never saw the old marker learns of the loss from Redis, not from its own memory.
        var (second, address) = await SyncServer.StartLocalAsync(service.Settings);
        await using var _ = second;
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(address);
        var status = await new SyncApi.SyncApiClient(channel).GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant });

        Assert.True(status.StateLost);
    }

    [Fact]
    public async Task Start_RedisWithoutPersistence_OneWarning()
    {
        var logs = new CapturingLoggerProvider();
        await using var service = await ServiceHarness.StartAsync(Tenant, configure: b => b.Logging.AddProvider(logs));
        var aofLogs = new CapturingLoggerProvider();
        var aof = await RedisServerProcess.StartAsync(appendOnly: true); // the harness disposes it
        await using var withAof = await ServiceHarness.StartAsync(Tenant, redis: aof, configure: b => b.Logging.AddProvider(aofLogs));

        Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning && e.Text.Contains("neither AOF nor RDB saving", StringComparison.Ordinal));
        Assert.DoesNotContain(aofLogs.Entries, e => e.Text.Contains("neither AOF nor RDB saving", StringComparison.Ordinal));
    }

    private static State.StateGuard Guard(ServiceHarness service) =>
        (State.StateGuard)service.App.Services.GetService(typeof(State.StateGuard))!;

    private static int StateLostGauge(ServiceHarness service, string tenant)
    {
        var meter = ((Telemetry.SyncTelemetry)service.App.Services.GetService(typeof(Telemetry.SyncTelemetry))!).Meter;
        var value = -1;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This service's meter only: other tests' services in this process have the same tenant.
            if (instrument.Meter == meter && instrument.Name == Telemetry.SyncTelemetry.Instruments.StateLost)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, measurement, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == Telemetry.SyncTelemetry.Tags.Tenant && Equals(tag.Value, tenant))
                {
                    value = measurement;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }

    private static IEnumerable<string> ErrorReasons(RpcException e) =>
        e.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>() is { } info ? [info.Reason] : [];

    private static async Task<bool> ServingAsync(ServiceHarness service)
    {
        try
        {
            var health = await new Health.HealthClient(service.Channel).CheckAsync(new HealthCheckRequest());
            return health.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>Polls a condition until it holds or <see cref="Patience"/> runs out (the guard checks on reconnect and every 5 s).</summary>
    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }
}
