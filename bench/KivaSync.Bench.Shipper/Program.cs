using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
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

// Usage: [--mib 256] [--backlog-mib 1024] [--down-seconds 20] [--dir /tmp/kivasync-bench-shipper] [--only throughput|memory]
var settings = Args.Parse(args);
Directory.CreateDirectory(settings.Dir);
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3])}, .NET {Environment.Version}");

if (settings.Only is null or "throughput")
{
    await Throughput.RunAsync(settings);
}

if (settings.Only is null or "memory")
{
    await PeakMemory.RunAsync(settings);
}

internal sealed record Args(int Mib, int BacklogMib, int DownSeconds, string Dir, string? Only)
{
    public static Args Parse(string[] args)
    {
        var a = new Args(256, 1024, 20, Path.Combine(Path.GetTempPath(), "kivasync-bench-shipper"), null);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            a = args[i] switch
            {
                "--mib" => a with { Mib = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--backlog-mib" => a with { BacklogMib = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--down-seconds" => a with { DownSeconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--dir" => a with { Dir = args[i + 1] },
                "--only" => a with { Only = args[i + 1] },
                _ => throw new ArgumentException("unknown option " + args[i]),
            };
        }

        return a;
    }
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

/// <summary>A LogIngest that acknowledges every batch at once, in order, without looking at its lines.</summary>
internal sealed class AckingIngest : LogIngest.LogIngestBase
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

    public static async Task<(WebApplication App, Uri Url)> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        var app = builder.Build();
        app.MapGrpcService<AckingIngest>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }
}

internal static class Throughput
{
    public static async Task RunAsync(Args settings)
    {
        var path = LogFile.Ensure(settings.Dir, settings.Mib);
        var bytes = new FileInfo(path).Length;
        var lines = bytes / LogFile.LineBytes;
        var (app, url) = await AckingIngest.StartAsync();
        Console.WriteLine($"(a) throughput: {settings.Mib} MiB, {lines:N0} lines of {LogFile.LineBytes} bytes, file → in-process LogIngest acknowledging at once");
        // CPU time of this process (shipper and server both): what the figures would be with the cores to ourselves.
        Console.WriteLine("    compress  parse   seconds   lines/s      MiB/s   MiB per CPU-second");
        foreach (var (compress, parse) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
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
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await using (var shipper = new ShipperRunner(options))
            {
                await shipper.StartAsync();
                await shipper.WaitForFileShippedAsync(path);
                clock.Stop();
            }

            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            Directory.Delete(state, recursive: true);
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {compress,-8}  {parse,-6}  {seconds,7:F2}  {lines / seconds,10:N0}  {bytes / 1048576.0 / seconds,8:F1}  {bytes / 1048576.0 / cpu,8:F1}"));
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }
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

            var (app, _) = await AckingIngest.StartAsync(port);
            var clock = Stopwatch.StartNew();
            var length = new FileInfo(path).Length;
            while (CheckpointOffset(state) < length)
            {
                await Task.Delay(200);
            }

            clock.Stop();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    after catching up ({clock.Elapsed.TotalSeconds:F1} s, {length / 1048576.0 / clock.Elapsed.TotalSeconds:F1} MiB/s): {Describe(Memory(process.Id))}"));
            await app.StopAsync();
            await app.DisposeAsync();
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>VmHWM, VmRSS, RssAnon and RssFile in KiB from /proc/pid/status.</summary>
    private static (long Hwm, long Rss, long Anon, long FileBacked) Memory(int pid)
    {
        var values = File.ReadLines($"/proc/{pid}/status")
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0] is "VmHWM" or "VmRSS" or "RssAnon" or "RssFile")
            .ToDictionary(parts => parts[0], parts => long.Parse(parts[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
        return (values["VmHWM"], values["VmRSS"], values["RssAnon"], values["RssFile"]);
    }

    private static string Describe((long Hwm, long Rss, long Anon, long FileBacked) m) => string.Create(CultureInfo.InvariantCulture,
        $"VmHWM {m.Hwm / 1024.0:F1} MiB, VmRSS {m.Rss / 1024.0:F1} MiB (anonymous {m.Anon / 1024.0:F1}, file-backed code/data {m.FileBacked / 1024.0:F1})");

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
