using KivaSync.ServiceDefaults;
using KivaSync.SyncService.Telemetry;

namespace KivaSync.SyncService.Hosting;

/// <summary>Builds the sync service's web application: used by Program.cs, the demo and in-process tests alike.</summary>
public static class SyncServer
{
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
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapKivaSync();
        app.MapDefaultEndpoints();
        return app;
    }
}
