using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using KivaSync.Testing.Redis;
using StackExchange.Redis;

namespace KivaSync.Testing.Abuse;

/// <summary>
/// The abuse run's world, as a new user would run it: redis-server, the AC emulator and the sync service as three
/// separate processes on 127.0.0.1 (the service from its build output, so its own runtimeconfig — GC settings —
/// applies and its RSS is its own), two tenants "a" (the abuser) and "b" (an honest shipper) with their own tokens.
/// </summary>
public sealed class AbuseEnvironment : IAsyncDisposable
{
    public const string TenantA = "a";
    public const string TenantB = "b";
    public const string TokenA = "abuse-token-a-5c1e9f7d2b";
    public const string TokenB = "abuse-token-b-8a3d6e0c4f";

    private readonly Process emulator;
    private readonly ConnectionMultiplexer redisClient;
    private readonly List<string> serviceOutput;

    private AbuseEnvironment(RedisServerProcess redis, Process emulator, Process service, Uri address, ConnectionMultiplexer redisClient, List<string> serviceOutput)
    {
        Redis = redis;
        this.emulator = emulator;
        Service = service;
        Address = address;
        this.redisClient = redisClient;
        this.serviceOutput = serviceOutput;
        Rss = new RssSampler(service.Id);
    }

    public RedisServerProcess Redis { get; }

    public Process Service { get; }

    public Uri Address { get; }

    /// <summary>The service process's resident memory, sampled in the background.</summary>
    public RssSampler Rss { get; }

    /// <summary>The service's last output lines (warnings and errors), for a failure message.</summary>
    public string ServiceOutputTail
    {
        get
        {
            lock (serviceOutput)
            {
                return string.Join(Environment.NewLine, serviceOutput.TakeLast(30));
            }
        }
    }

    /// <summary>A channel to the service without client-side message limits (the abuse sends what the server must refuse).</summary>
    public GrpcChannel Channel() => GrpcChannel.ForAddress(Address, new GrpcChannelOptions
    {
        MaxSendMessageSize = null,
        MaxReceiveMessageSize = 64 * 1024 * 1024,
        HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
    });

    public static Metadata Auth(string token) => new() { { "authorization", "Bearer " + token } };

    /// <summary>Starts the three processes; <paramref name="serviceDll"/> and <paramref name="emulatorDll"/> default to
    /// the build outputs in this repository (same configuration as the caller), so older builds can be measured too.</summary>
    public static async Task<AbuseEnvironment> StartAsync(string? serviceDll = null, string? emulatorDll = null, CancellationToken ct = default)
    {
        // KIVASYNC_ABUSE_SERVICE_DLL runs the CI test against another build (e.g. the pre-fix commit's) too.
        serviceDll ??= Environment.GetEnvironmentVariable("KIVASYNC_ABUSE_SERVICE_DLL") is { Length: > 0 } configured
            ? configured
            : BuildOutput("services/KivaSync.SyncService", "KivaSync.SyncService.dll");
        emulatorDll ??= BuildOutput("tools/KivaSync.AcEmulator", "KivaSync.AcEmulator.dll");
        var redis = await RedisServerProcess.StartAsync(ct: ct);
        var emulatorPort = FreePort.Next();
        var emulatorOutput = new List<string>();
        var emulator = StartProcess(emulatorDll, $"--urls http://127.0.0.1:{emulatorPort} --account a:ac-key-a:1:ev-key-a:50 --account b:ac-key-b:2:ev-key-b:50", emulatorOutput, null);
        var apiUrls = await WaitForAsync(() =>
        {
            lock (emulatorOutput)
            {
                var urls = emulatorOutput.Where(l => l.StartsWith("account ", StringComparison.Ordinal))
                    .Select(l => l.Split("API URL ")[1].Split(',')[0]).ToArray();
                return urls.Length == 2 ? urls : null;
            }
        }, emulator, "the AC emulator", ct);

        var port = FreePort.Next();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["KivaSync__Redis"] = redis.ConnectionString,
            ["Logging__LogLevel__Default"] = "Warning",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
        };
        foreach (var (tenant, url, token) in new[] { (TenantA, apiUrls[0], TokenA), (TenantB, apiUrls[1], TokenB) })
        {
            environment[$"KivaSync__Tenants__{tenant}__ApiUrl"] = url;
            environment[$"KivaSync__Tenants__{tenant}__ApiKey"] = "ac-key-" + tenant;
            environment[$"KivaSync__Tenants__{tenant}__AccountWebUrl"] = $"https://{tenant}.activehosted.com";
            environment[$"KivaSync__Tenants__{tenant}__RequestsPerSecond"] = "50";
            environment[$"KivaSync__Callers__shipper-{tenant}__Token"] = token;
            environment[$"KivaSync__Callers__shipper-{tenant}__Tenants__0"] = tenant;
            // Every scope (ship, TestSync and ForceResync): the abuser holds a real, fully privileged token of its tenant.
            environment[$"KivaSync__Callers__shipper-{tenant}__Scopes"] = "ship,read,operate";
        }

        var serviceOutput = new List<string>();
        var service = StartProcess(serviceDll, "", serviceOutput, environment);
        var address = new Uri($"http://127.0.0.1:{port}");
        using (var probe = GrpcChannel.ForAddress(address))
        {
            await WaitForAsync(async () => await ServingAsync(probe) ? "" : null, service, "the sync service", ct);
        }

        var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        return new AbuseEnvironment(redis, emulator, service, address, client, serviceOutput);
    }

    /// <summary>Redis INFO memory used_memory, in bytes.</summary>
    public async Task<long> RedisUsedMemoryAsync()
    {
        var info = await redisClient.GetServer(redisClient.GetEndPoints()[0]).InfoAsync("memory");
        return long.Parse(info.SelectMany(g => g).First(p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Readiness as the kubelet's gRPC probe sees it.</summary>
    public async Task<bool> ReadyAsync()
    {
        using var channel = GrpcChannel.ForAddress(Address);
        return await ServingAsync(channel);
    }

    public async ValueTask DisposeAsync()
    {
        Rss.Dispose();
        foreach (var process in new[] { Service, emulator })
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        await redisClient.DisposeAsync();
        await Redis.DisposeAsync();
    }

    private static async Task<bool> ServingAsync(GrpcChannel channel)
    {
        try
        {
            var response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    private static Process StartProcess(string dll, string args, List<string> output, Dictionary<string, string>? environment)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built; build the solution (-c Release) first", dll);
        }

        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" {args}")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException(dll + " did not start");
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(line);
                if (output.Count > 500)
                {
                    output.RemoveRange(0, 100);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> ready, Process process, string what, CancellationToken ct)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{what} exited with code {process.ExitCode}");
            }

            if (await ready() is { } value)
            {
                return value;
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"{what} was not ready within 90 s");
    }

    private static Task<T> WaitForAsync<T>(Func<T?> ready, Process process, string what, CancellationToken ct)
        where T : class => WaitForAsync(() => Task.FromResult(ready()), process, what, ct);

    /// <summary>bin/&lt;configuration&gt;/net10.0 of a project, found from the repository root above this assembly.</summary>
    private static string BuildOutput(string project, string dll)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KivaSyncGrpc.sln")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException("the repository root (KivaSyncGrpc.sln) is not above " + AppContext.BaseDirectory);
        }

        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        return Path.Combine(dir.FullName, project, "bin", configuration, "net10.0", dll);
    }
}

/// <summary>Samples a process's VmRSS every 100 ms (peak kept per window) and reads its VmHWM (peak since start).</summary>
public sealed class RssSampler : IDisposable
{
    private readonly int pid;
    private readonly Timer timer;
    private long windowPeak;

    public RssSampler(int pid)
    {
        this.pid = pid;
        timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>VmRSS now, bytes.</summary>
    public long Current => Read("VmRSS:");

    /// <summary>VmHWM: the process's peak resident set since it started, bytes.</summary>
    public long PeakSinceStart => Read("VmHWM:");

    /// <summary>The highest VmRSS sampled since the last call, and starts a new window.</summary>
    public long TakeWindowPeak()
    {
        Sample();
        return Interlocked.Exchange(ref windowPeak, Current);
    }

    public void Dispose() => timer.Dispose();

    private void Sample()
    {
        var rss = Read("VmRSS:");
        long seen;
        while ((seen = Interlocked.Read(ref windowPeak)) < rss && Interlocked.CompareExchange(ref windowPeak, rss, seen) != seen)
        {
        }
    }

    private long Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    // "VmRSS:	  123456 kB"
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The process ended.
        }

        return 0;
    }
}
