using System.Diagnostics;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using StackExchange.Redis;

namespace KivaSync.SyncService.RateLimiting;

/// <summary>
/// The per-tenant AC budget, shared by every replica. AC allows N requests per second per account and
/// counts them as they arrive, so each request holds one of N slots in Redis from before it is sent
/// until one second after AC answered: however the network delays requests, no one-second window at
/// AC sees more than N (State/Scripts/ratelimit.lua says why). A 429/503 Retry-After pauses the tenant.
/// </summary>
public sealed class TenantRateLimiter(RateBudgetStore store, TimeProvider time, SyncTelemetry telemetry)
{
    /// <summary>How long a slot is held at most if its holder never releases it (it died).</summary>
    private static readonly TimeSpan LongestHold = TimeSpan.FromSeconds(90);

    /// <summary>A waiter polls at least this often, since slots free up when answers arrive.</summary>
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits for one of the tenant's slots; dispose the lease once AC has answered.</summary>
    public Task<RateLease> AcquireAsync(string tenant, double requestsPerSecond, CancellationToken ct) =>
        AcquireAsync(tenant, requestsPerSecond, RateBudget.Api, ct);

    /// <summary>Waits for one slot of the given budget (the AC API, or event tracking which has its own).</summary>
    public async Task<RateLease> AcquireAsync(string tenant, double requestsPerSecond, RateBudget budget, CancellationToken ct)
    {
        var keys = new RedisKeys(tenant);
        var (slotsKey, pauseKey) = budget == RateBudget.Events ? (keys.EventRateSlots, keys.EventRatePause) : (keys.RateSlots, keys.RatePause);
        var slots = Math.Max(1, (int)Math.Floor(requestsPerSecond));
        var id = Guid.NewGuid().ToString("N");
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var waitMs = await store.TryTakeAsync(slotsKey, pauseKey, slots, id, (long)LongestHold.TotalMilliseconds, time.GetUtcNow().ToUnixTimeMilliseconds());
            if (waitMs <= 0)
            {
                break;
            }

            var wait = TimeSpan.FromMilliseconds(waitMs);
            await Task.Delay(wait < LongestPoll ? wait : LongestPoll, time, ct);
        }

        telemetry.RateLimitWait.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, tenant));
        // N slots each held one window of N / rate seconds after the answer: rate requests per second. Plus 2 ms:
        // Redis times are whole milliseconds (floored) and an expired slot is free at its expiry millisecond, so
        // without the margin a slot could be reused up to ~1 ms short of a full second after AC saw its last use.
        return new RateLease(store, slotsKey, id, (long)Math.Ceiling(slots / requestsPerSecond * 1000) + 2);
    }

    /// <summary>Holds the whole tenant for <paramref name="delay"/> (AC answered 429 or 503 with Retry-After).</summary>
    public Task PauseAsync(string tenant, TimeSpan delay) => PauseAsync(tenant, RateBudget.Api, delay);

    /// <summary>Holds one budget of the tenant for <paramref name="delay"/>: a 429/503 from tracking pauses tracking only.
    /// Only ever extends a pause: requests in flight on other replicas may answer with a shorter Retry-After (or none,
    /// which pauses 1 s) after AC asked for a longer one, and that must not end the longer pause early.</summary>
    public Task PauseAsync(string tenant, RateBudget budget, TimeSpan delay)
    {
        if (delay < TimeSpan.FromMilliseconds(1))
        {
            // "Retry-After: 0" asks for no wait (and Redis refuses an expiry of zero).
            return Task.CompletedTask;
        }

        var keys = new RedisKeys(tenant);
        return store.PauseAsync(budget == RateBudget.Events ? keys.EventRatePause : keys.RatePause, (long)Math.Ceiling(delay.TotalMilliseconds));
    }
}

/// <summary>Which of a tenant's budgets a request uses.</summary>
public enum RateBudget
{
    /// <summary>The AC API (RequestsPerSecond).</summary>
    Api,

    /// <summary>Event tracking posts (EventsPerSecond).</summary>
    Events,
}

/// <summary>One request's slot; releasing it keeps the slot one more window (1 s at 5 of 5/s), as AC counts.</summary>
public sealed class RateLease(RateBudgetStore store, string slotsKey, string id, long holdAfterAnswerMs) : IAsyncDisposable
{
    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await store.ReleaseAsync(slotsKey, id, holdAfterAnswerMs);
        }
        catch (RedisException)
        {
            // The slot then expires on its own (LongestHold): slower, never over the limit.
        }
    }
}
