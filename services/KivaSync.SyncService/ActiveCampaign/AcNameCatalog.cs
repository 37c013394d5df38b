using System.Collections.Concurrent;
using KivaSync.SyncService.State;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>An AC object found or made by name, and whether this call made it.</summary>
public sealed record AcNamed(string Id, bool Created);

/// <summary>
/// A tenant's AC ids by exact, case-insensitive name, per kind ("fields", "lists", "tags", "events", ...):
/// kept in Redis (shared by replicas, hash ks:{t}:ac:&lt;kind&gt;) and in memory. A name not known yet is found
/// or made once through the caller's function (which must find before it creates, and treat AC's 422
/// "duplicate" as "find again"), with one call per name at a time on this replica.
/// </summary>
public sealed class AcNameCatalog(StateStore store)
{
    private readonly ConcurrentDictionary<(string Tenant, string Kind, string Name), string> cache = new();
    private readonly ConcurrentDictionary<(string Tenant, string Kind, string Name), SemaphoreSlim> gates = new();

    /// <summary>The id of <paramref name="name"/>, from memory, Redis, or else <paramref name="findOrCreate"/>
    /// (whose answer is stored). <see cref="AcNamed.Created"/> is true only when this call made it.</summary>
    public async Task<AcNamed> GetOrCreateAsync(string tenant, string kind, string name, Func<CancellationToken, Task<AcNamed>> findOrCreate, CancellationToken ct)
    {
        var key = (tenant, kind, Normalize(name));
        if (cache.TryGetValue(key, out var id))
        {
            return new AcNamed(id, false);
        }

        var gate = gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (cache.TryGetValue(key, out id))
            {
                return new AcNamed(id, false);
            }

            if (await store.ReadAcIdAsync(tenant, kind, key.Item3) is { } stored)
            {
                cache[key] = stored;
                return new AcNamed(stored, false);
            }

            var found = await findOrCreate(ct);
            await SetAsync(tenant, kind, name, found.Id);
            return found;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The id of <paramref name="name"/> from memory or Redis, else looked up in AC with <paramref name="find"/>
    /// (which must not create; a found id is stored). Null when AC has no such object: a name made elsewhere (e.g. a tag
    /// a bulk import created by name) is found this way, one that does not exist is not made.</summary>
    public async Task<string?> GetOrFindAsync(string tenant, string kind, string name, Func<CancellationToken, Task<string?>> find, CancellationToken ct)
    {
        if (await TryGetAsync(tenant, kind, name) is { } known)
        {
            return known;
        }

        var gate = gates.GetOrAdd((tenant, kind, Normalize(name)), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (await TryGetAsync(tenant, kind, name) is { } meanwhile)
            {
                return meanwhile;
            }

            var found = await find(ct);
            if (found is not null)
            {
                await SetAsync(tenant, kind, name, found);
            }

            return found;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The stored id of a name, or null (no AC request).</summary>
    public async Task<string?> TryGetAsync(string tenant, string kind, string name)
    {
        var key = (tenant, kind, Normalize(name));
        if (cache.TryGetValue(key, out var id))
        {
            return id;
        }

        var stored = await store.ReadAcIdAsync(tenant, kind, key.Item3);
        return stored is null ? null : cache[key] = stored;
    }

    /// <summary>Stores an id found in AC (provisioning checks AC itself and records what it found).</summary>
    public async Task SetAsync(string tenant, string kind, string name, string id)
    {
        var normalized = Normalize(name);
        await store.WriteAcIdAsync(tenant, kind, normalized, id);
        cache[(tenant, kind, normalized)] = id;
    }

    /// <summary>Forgets every id of a kind (AC said one no longer exists): the next use finds or makes them again.</summary>
    public async Task InvalidateAsync(string tenant, string kind)
    {
        foreach (var key in cache.Keys.Where(k => k.Tenant == tenant && k.Kind == kind))
        {
            cache.TryRemove(key, out _);
        }

        await store.ForgetAcIdsAsync(tenant, kind);
    }

    /// <summary>AC compares names trimmed and case-insensitively.</summary>
    public static string Normalize(string name) => name.Trim().ToLowerInvariant();
}
