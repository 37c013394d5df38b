namespace KivaSync.SyncService.Security;

/// <summary>Source-generated log messages of the security component. Tokens are never an argument.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(101, LogLevel.Warning,
        "No callers are configured under KivaSync:Callers: the gRPC API is OPEN to anyone who can reach it, for every tenant. Configure callers before exposing this service.")]
    public static partial void RunningOpen(ILogger logger);

    [LoggerMessage(102, LogLevel.Information, "{Count} callers may use the gRPC API: {Callers}")]
    public static partial void CallersConfigured(ILogger logger, int count, string callers);

    [LoggerMessage(103, LogLevel.Warning, "Refused {Method} from {Peer}: {Failure}")]
    public static partial void CallRefused(ILogger logger, string method, string peer, AuthenticationFailure failure);
}
