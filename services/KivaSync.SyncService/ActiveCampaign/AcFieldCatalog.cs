using System.Collections.Concurrent;
using System.Net;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using StackExchange.Redis;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>
/// The tenant's AC custom-field ids, made on first use: find (every page, exact case-insensitive
/// title) before create, so running twice or on two replicas never makes a second field. Ids are
/// kept in Redis (shared by replicas) and in memory.
/// </summary>
public sealed class AcFieldCatalog(IConnectionMultiplexer redis, SyncTelemetry telemetry, ILogger<AcFieldCatalog> logger)
{
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> gates = new(StringComparer.Ordinal);

    /// <summary>Title → AC field id for the contract's five fields, creating any that are missing.</summary>
    public async Task<IReadOnlyDictionary<string, string>> EnsureAsync(string tenant, AcClient client, CancellationToken ct)
    {
        if (cache.TryGetValue(tenant, out var known))
        {
            return known;
        }

        var gate = gates.GetOrAdd(tenant, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (cache.TryGetValue(tenant, out known))
            {
                return known;
            }

            var keys = new RedisKeys(tenant);
            var stored = await redis.GetDatabase().HashGetAllAsync(keys.AcFields);
            var ids = stored.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            if (!AcCustomFields.All.All(f => ids.ContainsKey(f.Title)))
            {
                using var activity = telemetry.Source.StartActivity(SyncTelemetry.Spans.EnsureFields);
                ids = await FindOrCreateAsync(tenant, client, ct);
                await redis.GetDatabase().HashSetAsync(keys.AcFields, ids.Select(kv => new HashEntry(kv.Key, kv.Value)).ToArray());
            }

            cache[tenant] = ids;
            return ids;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Forgets the tenant's ids (AC said a field no longer exists).</summary>
    public async Task InvalidateAsync(string tenant)
    {
        cache.TryRemove(tenant, out _);
        await redis.GetDatabase().KeyDeleteAsync(new RedisKeys(tenant).AcFields);
    }

    private async Task<Dictionary<string, string>> FindOrCreateAsync(string tenant, AcClient client, CancellationToken ct)
    {
        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var existing = await client.ListFieldsAsync(ct);
        foreach (var definition in AcCustomFields.All)
        {
            var match = existing.FirstOrDefault(f => string.Equals(f.Title.Trim(), definition.Title, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                ids[definition.Title] = match.Id;
                continue;
            }

            try
            {
                var created = await client.CreateFieldAsync(definition, ct);
                await client.AddFieldRelationAsync(created.Id, "0", ct);
                ids[definition.Title] = created.Id;
                Log.FieldCreated(logger, definition.Title, created.Id, tenant);
            }
            catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
            {
                // Another replica made it between our list and our create: read it back.
                var again = await client.ListFieldsAsync(ct);
                ids[definition.Title] = again.First(f => string.Equals(f.Title.Trim(), definition.Title, StringComparison.OrdinalIgnoreCase)).Id;
            }
        }

        return ids;
    }
}
