using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using KivaSync.Contracts.V1;
using KivaSync.Shipper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Usage: [--mib 256] [--backlog-mib 1024] [--down-seconds 20] [--dir /tmp/kivasync-bench-shipper] [--only throughput|breakdown|memory]
//        [--server light|full] [--runs 1] [--compress both|true|false] [--parse both|true|false]
// Internal: --serve light|full [--port N] runs only the acknowledging server (a child process of the benchmark).
if (args.Length >= 2 && args[0] == "--serve")
{
    var port = args.Length >= 4 && args[2] == "--port" ? int.Parse(args[3], CultureInfo.InvariantCulture) : 0;
    var (app, url) = await AckingServer.StartAsync(args[1], port);
    Console.WriteLine("listening " + url);
    // Ends with the benchmark: it closes our standard input.
    await Console.In.ReadToEndAsync();
    await app.StopAsync();
    return;
}

var settings = Args.Parse(args);
Directory.CreateDirectory(settings.Dir);
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3])}, .NET {Environment.Version}");

if (settings.Only is null or "throughput")
{
    await Throughput.RunAsync(settings);
}

if (settings.Only is null or "breakdown")
{
    Breakdown.Run(settings);
}

if (settings.Only is null or "memory")
{
    await PeakMemory.RunAsync(settings);
}

internal sealed record Args(int Mib, int BacklogMib, int DownSeconds, string Dir, string? Only, string Server, int Runs, bool[] Compress, bool[] ParseLines)
{
    public static Args Parse(string[] args)
    {
        var a = new Args(256, 1024, 20, Path.Combine(Path.GetTempPath(), "kivasync-bench-shipper"), null, "light", 1, [false, true], [false, true]);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            a = args[i] switch
            {
                "--mib" => a with { Mib = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--backlog-mib" => a with { BacklogMib = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--down-seconds" => a with { DownSeconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--dir" => a with { Dir = args[i + 1] },
                "--only" => a with { Only = args[i + 1] },
                "--server" => a with { Server = args[i + 1] is "light" or "full" ? args[i + 1] : throw new ArgumentException("--server light|full") },
                "--compress" => a with { Compress = Flags(args[i + 1]) },
                "--parse" => a with { ParseLines = Flags(args[i + 1]) },
                "--runs" => a with { Runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException("unknown option " + args[i]),
            };
        }

        return a;
    }

    private static bool[] Flags(string value) => value switch
    {
        "both" => [false, true],
        _ => [bool.Parse(value)],
    };
}

/// <summary>A log of 300-byte lines (299 bytes + "\n"), valid contract entries with distinct ids.</summary>
internal static class LogFile
{
    public const int LineBytes = 300;

    public static string Ensure(string dir, int mib)
    {
        var path = Path.Combine(dir, $"system-{mib}MiB.log");
        var lines = (long)mib * 1024 * 1024 / LineBytes;
        if (File.Exists(path) && new FileInfo(path).Length == lines * LineBytes)
        {
            return path;
        }

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (long i = 0; i < lines; i++)
        {
            var customer = i % 5000;
            var head = string.Create(CultureInfo.InvariantCulture,
                $"{{\"ts\":\"{start.AddSeconds(i):yyyy-MM-ddTHH:mm:ss.fffZ}\",\"tenant\":\"greenleaf\",\"id\":\"ev-{i:D12}\",\"event\":\"Logged in\",\"customer\":{{\"id\":\"c{customer}\",\"email\":\"c{customer}@example.com\"}},\"notes\":\"");
            var line = head + new string('x', LineBytes - 1 - head.Length - 2) + "\"}\n";
            file.Write(Encoding.ASCII.GetBytes(line));
        }

        return path;
    }
}

/// <summary>The acknowledging LogIngest, run in its own process so its CPU is not the shipper's.</summary>
internal static class AckingServer
{
    public static async Task<(WebApplication App, Uri Url)> StartAsync(string kind, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        builder.Services.AddSingleton<IServiceMethodProvider<LightIngest>, LightIngest.Methods>();
        var app = builder.Build();
        if (kind == "full")
        {
            app.MapGrpcService<FullIngest>();
        }
        else
        {
            app.MapGrpcService<LightIngest>();
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    /// <summary>Starts `--serve` in a child process and returns it with its address.</summary>
    public static async Task<(Process Process, Uri Url)> SpawnAsync(string kind, int port = 0)
    {
        var self = Path.Combine(AppContext.BaseDirectory, "KivaSync.Bench.Shipper.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{self}\" --serve {kind} --port {port}")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        // A profiler attached to the benchmark (dotnet-trace) watches the shipper only.
        info.Environment.Remove("DOTNET_DiagnosticPorts");
        var process = Process.Start(info) ?? throw new InvalidOperationException("the server did not start");
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the server exited");
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                return (process, new Uri(line["listening ".Length..]));
            }
        }
    }

    public static async Task StopAsync(Process process)
    {
        process.StandardInput.Close();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }
}

/// <summary>Acknowledges every batch at once after deserialising it whole, as any generated gRPC service would.</summary>
internal sealed class FullIngest : LogIngest.LogIngestBase
{
    public override async Task Ship(IAsyncStreamReader<EntryBatch> requestStream, IServerStreamWriter<BatchAck> responseStream, ServerCallContext context)
    {
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new BatchAck
            {
                Sequence = batch.Sequence,
                Fingerprint = batch.Source.Fingerprint,
                CheckpointOffset = batch.EndOffset,
                Accepted = (uint)batch.Lines.Count,
            });
        }
    }
}

/// <summary>
/// Acknowledges every batch at once reading only what the acknowledgement needs (sequence, fingerprint, end offset,
/// number of lines) and skipping the lines' bytes: the cheapest service possible, so the shipper gets the cores.
/// </summary>
internal sealed class LightIngest
{
    private static readonly Method<Head, BatchAck> ShipMethod = new(
        MethodType.DuplexStreaming,
        "kiva.sync.v1.LogIngest",
        "Ship",
        Marshallers.Create<Head>(static (_, _) => throw new InvalidOperationException("the server only reads batches"), Head.Read),
        Marshallers.Create(static (BatchAck ack, SerializationContext ctx) => ctx.Complete(ack.ToByteArray()), static ctx => BatchAck.Parser.ParseFrom(ctx.PayloadAsReadOnlySequence())));

    public async Task Ship(IAsyncStreamReader<Head> requests, IServerStreamWriter<BatchAck> responses, ServerCallContext context)
    {
        await foreach (var batch in requests.ReadAllAsync(context.CancellationToken))
        {
            await responses.WriteAsync(new BatchAck
            {
                Sequence = batch.Sequence,
                Fingerprint = batch.Fingerprint,
                CheckpointOffset = batch.EndOffset,
                Accepted = batch.Lines,
            });
        }
    }

    internal sealed class Methods : IServiceMethodProvider<LightIngest>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<LightIngest> context) =>
            context.AddDuplexStreamingMethod(ShipMethod, [], static (service, requests, responses, call) => service.Ship(requests, responses, call));
    }

    /// <summary>The fields of an EntryBatch the acknowledgement needs, read with the wire format by hand.</summary>
    internal sealed record Head(ulong Sequence, string Fingerprint, ulong EndOffset, uint Lines)
    {
        public static Head Read(DeserializationContext context)
        {
            var reader = new SequenceReader<byte>(context.PayloadAsReadOnlySequence());
            ulong sequence = 0, end = 0;
            uint lines = 0;
            var fingerprint = "";
            while (!reader.End)
            {
                var tag = Varint(ref reader);
                var field = tag >> 3;
                if ((tag & 7) == 0)
                {
                    var value = Varint(ref reader);
                    sequence = field == 1 ? value : sequence;
                    end = field == 4 ? value : end;
                    continue;
                }

                var length = (long)Varint(ref reader);
                if (field == 2)
                {
                    fingerprint = Source.Parser.ParseFrom(reader.UnreadSequence.Slice(0, length)).Fingerprint;
                }

                lines += field == 5 ? 1u : 0u;
                reader.Advance(length);
            }

            return new Head(sequence, fingerprint, end, lines);
        }

        private static ulong Varint(ref SequenceReader<byte> reader)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                reader.TryRead(out var b);
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}

internal static class Throughput
{
    public static async Task RunAsync(Args settings)
    {
        var path = LogFile.Ensure(settings.Dir, settings.Mib);
        var bytes = new FileInfo(path).Length;
        var lines = bytes / LogFile.LineBytes;
        var (server, url) = await AckingServer.SpawnAsync(settings.Server);
        Console.WriteLine($"(a) throughput: {settings.Mib} MiB, {lines:N0} lines of {LogFile.LineBytes} bytes, file → LogIngest ({settings.Server}) acknowledging at once in another process");
        // CPU seconds of each process during the run: the shipper's alone says what one free core would ship.
        // Untimed warm-up: the file into the page cache and the shipping path through the JIT, as in a long-running sidecar.
        await RunOnceAsync(path, url, compress: true, parse: false, server, settings, print: false);
        Console.WriteLine("    compress  parse   seconds   lines/s      MiB/s   shipper CPU-s  shipper MiB/CPU-s  server CPU-s  GCs gen0/1/2");
        for (var run = 0; run < settings.Runs; run++)
        {
            foreach (var (compress, parse) in settings.ParseLines.SelectMany(p => settings.Compress.Select(c => (c, p))))
            {
                await RunOnceAsync(path, url, compress, parse, server, settings, print: true);
            }
        }

        await AckingServer.StopAsync(server);
    }

    private static async Task RunOnceAsync(string path, Uri url, bool compress, bool parse, Process server, Args settings, bool print)
    {
        var bytes = new FileInfo(path).Length;
        var lines = bytes / LogFile.LineBytes;
        var state = Path.Combine(settings.Dir, $"state-{Guid.NewGuid():N}");
        var options = new ShipperOptions
        {
            ServiceUrl = url,
            Sources = [new SourceOptions { Tenant = "greenleaf", Path = path }],
            CheckpointDirectory = state,
            DeadLetterPath = Path.Combine(state, "dead-letter.jsonl"),
            Compress = compress,
            ParseLines = parse,
        };
        server.Refresh();
        var serverBefore = server.TotalProcessorTime;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var clock = Stopwatch.StartNew();
        await using (var shipper = new ShipperRunner(options))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(path);
            clock.Stop();
        }

        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        server.Refresh();
        var serverCpu = (server.TotalProcessorTime - serverBefore).TotalSeconds;
        Directory.Delete(state, recursive: true);
        var seconds = clock.Elapsed.TotalSeconds;
        var mib = bytes / 1048576.0;
        if (!print)
        {
            return;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    {compress,-8}  {parse,-6}  {seconds,7:F2}  {lines / seconds,10:N0}  {mib / seconds,8:F1}  {cpu,13:F2}  {mib / cpu,17:F1}  {serverCpu,12:F2}  {GC.CollectionCount(0) - gcBefore.Item1}/{GC.CollectionCount(1) - gcBefore.Item2}/{GC.CollectionCount(2) - gcBefore.Item3}"));
    }
}

/// <summary>
/// Where the shipper's CPU goes, without the network: reading and encoding the file into batches (with and without the
/// advisory parse), then gzip of the encoded batches at each level. What is left of the end-to-end CPU is gRPC/HTTP/2.
/// </summary>
internal static class Breakdown
{
    public static void Run(Args settings)
    {
        var path = LogFile.Ensure(settings.Dir, settings.Mib);
        var mib = new FileInfo(path).Length / 1048576.0;
        Console.WriteLine($"(c) CPU breakdown on one thread, {settings.Mib} MiB (MiB per CPU-second; no network)");
        using var metrics = new ShipperMetrics();
        var limits = new BatchLimits(2000, 1024 * 1024, TimeSpan.Zero);
        foreach (var parse in new[] { false, true })
        {
            var pool = ArrayPool<byte>.Create(8 * 1024 * 1024, 4);
            var cpu = Cpu();
            long encoded = 0;
            using (var file = new TrackedFile("bench", path, "greenleaf", PlainFileSource.Open(path), 0, parse, pool) { Finalizing = true })
            {
                while (file.TryBuildBatch(limits, DateTimeOffset.UtcNow, metrics) is { } batch)
                {
                    encoded += batch.LinesLength;
                    batch.Release();
                }
            }

            var seconds = Cpu() - cpu;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    read + split + encode{(parse ? " + advisory parse" : "")}: {seconds:F2} CPU-s, {mib / seconds:F0} MiB/CPU-s ({encoded / 1048576.0:F0} MiB encoded)"));
        }

        foreach (var level in new[] { System.IO.Compression.CompressionLevel.Fastest, System.IO.Compression.CompressionLevel.Optimal })
        {
            var pool = ArrayPool<byte>.Create(8 * 1024 * 1024, 4);
            using var output = new MemoryStream();
            long compressed = 0;
            double seconds = 0;
            using var file = new TrackedFile("bench", path, "greenleaf", PlainFileSource.Open(path), 0, false, pool) { Finalizing = true };
            while (file.TryBuildBatch(limits, DateTimeOffset.UtcNow, metrics) is { } batch)
            {
                var cpu = Cpu();
                output.SetLength(0);
                using (var gzip = new System.IO.Compression.GZipStream(output, level, leaveOpen: true))
                {
                    gzip.Write(batch.Lines);
                }

                seconds += Cpu() - cpu;
                compressed += output.Length;
                batch.Release();
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    gzip {level} of the encoded batches: {seconds:F2} CPU-s, {mib / seconds:F0} MiB/CPU-s, ratio {mib * 1048576.0 / compressed:F1}"));
        }
    }

    private static double Cpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
}

internal static class PeakMemory
{
    public static async Task RunAsync(Args settings)
    {
        var path = LogFile.Ensure(settings.Dir, settings.BacklogMib);
        var state = Path.Combine(settings.Dir, $"state-{Guid.NewGuid():N}");
        Directory.CreateDirectory(state);
        var port = FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "kivasync-shipper.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\"") { WorkingDirectory = state, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["Shipper__ServiceUrl"] = $"http://127.0.0.1:{port}";
        info.Environment["Shipper__Sources__0__Tenant"] = "greenleaf";
        info.Environment["Shipper__Sources__0__Path"] = path;
        info.Environment["Shipper__CheckpointDirectory"] = state;
        info.Environment["Shipper__DeadLetterPath"] = Path.Combine(state, "dead-letter.jsonl");
        info.Environment["Shipper__ReconnectMaxDelay"] = "00:00:01";
        info.Environment["Logging__LogLevel__Default"] = "Error";
        Console.WriteLine($"(b) peak memory of the kivasync-shipper process: {settings.BacklogMib} MiB waiting, service down {settings.DownSeconds} s, then up until all is shipped");
        using var process = Process.Start(info) ?? throw new InvalidOperationException("the shipper did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(settings.DownSeconds));
            Console.WriteLine($"    service down: {Describe(Memory(process.Id))}, checkpoint {CheckpointOffset(state):N0} bytes");

            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var (server, _) = await AckingServer.SpawnAsync(settings.Server, port);
            var clock = Stopwatch.StartNew();
            var length = new FileInfo(path).Length;
            while (CheckpointOffset(state) < length)
            {
                await Task.Delay(200);
            }

            clock.Stop();
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    after catching up ({clock.Elapsed.TotalSeconds:F1} s, {length / 1048576.0 / clock.Elapsed.TotalSeconds:F1} MiB/s, shipper {cpu:F1} CPU-s = {length / 1048576.0 / cpu:F0} MiB/CPU-s): {Describe(Memory(process.Id))}"));
            await AckingServer.StopAsync(server);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>VmHWM, VmRSS, RssAnon, RssFile, RssShmem (in KiB) and Threads from /proc/pid/status.</summary>
    private static (long Hwm, long Rss, long Anon, long FileBacked, long Shmem, long Threads) Memory(int pid)
    {
        var values = File.ReadLines($"/proc/{pid}/status")
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0] is "VmHWM" or "VmRSS" or "RssAnon" or "RssFile" or "RssShmem" or "Threads")
            .ToDictionary(parts => parts[0], parts => long.Parse(parts[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
        return (values["VmHWM"], values["VmRSS"], values["RssAnon"], values["RssFile"], values["RssShmem"], values["Threads"]);
    }

    private static string Describe((long Hwm, long Rss, long Anon, long FileBacked, long Shmem, long Threads) m) => string.Create(CultureInfo.InvariantCulture,
        $"VmHWM {m.Hwm / 1024.0:F1} MiB, VmRSS {m.Rss / 1024.0:F1} MiB (anonymous {m.Anon / 1024.0:F1}, file-backed code/data {m.FileBacked / 1024.0:F1}, shared/JIT double-mapped {m.Shmem / 1024.0:F1}), {m.Threads} threads");

    private static long CheckpointOffset(string state)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(state, "checkpoints.json")));
            return document.RootElement.GetProperty("files").EnumerateObject().Select(p => p.Value.GetProperty("offset").GetInt64()).DefaultIfEmpty(0).Max();
        }
        catch (Exception e) when (e is JsonException or IOException or KeyNotFoundException or InvalidOperationException)
        {
            return 0;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
