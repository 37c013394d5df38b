namespace KivaSync.SyncService.Security;

/// <summary>Says at start-up who may call the service, and warns loudly when nobody is configured (open mode).</summary>
internal sealed class SecurityStartupReport(CallerAuthenticator authenticator, ILogger<SecurityStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (authenticator.IsOpen)
        {
            SecurityLog.RunningOpen(logger);
        }
        else
        {
            SecurityLog.CallersConfigured(logger, authenticator.CallerNames.Count, string.Join(", ", authenticator.CallerNames));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
