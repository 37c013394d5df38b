using System.Diagnostics.Metrics;
using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using KivaSync.Contracts.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>What the SyncApi echoes of a caller's keys, and how much one ForceResync may ask for.</summary>
public sealed class SyncApiInputLimitsTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private readonly CapturingLoggerProvider logs = new();
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Tenant,
        extra: new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Debug" },
        configure: builder => builder.Logging.AddProvider(logs));

    public async Task DisposeAsync() => await service.DisposeAsync();

    [Theory]
    [InlineData("id")]
    [InlineData("email")]
    public async Task GetSyncStatus_KeyOf20KiB_NotFoundWithoutEchoingTheKey(string kind)
    {
        var key = kind == "id" ? new string('7', 20 * 1024) : new string('a', 20 * 1024) + "@example.com";
        var request = new GetSyncStatusRequest { Tenant = Tenant };
        if (kind == "id")
        {
            request.CustomerId = key;
        }
        else
        {
            request.Email = key;
        }

        var error = await Assert.ThrowsAsync<RpcException>(async () => await service.Api.GetSyncStatusAsync(request));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.True(error.Status.Detail.Length < 300, $"detail of {error.Status.Detail.Length} characters");
        var details = error.GetRpcStatus();
        Assert.NotNull(details);
        Assert.True(details.CalculateSize() < 1024, $"status details of {details.CalculateSize()} bytes");
    }

    [Fact]
    public async Task GetSyncStatus_UnknownEmail_NotFoundAndTheEmailRedactedInAnswerAndLogs()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, Email = "secret.person@example.com" }));
        await service.App.StopAsync();

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("s***@example.com", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("secret.person", error.Status.Detail + error.GetRpcStatus(), StringComparison.Ordinal);
        Assert.NotEmpty(logs.Entries);
        Assert.DoesNotContain(logs.Entries, e => e.Text.Contains("secret.person", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForceResync_OverTheIdLimit_InvalidArgumentNamingTheLimitAndAll()
    {
        var request = new ForceResyncRequest { Tenant = Tenant };
        request.CustomerIds.AddRange(Enumerable.Range(0, 900).Select(i => i.ToString(CultureInfo.InvariantCulture)));
        request.Emails.AddRange(Enumerable.Range(0, 101).Select(i => $"p{i}@example.com"));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await service.Api.ForceResyncAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("1001", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("1000", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("--all", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForceResync_1000Keys_LookedUpInAFewRedisCommands()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"5","email":"e@example.com"}}""",
            """{"ts":"2024-06-03T14:22:06Z","contact":{"email":"lead@example.com"}}"""));
        var request = new ForceResyncRequest { Tenant = Tenant };
        request.CustomerIds.AddRange(Enumerable.Range(0, 500).Select(i => i.ToString(CultureInfo.InvariantCulture)));
        request.Emails.AddRange(Enumerable.Range(0, 499).Select(i => $"p{i}@example.com"));
        request.Emails.Add("LEAD@example.com");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString + ",allowAdmin=true");
        var before = await CommandCallsAsync(redis);

        var response = await service.Api.ForceResyncAsync(request);

        var commands = await CommandCallsAsync(redis) - before;
        Assert.Equal(2u, response.Queued);
        Assert.Equal(998, response.NotFound.Count);
        // One round trip per key was 1,000 commands; the gauges' sampling adds a few.
        Assert.True(commands < 60, $"{commands} Redis commands for one ForceResync");
    }

    [Fact]
    public async Task ForceResync_1000UnknownIdsOf4KiB_AnswerStaysSmall()
    {
        var request = new ForceResyncRequest { Tenant = Tenant };
        request.CustomerIds.AddRange(Enumerable.Range(0, 1000).Select(i => i.ToString(CultureInfo.InvariantCulture).PadLeft(4096, 'x')));

        var response = await service.Api.ForceResyncAsync(request);

        Assert.Equal(1000, response.NotFound.Count);
        Assert.True(response.CalculateSize() < 128 * 1024, $"an answer of {response.CalculateSize()} bytes");
    }

    private static async Task<long> CommandCallsAsync(ConnectionMultiplexer redis)
    {
        var info = await redis.GetServers().Single().InfoRawAsync("commandstats");
        // Lines like "cmdstat_sismember:calls=3,usec=..."; INFO itself is left out.
        return info!.Split('\n').Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal) && !l.StartsWith("cmdstat_info", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.IndexOf("calls=", StringComparison.Ordinal) + 6)..l.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
    }
}

/// <summary>ForceResync stops at the caller's deadline. Alone (no other test's calls), since it counts finished requests.</summary>
[CollectionDefinition(nameof(ForceResyncCancellationTests), DisableParallelization = true)]
public sealed class ForceResyncCancellationCollection;

/// <summary>ForceResync honours the call's deadline: nothing is queued once the caller gave up.</summary>
[Collection(nameof(ForceResyncCancellationTests))]
public sealed class ForceResyncCancellationTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Tenant);

    public async Task DisposeAsync() => await service.DisposeAsync();

    [Fact]
    public async Task ForceResync_DeadlinePassesWhileRedisStalls_NothingQueuedAfterwards()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"5","email":"e@example.com"}}"""));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString + ",allowAdmin=true");
        var db = redis.GetDatabase();
        var dirty = new StackExchange.Redis.RedisKey($"ks:{{{Tenant}}}:dirty");
        await db.KeyDeleteAsync([dirty, new StackExchange.Redis.RedisKey($"ks:{{{Tenant}}}:dirty:live")]);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Microsoft.AspNetCore.Hosting" && instrument.Name == "http.server.request.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "http.route" && tag.Value is string route && route.EndsWith("/ForceResync", StringComparison.Ordinal))
                {
                    finished.TrySetResult();
                }
            }
        });
        listener.Start();

        // Redis stalls every client for 3 s: the handler is stuck in its look-up when the caller's deadline passes.
        await db.ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        var error = await Assert.ThrowsAsync<RpcException>(async () => await service.Api.ForceResyncAsync(
            new ForceResyncRequest { Tenant = Tenant, CustomerIds = { "5" } }, deadline: DateTime.UtcNow.AddMilliseconds(500)));
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(0, await db.SortedSetLengthAsync(dirty));
    }
}
