using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Ingest;

/// <summary>Why a batch was not admitted.</summary>
public enum IngestRefusal
{
    /// <summary>Admitted.</summary>
    None,
    /// <summary>Every batch slot of the replica is taken.</summary>
    Overloaded,
    /// <summary>The caller holds its share of the slots (Ingest:CallerShare).</summary>
    CallerShare,
    /// <summary>The batch's tenant holds its share of the slots (Ingest:TenantShare).</summary>
    TenantShare,
}

/// <summary>
/// Bounds the batches this replica processes at once across all streams, and the share of them one caller and one
/// tenant may hold, so a flood from one caller (however many streams it opens) leaves slots for the others. Over a
/// bound a batch is refused at once (no queue in memory): the shipper resends it after the retry delay, possibly to a
/// less busy replica.
/// </summary>
public sealed class IngestAdmission
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> byCaller = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> byTenant = new(StringComparer.Ordinal);
    private int inProgress;

    /// <summary>Creates the admission from Ingest:MaxConcurrentBatches, CallerShare and TenantShare.</summary>
    public IngestAdmission(IOptions<KivaSyncOptions> options)
    {
        var ingest = options.Value.Ingest;
        Max = ingest.MaxConcurrentBatches;
        CallerLimit = Share(Max, ingest.CallerShare);
        TenantLimit = Share(Max, ingest.TenantShare);
        RetryAfter = ingest.OverloadRetryAfter;
    }

    /// <summary>Batches this replica processes at once.</summary>
    public int Max { get; }

    /// <summary>Batches one caller may have processed at once.</summary>
    public int CallerLimit { get; }

    /// <summary>Batches of one tenant processed at once.</summary>
    public int TenantLimit { get; }

    /// <summary>Batches being processed now.</summary>
    public int InProgress => Volatile.Read(ref inProgress);

    /// <summary>The delay a refused caller is told to wait.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>
    /// Takes a slot for a batch of <paramref name="caller"/> (null: no per-caller share, open mode) and
    /// <paramref name="tenant"/> (null: none the caller may write; the batch is refused later). Every
    /// <see cref="IngestRefusal.None"/> must be paired with <see cref="Exit"/> with the same arguments.
    /// </summary>
    public IngestRefusal TryEnter(string? caller, string? tenant)
    {
        lock (gate)
        {
            if (inProgress >= Max)
            {
                return IngestRefusal.Overloaded;
            }

            if (caller is not null && byCaller.GetValueOrDefault(caller) >= CallerLimit)
            {
                return IngestRefusal.CallerShare;
            }

            if (tenant is not null && byTenant.GetValueOrDefault(tenant) >= TenantLimit)
            {
                return IngestRefusal.TenantShare;
            }

            Volatile.Write(ref inProgress, inProgress + 1);
            Add(byCaller, caller, 1);
            Add(byTenant, tenant, 1);
            return IngestRefusal.None;
        }
    }

    /// <summary>Gives a slot back.</summary>
    public void Exit(string? caller, string? tenant)
    {
        lock (gate)
        {
            Volatile.Write(ref inProgress, inProgress - 1);
            Add(byCaller, caller, -1);
            Add(byTenant, tenant, -1);
        }
    }

    private static int Share(int max, double share) => Math.Max(1, (int)Math.Floor(max * share));

    private static void Add(Dictionary<string, int> counts, string? key, int delta)
    {
        if (key is null)
        {
            return;
        }

        var count = counts.GetValueOrDefault(key) + delta;
        // Keys leave at zero: the maps only hold who has batches in progress now.
        if (count <= 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = count;
        }
    }
}
