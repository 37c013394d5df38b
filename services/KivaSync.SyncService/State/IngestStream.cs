namespace KivaSync.SyncService.State;

/// <summary>
/// One ship stream's order for ingest.lua. A stream pipelines its batches (the next is sent before the previous is
/// answered), but ingest.lua may answer a batch "call me again with these keys" having written nothing (State/Scripts/
/// ingest.lua); the batches sent after it must then not be applied first. Each batch carries the number of the stream's
/// previous batch for the same tenant; the script applies it only after that one ({"wait"} otherwise, nothing written),
/// and the batch is sent again right after its predecessor's next attempt went out, so the stream stays pipelined.
/// Call <see cref="Next"/> in batch order.
/// </summary>
public sealed class IngestStream
{
    private readonly Dictionary<string, IngestFence> last = new(StringComparer.Ordinal);
    private long count;

    /// <summary>The stream's id in its Redis key.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The fence of the stream's next batch for <paramref name="tenant"/>.</summary>
    public IngestFence Next(string tenant)
    {
        last.TryGetValue(tenant, out var previous);
        var fence = new IngestFence(Id, ++count, previous);
        last[tenant] = fence;
        return fence;
    }
}

/// <summary>A batch's place in its stream: applied only after <see cref="Previous"/> (null: no check).</summary>
public sealed class IngestFence(string streamId, long seq, IngestFence? previous)
{
    private readonly Lock gate = new();
    private TaskCompletionSource nextSend = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int sent;
    private bool? applied;

    public string StreamId => streamId;

    public long Seq => seq;

    public IngestFence? Previous => previous;

    /// <summary>Attempts sent so far.</summary>
    public int Sent
    {
        get
        {
            lock (gate)
            {
                return sent;
            }
        }
    }

    /// <summary>Called right after an attempt was handed to the connection (in send order).</summary>
    public void MarkSent() => Signal(() => sent++);

    /// <summary>The batch ended: applied, or failed (its successors then fail too).</summary>
    public void MarkEnded(bool wasApplied) => Signal(() => applied = wasApplied);

    /// <summary>Waits until this batch sent more than <paramref name="seen"/> attempts or ended; true unless it failed.</summary>
    public async Task<bool> WaitForProgressAsync(int seen)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (applied is { } done)
                {
                    return done;
                }

                if (sent > seen)
                {
                    return true;
                }

                wait = nextSend.Task;
            }

            await wait;
        }
    }

    private void Signal(Action change)
    {
        TaskCompletionSource woken;
        lock (gate)
        {
            change();
            woken = nextSend;
            nextSend = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        woken.TrySetResult();
    }
}
