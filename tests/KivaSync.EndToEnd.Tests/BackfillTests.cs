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

    [Fact]
    public async Task Backfill_OlderDaysShippedAfterTheNewerOnes_TheAccountMatchesTheContract()
    {
        // An archive shipped late: its leads turned customer and changed email in the file shipped first. In ts order
        // each lead is its customer: no separate lead contact, its form events on the customer.
        var options = new SampleLogOptions { Seed = 130, Customers = 44, Leads = 20, Weeks = 6, Start = new DateTimeOffset(2024, 7, 12, 0, 0, 0, TimeSpan.Zero), WriteTenantKey = false };
        var lines = SampleLogGenerator.GenerateLines(options).ToArray();
        var newer = Path.Combine(WorkDir, "system.log");
        var older = Path.Combine(WorkDir, "archive.log");
        File.WriteAllLines(newer, lines.Where(l => DayOf(l) % 2 != 0));
        File.WriteAllLines(older, lines.Where(l => DayOf(l) % 2 == 0));
        var expected = ContractOracle.Compute(File.ReadLines(newer).Concat(File.ReadLines(older)), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        Assert.Empty(expected.Ambiguities);
        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, RequestsPerSecond: 100));

        foreach (var (file, state) in new[] { (newer, "state-newer"), (older, "state-older") })
        {
            await using var shipper = environment.CreateShipper(file, Path.Combine(WorkDir, state));
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(file).WaitAsync(TimeSpan.FromMinutes(2));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(5));

        Assert.Empty(ContractCheck.Account(expected, environment.Account!));
    }

    /// <summary>The day number of a line's ts.</summary>
    private static long DayOf(string line)
    {
        var at = line.IndexOf("\"ts\":\"", StringComparison.Ordinal);
        return at >= 0 && DateTimeOffset.TryParse(line.AsSpan(at + 6, 10), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var day)
            ? day.UtcTicks / TimeSpan.TicksPerDay
            : 1;
    }
}
