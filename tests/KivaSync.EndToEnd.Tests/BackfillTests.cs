using KivaSync.Demo;
using KivaSync.SampleLog;
using KivaSync.Testing.Oracle;

namespace KivaSync.EndToEnd.Tests;

/// <summary>A tenant's history is folded first and its contacts reach AC by bulk import, 250 a request, each with
/// its final state; the account still shows every rule of the contract.</summary>
public sealed class BackfillTests() : WorkDirectoryTest("backfill")
{
    private const string Tenant = "greenleaf";

    [Fact]
    public async Task Backfill_HistoryOf150Customers_ContactsGoByBulkImportAndTheAccountMatchesTheContract()
    {
        var log = Path.Combine(WorkDir, "system.log");
        SampleLogGenerator.WriteTo(log, new SampleLogOptions { Seed = 9, Customers = 150, Leads = 40, Weeks = 6 });
        var expected = ContractOracle.Compute(File.ReadLines(log), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, RequestsPerSecond: 100));

        await using (var shipper = environment.CreateShipper(log, Path.Combine(WorkDir, "state")))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(log).WaitAsync(TimeSpan.FromMinutes(2));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(5));

        var account = environment.Account!;
        Assert.Empty(ContractCheck.Account(expected, account));
        var imports = account.BulkImports();
        Assert.NotEmpty(imports);
        Assert.All(imports, import => Assert.True(import.ExcludeAutomations, "history must not trigger automations"));
        // Most contacts went by bulk import: far fewer contact/sync requests than contacts, and no list or tag
        // request for a contact the import already subscribed and tagged.
        var requests = account.Requests();
        var contactSyncs = requests.Count(r => r.Path.EndsWith("/contact/sync", StringComparison.Ordinal));
        Assert.True(contactSyncs < expected.Contacts.Count / 4, $"{contactSyncs} contact/sync requests for {expected.Contacts.Count} contacts");
        var imported = imports.Sum(i => i.Success.Count);
        Assert.True(imported > expected.Contacts.Count / 2, $"only {imported} of {expected.Contacts.Count} contacts were bulk imported");
        var listRequests = requests.Count(r => r.Method == "POST" && r.Path.EndsWith("/contactLists", StringComparison.Ordinal));
        Assert.True(listRequests < expected.Contacts.Count / 4, $"{listRequests} list requests after the bulk import");
    }
}
