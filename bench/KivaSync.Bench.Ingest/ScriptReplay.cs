using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Ingest;
using KivaSync.SyncService.State;
using KivaSync.Testing.Redis;
using StackExchange.Redis;

/// <summary>
/// The redis-only mode: the service prepares every batch once (parse, identity, script arguments), then the
/// ingest script runs on those arguments against a fresh redis-server with no gRPC and no service in the way.
/// It prints Redis CPU per entry, which bounds one Redis shard's ingest rate, for four scripts: one that
/// only receives its arguments, the design's floor (Scripts/design-floor.lua: the same dedup and the fewest
/// commands per contact, no fold logic), the service's own script, and any variant given with --script (with a digest of the final state, so a faster variant can be checked to
/// leave exactly the same data).
/// </summary>
internal static class ScriptReplay
{
    private const string EmptyScript = "return {}";

    public static async Task RunAsync(IngestPipeline pipeline, List<EntryBatch> batches, int entries, int inFlight, IReadOnlyList<string> variants)
    {
        var scripts = new List<(RedisKey[] Keys, RedisValue[] Args)>();
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var windowMs = (long)IngestPipeline.DedupWindow.TotalMilliseconds;
        foreach (var batch in batches)
        {
            using var prepared = pipeline.Prepare(batch, static _ => true);
            foreach (var group in prepared.Groups)
            {
                // As the service sends it (KEYS and ARGV); a generation change or an owner the batch does not name would
                // make the script ask for another call, which a fresh Redis per run never does here.
                var (keys, args) = StateStore.IngestCall(new RedisKeys(group.Tenant), group.Args, group.Keys, nowMs, windowMs, nowMs / windowMs, []);
                scripts.Add((keys, args));
            }
        }

        // Calibration, once, in order on a fresh Redis: a batch naming an email whose owner it does not name is answered
        // {'keys', ...} (ingest.lua reads run-time owners first); it is sent again with them, as the service does, and the
        // measured runs below send every batch with its final keys.
        var asked = 0;
        await using (var calibration = await RedisServerProcess.StartAsync())
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(calibration.ConnectionString))
        {
            var db = redis.GetDatabase();
            foreach (var tenant in scripts.Select(s => ((string)s.Keys[0]!)[..^"meta".Length]).Distinct())
            {
                await db.HashSetAsync(tenant + "epoch", "id", "bench");
            }

            for (var i = 0; i < scripts.Count; i++)
            {
                while (await db.ScriptEvaluateAsync(RedisScripts.Ingest.Source, scripts[i].Keys, scripts[i].Args) is var answer
                    && ((RedisResult[])answer!) is [{ Resp2Type: ResultType.BulkString } first, .. var rest] && (string?)first == Schema.IngestArgs.AnswerKeys)
                {
                    asked++;
                    scripts[i] = ([.. scripts[i].Keys, .. rest.Select(k => (RedisKey)(string)k!)], scripts[i].Args);
                }
            }
        }

        Console.WriteLine($"redis-only    {asked} of {scripts.Count} calls asked once more for run-time keys (calibration, not measured)");
        Console.WriteLine($"redis-only    {scripts.Count} script calls, {scripts.Average(s => s.Args.Length) / (entries / (double)scripts.Count):F1} arguments and {scripts.Average(s => s.Keys.Length) / (entries / (double)scripts.Count):F1} keys per entry; 3 runs each, fresh redis-server per run");
        var candidates = new List<(string Name, string Source)>
        {
            ("arguments only (empty script)", EmptyScript),
            ("design floor (no fold logic)", DesignFloor()),
            ("ingest.lua (the service's)", RedisScripts.Ingest.Source),
        };
        candidates.AddRange(variants.Select(path => (Path.GetFileName(path), File.ReadAllText(path))));
        foreach (var (name, source) in candidates)
        {
            var cpu = new List<double>();
            string? digest = null;
            for (var run = 0; run < 3; run++)
            {
                await using var redisServer = await RedisServerProcess.StartAsync();
                await using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString + ",allowAdmin=true");
                var server = redis.GetServer(redis.GetEndPoints()[0]);
                var db = redis.GetDatabase();
                var sha = (string)(await db.ExecuteAsync("SCRIPT", "LOAD", source))!;
                // The state marker the service writes at first use (StateGuard); ingest.lua folds nothing without it.
                foreach (var tenant in scripts.Select(s => ((string)s.Keys[0]!)[..^"meta".Length]).Distinct())
                {
                    await db.HashSetAsync(tenant + "epoch", "id", "bench");
                }

                var before = await RedisCpuSecondsAsync(server);
                var pending = new Queue<Task<RedisResult>>();
                foreach (var script in scripts)
                {
                    pending.Enqueue(db.ExecuteAsync("EVALSHA", [sha, script.Keys.Length, .. script.Keys.Select(static k => (object)k), .. script.Args.Select(static v => (object)v)]));
                    if (pending.Count >= inFlight)
                    {
                        await pending.Dequeue();
                    }
                }

                while (pending.Count > 0)
                {
                    await pending.Dequeue();
                }

                cpu.Add((await RedisCpuSecondsAsync(server) - before) * 1e6 / entries);
                if (run == 0 && source != EmptyScript)
                {
                    digest = await StateDigestAsync(server, db);
                }
            }

            var median = cpu.Order().ElementAt(1);
            Console.WriteLine($"  {name,-34} redis cpu {median,5:F1} us/entry median (min {cpu.Min():F1}), {1e6 / median,7:F0} entries per redis cpu-second{(digest is null ? "" : $", state digest {digest}")}");
        }
    }

    private static string DesignFloor()
    {
        using var stream = typeof(ScriptReplay).Assembly.GetManifestResourceStream("design-floor.lua")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Every key and value (hash fields and set members sorted; the per-batch trace parent left out).</summary>
    private static async Task<string> StateDigestAsync(IServer server, IDatabase db)
    {
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: "*", pageSize: 5000))
        {
            keys.Add(key!);
        }

        keys.Sort(StringComparer.Ordinal);
        var text = new StringBuilder();
        foreach (var key in keys)
        {
            text.Append(key).Append('=');
            switch (await db.KeyTypeAsync(key))
            {
                case RedisType.Hash:
                    foreach (var field in (await db.HashGetAllAsync(key)).Where(static f => f.Name != "tp").OrderBy(static f => (string)f.Name!, StringComparer.Ordinal))
                    {
                        text.Append(field.Name).Append(':').Append(field.Value).Append(',');
                    }

                    break;
                case RedisType.Set:
                    foreach (var member in (await db.SetMembersAsync(key)).Select(static m => (string)m!).Order(StringComparer.Ordinal))
                    {
                        text.Append(member).Append(',');
                    }

                    break;
                case RedisType.List:
                    foreach (var item in await db.ListRangeAsync(key))
                    {
                        text.Append(item).Append(',');
                    }

                    break;
                case RedisType.SortedSet:
                    foreach (var item in (await db.SortedSetRangeByRankWithScoresAsync(key)).OrderBy(static i => (string)i.Element!, StringComparer.Ordinal))
                    {
                        text.Append(item.Element).Append(':').Append(item.Score.ToString(CultureInfo.InvariantCulture)).Append(',');
                    }

                    break;
                default:
                    text.Append(await db.StringGetAsync(key));
                    break;
            }

            text.Append('\n');
        }

        return $"{keys.Count} keys {Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16]}";
    }

    public static async Task<double> RedisCpuSecondsAsync(IServer server)
    {
        var info = (string)(await server.ExecuteAsync("INFO", "cpu"))!;
        return info.Split('\n')
            .Where(static l => l.StartsWith("used_cpu_user:", StringComparison.Ordinal) || l.StartsWith("used_cpu_sys:", StringComparison.Ordinal))
            .Sum(static l => double.Parse(l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture));
    }
}
