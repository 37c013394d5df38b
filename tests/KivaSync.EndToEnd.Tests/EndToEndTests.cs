using KivaSync.Demo;
using KivaSync.SampleLog;
using KivaSync.SyncService.State;
using KivaSync.Testing.Oracle;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.EndToEnd.Tests;

/// <summary>
/// A generated log through the real shipper, the sync service on real Redis and the AC emulator; the
/// emulator must then show exactly what the contract says, computed independently from the log.
/// </summary>
public sealed class EndToEndTests() : WorkDirectoryTest("e2e")
{
    private const string Tenant = "greenleaf";

    private string WriteLog(SampleLogOptions options)
    {
        var path = Path.Combine(WorkDir, "system.log");
        SampleLogGenerator.WriteTo(path, options);
        return path;
    }

    // The budget and the emulator's limit are raised together to keep the test short; the 5/s case is in the service tests.
    private static DemoSettings Settings => new(Tenant, RedisUrl: null, RealAccount: null, RequestsPerSecond: 60);

    [Fact]
    public async Task ShipAndSync_GeneratedLogOf200Customers_EmulatorShowsWhatTheContractSays()
    {
        var logPath = WriteLog(new SampleLogOptions { Seed = 7, Customers = 220, Leads = 60, Weeks = 30 });
        var expected = ContractOracle.Compute(File.ReadLines(logPath), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        await using var environment = await DemoEnvironment.StartAsync(Settings);

        await using (var shipper = environment.CreateShipper(logPath, Path.Combine(WorkDir, "state")))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(logPath).WaitAsync(TimeSpan.FromMinutes(3));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(5));

        Assert.True(expected.Contacts.Count(c => !c.IsLead) >= 200, "the log should name at least 200 customers");
        Assert.Empty(ContractCheck.Contacts(expected, environment.Account!));
        var meta = await environment.Service.Services.GetRequiredService<StateStore>().ReadMetaAsync(Tenant);
        Assert.Equal(expected.AcceptedEntries, meta.Accepted);
        var rejects = await environment.Service.Services.GetRequiredService<StateStore>().ReadRejectCountsAsync(Tenant);
        Assert.Equal(expected.RejectedByReason.OrderBy(r => r.Key), rejects.Select(r => KeyValuePair.Create(r.Key, (int)r.Value)).OrderBy(r => r.Key));
        Assert.Equal(0, environment.Account!.TooManyRequestsCount);
    }

    [Fact]
    public async Task ShipAndSync_ShipperKilledMidwayAndServiceRestarted_NothingLostNothingAppliedTwice()
    {
        var logPath = WriteLog(new SampleLogOptions { Seed = 11, Customers = 200, Leads = 40, Weeks = 30 });
        var expected = ContractOracle.Compute(File.ReadLines(logPath), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        var length = new FileInfo(logPath).Length;
        var state = Path.Combine(WorkDir, "state");
        await using var environment = await DemoEnvironment.StartAsync(Settings);

        // First run: killed (SIGKILL) once about a third of the file is acknowledged.
        await using (var first = ShipperProcess.Start(environment.ServiceAddress, Tenant, logPath, state, environment.CallerToken))
        {
            await WaitUntilAsync(() => ShipperProcess.CheckpointOffset(state) > length / 3, TimeSpan.FromMinutes(2));
            await first.KillAsync();
        }

        var killedAt = ShipperProcess.CheckpointOffset(state);
        Assert.InRange(killedAt, length / 3, length - 1);

        // The service goes down and comes back (a new instance on the same Redis).
        await environment.RestartServiceAsync();

        await using (var second = ShipperProcess.Start(environment.ServiceAddress, Tenant, logPath, state, environment.CallerToken))
        {
            await WaitUntilAsync(() => ShipperProcess.CheckpointOffset(state) == length, TimeSpan.FromMinutes(3));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(5));

        Assert.Empty(ContractCheck.Contacts(expected, environment.Account!));
        var store = environment.Service.Services.GetRequiredService<StateStore>();
        // Each entry took effect once, however often the restarted shipper resent it.
        Assert.Equal(expected.AcceptedEntries, (await store.ReadMetaAsync(Tenant)).Accepted);
        Assert.Equal(expected.RejectedLines, (int)(await store.ReadRejectCountsAsync(Tenant)).Values.Sum());
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"condition not met within {timeout}");
            }

            await Task.Delay(20);
        }
    }
}
