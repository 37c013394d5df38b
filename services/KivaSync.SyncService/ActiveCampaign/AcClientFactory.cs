using KivaSync.SyncService.RateLimiting;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>Makes the AC client of a tenant from its configuration.</summary>
public sealed class AcClientFactory(
    IHttpClientFactory httpClients,
    TenantRegistry tenants,
    TenantRateLimiter limiter,
    AcCircuitBreakers breakers,
    SyncTelemetry telemetry,
    ILogger<AcClient> logger)
{
    /// <summary>Name of the HttpClient and of the resilience pipeline for AC API calls.</summary>
    public const string PipelineName = "ac-api";

    /// <summary>The tenant's client; throws when the tenant is not configured.</summary>
    public AcClient For(string tenant)
    {
        if (!tenants.TryGet(tenant, out var options))
        {
            throw new InvalidOperationException($"tenant \"{tenant}\" is not configured");
        }

        return new AcClient(httpClients.CreateClient(PipelineName), tenant, options, limiter, breakers.PipelineFor(tenant), telemetry, logger);
    }
}
