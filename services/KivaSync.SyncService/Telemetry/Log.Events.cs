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
