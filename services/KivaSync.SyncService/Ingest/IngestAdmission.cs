using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// Bounds the batches this replica processes at once across all streams. Over the bound a batch is refused at once
/// (no queue in memory): the shipper resends it after the retry delay, possibly to a less busy replica.
/// </summary>
public sealed class IngestAdmission(IOptions<KivaSyncOptions> options)
{
    private readonly int max = options.Value.Ingest.MaxConcurrentBatches;
    private int inProgress;

    /// <summary>Batches being processed now.</summary>
    public int InProgress => Volatile.Read(ref inProgress);

    /// <summary>The delay a refused caller is told to wait.</summary>
    public TimeSpan RetryAfter { get; } = options.Value.Ingest.OverloadRetryAfter;

    /// <summary>Takes a slot; false when all are taken. Every true must be paired with <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref inProgress) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref inProgress);
        return false;
    }

    /// <summary>Gives a slot back.</summary>
    public void Exit() => Interlocked.Decrement(ref inProgress);
}
