using Google.Protobuf.WellKnownTypes;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.Status;

/// <summary>Reads how a tenant stands (mode, queues, lag, budget use, catch-up estimate) from Redis.
/// One place for the GetTenantStatus RPC and the tenant gauges, so both always agree.</summary>
public sealed class TenantStatusReader(StateStore store, StateGuard guard, TimeProvider time)
{
    /// <summary>Work queued for longer than this, or more than this to do at the budget, means backfill.</summary>
    public static readonly TimeSpan BackfillAbove = TimeSpan.FromMinutes(1);

    /// <summary>The tenant's status now.</summary>
    public async Task<TenantStatus> ReadAsync(string tenant, TenantOptions settings)
    {
        var now = time.GetUtcNow();
        var meta = await store.ReadMetaAsync(tenant);
        var rejects = await store.ReadRejectCountsAsync(tenant);
        var figures = await store.ReadFiguresAsync(tenant, now.ToUnixTimeMilliseconds());
        var waiting = figures.Pending + figures.InFlight;
        // Claimed-first scores can be backdated for live work, so clamp the age at zero.
        var lag = figures.OldestPendingMs is { } oldest ? TimeSpan.FromMilliseconds(Math.Max(0, now.ToUnixTimeMilliseconds() - oldest)) : TimeSpan.Zero;
        var catchUp = TimeSpan.FromSeconds(waiting / settings.RequestsPerSecond);
        var status = new TenantStatus
        {
            Tenant = tenant,
            // The tenant leaves backfill by itself once what waits is small and fresh.
            Mode = catchUp > BackfillAbove || lag > BackfillAbove ? TenantMode.Backfill : TenantMode.Live,
            EntriesAccepted = (ulong)meta.Accepted,
            Customers = (ulong)figures.Customers,
            Leads = (ulong)figures.Leads,
            ContactsPending = (ulong)figures.Pending,
            ContactsInFlight = (ulong)figures.InFlight,
            Lag = Duration.FromTimeSpan(lag),
            RateLimitPerSecond = settings.RequestsPerSecond,
            RateLimitUsedPerSecond = figures.RequestsPerSecondLastMinute,
            EstimatedCatchUp = Duration.FromTimeSpan(catchUp),
            CurrentWeek = meta.CurrentWeek ?? "",
        };
        if (guard.Verdict(tenant) is { Condition: StateCondition.Lost } lost)
        {
            status.StateLost = true;
            status.StateLostReason = lost.Reason + "; to recover: " + StateGuard.Recovery.Replace("<tenant>", tenant, StringComparison.Ordinal);
        }

        foreach (var (reason, count) in rejects)
        {
            status.RejectedByReason[reason] = (ulong)count;
        }

        if (meta.NewestEntryTsMs >= 0)
        {
            status.NewestEntryTs = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(meta.NewestEntryTsMs));
        }

        return status;
    }

    /// <summary>Share of the tenant's contacts with nothing waiting: 1 when caught up.</summary>
    public static double Progress(TenantStatus status)
    {
        var contacts = status.Customers + status.Leads;
        var waiting = status.ContactsPending + status.ContactsInFlight;
        return contacts == 0 ? 1 : Math.Clamp(1 - ((double)waiting / contacts), 0, 1);
    }
}
