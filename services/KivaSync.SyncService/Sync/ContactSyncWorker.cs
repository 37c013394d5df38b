using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace KivaSync.SyncService.Sync;

/// <summary>
/// Drains each tenant's queue of dirty contacts. Work lives in Redis, not here: a replica claims a
/// few contacts under a lease, syncs them and records the outcome; if it dies, the lease runs out and
/// another replica takes the contacts over. When Redis is unreachable the worker pauses.
/// </summary>
public sealed class ContactSyncWorker(
    TenantRegistry tenants,
    StateStore store,
    ContactSyncer syncer,
    BulkBackfill backfill,
    AcCircuitBreakers breakers,
    StateGuard guard,
    IOptions<KivaSyncOptions> options,
    TimeProvider time,
    ILogger<ContactSyncWorker> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.Sync.Enabled
            ? Task.WhenAll(tenants.TenantIds.Select(tenant => RunTenantAsync(tenant, stoppingToken)))
            : Task.CompletedTask;

    private async Task RunTenantAsync(string tenant, CancellationToken ct)
    {
        var sync = options.Value.Sync;
        var redisBackoff = TimeSpan.FromMilliseconds(250);
        var thresholdKnown = false;
        Task<int>? bulk = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!guard.IsIntact(tenant))
                {
                    // Redis lost the tenant's state (or it is not verified yet): claim and write nothing.
                    await Task.Delay(StateGuard.Interval, time, ct);
                    continue;
                }

                if (!thresholdKnown && tenants.TryGet(tenant, out var settings))
                {
                    await store.SetLiveThresholdAsync(tenant, settings.LiveThreshold);
                    thresholdKnown = true;
                }

                await QueueWeeklyResyncAsync(tenant);
                if (breakers.IsOpen(tenant, out var open))
                {
                    // The tenant's AC keeps failing: claim nothing until the break is over.
                    await Task.Delay(open < sync.IdlePoll ? open : sync.IdlePoll, time, ct);
                    continue;
                }

                var bulkThreshold = -1;
                if (tenants.TryGet(tenant, out var tenantSettings) && tenantSettings.BulkImportThreshold > 0)
                {
                    // One bulk import at a time per tenant and replica, beside the one-by-one work (live first).
                    bulkThreshold = tenantSettings.BulkImportThreshold;
                    if (bulk is null || bulk.IsCompleted)
                    {
                        if (bulk is { IsFaulted: true })
                        {
                            Log.WorkerError(logger, bulk.Exception!, tenant);
                        }

                        bulk = backfill.RunOnceAsync(tenant, tenantSettings, ct);
                    }
                }

                var claimedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
                var members = await store.ClaimAsync(
                    tenant, claimedAt, sync.Debounce, sync.Lease, sync.Concurrency,
                    new BackfillHold(sync.BackfillSettle, sync.BackfillMaxHold), bulkThreshold);
                redisBackoff = TimeSpan.FromMilliseconds(250);
                if (members.Length == 0)
                {
                    await Task.Delay(sync.IdlePoll, time, ct);
                    continue;
                }

                await Parallel.ForEachAsync(
                    members,
                    new ParallelOptions { MaxDegreeOfParallelism = sync.Concurrency, CancellationToken = ct },
                    async (member, token) => await syncer.SyncAsync(tenant, member, StateStore.LeaseUntil(claimedAt, sync.Lease), token));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or RedisServerException)
            {
                // Claimed work stays leased in Redis and is taken back when the lease ends.
                Log.WorkerRedisDown(logger, e, tenant);
                await DelayQuietly(redisBackoff, ct);
                redisBackoff = TimeSpan.FromMilliseconds(Math.Min(redisBackoff.TotalMilliseconds * 2, 10_000));
            }
            catch (Exception e)
            {
                Log.WorkerError(logger, e, tenant);
                await DelayQuietly(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    /// <summary>A weekly cycle asks for every contact of the tenant to be synced again (order tags change with the week).</summary>
    private async Task QueueWeeklyResyncAsync(string tenant)
    {
        var meta = await store.ReadMetaAsync(tenant);
        if (meta.ResyncAllRequested <= meta.ResyncAllDone)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var batch = new List<string>(1000);
        var queued = 0;
        await foreach (var member in store.AllMembersAsync(tenant))
        {
            batch.Add(member);
            if (batch.Count == 1000)
            {
                queued += await store.MarkDirtyAsync(tenant, batch, now);
                batch.Clear();
            }
        }

        queued += await store.MarkDirtyAsync(tenant, batch, now);
        await store.MarkResyncAllDoneAsync(tenant, meta.ResyncAllRequested);
        Log.WeeklyResyncQueued(logger, queued, tenant);
    }

    private async Task DelayQuietly(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, time, ct);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }
}
