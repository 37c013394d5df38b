using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests.Parts;

/// <summary>The checkpoint flush alone, on the fake clock.</summary>
public sealed class CheckpointFlusherTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunAsync_IntervalPasses_AdvancedOffsetWrittenToDisk()
    {
        var (store, flusher) = Create();
        using var stop = new CancellationTokenSource();
        var loop = flusher.RunAsync(stop.Token);
        store.Advance("f1", "/logs/a", Tenant, 120);
        var written = store.PersistedChanged;

        Assert.Null(store.GetPersisted("f1"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await written.WaitAsync(Guard());
        await stop.CancelAsync();
        await loop.WaitAsync(Guard());

        Assert.Equal(120, store.GetPersisted("f1")!.Offset);
        Assert.Equal(120, new CheckpointStore(_dir.File("state"), _time).Get("f1")!.Offset);
    }

    [Fact]
    public async Task WaitForFileShippedAsync_CheckpointReachesTheLength_Completes()
    {
        var (store, flusher) = Create();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 3));
        var fingerprint = Fingerprint.TryCompute(log, 64)!;
        var length = new FileInfo(log).Length;
        store.Advance(fingerprint, log, Tenant, length - 1);
        flusher.Flush();

        var wait = flusher.WaitForFileShippedAsync(log, Guard());
        Assert.False(wait.IsCompleted);
        store.Advance(fingerprint, log, Tenant, length);
        flusher.Flush();

        await wait.WaitAsync(Guard());
    }

    private (CheckpointStore Store, CheckpointFlusher Flusher) Create()
    {
        var options = Options(_dir, new Uri("http://127.0.0.1:1"), _dir.File("system.log"));
        options.CheckpointInterval = TimeSpan.FromSeconds(1);
        options.PollInterval = TimeSpan.FromMinutes(1);
        var store = new CheckpointStore(options.CheckpointDirectory, _time);
        return (store, new CheckpointFlusher(store, options, new PhysicalFileSystem(), _time, NullLogger<CheckpointFlusher>.Instance));
    }
}
