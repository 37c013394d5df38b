using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KivaSync.Shipper;

/// <summary>
/// GET /healthz on Shipper:HealthUrl: 200 with the shipper's status as JSON, 503 when the service has been unreachable
/// (or a batch unacknowledged) for longer than UnhealthyAfter. Nothing listens when HealthUrl is empty.
/// </summary>
internal sealed class HealthServer(ShipperRunner runner, IOptions<ShipperOptions> options, ILogger<HealthServer> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var url = options.Value.HealthUrl;
        if (string.IsNullOrWhiteSpace(url))
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/healthz", () =>
        {
            var status = runner.GetStatus();
            return Results.Json(status, statusCode: status.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        await _app.StartAsync(cancellationToken);
        foreach (var address in _app.Urls)
        {
            Log.HealthListening(logger, address);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
