using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>The Redis side of a tenant's AC budgets (RateLimiting/TenantRateLimiter): slots, usage buckets, pauses.</summary>
public sealed class RateBudgetStore(IConnectionMultiplexer redis)
{
    /// <summary>Takes one of <paramref name="slots"/> (ratelimit.lua): 0 when taken, else ms to wait. The usage bucket
    /// Redis's clock names is found at run time: this clock's 10-second bucket and its neighbours are passed.</summary>
    public async Task<long> TryTakeAsync(string slotsKey, string pauseKey, int slots, string id, long longestHoldMs, long nowMs)
    {
        var bucket = nowMs / 10_000;
        return (long)await redis.GetDatabase().RunAsync(
            RedisScripts.RateLimit,
            [slotsKey, pauseKey, RedisKeys.UsedBucket(slotsKey, bucket - 1), RedisKeys.UsedBucket(slotsKey, bucket), RedisKeys.UsedBucket(slotsKey, bucket + 1)],
            [slots, id, longestHoldMs]);
    }

    /// <summary>Keeps a slot one more window after AC answered (rate_release.lua).</summary>
    public Task ReleaseAsync(string slotsKey, string id, long holdAfterAnswerMs) =>
        redis.GetDatabase().RunAsync(RedisScripts.RateRelease, [slotsKey], [id, holdAfterAnswerMs]);

    /// <summary>Pauses a budget for <paramref name="ms"/>, only ever extending a pause (rate_pause.lua).</summary>
    public Task PauseAsync(string pauseKey, long ms) => redis.GetDatabase().RunAsync(RedisScripts.RatePause, [pauseKey], [ms]);
}
