using KivaSync.Demo;
using KivaSync.SampleLog;
using KivaSync.Testing.Oracle;

namespace KivaSync.EndToEnd.Tests;

/// <summary>A generated log's list statuses and order tags in the emulator equal what the contract oracle computes.</summary>
public sealed class ListsAndTagsEndToEndTests() : WorkDirectoryTest("lists-tags")
{
    private const string Tenant = "greenleaf";

    [Fact]
    public async Task ShipAndSync_GeneratedLog_ListsAndOrderTagsAsTheContractSays()
    {
        var logPath = Path.Combine(WorkDir, "system.log");
        SampleLogGenerator.WriteTo(logPath, new SampleLogOptions { Seed = 11, Customers = 80, Leads = 20, Weeks = 12 });
        var expected = ContractOracle.Compute(File.ReadLines(logPath), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, RedisUrl: null, RealAccount: null, RequestsPerSecond: 60));

        await using (var shipper = environment.CreateShipper(logPath, Path.Combine(WorkDir, "state")))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(logPath).WaitAsync(TimeSpan.FromMinutes(3));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(5));

        Assert.Empty(ContractCheck.Contacts(expected, environment.Account!));
        Assert.Empty(ContractCheck.Lists(expected, environment.Account!));
        Assert.Empty(ContractCheck.Tags(expected, environment.Account!));
        Assert.Equal(4, environment.Account!.Lists().Count);
    }
}
