using KivaSync.AcEmulator;
using KivaSync.Shipper;
using KivaSync.SyncService.Hosting;
using KivaSync.SyncService.State;
using KivaSync.Testing.Redis;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KivaSync.Demo;

/// <summary>Where the demo (and the end-to-end tests) send contacts: the emulator, or a real AC account.</summary>
/// <param name="ApiUrl">The account's API URL.</param>
/// <param name="ApiKey">The API key (never printed).</param>
/// <param name="AccountWebUrl">The account's web app URL, for contact links.</param>
/// <param name="TrackingAccountId">Event tracking actid.</param>
/// <param name="TrackingKey">Event tracking key (never printed).</param>
public sealed record AcAccountSettings(string ApiUrl, string ApiKey, string? AccountWebUrl, string? TrackingAccountId, string? TrackingKey)
{
    /// <summary>A real account from AC_API_URL and AC_API_KEY (plus AC_ACCOUNT_WEB_URL, AC_TRACKING_ACTID, AC_TRACKING_KEY), or null.</summary>
    public static AcAccountSettings? FromEnvironment()
    {
        var url = Environment.GetEnvironmentVariable("AC_API_URL");
        var key = Environment.GetEnvironmentVariable("AC_API_KEY");
        return string.IsNullOrWhiteSpace(url) || string.IsNullOrWhiteSpace(key)
            ? null
            : new AcAccountSettings(url, key, Environment.GetEnvironmentVariable("AC_ACCOUNT_WEB_URL"),
                Environment.GetEnvironmentVariable("AC_TRACKING_ACTID"), Environment.GetEnvironmentVariable("AC_TRACKING_KEY"));
    }
}

/// <summary>What to start.</summary>
/// <param name="Tenant">The tenant id.</param>
/// <param name="RedisUrl">An existing Redis (REDIS_URL); null starts a local redis-server.</param>
/// <param name="RealAccount">A real AC account; null starts the emulator.</param>
/// <param name="RequestsPerSecond">The tenant's AC budget (and the emulator's limit).</param>
/// <param name="AppendOnly">Start the local Redis with AOF (fsync always).</param>
public sealed record DemoSettings(string Tenant, string? RedisUrl, AcAccountSettings? RealAccount, double RequestsPerSecond = 5, bool AppendOnly = false);

/// <summary>
/// Redis, the AC emulator (or a real account) and the sync service, running in this process on
/// 127.0.0.1; the demo and the end-to-end tests drive shippers against it.
/// </summary>
public sealed class DemoEnvironment : IAsyncDisposable
{
    private readonly Dictionary<string, string?> serviceSettings;

    private DemoEnvironment(DemoSettings settings, RedisServerProcess? redis, AcEmulatorHost? emulator, Dictionary<string, string?> serviceSettings)
    {
        Settings = settings;
        Redis = redis;
        Emulator = emulator;
        this.serviceSettings = serviceSettings;
    }

    /// <summary>What was started.</summary>
    public DemoSettings Settings { get; }

    /// <summary>The local redis-server, when the demo started one.</summary>
    public RedisServerProcess? Redis { get; }

    /// <summary>The emulator, unless a real account is used.</summary>
    public AcEmulatorHost? Emulator { get; }

    /// <summary>The tenant's emulated account, unless a real account is used.</summary>
    public EmulatedAccount? Account => Emulator?.Account(Settings.Tenant);

    /// <summary>The bearer token the service accepts for this tenant (a secret: never printed).</summary>
    public string CallerToken { get; private init; } = "";

    /// <summary>gRPC call headers carrying <see cref="CallerToken"/>.</summary>
    public Grpc.Core.Metadata CallerHeaders => new() { { "authorization", "Bearer " + CallerToken } };

    /// <summary>The running sync service.</summary>
    public WebApplication Service { get; private set; } = null!;

    /// <summary>The sync service's gRPC address.</summary>
    public Uri ServiceAddress { get; private set; } = null!;

    /// <summary>Starts everything.</summary>
    /// <param name="configureService">Changes to the service's host on top of its settings (e.g. a test's telemetry exporters); also applied on restarts.</param>
    public static async Task<DemoEnvironment> StartAsync(
        DemoSettings settings, IEnumerable<KeyValuePair<string, string?>>? extraServiceSettings = null,
        Action<WebApplicationBuilder>? configureService = null, CancellationToken ct = default)
    {
        RedisServerProcess? redis = null;
        var redisConnection = settings.RedisUrl;
        if (string.IsNullOrWhiteSpace(redisConnection))
        {
            redis = await RedisServerProcess.StartAsync(settings.AppendOnly, ct);
            redisConnection = redis.ConnectionString;
        }

        AcEmulatorHost? emulator = null;
        var account = settings.RealAccount;
        if (account is null)
        {
            emulator = await AcEmulatorHost.StartAsync(ct);
            var emulated = emulator.AddAccount(settings.Tenant, "demo-api-key-" + Guid.NewGuid().ToString("N")[..8], "1000", "demo-event-key",
                (int)Math.Ceiling(settings.RequestsPerSecond));
            account = new AcAccountSettings(emulator.ApiUrl(emulated.Name).ToString(), emulated.ApiToken, $"https://{settings.Tenant}.activehosted.com",
                emulated.ActId, emulated.EventKey);
        }

        var t = settings.Tenant;
        var token = "demo-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var serviceSettings = new Dictionary<string, string?>
        {
            ["KivaSync:Redis"] = redisConnection,
            [$"KivaSync:Tenants:{t}:ApiUrl"] = account.ApiUrl,
            [$"KivaSync:Tenants:{t}:ApiKey"] = account.ApiKey,
            [$"KivaSync:Tenants:{t}:AccountWebUrl"] = account.AccountWebUrl,
            [$"KivaSync:Tenants:{t}:TrackingAccountId"] = account.TrackingAccountId,
            [$"KivaSync:Tenants:{t}:TrackingKey"] = account.TrackingKey,
            [$"KivaSync:Tenants:{t}:TrackingUrl"] = emulator?.TrackingUrl.ToString() ?? "https://trackcmp.net/event",
            [$"KivaSync:Tenants:{t}:RequestsPerSecond"] = settings.RequestsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // A real account: event posts share its 5/s (EventsPerSecond unset). The emulator's tracking endpoint has no
            // limit by default, so there events get a budget of their own and need not wait for the API's.
            [$"KivaSync:Tenants:{t}:EventsPerSecond"] = emulator is null ? "" : "500",
            ["KivaSync:Sync:Debounce"] = "00:00:00.200",
            // One caller (the demo's shipper and its status reads), allowed this tenant only.
            ["KivaSync:Callers:demo:Token"] = token,
            ["KivaSync:Callers:demo:Tenants:0"] = t,
            ["KivaSync:Callers:demo:Scopes"] = "ship,read,operate",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:KivaSync"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        foreach (var (key, value) in extraServiceSettings ?? [])
        {
            serviceSettings[key] = value;
        }

        var environment = new DemoEnvironment(settings, redis, emulator, serviceSettings) { CallerToken = token, configureService = configureService };
        await environment.StartServiceAsync(ct);
        return environment;
    }

    /// <summary>Stops the sync service (as a crash would, without draining) and starts a new one on the same Redis.</summary>
    public async Task RestartServiceAsync(CancellationToken ct = default)
    {
        await StopServiceAsync();
        await StartServiceAsync(ct);
    }

    /// <summary>Stops the sync service.</summary>
    public async Task StopServiceAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await Service.StopAsync(stop.Token);
        await Service.DisposeAsync();
    }

    /// <summary>Starts the sync service (again) on a new free port.</summary>
    public async Task StartServiceAsync(CancellationToken ct = default)
    {
        (Service, ServiceAddress) = await SyncServer.StartLocalAsync(serviceSettings, configureService, ct: ct);
    }

    /// <summary>Starts the sync service again at the address it had before, so running shippers reconnect to it.</summary>
    public async Task StartServiceAtSameAddressAsync(CancellationToken ct = default)
    {
        (Service, ServiceAddress) = await SyncServer.StartLocalAsync(serviceSettings, configureService, ct: ct, port: ServiceAddress.Port);
    }

    /// <summary>Starts one more replica of the sync service on the same Redis and AC account (a new free port).</summary>
    public async Task<(WebApplication App, Uri Address)> StartReplicaAsync(CancellationToken ct = default) =>
        await SyncServer.StartLocalAsync(serviceSettings, configureService, ct: ct);

    private Action<WebApplicationBuilder>? configureService;

    /// <summary>The sync service's settings, as environment variables for a replica run as its own process.</summary>
    public IReadOnlyDictionary<string, string?> ServiceSettings => serviceSettings;

    /// <summary>A shipper for one file of the tenant, keeping its checkpoint under <paramref name="stateDirectory"/>.</summary>
    public ShipperRunner CreateShipper(string logPath, string stateDirectory, ILoggerFactory? loggerFactory = null) =>
        new(ShipperOptionsFor(logPath, stateDirectory), loggerFactory);

    /// <summary>The shipper options the demo uses for one file.</summary>
    public ShipperOptions ShipperOptionsFor(string logPath, string stateDirectory) => new()
    {
        ServiceUrl = ServiceAddress,
        BearerToken = CallerToken,
        Sources = [new SourceOptions { Tenant = Settings.Tenant, Path = logPath }],
        CheckpointDirectory = stateDirectory,
        DeadLetterPath = Path.Combine(stateDirectory, "dead-letter.jsonl"),
    };

    /// <summary>Waits until no contact of the tenant is queued or being synced (and no weekly resync is pending).</summary>
    public async Task WaitForIdleAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var store = Service.Services.GetRequiredService<StateStore>();
        var followUps = Service.Services.GetRequiredService<KivaSync.SyncService.Events.FollowUpStore>();
        var deadline = DateTime.UtcNow + timeout;
        var quietSince = DateTime.MaxValue;
        while (DateTime.UtcNow < deadline)
        {
            var (dirty, inFlight) = await store.QueueDepthAsync(Settings.Tenant);
            var meta = await store.ReadMetaAsync(Settings.Tenant);
            // Orders wait for the order sender after their contact's sync, and AC applies GraphQL writes a second later.
            var orders = await followUps.OrderQueueLengthAsync(Settings.Tenant) + (Account?.PendingGraphQlItems ?? 0)
                + await Service.Services.GetRequiredService<KivaSync.SyncService.Subscriptions.RecurringPaymentStore>().PendingCountAsync(Settings.Tenant);
            if (dirty == 0 && inFlight == 0 && orders == 0 && meta.ResyncAllRequested <= meta.ResyncAllDone)
            {
                // Stay idle a moment: a weekly resync may be queued right after the last sync.
                quietSince = quietSince == DateTime.MaxValue ? DateTime.UtcNow : quietSince;
                if (DateTime.UtcNow - quietSince > TimeSpan.FromMilliseconds(600))
                {
                    return;
                }
            }
            else
            {
                quietSince = DateTime.MaxValue;
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"tenant {Settings.Tenant} still had contacts to sync after {timeout}");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Service is not null)
        {
            await StopServiceAsync();
        }

        if (Emulator is not null)
        {
            await Emulator.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
