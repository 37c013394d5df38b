using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper;

/// <summary>The shipper's log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Connected to {ServiceUrl}")]
    public static partial void Connected(ILogger logger, Uri serviceUrl);

    [LoggerMessage(2, LogLevel.Warning, "Stream to the service failed ({StatusCode}); reconnecting in {DelayMs} ms (attempt {Attempt})")]
    public static partial void StreamFailed(ILogger logger, string statusCode, long delayMs, int attempt, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Tracking {Path} (fingerprint {Fingerprint}, tenant {Tenant}) from offset {Offset}")]
    public static partial void Tracking(ILogger logger, string path, string fingerprint, string tenant, long offset);

    [LoggerMessage(4, LogLevel.Information, "File {Fingerprint} is now at {Path}")]
    public static partial void Moved(ILogger logger, string fingerprint, string path);

    [LoggerMessage(5, LogLevel.Warning, "File {Path} ({Fingerprint}) was truncated or replaced at offset {Offset}; looking for its rotated copy")]
    public static partial void Truncated(ILogger logger, string path, string fingerprint, long offset);

    [LoggerMessage(6, LogLevel.Information, "Let go of {Path} ({Fingerprint}) at offset {Offset}")]
    public static partial void LetGo(ILogger logger, string path, string fingerprint, long offset);

    [LoggerMessage(7, LogLevel.Warning, "Let go of {Path} ({Fingerprint}) with {Lost} bytes past offset {Offset} that could not be read")]
    public static partial void LetGoIncomplete(ILogger logger, string path, string fingerprint, long offset, long lost);

    [LoggerMessage(8, LogLevel.Warning, "{Count} line(s) of {Path} rejected by the service; written to the dead-letter file")]
    public static partial void Rejected(ILogger logger, int count, string path);

    [LoggerMessage(9, LogLevel.Information, "Draining: waiting up to {TimeoutMs} ms for {InFlight} batch(es) in flight")]
    public static partial void Draining(ILogger logger, long timeoutMs, int inFlight);

    [LoggerMessage(10, LogLevel.Warning, "Drain timed out with {InFlight} batch(es) unacknowledged; they are resent from the checkpoint at the next start")]
    public static partial void DrainTimedOut(ILogger logger, int inFlight);

    [LoggerMessage(11, LogLevel.Error, "Checkpoint write to {Path} failed")]
    public static partial void CheckpointFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "Reading {Path} failed")]
    public static partial void ReadFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(13, LogLevel.Error, "The service refuses the stream ({StatusCode}: {Detail}); retrying in {DelayMs} ms")]
    public static partial void StreamRefused(ILogger logger, string statusCode, string detail, long delayMs);

    [LoggerMessage(14, LogLevel.Information, "Health endpoint listening on {Url}")]
    public static partial void HealthListening(ILogger logger, string url);

    [LoggerMessage(15, LogLevel.Information, "The service ended the stream cleanly (connection age reached); reconnecting")]
    public static partial void StreamRebalanced(ILogger logger);
}
