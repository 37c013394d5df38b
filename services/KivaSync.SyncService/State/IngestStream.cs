namespace KivaSync.SyncService.State;

/// <summary>
/// One ship stream's order for ingest.lua. A stream pipelines its batches (the next is sent before the previous is
/// answered), but ingest.lua may answer a batch "call me again with these keys" having written nothing (State/Scripts/
/// ingest.lua); the batches sent after it must then not be applied first. Each batch carries the number of the stream's
/// previous batch for the same tenant; the script applies it only after that one ({"wait"} otherwise, nothing written),
/// and the caller sends it again once the previous batch's task ended. Call <see cref="Next"/> in batch order.
/// </summary>
public sealed class IngestStream
{
    private readonly Dictionary<string, long> last = new(StringComparer.Ordinal);
    private long count;

    /// <summary>The stream's id in its Redis key.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The fence of the stream's next batch for <paramref name="tenant"/>; <paramref name="previous"/> ends once the
    /// stream's previous batch was applied or failed.</summary>
    public IngestFence Next(string tenant, Task? previous)
    {
        var seq = ++count;
        var after = last.TryGetValue(tenant, out var before) ? before : 0;
        last[tenant] = seq;
        return new IngestFence(Id, after, seq, previous);
    }
}

/// <summary>A batch's place in its stream: applied only after batch <paramref name="After"/> (0: no check).</summary>
public sealed record IngestFence(string StreamId, long After, long Seq, Task? Previous);
