using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using KivaSync.SampleLog;
using KivaSync.SyncService.Hosting;
using KivaSync.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

// End-to-end ingest benchmark: one service replica (in-process, workers off) on a real redis-server,
// fed over gRPC by one LogIngest.Ship stream with several batches in flight. Reports what the
// shipper sees (entries/s acknowledged, ack latency) and what Redis did (commands and memory per entry).
// --redis-only (or --script variant.lua) replays the prepared script arguments straight into Redis instead:
// Redis CPU per entry for the service's script, an empty one (argument passing alone) and any variant.
var options = BenchOptions.Parse(args);
const string Tenant = "greenleaf";
const string WarmupTenant = "warmup";

Console.WriteLine($"ingest bench: entries={options.Entries} batch={options.BatchLines} in-flight={options.InFlight} customers={options.Customers} redis={(options.AppendOnly ? "AOF, fsync always" : "no persistence")}");
var lines = GenerateLines(options, Tenant, seed: 1);
var warmupLines = GenerateLines(options with { Entries = Math.Min(options.Entries, 30_000), Customers = 1000 }, WarmupTenant, seed: 2);
var bytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l) + 1);
Console.WriteLine($"generated {lines.Count} lines, {bytes / (1024.0 * 1024):F1} MiB, avg {bytes / (double)lines.Count:F0} bytes/line");
var batches = BuildBatches(lines, Tenant, "bench-live", options.BatchLines);
var warmupBatches = BuildBatches(warmupLines, WarmupTenant, "bench-warmup", options.BatchLines);

// --aof: Redis as k8s/base/redis runs it, AOF with fsync on every write (an acknowledged batch survives a crash).
await using var redisServer = await RedisServerProcess.StartAsync(appendOnly: options.AppendOnly);
var settings = new Dictionary<string, string?>
{
    ["KivaSync:Redis"] = redisServer.ConnectionString,
    ["KivaSync:Sync:Enabled"] = "false",
    ["Logging:LogLevel:Default"] = "Warning",
};
foreach (var tenant in new[] { Tenant, WarmupTenant })
{
    settings[$"KivaSync:Tenants:{tenant}:ApiUrl"] = "http://127.0.0.1:9/unused";
    settings[$"KivaSync:Tenants:{tenant}:ApiKey"] = "bench-key";
    settings[$"KivaSync:Tenants:{tenant}:AccountWebUrl"] = "https://bench.activehosted.com";
}

var (app, address) = await SyncServer.StartLocalAsync(settings);
await using var _ = app;
using var channel = GrpcChannel.ForAddress(address);
var client = new LogIngest.LogIngestClient(channel);
await using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString + ",allowAdmin=true");
var server = redis.GetServer(redis.GetEndPoints()[0]);

var pipeline = app.Services.GetRequiredService<KivaSync.SyncService.Ingest.IngestPipeline>();
if (options.RedisOnly)
{
    await ScriptReplay.RunAsync(pipeline, batches, lines.Count, options.InFlight, options.Scripts);
    return 0;
}

// The service's own CPU share: parsing and building script arguments, on one core, no Redis.
var prepareCpu = Process.GetCurrentProcess().TotalProcessorTime;
foreach (var batch in warmupBatches.Concat(batches))
{
    using var prepared = pipeline.Prepare(batch, static _ => true);
}

var prepareUs = (Process.GetCurrentProcess().TotalProcessorTime - prepareCpu).TotalMicroseconds / (warmupLines.Count + lines.Count);

// Warm-up on another tenant: JIT, script load, connection pools. Not measured.
await ShipAsync(client, warmupBatches, options.InFlight);
await server.ExecuteAsync("CONFIG", "RESETSTAT");
var memoryBefore = await UsedMemoryAsync(server);
var redisCpuBefore = await RedisCpuSecondsAsync(server);
var processCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;

var run = await ShipAsync(client, batches, options.InFlight);

var processCpu = (Process.GetCurrentProcess().TotalProcessorTime - processCpuBefore).TotalSeconds;
var redisCpu = await RedisCpuSecondsAsync(server) - redisCpuBefore;
var stats = await CommandStatsAsync(server);
var memoryAfter = await UsedMemoryAsync(server);
var dedup = await DedupMemoryAsync(server, Tenant);
var entries = (double)run.Lines;
var scripts = stats.Where(s => s.Key is "evalsha" or "eval").Sum(s => s.Value);
var scriptSeconds = stats.Where(s => s.Key is "evalsha.usec" or "eval.usec").Sum(s => s.Value) / 1e6;
var commands = stats.Where(s => !IsOverhead(s.Key) && !s.Key.EndsWith(".usec", StringComparison.Ordinal)).ToList();
var totalCommands = commands.Sum(s => s.Value);

Console.WriteLine();
Console.WriteLine($"shipped       {run.Lines} lines in {batches.Count} batches: accepted={run.Accepted} duplicates={run.Duplicates} rejected={run.Rejected}");
Console.WriteLine($"elapsed       {run.Elapsed.TotalSeconds:F2} s");
Console.WriteLine($"throughput    {entries / run.Elapsed.TotalSeconds:F0} entries/s acknowledged, {bytes / (1024.0 * 1024) / run.Elapsed.TotalSeconds:F1} MiB/s");
Console.WriteLine($"ack latency   p50 {Percentile(run.LatenciesMs, 0.50):F1} ms, p99 {Percentile(run.LatenciesMs, 0.99):F1} ms (batch of {options.BatchLines})");
// On a shared machine wall time depends on the neighbours; CPU time per entry says what each side costs.
Console.WriteLine($"cpu           redis-server {redisCpu * 1e6 / entries:F1} us/entry ({entries / redisCpu:F0} entries per redis cpu-second), " +
    $"service+shipper {processCpu * 1e6 / entries:F1} us/entry ({processCpu / run.Elapsed.TotalSeconds:F2} cores); load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
Console.WriteLine($"service parse {prepareUs:F1} us/entry cpu (parse, identity, script arguments; no Redis, no gRPC)");
Console.WriteLine($"redis ops     {totalCommands / entries:F2} commands/entry (inside scripts), {scripts / entries:F4} round trips/entry (script calls)");
Console.WriteLine($"redis time    {scriptSeconds:F2} s inside scripts ({scriptSeconds / run.Elapsed.TotalSeconds:P0} of elapsed), {scriptSeconds * 1e6 / entries:F1} us/entry");
foreach (var (name, calls) in commands.OrderByDescending(c => c.Value).Take(12))
{
    Console.WriteLine($"                {name,-16} {calls / entries:F3}/entry, {stats.GetValueOrDefault(name + ".usec") / (double)Math.Max(1, calls):F2} us/call");
}

Console.WriteLine($"redis memory  {(memoryAfter - memoryBefore) / entries:F1} bytes/entry used_memory delta ({(memoryAfter - memoryBefore) / (1024.0 * 1024):F1} MiB)");
Console.WriteLine($"dedup memory  {dedup.Bytes / Math.Max(1.0, dedup.Members):F1} bytes/identity kept, {dedup.Bytes / entries:F1} bytes/entry; {dedup.Members} identities in {dedup.Keys} keys ({dedup.Encodings})");
return 0;

static bool IsOverhead(string command) => command is "evalsha" or "eval" or "script" or "info" or "config" or "ping" or "client" or "cluster" or "echo" or "memory" or "scan" or "hello" or "subscribe" or "type" or "object" or "scard" or "hlen";

static List<string> GenerateLines(BenchOptions o, string tenant, int seed)
{
    // Lines per week grow with customers (~2.65 per customer-week in the sample model); size the log to the entries asked for.
    var weeks = (int)Math.Clamp(Math.Ceiling(o.Entries / (2.6 * o.Customers)) + 2, 1, 1040);
    var generator = new SampleLogOptions
    {
        Seed = seed,
        Tenant = tenant,
        Customers = o.Customers,
        Leads = Math.Max(1, o.Customers / 5),
        Weeks = weeks,
    };
    return SampleLogGenerator.GenerateLines(generator).Take(o.Entries).ToList();
}

static List<EntryBatch> BuildBatches(List<string> lines, string tenant, string fingerprint, int size)
{
    var batches = new List<EntryBatch>();
    ulong offset = 0;
    for (var start = 0; start < lines.Count; start += size)
    {
        var batch = new EntryBatch
        {
            Sequence = (ulong)batches.Count + 1,
            Source = new Source { Tenant = tenant, Path = "/var/log/kiva/system.log", Fingerprint = fingerprint },
            StartOffset = offset,
        };
        foreach (var line in lines.Skip(start).Take(size))
        {
            var raw = Encoding.UTF8.GetBytes(line);
            batch.Lines.Add(new LogLine { Offset = offset, Length = (uint)raw.Length + 1, Raw = ByteString.CopyFrom(raw) });
            offset += (ulong)raw.Length + 1;
        }

        batch.EndOffset = offset;
        batches.Add(batch);
    }

    return batches;
}

static async Task<RunResult> ShipAsync(LogIngest.LogIngestClient client, List<EntryBatch> batches, int inFlight)
{
    using var call = client.Ship();
    using var window = new SemaphoreSlim(inFlight);
    var sentAt = new long[batches.Count + 1];
    var latencies = new List<double>(batches.Count);
    long accepted = 0, duplicates = 0, rejected = 0, lines = 0;
    var clock = Stopwatch.StartNew();
    var reader = Task.Run(async () =>
    {
        for (var i = 0; i < batches.Count; i++)
        {
            if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                throw new InvalidOperationException($"the service closed the stream after {i} of {batches.Count} acks");
            }

            var ack = call.ResponseStream.Current;
            latencies.Add(Stopwatch.GetElapsedTime(sentAt[ack.Sequence]).TotalMilliseconds);
            accepted += ack.Accepted;
            duplicates += ack.Duplicates;
            rejected += ack.Rejections.Count;
            window.Release();
        }
    });

    foreach (var batch in batches)
    {
        await window.WaitAsync();
        sentAt[batch.Sequence] = Stopwatch.GetTimestamp();
        lines += batch.Lines.Count;
        await call.RequestStream.WriteAsync(batch);
    }

    await reader;
    clock.Stop();
    // Close politely: half-close, then let the service end the call.
    await call.RequestStream.CompleteAsync();
    while (await call.ResponseStream.MoveNext(CancellationToken.None))
    {
    }
    return new RunResult(lines, accepted, duplicates, rejected, clock.Elapsed, latencies);
}

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return 0;
    }

    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

static async Task<Dictionary<string, long>> CommandStatsAsync(IServer server)
{
    // "cmdstat_hset:calls=12,usec=..." — commands run by scripts are counted under their own names too.
    var info = (string)(await server.ExecuteAsync("INFO", "commandstats"))!;
    var stats = new Dictionary<string, long>(StringComparer.Ordinal);
    foreach (var line in info.Split('\n'))
    {
        if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
        {
            continue;
        }

        var name = line[8..line.IndexOf(':', StringComparison.Ordinal)];
        stats[name] = Field(line, "calls=");
        stats[name + ".usec"] = Field(line, "usec=");
    }

    return stats;

    static long Field(string line, string name)
    {
        var value = line[(line.IndexOf(name, StringComparison.Ordinal) + name.Length)..];
        return long.Parse(value[..value.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
    }
}

static Task<double> RedisCpuSecondsAsync(IServer server) => ScriptReplay.RedisCpuSecondsAsync(server);

static async Task<long> UsedMemoryAsync(IServer server)
{
    var info = (string)(await server.ExecuteAsync("INFO", "memory"))!;
    var line = info.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
    return long.Parse(line[12..].Trim(), CultureInfo.InvariantCulture);
}

static async Task<DedupFigures> DedupMemoryAsync(IServer server, string tenant)
{
    // Every key holding entry identities: the permanent buckets (d:), the rolling window (r:) and the legacy set (seen).
    var db = server.Multiplexer.GetDatabase();
    long keys = 0, bytes = 0, members = 0;
    var encodings = new Dictionary<string, int>(StringComparer.Ordinal);
    foreach (var pattern in new[] { $"ks:{{{tenant}}}:d:*", $"ks:{{{tenant}}}:r:*", $"ks:{{{tenant}}}:seen" })
    {
        await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
        {
            keys++;
            bytes += (long)(await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0"));
            var type = await db.KeyTypeAsync(key);
            members += type == RedisType.Set ? await db.SetLengthAsync(key) : await db.HashLengthAsync(key);
            var encoding = (string)(await db.ExecuteAsync("OBJECT", "ENCODING", key))!;
            encodings[encoding] = encodings.GetValueOrDefault(encoding) + 1;
        }
    }

    return new DedupFigures(keys, bytes, members, string.Join(", ", encodings.Select(e => $"{e.Value} {e.Key}")));
}

internal sealed record RunResult(long Lines, long Accepted, long Duplicates, long Rejected, TimeSpan Elapsed, List<double> LatenciesMs);

internal sealed record DedupFigures(long Keys, long Bytes, long Members, string Encodings);

internal sealed record BenchOptions(int Entries, int BatchLines, int InFlight, int Customers, bool RedisOnly, bool AppendOnly, IReadOnlyList<string> Scripts)
{
    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(500_000, 1000, 8, 0, RedisOnly: false, AppendOnly: false, Scripts: []);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--redis-only")
            {
                o = o with { RedisOnly = true };
                continue;
            }

            if (args[i] == "--aof")
            {
                o = o with { AppendOnly = true };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"option {args[i]} needs a value");
            }

            var text = args[++i];
            o = args[i - 1] switch
            {
                "--entries" => o with { Entries = int.Parse(text, CultureInfo.InvariantCulture) },
                "--batch" => o with { BatchLines = int.Parse(text, CultureInfo.InvariantCulture) },
                "--in-flight" => o with { InFlight = int.Parse(text, CultureInfo.InvariantCulture) },
                "--customers" => o with { Customers = int.Parse(text, CultureInfo.InvariantCulture) },
                // A variant of the ingest script to compare in the redis-only mode (implies it).
                "--script" => o with { RedisOnly = true, Scripts = [.. o.Scripts, text] },
                _ => throw new ArgumentException($"unknown option {args[i - 1]}; known: --entries N --batch N --in-flight N --customers N --aof --redis-only --script file.lua"),
            };
        }

        // Many customers: about one per 50 entries unless told.
        return o.Customers > 0 ? o : o with { Customers = Math.Max(1000, o.Entries / 50) };
    }
}
