using System.Globalization;
using Grpc.Core;

namespace KivaSync.Shipper;

/// <summary>
/// When to open the next stream after one failed: exponential backoff with "equal jitter" (half fixed, half random, so
/// a fleet spreads out), capped at ReconnectMaxDelay; the longest delay for a refusal (bad tenant, bad batch, bad token),
/// which a retry will not fix soon; never sooner than the service's retry-after-ms trailer asks (plus up to 10% jitter,
/// at most 10 minutes). A stream that had worked starts the backoff over.
/// </summary>
internal sealed class ReconnectPolicy(ShipperOptions options, TimeProvider time)
{
    private const string RetryAfterTrailer = "retry-after-ms";

    /// <summary>Source of the jitter.</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>Failed attempts in a row (1 for the first failure after a stream that worked).</summary>
    public int Attempt { get; private set; }

    /// <summary>A stream ended cleanly after it worked: the next one opens at once.</summary>
    public void Reset() => Attempt = 0;

    /// <summary>Counts a failed stream and returns how long to wait before the next.</summary>
    /// <param name="failure">Why it failed (its status and trailers decide the delay).</param>
    /// <param name="acked">True when the stream had an acknowledgement before it failed.</param>
    public TimeSpan NextDelay(Exception failure, bool acked)
    {
        Attempt = acked ? 1 : Attempt + 1;
        return Delay(options, Attempt, failure, Random);
    }

    /// <summary>Waits <paramref name="delay"/>, calling <paramref name="onPoll"/> every PollInterval meanwhile (discovery
    /// keeps rotated files open while the service is away); returns early when <paramref name="ct"/> is cancelled.</summary>
    public async Task WaitAsync(TimeSpan delay, Action onPoll, CancellationToken ct)
    {
        var until = time.GetUtcNow() + delay;
        while (!ct.IsCancellationRequested)
        {
            var remaining = until - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            try
            {
                await Task.Delay(remaining < options.PollInterval ? remaining : options.PollInterval, time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            onPoll();
        }
    }

    /// <summary>The delay before attempt <paramref name="attempt"/> (1 for the first retry).</summary>
    internal static TimeSpan Delay(ShipperOptions options, int attempt, Exception failure, Random random)
    {
        var min = options.ReconnectMinDelay.TotalMilliseconds;
        var max = options.ReconnectMaxDelay.TotalMilliseconds;
        var exponential = IsRefusal(failure) ? max : Math.Min(max, min * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)));
        var delay = (exponential / 2) + (random.NextDouble() * exponential / 2);
        if (failure is RpcException rpc && rpc.Trailers.GetValue(RetryAfterTrailer) is { } text &&
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var retryAfterMs))
        {
            var asked = Math.Min(retryAfterMs, (long)TimeSpan.FromMinutes(10).TotalMilliseconds);
            delay = Math.Max(delay, asked + (random.NextDouble() * asked / 10));
        }

        return TimeSpan.FromMilliseconds(delay);
    }

    /// <summary>The service refused the stream for a reason a retry will not fix soon.</summary>
    public static bool IsRefusal(Exception failure) =>
        failure is RpcException { StatusCode: StatusCode.FailedPrecondition or StatusCode.InvalidArgument or StatusCode.Unauthenticated or StatusCode.PermissionDenied };
}
