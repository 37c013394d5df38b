using System.Collections.Concurrent;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Hosting;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>What this replica knows of a tenant's state in Redis.</summary>
public enum StateCondition
{
    /// <summary>Not verified yet (Redis has not answered a check since start).</summary>
    Unknown,
    /// <summary>The marker is the one this replica saw before and nothing was rolled back.</summary>
    Intact,
    /// <summary>Redis lost (part of) the tenant's state: ingest and sync stop until an operator acknowledges it.</summary>
    Lost,
}

/// <summary>A tenant's condition and, when lost, why.</summary>
public sealed record StateVerdict(StateCondition Condition, string Reason);

/// <summary>
/// Tells "this Redis lost its data" from "this Redis is new" (docs/architecture.md, "Lost state"). Each tenant has a
/// marker hash <c>ks:{t}:epoch</c> written at first use with a random id; every replica remembers the id and the
/// tenant's <c>accepted</c> count it last saw, and checks both at start, on every reconnect and every
/// <see cref="Interval"/>. A marker gone, replaced without an acknowledgement, or an accepted count lower than seen
/// means Redis came back without (all of) its data: the replica writes the loss into the marker (so every replica,
/// also one started later, sees it), fails readiness, and ingest and the workers leave the tenant alone until
/// <see cref="AcknowledgeAsync"/> re-arms the marker.
/// </summary>
public sealed partial class StateGuard(
    IConnectionMultiplexer redis,
    TenantRegistry tenants,
    SyncTelemetry telemetry,
    IOptions<KivaSyncOptions> options,
    TimeProvider time,
    ILogger<StateGuard> logger) : BackgroundService
{
    /// <summary>How often the markers are checked besides every reconnect.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>What the operator does about a loss; said in the log line, the gRPC refusals and the status.</summary>
    public const string Recovery =
        "re-ship the tenant's log from the start (stop its shipper, delete its checkpoint state, start it again), "
        + "then run `kivasync state acknowledge --tenant <tenant>` (RPC AcknowledgeStateLoss); README \"Operate\"";

    private readonly ConcurrentDictionary<string, Seen> seen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StateVerdict> verdicts = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim checkNow = new(0, 1);
    private readonly SemaphoreSlim checking = new(1, 1);

    /// <summary>The tenant's condition as last checked.</summary>
    public StateVerdict Verdict(string tenant) =>
        verdicts.TryGetValue(tenant, out var verdict) ? verdict : new StateVerdict(StateCondition.Unknown, "Redis has not answered a state check yet");

    /// <summary>True when ingest and the workers may touch the tenant's state.</summary>
    public bool IsIntact(string tenant) => Verdict(tenant).Condition == StateCondition.Intact;

    /// <summary>The tenants whose state is lost now.</summary>
    public IReadOnlyList<string> LostTenants() =>
        verdicts.Where(v => v.Value.Condition == StateCondition.Lost).Select(v => v.Key).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Throws the gRPC refusal for work on a tenant whose state is lost or not verified yet.</summary>
    public void ThrowIfNotIntact(string tenant)
    {
        var verdict = Verdict(tenant);
        switch (verdict.Condition)
        {
            case StateCondition.Lost:
                throw GrpcErrors.StateLost(tenant, verdict.Reason, Recovery.Replace("<tenant>", tenant, StringComparison.Ordinal));
            case StateCondition.Unknown:
                throw GrpcErrors.Unavailable("the sync service has not verified the tenant's state in Redis yet; nothing from this call was acknowledged, retry", TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Checks every tenant's marker now; Redis errors leave the last verdicts as they were.</summary>
    public async Task CheckAllAsync()
    {
        await checking.WaitAsync();
        try
        {
            foreach (var tenant in tenants.TenantIds)
            {
                await CheckAsync(tenant);
            }
        }
        finally
        {
            checking.Release();
        }
    }

    /// <summary>The operator's acknowledgement of a loss: re-arms the marker with a new id; ingest and sync resume.
    /// Returns whether the tenant was marked lost.</summary>
    public async Task<bool> AcknowledgeAsync(string tenant)
    {
        var keys = new RedisKeys(tenant);
        var id = Guid.NewGuid().ToString("N");
        var was = (long)await redis.GetDatabase().RunAsync(RedisScripts.StateAcknowledge, [keys.Epoch], [id, time.GetUtcNow().ToUnixTimeMilliseconds()]) == 1;
        LogAcknowledged(logger, tenant, was);
        await CheckAllAsync();
        return was;
    }

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the server takes calls, so the first batch never finds the state unverified.
        await WarnWithoutPersistenceAsync();
        await TryCheckAllAsync();
        redis.ConnectionRestored += OnConnectionRestored;
        await base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionRestored -= OnConnectionRestored;
        await base.StopAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A reconnect wakes the loop at once; else the periodic check.
                await checkNow.WaitAsync(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await TryCheckAllAsync();
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        checkNow.Dispose();
        checking.Dispose();
        base.Dispose();
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        try
        {
            checkNow.Release();
        }
        catch (SemaphoreFullException)
        {
            // A check is already due.
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    private async Task TryCheckAllAsync()
    {
        try
        {
            await CheckAllAsync();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Readiness reports Redis down; the next reconnect or tick checks again.
            LogCheckFailed(logger, e);
        }
    }

    private async Task CheckAsync(string tenant)
    {
        var keys = new RedisKeys(tenant);
        var before = seen.TryGetValue(tenant, out var s) ? s : null;
        var result = (RedisResult[])(await redis.GetDatabase().RunAsync(
            RedisScripts.StateCheck,
            [keys.Epoch, keys.Meta],
            [before?.Id ?? "", before?.Accepted ?? 0, Guid.NewGuid().ToString("N"), time.GetUtcNow().ToUnixTimeMilliseconds()]))!;
        var condition = (string)result[0]!;
        var reason = (string)result[1]!;
        var id = (string)result[2]!;
        var accepted = (long)result[3];
        var previous = Verdict(tenant).Condition;
        if (condition == Schema.Epoch.VerdictLost)
        {
            verdicts[tenant] = new StateVerdict(StateCondition.Lost, reason);
            telemetry.SetStateLost(tenant, true);
            if (previous != StateCondition.Lost)
            {
                LogStateLost(logger, tenant, reason, Recovery.Replace("<tenant>", tenant, StringComparison.Ordinal));
            }

            return;
        }

        if ((long)result[4] == 1)
        {
            LogMarkerCreated(logger, tenant);
        }

        // An acknowledged new marker starts a new count; otherwise the count only grows.
        seen[tenant] = new Seen(id, before is not null && before.Id == id ? Math.Max(before.Accepted, accepted) : accepted);
        verdicts[tenant] = new StateVerdict(StateCondition.Intact, "");
        telemetry.SetStateLost(tenant, false);
        if (previous == StateCondition.Lost)
        {
            LogStateRearmed(logger, tenant);
        }
    }

    /// <summary>One line at start when Redis keeps nothing across a restart (neither AOF nor RDB saving).</summary>
    private async Task WarnWithoutPersistenceAsync()
    {
        // CONFIG needs admin mode: a short-lived connection of its own, so the service's stays without it.
        var configuration = RedisConfiguration.Parse(options.Value.Redis);
        configuration.AllowAdmin = true;
        configuration.AbortOnConnectFail = false;
        try
        {
            await using var admin = await ConnectionMultiplexer.ConnectAsync(configuration);
            foreach (var endpoint in admin.GetEndPoints())
            {
                var server = admin.GetServer(endpoint);
                try
                {
                    var appendOnly = (await server.ConfigGetAsync("appendonly")).FirstOrDefault().Value;
                    var save = (await server.ConfigGetAsync("save")).FirstOrDefault().Value;
                    if (!string.Equals(appendOnly, "yes", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(save))
                    {
                        LogNoPersistence(logger, endpoint.ToString() ?? "");
                    }
                }
                catch (RedisServerException e)
                {
                    // Managed Redis often disables CONFIG: say so, do not fail.
                    LogPersistenceUnknown(logger, endpoint.ToString() ?? "", e.Message);
                }
            }
        }
        catch (Exception e) when (e is RedisException or RedisCommandException or TimeoutException)
        {
            LogCheckFailed(logger, e);
        }
    }

    private sealed record Seen(string Id, long Accepted);

    [LoggerMessage(60, LogLevel.Critical, "Redis lost the state of tenant {Tenant}: {Reason}. Ingest and sync of the tenant are stopped and readiness fails. To recover: {Recovery}")]
    private static partial void LogStateLost(ILogger logger, string tenant, string reason, string recovery);

    [LoggerMessage(61, LogLevel.Warning, "State loss of tenant {Tenant} acknowledged (it was marked lost: {WasLost}); the marker is re-armed")]
    private static partial void LogAcknowledged(ILogger logger, string tenant, bool wasLost);

    [LoggerMessage(62, LogLevel.Information, "Tenant {Tenant}: state marker re-armed, ingest and sync resume")]
    private static partial void LogStateRearmed(ILogger logger, string tenant);

    [LoggerMessage(63, LogLevel.Information, "Tenant {Tenant}: no state marker in Redis, one was written (first use of this Redis for the tenant)")]
    private static partial void LogMarkerCreated(ILogger logger, string tenant);

    [LoggerMessage(64, LogLevel.Warning, "Redis {Endpoint} has neither AOF nor RDB saving: a restart empties it and everything acknowledged but not yet in AC is lost (readiness then fails until acknowledged). Turn on appendonly yes")]
    private static partial void LogNoPersistence(ILogger logger, string endpoint);

    [LoggerMessage(65, LogLevel.Information, "Could not read the persistence settings of Redis {Endpoint} (CONFIG refused: {Message}); make sure it persists (AOF), a restart without persistence stops the service until acknowledged")]
    private static partial void LogPersistenceUnknown(ILogger logger, string endpoint, string message);

    [LoggerMessage(66, LogLevel.Debug, "Checking the tenants' state markers failed")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
