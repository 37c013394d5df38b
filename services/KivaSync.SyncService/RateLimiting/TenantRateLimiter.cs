using System.Diagnostics;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using StackExchange.Redis;

namespace KivaSync.SyncService.RateLimiting;

/// <summary>
/// The per-tenant AC budget, shared by every replica: a GCRA in a Redis script on Redis's own
/// clock (replica clocks never matter), no burst, plus a tenant-wide pause set from AC's Retry-After.
/// </summary>
public sealed class TenantRateLimiter(IConnectionMultiplexer redis, TimeProvider time, SyncTelemetry telemetry)
{
    // Requests are spaced a little wider than 1/rate so that network jitter never puts rate+1
    // requests into one second as AC measures it.
    private const double SafetyMargin = 1.05;

    /// <summary>Waits until the tenant may send one more AC API request, and books it.</summary>
    public async Task WaitAsync(string tenant, double requestsPerSecond, CancellationToken ct)
    {
        var keys = new RedisKeys(tenant);
        var intervalMicros = (long)Math.Ceiling(1_000_000 / requestsPerSecond * SafetyMargin);
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var waitMs = (long)await redis.GetDatabase().ScriptEvaluateAsync(
                LuaScripts.RateLimit, [keys.RateApi, keys.RatePause], [intervalMicros, 1]);
            if (waitMs <= 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(waitMs), time, ct);
        }

        telemetry.RateLimitWait.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, tenant));
    }

    /// <summary>Holds the whole tenant for <paramref name="delay"/> (AC answered 429 or 503 with Retry-After).</summary>
    public Task PauseAsync(string tenant, TimeSpan delay) =>
        redis.GetDatabase().StringSetAsync(new RedisKeys(tenant).RatePause, "1", delay, When.Always);
}
