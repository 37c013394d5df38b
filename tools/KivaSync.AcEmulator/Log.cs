using Microsoft.Extensions.Logging;

namespace KivaSync.AcEmulator;

// Source-generated log methods; no tokens or keys are ever logged.
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "ActiveCampaign emulator listening on {BaseAddress}")]
    public static partial void Listening(ILogger logger, Uri baseAddress);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Account {Account} added (actid {ActId}, {RequestsPerSecond} requests/s)")]
    public static partial void AccountAdded(ILogger logger, string account, string actId, int requestsPerSecond);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "{Account} {Method} {Path} -> {Status}")]
    public static partial void ApiAnswered(ILogger logger, string account, string method, string path, int status);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "{Account} bulk import completed: {Succeeded} succeeded, {Failed} failed")]
    public static partial void BulkImportCompleted(ILogger logger, string account, int succeeded, int failed);
}
