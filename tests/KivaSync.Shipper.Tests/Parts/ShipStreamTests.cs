using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests.Parts;

/// <summary>One stream alone, against the in-process LogIngest: batches in flight, acknowledgements, the watchdog.</summary>
public sealed class ShipStreamTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunAsync_ServiceAcknowledges_EveryLineOnceCheckpointAdvancedAndDrainEndsTheStream()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 120));
        await using var parts = ShipperServices.Compose(Options(_dir, server.Url, log), null, null, null, null, null);
        var tracker = parts.GetRequiredService<FileTracker>();
        tracker.Discover();
        var file = tracker.Snapshot.Single();
        using var drain = new CancellationTokenSource();

        var run = parts.GetRequiredService<ShipStream>().RunAsync(drain.Token, Guard());
        while (file.Acked < new FileInfo(log).Length)
        {
            await Task.Delay(10, Guard());
        }

        await drain.CancelAsync();
        var acked = await run.WaitAsync(Guard());

        Assert.True(acked);
        Assert.Equal(0, parts.GetRequiredService<InFlightWindow>().Count);
        Assert.Equal(new FileInfo(log).Length, parts.GetRequiredService<CheckpointStore>().Get(file.Fingerprint)!.Offset);
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.AllLines());
        Assert.Equal(Enumerable.Range(1, server.Service.Received.Count).Select(i => (ulong)i), server.Service.Received.Select(r => r.Batch.Sequence));
    }

    [Fact]
    public async Task RunAsync_BatchNeverAcknowledged_WatchdogFailsTheStreamAfterAckTimeout()
    {
        var service = new FakeLogIngest { Behaviour = (_, index, _) => index == 2 ? Reaction.Hang : Reaction.Ack };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 200));
        var options = Options(_dir, server.Url, log);
        options.AckTimeout = TimeSpan.FromMilliseconds(300);
        await using var parts = ShipperServices.Compose(options, null, null, null, null, null);
        parts.GetRequiredService<FileTracker>().Discover();

        var failed = await Assert.ThrowsAsync<StreamFailedException>(() => parts.GetRequiredService<ShipStream>().RunAsync(CancellationToken.None, Guard()));

        Assert.IsType<TimeoutException>(failed.InnerException);
        Assert.True(failed.Acked, "the first batch was acknowledged before the second hung");
        Assert.False(parts.GetRequiredService<ConnectionState>().Connected);
    }

    [Fact]
    public async Task RunAsync_ServiceFailsTheStream_FailureCarriesItsStatusAndRetryAfter()
    {
        var service = new FakeLogIngest { Behaviour = (_, _, _) => Reaction.Fail, RetryAfterMs = 1234 };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 10));
        await using var parts = ShipperServices.Compose(Options(_dir, server.Url, log), null, null, null, null, null);
        parts.GetRequiredService<FileTracker>().Discover();

        var failed = await Assert.ThrowsAsync<StreamFailedException>(() => parts.GetRequiredService<ShipStream>().RunAsync(CancellationToken.None, Guard()));

        var rpc = Assert.IsType<RpcException>(failed.InnerException);
        Assert.Equal(StatusCode.Unavailable, rpc.StatusCode);
        Assert.Equal("1234", rpc.Trailers.GetValue("retry-after-ms"));
        Assert.False(failed.Acked);
    }
}
