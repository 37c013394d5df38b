using System.Diagnostics;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using KivaSync.Demo;
using KivaSync.SampleLog;
using KivaSync.SyncService.State;
using KivaSync.Testing.Oracle;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.EndToEnd.Tests;

/// <summary>Several replicas on one Redis, replicas dying, Redis restarting: the AC account still ends up right.</summary>
public sealed class ReplicaTests() : WorkDirectoryTest("replicas")
{
    private const string Tenant = "greenleaf";

    private (string Path, ExpectedAccount Expected) Log(int customers, int seed)
    {
        var path = Path.Combine(WorkDir, $"system-{seed}.log");
        SampleLogGenerator.WriteTo(path, new SampleLogOptions { Seed = seed, Customers = customers, Leads = customers / 5, Weeks = 12 });
        return (path, ContractOracle.Compute(File.ReadLines(path), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10)));
    }

    private static KeyValuePair<string, string?>[] SlowDebounce =>
        // Long enough for the whole log to be folded before the first sync: every contact is then sent once.
        [new("KivaSync:Sync:Debounce", "00:00:03")];

    private async Task ShipAsync(DemoEnvironment environment, Uri address, string logPath, string stateName)
    {
        var options = environment.ShipperOptionsFor(logPath, Path.Combine(WorkDir, stateName));
        options.ServiceUrl = address;
        await using var shipper = new KivaSync.Shipper.ShipperRunner(options);
        await shipper.StartAsync();
        await shipper.WaitForFileShippedAsync(logPath).WaitAsync(TimeSpan.FromMinutes(3));
        await shipper.StopAsync();
    }

    /// <summary>Contacts written to AC: one per contact/sync or update by id, one per contact a bulk import took.</summary>
    private static int ContactWrites(DemoEnvironment environment) =>
        environment.Account!.Requests().Count(r => r.Status is 200 or 201 && r.Method != "GET" && (r.Path.EndsWith("/contact/sync", StringComparison.Ordinal) || r.Path.Contains("/contacts/", StringComparison.Ordinal)))
        + environment.Account!.BulkImports().Sum(b => b.Success.Count);

    [Fact]
    public async Task TwoReplicas_SameLogShippedToBoth_SameAccountAsOneReplicaAndNoExtraCalls()
    {
        var (logPath, expected) = Log(customers: 80, seed: 21);

        await using var single = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, 60), SlowDebounce);
        await ShipAsync(single, single.ServiceAddress, logPath, "single");
        await single.WaitForIdleAsync(TimeSpan.FromMinutes(3));

        await using var pair = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, 60), SlowDebounce);
        var (second, secondAddress) = await pair.StartReplicaAsync();
        await using (second)
        {
            // The same file reaches both replicas (two shippers, e.g. a replay): duplicates must cost nothing.
            await Task.WhenAll(ShipAsync(pair, pair.ServiceAddress, logPath, "a"), ShipAsync(pair, secondAddress, logPath, "b"));
            await pair.WaitForIdleAsync(TimeSpan.FromMinutes(3));
            await second.StopAsync();
        }

        Assert.Empty(ContractCheck.Account(expected, single.Account!));
        Assert.Empty(ContractCheck.Account(expected, pair.Account!));
        Assert.Equal(ContactWrites(single), ContactWrites(pair));
        Assert.Equal(expected.Contacts.Count, ContactWrites(pair));
        var meta = await pair.Service.Services.GetRequiredService<StateStore>().ReadMetaAsync(Tenant);
        Assert.Equal(expected.AcceptedEntries, meta.Accepted);
    }

    [Fact]
    public async Task TwoReplicasSharingABudgetOfFive_AcAtFivePerSecond_Never429()
    {
        var (logPath, expected) = Log(customers: 40, seed: 22);
        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, 5));
        var (second, _) = await environment.StartReplicaAsync();
        await using (second)
        {
            await ShipAsync(environment, environment.ServiceAddress, logPath, "state");
            await environment.WaitForIdleAsync(TimeSpan.FromMinutes(4));
            await second.StopAsync();
        }

        Assert.Empty(ContractCheck.Contacts(expected, environment.Account!));
        var requests = environment.Account!.Requests();
        var i429 = requests.ToList().FindIndex(r => r.Status == 429);
        Assert.True(i429 < 0, string.Join("\n", requests.Skip(Math.Max(0, i429 - 7)).Take(9).Select(r => $"{r.At:HH:mm:ss.fff} {r.Method} {r.Path} {r.Status}")));
        // Both replicas did work: the budget really was shared, not used by one alone.
        Assert.True(environment.Account.Requests().Count >= expected.Contacts.Count);
    }

    [Fact]
    public async Task ReplicaKilledMidWork_AnotherTakesOverItsClaims_NothingLost()
    {
        var (logPath, expected) = Log(customers: 60, seed: 23);
        var lease = new KeyValuePair<string, string?>("KivaSync:Sync:Lease", "00:00:03");
        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, 20), [lease]);
        // Replica A: workers off, it only ingests; replica B: a separate process that syncs and is SIGKILLed mid-work.
        await environment.StopServiceAsync();
        await using var victim = ServiceProcess.Start(environment.ServiceSettings, WorkDir);
        await victim.WaitReadyAsync(environment.CallerHeaders);
        await ShipAsync(environment, victim.Address, logPath, "state");
        await WaitUntilAsync(() => environment.Account!.Contacts().Count >= 10, TimeSpan.FromMinutes(2));
        await victim.KillAsync();

        // A fresh replica must find the killed one's leased contacts and finish the job.
        await environment.StartServiceAsync();
        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(3));

        Assert.Empty(ContractCheck.Contacts(expected, environment.Account!));
    }

    [Fact]
    public async Task RedisKilledAndRestartedWithAof_WhileShipping_NothingAcknowledgedIsLost()
    {
        var (logPath, expected) = Log(customers: 80, seed: 24);
        var length = new FileInfo(logPath).Length;
        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, 60, AppendOnly: true));
        var options = environment.ShipperOptionsFor(logPath, Path.Combine(WorkDir, "state"));
        options.MaxLines = 200;
        await using var shipper = new KivaSync.Shipper.ShipperRunner(options);
        await shipper.StartAsync();
        await shipper.WaitForCheckpointAsync(logPath, length / 3).WaitAsync(TimeSpan.FromMinutes(2));

        await environment.Redis!.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await environment.Redis.RestartAsync();

        await shipper.WaitForFileShippedAsync(logPath).WaitAsync(TimeSpan.FromMinutes(3));
        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(3));

        Assert.Empty(ContractCheck.Contacts(expected, environment.Account!));
        var store = environment.Service.Services.GetRequiredService<StateStore>();
        Assert.Equal(expected.AcceptedEntries, (await store.ReadMetaAsync(Tenant)).Accepted);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"condition not met within {timeout}");
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>The sync service as its own process (KivaSync.SyncService.dll), so a test can SIGKILL it.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;

    private ServiceProcess(Process process, Uri address)
    {
        this.process = process;
        Address = address;
    }

    public Uri Address { get; }

    public static ServiceProcess Start(IReadOnlyDictionary<string, string?> settings, string WorkDir)
    {
        var port = KivaSync.Testing.FreePort.Next();
        var dll = Path.Combine(AppContext.BaseDirectory, "KivaSync.SyncService.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\"")
        {
            WorkingDirectory = WorkDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var process = Process.Start(info) ?? throw new InvalidOperationException("the service did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"));
    }

    public async Task WaitReadyAsync(Grpc.Core.Metadata headers)
    {
        using var channel = GrpcChannel.ForAddress(Address);
        var api = new SyncApi.SyncApiClient(channel);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = "greenleaf" }, headers);
                return;
            }
            catch (Grpc.Core.RpcException) when (clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
    }
}
