using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace KivaSync.Shipper;

/// <summary>Builds the shipper as a generic host: options from appsettings.json and the environment, validated at start-up.</summary>
public static class ShipperHost
{
    /// <summary>A host builder with the shipper, its health endpoint and its telemetry registered.</summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.AddShipper();
        builder.AddShipperTelemetry();
        return builder;
    }

    /// <summary>Registers the shipper (options bound from section "Shipper" and validated on start).</summary>
    public static IHostApplicationBuilder AddShipper(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ShipperOptions>().Bind(builder.Configuration.GetSection(ShipperOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ShipperOptions>, ShipperOptionsValidator>();
        // The parts take the options themselves: reading Value runs the validator, so no part sees a bad configuration.
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<ShipperOptions>>().Value);
        builder.Services.AddShipperParts();
        builder.Services.AddHostedService<ShipperWorker>();
        builder.Services.AddHostedService<HealthServer>();
        // The host must give the drain its full grace period before it gives up on stopping.
        // Read from configuration, not the validated options, so a bad setting fails at start, not at Build().
        builder.Services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
            host.ShutdownTimeout = (configuration.GetSection(ShipperOptions.SectionName).GetValue<TimeSpan?>(nameof(ShipperOptions.DrainTimeout))
                ?? new ShipperOptions().DrainTimeout) + TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>
    /// OpenTelemetry for the shipper: its ActivitySource and Meter, gRPC/HTTP client spans (which carry "traceparent" on
    /// the call), runtime metrics; OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    /// </summary>
    public static IHostApplicationBuilder AddShipperTelemetry(this IHostApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("kivasync-shipper"))
            .WithTracing(tracing => tracing
                .AddSource(ShipperTelemetry.Name)
                .AddGrpcClientInstrumentation()
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(ShipperTelemetry.Name)
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());
        builder.Logging.AddOpenTelemetry(logging => logging.IncludeScopes = true);
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }

        return builder;
    }
}

/// <summary>Runs the <see cref="ShipperRunner"/> for the host; stopping (SIGTERM) drains it.</summary>
internal sealed class ShipperWorker(ShipperRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runner.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => runner.StopAsync(cancellationToken);
}
