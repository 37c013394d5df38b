using System.Runtime;

namespace KivaSync.SyncService.Hosting;

/// <summary>
/// Hands memory back after a burst. The GC settings (docs/performance.md "Memory") only act when a collection runs,
/// and an idle service allocates too little to run a full one: 2.4 GB of garbage left by cancelled streams stayed
/// resident. Every <see cref="Interval"/>, when the GC heap has more than <see cref="Threshold"/> committed, one
/// aggressive (compacting, decommitting) collection; when what is live really is that big it backs off (up to an hour).
/// </summary>
public sealed partial class MemoryReturn(TimeProvider time, ILogger<MemoryReturn> logger) : BackgroundService
{
    /// <summary>How often the heap's committed size is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    /// <summary>Committed GC heap above which a collection is worth its pause (the service idles at ~20–40 MiB).</summary>
    public const long Threshold = 256L * 1024 * 1024;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var skip = 0;
        var backoff = 1;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
                if (committed <= Threshold || skip-- > 0)
                {
                    continue;
                }

                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                var after = GC.GetGCMemoryInfo().TotalCommittedBytes;
                LogReturned(logger, committed / (1024 * 1024), after / (1024 * 1024));
                // Live data that big: look again later rather than collect it every interval.
                backoff = after > Threshold ? Math.Min(backoff * 2, 240) : 1;
                skip = after > Threshold ? backoff : 0;
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    [LoggerMessage(70, LogLevel.Information, "GC heap committed {BeforeMiB} MiB; after a full compacting collection {AfterMiB} MiB")]
    private static partial void LogReturned(ILogger logger, long beforeMiB, long afterMiB);
}
