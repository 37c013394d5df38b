using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Api;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.Ingest;
using KivaSync.SyncService.Provisioning;
using KivaSync.SyncService.RateLimiting;
using KivaSync.SyncService.Security;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Status;
using KivaSync.SyncService.Sync;
using KivaSync.SyncService.Subscriptions;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.TestSync;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Polly;
using StackExchange.Redis;

namespace KivaSync.SyncService.Hosting;

/// <summary>The sync service's wiring, so Program.cs stays ten lines.</summary>
public static class KivaSyncHostingExtensions
{
    /// <summary>Largest gRPC request message the service reads.</summary>
    public const int MaxReceiveMessageBytes = 16 * 1024 * 1024;

    /// <summary>Registers options, Redis, the AC client, the ingest pipeline, the workers and gRPC.</summary>
    public static IHostApplicationBuilder AddKivaSync(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<KivaSyncOptions>()
            .Bind(builder.Configuration.GetSection(KivaSyncOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<KivaSyncOptions>, KivaSyncOptionsValidator>();
        services.AddSingleton<IValidateOptions<KivaSyncOptions>, CallersValidator>();
        services.AddSingleton<IPostConfigureOptions<KivaSyncOptions>, CallerTenantsFromScalar>();
        services.AddSingleton<CallerAuthenticator>();
        services.AddSingleton<RefusalLogThrottle>();
        services.AddHostedService<SecurityStartupReport>();

        services.AddSingleton(TimeProvider.System);
        services.AddHostedService<MemoryReturn>();
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var configuration = RedisConfiguration.Parse(sp.GetRequiredService<IOptions<KivaSyncOptions>>().Value.Redis);
            // Keep retrying in the background: Redis restarting must not kill the service.
            configuration.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(configuration);
        });

        services.AddSingleton<SyncTelemetry>();
        services.AddSingleton<TenantRegistry>();
        services.AddSingleton<StateStore>();
        services.AddSingleton<StateGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<StateGuard>());
        services.AddSingleton<RateBudgetStore>();
        services.AddSingleton<TenantRateLimiter>();
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton<IngestAdmission>();
        services.AddSingleton<AcNameCatalog>();
        services.AddSingleton<ConnectionAgeLimiter>();
        services.AddSingleton<AcFieldCatalog>();
        services.AddSingleton<AcCircuitBreakers>();
        services.AddSingleton<AcClientFactory>();
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton<CustomFieldsStep>();
        services.AddSingleton<ContactListsStep>();
        services.AddSingleton<OrderTagsStep>();
        services.AddSingleton<IProvisioningStep>(sp => sp.GetRequiredService<CustomFieldsStep>());
        services.AddSingleton<IProvisioningStep>(sp => sp.GetRequiredService<ContactListsStep>());
        services.AddSingleton<IProvisioningStep>(sp => sp.GetRequiredService<OrderTagsStep>());
        services.AddSingleton<TenantProvisioner>();
        services.AddSingleton<ListsAndTagsFollowUp>();
        services.AddSingleton<IContactFollowUp>(sp => sp.GetRequiredService<ListsAndTagsFollowUp>());
        services.AddSingleton<BulkBackfill>();
        services.AddSingleton<ContactSyncer>();
        services.AddKivaSyncEventsAndOrders();
        services.AddHostedService<ContactSyncWorker>();
        services.AddSingleton<RecurringPaymentStore>();
        services.AddSingleton<RecurringPaymentsSender>();
        services.AddHostedService(sp => sp.GetRequiredService<RecurringPaymentsSender>());
        services.AddSingleton<TenantStatusReader>();
        services.AddSingleton<TestSyncAdmission>();
        services.AddSingleton<TenantGauges>();
        services.AddHostedService(sp => sp.GetRequiredService<TenantGauges>());

        services.AddHttpClient(AcClientFactory.PipelineName, client => client.Timeout = TimeSpan.FromSeconds(60));
        services.AddResiliencePipeline(AcClientFactory.PipelineName, pipeline => pipeline
            .AddRetry(AcCircuitBreakers.RetryOptions(6))
            .AddTimeout(TimeSpan.FromSeconds(30)));

        services.AddGrpc(options =>
        {
            options.Interceptors.Add<ErrorMappingInterceptor>();
            // After error mapping (so its refusals pass through unchanged) and before every handler.
            options.Interceptors.Add<CallerAuthenticationInterceptor>();
            options.MaxReceiveMessageSize = MaxReceiveMessageBytes;
        });
        // gRPC's own line per refused call ("Error status code ... raised", with the caller's text) is Information:
        // anyone could fill the log with it. The service logs refusals itself, throttled.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning);
        services.AddGrpcHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        return builder;
    }

    /// <summary>Maps the gRPC services and the gRPC health service.</summary>
    public static WebApplication MapKivaSync(this WebApplication app)
    {
        app.UseMiddleware<MalformedMessageGuard>();
        app.MapGrpcService<LogIngestService>();
        app.MapGrpcService<SyncApiService>();
        app.MapGrpcHealthChecksService();
        return app;
    }
}

/// <summary>Ready only while Redis answers and holds the tenants' state (StateGuard): without it nothing can be acknowledged.</summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis, StateGuard guard, TenantRegistry tenants) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await redis.GetDatabase().PingAsync();
            if (guard.LostTenants() is { Count: > 0 } lost)
            {
                return HealthCheckResult.Unhealthy(
                    $"Redis lost the state of tenant(s) {string.Join(", ", lost)}; to recover: {StateGuard.Recovery}");
            }

            if (tenants.TenantIds.FirstOrDefault(t => guard.Verdict(t).Condition == StateCondition.Unknown) is { } unverified)
            {
                return HealthCheckResult.Unhealthy($"the state of tenant {unverified} in Redis is not verified yet");
            }

            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer", e);
        }
    }
}
