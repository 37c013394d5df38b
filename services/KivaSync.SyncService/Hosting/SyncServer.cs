using System.Net;
using KivaSync.ServiceDefaults;
using KivaSync.SyncService.Ingest;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Hosting;

/// <summary>Builds the sync service's web application: used by Program.cs, the demo and in-process tests alike.</summary>
public static class SyncServer
{
    /// <summary>Exit code of a service that stopped at start because its configuration is invalid.</summary>
    public const int InvalidConfigurationExitCode = 2;

    /// <summary>
    /// Runs the service until it stops (Program.cs). An invalid configuration is one line on standard error naming
    /// the keys to fix, and exit code <see cref="InvalidConfigurationExitCode"/>: no host start, no stack trace.
    /// </summary>
    public static int Run(string[] args)
    {
        var app = Create(args);
        try
        {
            // Checked before the host starts: a failure there is logged by the host as a stack trace, then rethrown.
            _ = app.Services.GetRequiredService<IOptions<KivaSyncOptions>>().Value;
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
        {
            // OptionsValidationException: the validators' messages (keys, never values); InvalidOperationException:
            // a value the binder cannot convert ("Failed to convert configuration value at 'KivaSync:Sync:Concurrency' ...").
            var reasons = e is OptionsValidationException validation ? string.Join("; ", validation.Failures) : e.Message;
            Console.Error.WriteLine("kivasync-sync-service: invalid configuration: " + reasons.ReplaceLineEndings(" "));
            return InvalidConfigurationExitCode;
        }

        app.Run();
        return 0;
    }

    /// <summary>Creates the application; <paramref name="configure"/> may add configuration or replace services (tests, demo).</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Content root at the service's own folder so appsettings.json is found when hosted by another program.
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = typeof(SyncServer).Assembly.GetName().Name,
        });
        builder.AddServiceDefaults(SyncTelemetry.Name);
        builder.AddKivaSync();
        // gRPC without TLS inside the cluster needs HTTP/2 with prior knowledge on every endpoint.
        // Every endpoint also gets the maximum connection age (ConnectionAgeLimiter).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            var limiter = kestrel.ApplicationServices.GetRequiredService<ConnectionAgeLimiter>();
            listen.Use(next => connection => limiter.RunAsync(connection, next));
        }));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapKivaSync();
        app.MapDefaultEndpoints();
        return app;
    }

    /// <summary>
    /// Starts the service in-process on 127.0.0.1 and a free port (HTTP/2 without TLS) with the given
    /// configuration on top of appsettings.json; returns the running app and its address. A non-zero
    /// <paramref name="port"/> reuses a port an earlier instance was given (a restart at the same address).
    /// </summary>
    public static async Task<(WebApplication App, Uri Address)> StartLocalAsync(
        IEnumerable<KeyValuePair<string, string?>> settings, Action<WebApplicationBuilder>? configure = null, int port = 0, CancellationToken ct = default)
    {
        var app = Create([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
            configure?.Invoke(builder);
        });
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }
}
