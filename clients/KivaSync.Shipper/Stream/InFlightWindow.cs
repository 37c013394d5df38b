using System.Collections.Concurrent;
using System.Diagnostics;

namespace KivaSync.Shipper;

/// <summary>A batch sent and not yet acknowledged.</summary>
/// <param name="Sequence">Its sequence number on the stream.</param>
/// <param name="File">The file it was read from.</param>
/// <param name="Path">The path it was read under.</param>
/// <param name="Start">Offset of its first byte.</param>
/// <param name="End">Offset past its last byte.</param>
/// <param name="Activity">Its "ship batch" span, ended at the acknowledgement.</param>
/// <param name="SentAt">When it was handed to the stream.</param>
internal sealed record InFlightBatch(ulong Sequence, TrackedFile File, string Path, long Start, long End, Activity? Activity, DateTimeOffset SentAt);

/// <summary>The batches in flight, oldest first: the service acknowledges them in order.</summary>
internal sealed class InFlightWindow
{
    private readonly ConcurrentQueue<InFlightBatch> _queue = new();
    private int _count;

    /// <summary>Batches sent and not yet acknowledged.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>When the oldest batch in flight was sent; null when none is.</summary>
    public DateTimeOffset? OldestSentAt => _queue.TryPeek(out var oldest) ? oldest.SentAt : null;

    public void Add(InFlightBatch batch)
    {
        _queue.Enqueue(batch);
        Interlocked.Increment(ref _count);
    }

    public bool TryPeekOldest(out InFlightBatch oldest) => _queue.TryPeek(out oldest!);

    public bool TryTakeOldest(out InFlightBatch oldest)
    {
        if (!_queue.TryDequeue(out oldest!))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>The stream is gone: its batches will be read again from the checkpoint; their spans end as failed.</summary>
    public void Abandon()
    {
        while (_queue.TryDequeue(out var lost))
        {
            lost.Activity?.SetStatus(ActivityStatusCode.Error, "stream failed before acknowledgement");
            lost.Activity?.Dispose();
        }

        Volatile.Write(ref _count, 0);
    }
}

/// <summary>The connection as the health endpoint sees it; written by the stream and the reconnect loop.</summary>
internal sealed class ConnectionState
{
    private long _failingSinceTicks;
    private long _lastAckTicks;
    private volatile bool _connected;
    private volatile string? _lastError;

    public bool Connected
    {
        get => _connected;
        set => _connected = value;
    }

    public string? LastError => _lastError;

    /// <summary>When the last acknowledgement arrived.</summary>
    public DateTimeOffset? LastAckAt => Interlocked.Read(ref _lastAckTicks) is var t && t != 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    /// <summary>Since when streams have kept failing; null while the last one works.</summary>
    public DateTimeOffset? FailingSince => Interlocked.Read(ref _failingSinceTicks) is var t && t != 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public void Acknowledged(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _lastAckTicks, now.UtcTicks);
        Interlocked.Exchange(ref _failingSinceTicks, 0);
    }

    /// <summary>The first acknowledgement of a stream: the service takes our batches.</summary>
    public void Working()
    {
        _connected = true;
        _lastError = null;
    }

    public void Failed(DateTimeOffset now, string error)
    {
        _lastError = error;
        Interlocked.CompareExchange(ref _failingSinceTicks, now.UtcTicks, 0);
    }
}
