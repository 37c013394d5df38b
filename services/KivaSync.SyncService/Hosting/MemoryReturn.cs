using System.Runtime;

namespace KivaSync.SyncService.Hosting;

/// <summary>
/// Hands memory back after a burst. The GC settings (docs/performance.md "Memory") only act when a collection runs,
/// and an idle service allocates too little to run a full one: 2.4 GB of garbage left by cancelled streams stayed
/// resident. Every <see cref="Interval"/>: when the service has gone quiet (allocated less than
/// <see cref="QuietAllocation"/> since the last look) while the GC heap has more than <see cref="Threshold"/>
/// committed, one aggressive (compacting, decommitting) full collection. Under load it never forces one (the GC
/// runs by itself then); when what is live really is that big it does not repeat until the heap grew by another
/// <see cref="Threshold"/> or <see cref="Repeat"/> passed.
/// </summary>
public sealed partial class MemoryReturn(TimeProvider time, ILogger<MemoryReturn> logger) : BackgroundService
{
    /// <summary>How often the heap is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Less allocated than this in an <see cref="Interval"/>: the burst is over.</summary>
    public const long QuietAllocation = 64L * 1024 * 1024;

    /// <summary>
    /// Committed GC heap above which a collection is worth its pause (the service idles at ~20–40 MiB). After the
    /// abuse run ~230 MiB stayed committed, most of it free space in gen1 (125 MB of fragmentation): a threshold of
    /// 256 MiB never acted on it.
    /// </summary>
    public const long Threshold = 96L * 1024 * 1024;

    /// <summary>After a collection that left a big live heap, the next one no sooner than this (unless it grew).</summary>
    public static readonly TimeSpan Repeat = TimeSpan.FromMinutes(10);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var lastAllocated = GC.GetTotalAllocatedBytes();
        var lastAfter = 0L;
        var lastCollected = DateTimeOffset.MinValue;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var allocated = GC.GetTotalAllocatedBytes();
                var quiet = allocated - lastAllocated < QuietAllocation;
                lastAllocated = allocated;
                var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
                var now = time.GetUtcNow();
                if (!quiet || committed <= Threshold || (committed < lastAfter + Threshold && now - lastCollected < Repeat))
                {
                    continue;
                }

                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                lastAfter = GC.GetGCMemoryInfo().TotalCommittedBytes;
                lastCollected = now;
                lastAllocated = GC.GetTotalAllocatedBytes();
                LogReturned(logger, committed / (1024 * 1024), lastAfter / (1024 * 1024));
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    [LoggerMessage(70, LogLevel.Information, "The service went quiet with {BeforeMiB} MiB of GC heap committed; after a full compacting collection {AfterMiB} MiB")]
    private static partial void LogReturned(ILogger logger, long beforeMiB, long afterMiB);
}
