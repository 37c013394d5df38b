using KivaSync.Contracts.V1;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using StackExchange.Redis;

namespace KivaSync.SyncService.Status;

/// <summary>
/// Samples each tenant's queue depth, lag, mode and backfill progress every <see cref="Interval"/> for the
/// tenant gauges (SyncTelemetry.Instruments): a collector may read gauges at any moment and from any
/// thread, so they report the last sample instead of calling Redis inside a collection.
/// </summary>
public sealed partial class TenantGauges(
    SyncTelemetry telemetry, TenantRegistry tenants, TenantStatusReader reader, TimeProvider time, ILogger<TenantGauges> logger) : BackgroundService
{
    /// <summary>How often the tenants' figures are sampled.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>Samples every tenant once now (also used by tests before reading the gauges).</summary>
    public async Task SampleAsync()
    {
        foreach (var tenant in tenants.TenantIds)
        {
            if (tenants.TryGet(tenant, out var settings))
            {
                var status = await reader.ReadAsync(tenant, settings);
                telemetry.TenantSamples[tenant] = new TenantSample(
                    (long)status.ContactsPending,
                    (long)status.ContactsInFlight,
                    status.Lag.ToTimeSpan().TotalSeconds,
                    status.Mode == TenantMode.Backfill,
                    TenantStatusReader.Progress(status),
                    status.EstimatedCatchUp.ToTimeSpan().TotalSeconds);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await SampleAsync();
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // The gauges keep their last values; readiness reports Redis trouble.
                LogSampleFailed(logger, e);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(100, LogLevel.Debug, "Sampling the tenants' gauges failed")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}
