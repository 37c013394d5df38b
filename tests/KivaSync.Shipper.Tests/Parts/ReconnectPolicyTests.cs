using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests.Parts;

/// <summary>The reconnect policy alone, on the fake clock.</summary>
public sealed class ReconnectPolicyTests
{
    private static readonly ShipperOptions Settings = new()
    {
        ReconnectMinDelay = TimeSpan.FromMilliseconds(100),
        ReconnectMaxDelay = TimeSpan.FromSeconds(2),
        PollInterval = TimeSpan.FromMilliseconds(250),
    };

    [Fact]
    public async Task WaitAsync_FakeClock_EndsOnlyWhenTheDelayHasPassedAndLooksForFilesEveryPoll()
    {
        var time = new FakeTimeProvider();
        var policy = new ReconnectPolicy(Settings, time);
        using var polled = new SemaphoreSlim(0);

        var wait = policy.WaitAsync(TimeSpan.FromSeconds(1), () => polled.Release(), Guard());
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await polled.WaitAsync(Guard());
            Assert.False(wait.IsCompleted);
        }

        time.Advance(TimeSpan.FromMilliseconds(250));
        await polled.WaitAsync(Guard());
        await wait.WaitAsync(Guard());
    }

    [Fact]
    public async Task WaitAsync_Cancelled_ReturnsWithoutWaiting()
    {
        var policy = new ReconnectPolicy(Settings, new FakeTimeProvider());
        using var stop = new CancellationTokenSource();
        var polls = 0;

        var wait = policy.WaitAsync(TimeSpan.FromMinutes(5), () => polls++, stop.Token);
        await stop.CancelAsync();
        await wait.WaitAsync(Guard());

        Assert.Equal(0, polls);
    }

    [Fact]
    public void NextDelay_FailuresInARow_GrowThenStartOverAfterAWorkingStream()
    {
        var policy = new ReconnectPolicy(Settings, new FakeTimeProvider()) { Random = new Random(5) };
        var down = new RpcException(new Status(StatusCode.Unavailable, "down"));

        var first = policy.NextDelay(down, acked: false);
        policy.NextDelay(down, acked: false);
        var third = policy.NextDelay(down, acked: false);
        Assert.Equal(3, policy.Attempt);
        var afterWorking = policy.NextDelay(down, acked: true);

        Assert.InRange(first.TotalMilliseconds, 50, 100);
        Assert.InRange(third.TotalMilliseconds, 200, 400);
        Assert.Equal(1, policy.Attempt);
        Assert.InRange(afterWorking.TotalMilliseconds, 50, 100);
    }

    [Fact]
    public void NextDelay_Refused_LongestDelayAtOnce()
    {
        var policy = new ReconnectPolicy(Settings, new FakeTimeProvider()) { Random = new Random(9) };

        var delay = policy.NextDelay(new RpcException(new Status(StatusCode.Unauthenticated, "bad token")), acked: false);

        Assert.InRange(delay.TotalMilliseconds, 1000, 2000);
    }
}
