using KivaSync.SyncService.Telemetry;

namespace KivaSync.SyncService.Security;

/// <summary>Source-generated log messages of the security component. Tokens are never an argument.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(101, LogLevel.Warning,
        "No callers are configured under KivaSync:Callers: the gRPC API is OPEN to anyone who can reach it, for every tenant. Configure callers before exposing this service.")]
    public static partial void RunningOpen(ILogger logger);

    [LoggerMessage(102, LogLevel.Information, "{Count} callers may use the gRPC API: {Callers}")]
    public static partial void CallersConfigured(ILogger logger, int count, string callers);

    [LoggerMessage(103, LogLevel.Warning, "Refused {Method} from {Peer}: {Failure} ({LeftOut} more refusals since the last such line)")]
    public static partial void CallRefused(ILogger logger, string method, string peer, AuthenticationFailure failure, long leftOut);
}

/// <summary>The one throttle of unauthenticated-refusal log lines for the whole service (interceptors are per call).</summary>
internal sealed class RefusalLogThrottle(TimeProvider time)
{
    public LogThrottle Throttle { get; } = new(time, TimeSpan.FromMinutes(1));
}
