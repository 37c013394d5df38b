using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KivaSync.Shipper;

/// <summary>What <see cref="ShipperRunner"/> orchestrates, resolved from the container.</summary>
internal sealed record ShipperParts(
    ShipperOptions Options,
    FileTracker Files,
    ShipStream Stream,
    ReconnectPolicy Reconnect,
    CheckpointFlusher Checkpoints,
    InFlightWindow InFlight,
    ConnectionState Connection,
    ShipperMetrics Metrics,
    TimeProvider Time,
    ILogger<ShipperRunner> Logger);

/// <summary>The one place the shipper's parts are wired, for the host and for in-process runners alike.</summary>
internal static class ShipperServices
{
    /// <summary>Registers the parts; <see cref="ShipperOptions"/> (validated), logging and optionally a TimeProvider,
    /// an IMeterFactory, a <see cref="ShipperTransport"/> and an <see cref="IShipperFileSystem"/> come from the caller.</summary>
    public static IServiceCollection AddShipperParts(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IShipperFileSystem, PhysicalFileSystem>();
        services.TryAddSingleton(new ShipperTransport(null));
        services.AddSingleton(sp => new CheckpointStore(
            sp.GetRequiredService<ShipperOptions>().CheckpointDirectory,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ShipperOptions>().CheckpointRetention));
        services.AddSingleton(sp => new DeadLetterWriter(sp.GetRequiredService<ShipperOptions>().DeadLetterPath));
        services.AddSingleton<ShipperMetrics>();
        services.AddSingleton<InFlightWindow>();
        services.AddSingleton<ConnectionState>();
        services.AddSingleton<FileTracker>();
        services.AddSingleton<IBatchSource, FileReader>();
        services.AddSingleton<IAckSink, AckRecorder>();
        services.AddSingleton<CheckpointFlusher>();
        services.AddSingleton<ReconnectPolicy>();
        services.AddSingleton<IngestChannel>();
        services.AddSingleton<ShipStream>();
        services.AddSingleton<ShipperParts>();
        services.AddSingleton(sp => new ShipperRunner(sp.GetRequiredService<ShipperParts>()));
        return services;
    }

    /// <summary>A container of one runner's parts, for a runner made with <c>new</c> (tests, demo, benchmarks).</summary>
    public static ServiceProvider Compose(
        ShipperOptions options,
        ILoggerFactory? loggerFactory,
        TimeProvider? time,
        IMeterFactory? meterFactory,
        HttpMessageHandler? httpHandler,
        IShipperFileSystem? fileSystem)
    {
        var validation = new ShipperOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(ShipperOptions.SectionName, typeof(ShipperOptions), validation.Failures);
        }

        var services = new ServiceCollection();
        services.AddSingleton(options);
        services.AddSingleton(loggerFactory ?? NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        if (meterFactory is not null)
        {
            services.AddSingleton(meterFactory);
        }

        if (httpHandler is not null)
        {
            services.AddSingleton(new ShipperTransport(httpHandler));
        }

        if (fileSystem is not null)
        {
            services.AddSingleton(fileSystem);
        }

        return services.AddShipperParts().BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
