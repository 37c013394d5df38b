namespace KivaSync.SyncService.Telemetry;

/// <summary>
/// At most one log line per interval for a message anyone can trigger (refused or malformed calls), with how many
/// were left out since the last line: a flood of bad requests costs a line a minute, not a line each.
/// </summary>
public sealed class LogThrottle(TimeProvider time, TimeSpan interval)
{
    private readonly Lock gate = new();
    private long lastLogged = long.MinValue;
    private long suppressed;

    /// <summary>True when this occurrence should be logged; <paramref name="leftOut"/> is how many were not since the last.</summary>
    public bool ShouldLog(out long leftOut)
    {
        var now = time.GetTimestamp();
        lock (gate)
        {
            if (lastLogged != long.MinValue && time.GetElapsedTime(lastLogged, now) < interval)
            {
                suppressed++;
                leftOut = 0;
                return false;
            }

            lastLogged = now;
            leftOut = suppressed;
            suppressed = 0;
            return true;
        }
    }
}
