using KivaSync.Demo;
using KivaSync.SampleLog;

namespace KivaSync.Cli.Tests;

/// <summary>Redis, the AC emulator and the sync service with a sample log shipped and synced: what an operator finds after a backfill.</summary>
public sealed class SyncedTenantFixture : IAsyncLifetime
{
    public const string Tenant = "greenleaf";

    public DemoEnvironment Environment { get; private set; } = null!;

    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("kivasync-cli-").FullName;

    public SampleLogOptions LogOptions { get; } = new() { Customers = 40, Leads = 12, Weeks = 6, BadLineRate = 0.02 };

    public string LogPath => Path.Combine(WorkDirectory, "system.log");

    /// <summary>KIVASYNC_SERVICE and KIVASYNC_TOKEN for this service.</summary>
    public IReadOnlyDictionary<string, string?> CliEnvironment => new Dictionary<string, string?>
    {
        ["KIVASYNC_SERVICE"] = Environment.ServiceAddress.ToString(),
        ["KIVASYNC_TOKEN"] = Environment.CallerToken,
    };

    public async Task InitializeAsync()
    {
        SampleLogGenerator.WriteTo(LogPath, LogOptions);
        Environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, RedisUrl: null, RealAccount: null, RequestsPerSecond: 200));
        await using var shipper = Environment.CreateShipper(LogPath, Path.Combine(WorkDirectory, "shipper"));
        await shipper.StartAsync();
        await shipper.WaitForFileShippedAsync(LogPath);
        await shipper.StopAsync();
        await Environment.WaitForIdleAsync(TimeSpan.FromMinutes(5));
    }

    public async Task DisposeAsync()
    {
        await Environment.DisposeAsync();
        Directory.Delete(WorkDirectory, recursive: true);
    }
}
