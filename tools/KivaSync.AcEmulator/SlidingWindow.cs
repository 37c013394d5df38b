namespace KivaSync.AcEmulator;

/// <summary>
/// At most N admitted requests in any rolling window (the last 1 s for the API, the last
/// 60 s for bulk import). Rejected requests do not take a slot. Not thread-safe: the
/// account calls it under its lock.
/// </summary>
internal sealed class SlidingWindow(TimeProvider time, TimeSpan window)
{
    private readonly Queue<long> _admitted = new();
    private readonly long _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);

    public bool TryAcquire(int limit)
    {
        var now = time.GetTimestamp();
        while (_admitted.Count > 0 && now - _admitted.Peek() >= _windowTicks)
        {
            _admitted.Dequeue();
        }

        if (_admitted.Count >= limit)
        {
            return false;
        }

        _admitted.Enqueue(now);
        return true;
    }
}
