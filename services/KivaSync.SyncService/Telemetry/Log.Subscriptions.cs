namespace KivaSync.SyncService.Telemetry;

// Recurring payments (subscriptions) (ids 70-79).
internal static partial class Log
{
    [LoggerMessage(70, LogLevel.Warning, "AC refused the recurring payment of customer {CustomerId} of tenant {Tenant}: {Reason}; set aside as a dead letter")]
    public static partial void RecurringPaymentRefused(ILogger logger, string tenant, string customerId, string reason);

    [LoggerMessage(71, LogLevel.Warning, "Sending recurring payments of tenant {Tenant} failed: {Message}; they are sent again later")]
    public static partial void RecurringPaymentsFailed(ILogger logger, string tenant, string message);
}
