namespace KivaSync.SyncService.Telemetry;

// Events and Deep Data orders (ids 40-49).
internal static partial class Log
{
    [LoggerMessage(40, LogLevel.Warning, "AC event tracking refused event {Event} of tenant {Tenant} for {Email}: {Message}; the event is dropped")]
    public static partial void EventRefused(ILogger logger, string @event, string tenant, string email, string message);

    [LoggerMessage(41, LogLevel.Information, "Event tracking set up for tenant {Tenant}: {Registered} event names registered")]
    public static partial void EventNamesRegistered(ILogger logger, string tenant, int registered);

    [LoggerMessage(42, LogLevel.Information, "Deep Data connection {ConnectionId} for tenant {Tenant} ({Created})")]
    public static partial void ConnectionReady(ILogger logger, string connectionId, string tenant, string created);

    [LoggerMessage(43, LogLevel.Information, "Event {Event} of tenant {Tenant} had its answer lost; AC contact {AcContactId} lists {OnAc} such events, {Confirmed} confirmed before: delivered {Delivered}")]
    public static partial void EventLookedUp(ILogger logger, string @event, string tenant, string acContactId, int onAc, long confirmed, bool delivered);
}

// Orders through AC's Ecommerce GraphQL API (ids 60-64).
internal static partial class Log
{
    [LoggerMessage(60, LogLevel.Warning, "AC refused order {OrderId} of customer {CustomerId} (tenant {Tenant}): {Reason}; the order is set aside (dead letters) and the rest of its call sent again")]
    public static partial void OrderSetAside(ILogger logger, string orderId, string customerId, string tenant, string reason);

    [LoggerMessage(61, LogLevel.Warning, "Sending {Orders} orders of tenant {Tenant} failed (attempt {Attempt}); they stay queued, next try in {Delay}: {Error}")]
    public static partial void OrdersSendFailed(ILogger logger, int orders, string tenant, int attempt, TimeSpan delay, string error);

    [LoggerMessage(62, LogLevel.Error, "The order sender of tenant {Tenant} failed; it starts again in 1 s")]
    public static partial void OrderSenderError(ILogger logger, Exception exception, string tenant);
}
