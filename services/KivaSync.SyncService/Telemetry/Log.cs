namespace KivaSync.SyncService.Telemetry;

/// <summary>Source-generated log messages. Emails are passed redacted; keys never.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Contact sync for tenant {Tenant} failed (attempt {Attempt}), retrying in {RetryIn}: {Error}")]
    public static partial void SyncFailed(ILogger logger, string tenant, long attempt, TimeSpan retryIn, string error);

    [LoggerMessage(2, LogLevel.Warning, "Contact {Email} of tenant {Tenant} skipped: {Reason}")]
    public static partial void SyncSkipped(ILogger logger, string tenant, string email, string reason);

    [LoggerMessage(19, LogLevel.Warning, "Contact {Email} of tenant {Tenant}: its lease was lost mid-sync (another replica may hold it); stopped, it is sent again after that one")]
    public static partial void SyncLeaseLost(ILogger logger, string tenant, string email);

    [LoggerMessage(3, LogLevel.Error, "Sync worker for tenant {Tenant} cannot reach Redis; pausing")]
    public static partial void WorkerRedisDown(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(4, LogLevel.Warning, "AC answered {Status} for tenant {Tenant}; the tenant pauses {Delay}")]
    public static partial void AcBackoff(ILogger logger, int status, string tenant, TimeSpan delay);

    [LoggerMessage(5, LogLevel.Information, "Queued {Count} contacts of tenant {Tenant} for the weekly resync")]
    public static partial void WeeklyResyncQueued(ILogger logger, int count, string tenant);

    [LoggerMessage(6, LogLevel.Information, "Created AC field {Title} ({Id}) for tenant {Tenant}")]
    public static partial void FieldCreated(ILogger logger, string title, string id, string tenant);

    [LoggerMessage(7, LogLevel.Error, "Sync worker for tenant {Tenant} hit an unexpected error")]
    public static partial void WorkerError(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(8, LogLevel.Error, "AC of tenant {Tenant} keeps failing: circuit open, no AC calls for {BreakDuration}")]
    public static partial void CircuitOpened(ILogger logger, string tenant, TimeSpan breakDuration);

    [LoggerMessage(9, LogLevel.Information, "AC of tenant {Tenant} answers again: circuit closed")]
    public static partial void CircuitClosed(ILogger logger, string tenant);

    [LoggerMessage(10, LogLevel.Error, "Contact {Email} of tenant {Tenant} dead-lettered after {Attempts} attempts: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string tenant, string email, long attempts, string reason);
}
