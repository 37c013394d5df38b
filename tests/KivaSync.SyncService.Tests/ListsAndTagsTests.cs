using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;
using static KivaSync.SyncService.Tests.AcSideHelpers;

namespace KivaSync.SyncService.Tests;

/// <summary>The contract's lists, opt-out rules and order tag, as the emulator shows them after each sync.</summary>
public sealed class ListsAndTagsTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string ApiKey = "ac-test-key";
    private AcEmulatorHost emulator = null!;
    private EmulatedAccount account = null!;
    private long offset;
    private ulong sequence;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        account = emulator.AddAccount(Tenant, ApiKey, "1000", "event-key", requestsPerSecond: 50);
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    private Task<ServiceHarness> StartServiceAsync() =>
        ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50);

    private async Task ShipAsync(ServiceHarness service, params string[] lines)
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", offset, ++sequence, lines));
        offset += lines.Sum(l => System.Text.Encoding.UTF8.GetByteCount(l) + 1);
    }

    [Fact]
    public async Task Sync_StatusChangesAndOptOut_ListsMoveAndOptOutWinsUntilOptIn()
    {
        await using var service = await StartServiceAsync();
        await ShipAsync(service, """{"ts":"2024-06-03T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active","marketing_opt_in":true}}""");
        var s = await WaitForSyncedAsync(service, Tenant, "1");
        Assert.Equal(["Active", "All"], SubscribedLists(account, "a@example.com"));

        await ShipAsync(service, """{"ts":"2024-06-04T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Cancelled"}}""");
        s = await WaitForSyncedAsync(service, Tenant, "1", s);
        Assert.Equal(["All", "Cancelled"], SubscribedLists(account, "a@example.com"));
        Assert.Equal(2, ListStatus(account, "a@example.com", "Active"));

        await ShipAsync(service, """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"marketing_opt_in":false}}""");
        s = await WaitForSyncedAsync(service, Tenant, "1", s);
        Assert.Empty(SubscribedLists(account, "a@example.com"));

        // A status change while opted out subscribes nothing.
        await ShipAsync(service, """{"ts":"2024-06-06T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active"}}""");
        s = await WaitForSyncedAsync(service, Tenant, "1", s);
        Assert.Empty(SubscribedLists(account, "a@example.com"));

        await ShipAsync(service, """{"ts":"2024-06-07T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"marketing_opt_in":true}}""");
        await WaitForSyncedAsync(service, Tenant, "1", s);
        Assert.Equal(["Active", "All"], SubscribedLists(account, "a@example.com"));
        Assert.Equal(2, ListStatus(account, "a@example.com", "Cancelled"));
        Assert.Equal(account.Lists().Count, account.Lists().Select(l => l.Name).Distinct().Count());
    }

    [Fact]
    public async Task Sync_UnsubscribedInsideAc_NeverResubscribedEvenAfterOptIn()
    {
        await using var service = await StartServiceAsync();
        await ShipAsync(service, """{"ts":"2024-06-03T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active","marketing_opt_in":true}}""");
        var s = await WaitForSyncedAsync(service, Tenant, "1");
        var contact = Contact(account, "a@example.com");
        account.UnsubscribeInAc(contact.Id, account.Lists().Single(l => l.Name == "All").Id);

        await ShipAsync(service, """{"ts":"2024-06-04T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"marketing_opt_in":false}}""");
        s = await WaitForSyncedAsync(service, Tenant, "1", s);
        await ShipAsync(service, """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"marketing_opt_in":true}}""");
        s = await WaitForSyncedAsync(service, Tenant, "1", s);
        // A later change that touches lists again must not undo it either.
        await ShipAsync(service, """{"ts":"2024-06-06T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Stopped"}}""");
        await WaitForSyncedAsync(service, Tenant, "1", s);

        Assert.Equal(2, ListStatus(account, "a@example.com", "All"));
        Assert.Equal(["Cancelled"], SubscribedLists(account, "a@example.com"));
        var all = account.ContactLists().Single(m => m.ListId == account.Lists().Single(l => l.Name == "All").Id);
        Assert.True(all.UnsubscribedInAc);
        Assert.Equal(0, all.ResubscribeCount);
    }

    [Fact]
    public async Task Sync_WeeklyCycle_OrderTagFollowsTheWeekWithExactlyOneTag()
    {
        await using var service = await StartServiceAsync();
        await ShipAsync(service,
            """{"ts":"2024-06-06T23:00:00Z","event":"Weekly cycle completed","week":"2024-W24"}""",
            """{"ts":"2024-06-06T23:00:01Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active","order":{"week":"2024-W24","state":"open"}}}""",
            """{"ts":"2024-06-06T23:00:02Z","customer":{"id":"2","email":"b@example.com"},"attrs":{"status":"Active"}}""");
        var a = await WaitForSyncedAsync(service, Tenant, "1");
        var b = await WaitForSyncedAsync(service, Tenant, "2");
        Assert.Equal(["Open Order"], OrderTagsOf(account, "a@example.com"));
        Assert.Equal(["No Order"], OrderTagsOf(account, "b@example.com"));

        // A new week: a's W24 order is no longer the current week's; b has nothing to change.
        var tagRequestsBefore = account.Requests().Count(r => r.Path.Contains("contactTags", StringComparison.Ordinal));
        await ShipAsync(service, """{"ts":"2024-06-13T23:00:00Z","event":"Weekly cycle completed","week":"2024-W25"}""");
        a = await WaitForSyncedAsync(service, Tenant, "1", a);
        Assert.Equal(["No Order"], OrderTagsOf(account, "a@example.com"));
        Assert.Equal(["No Order"], OrderTagsOf(account, "b@example.com"));
        // One removal and one addition, for a only.
        Assert.Equal(2, account.Requests().Count(r => r.Path.Contains("contactTags", StringComparison.Ordinal)) - tagRequestsBefore);

        await ShipAsync(service, """{"ts":"2024-06-13T23:00:01Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"order":{"week":"2024-W25","state":"closed"}}}""");
        await WaitForSyncedAsync(service, Tenant, "1", a);
        Assert.Equal(["Closed Order"], OrderTagsOf(account, "a@example.com"));
        Assert.Equal(account.Tags().Count, account.Tags().Select(t => t.Name.ToUpperInvariant()).Distinct().Count());
    }

    [Fact]
    public async Task Sync_NoiseLineDated2099_IsInvalidTsAndTheOrderTagStaysOnTheCurrentWeek()
    {
        await using var service = await StartServiceAsync();
        const string order = """{"ts":"2024-06-11T08:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active","order":{"week":"2024-W24","state":"open"}}}""";
        const string clockError = """{"ts":"2099-01-01T00:00:00Z","level":"info","msg":"cron: cleanup finished"}""";

        // No weekly cycle: the current week is the ISO week of the newest accepted entry, which a
        // line from a broken clock would move to 2099 (every order tag would become No Order).
        var ack = (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp-future", 0, 1, order, clockError))).Single();
        await WaitForSyncedAsync(service, Tenant, "1");

        Assert.Equal(["Open Order"], OrderTagsOf(account, "a@example.com"));
        var rejection = Assert.Single(ack.Rejections);
        Assert.Equal(RejectReason.InvalidTs, rejection.Reason);
        Assert.Equal((ulong)System.Text.Encoding.UTF8.GetByteCount(order) + 1, rejection.Offset);
        Assert.Contains("more than 24 hours", rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_LeadBecomesCustomer_LeavesLeadsAndGetsAnOrderTag()
    {
        await using var service = await StartServiceAsync();
        await ShipAsync(service, """{"ts":"2024-06-03T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ann@example.org","first_name":"Ann"}}""");
        await WaitForSyncedAsync(service, Tenant, "ann@example.org");
        Assert.Equal(["All", "Leads"], SubscribedLists(account, "ann@example.org"));
        Assert.Empty(OrderTagsOf(account, "ann@example.org"));

        await ShipAsync(service, """{"ts":"2024-06-04T10:00:00Z","event":"New Customer Signup","customer":{"id":"7","email":"ann@example.org"},"attrs":{"status":"Active","marketing_opt_in":true}}""");
        await WaitForSyncedAsync(service, Tenant, "7");

        Assert.Single(account.Contacts());
        Assert.Equal(["Active", "All"], SubscribedLists(account, "ann@example.org"));
        Assert.Equal(2, ListStatus(account, "ann@example.org", "Leads"));
        Assert.Equal(["No Order"], OrderTagsOf(account, "ann@example.org"));
    }

    [Fact]
    public async Task Provision_RunTwice_SecondRunCreatesNothingAndSyncUsesTheSameObjects()
    {
        await using var service = await StartServiceAsync();
        var first = await service.Api.ProvisionAsync(new ProvisionRequest { Tenant = Tenant });
        var second = await service.Api.ProvisionAsync(new ProvisionRequest { Tenant = Tenant });

        // 5 fields + 5 relations + 4 lists + 4 tags, event tracking, every catalogue event name (not the weekly
        // cycle, which is never sent) and the Deep Data connection.
        var eventNames = KivaSync.SystemLog.EventCatalog.All.Select(e => e.AcName).Distinct(StringComparer.OrdinalIgnoreCase).Count();
        Assert.Equal((uint)(18 + 1 + eventNames + 1), first.Created);
        Assert.Equal(eventNames, first.Items.Count(i => i.Kind == "event" && i.Created));
        Assert.Equal(0u, second.Created);
        Assert.Equal(first.Items.Select(i => (i.Kind, i.Name, i.AcId)), second.Items.Select(i => (i.Kind, i.Name, i.AcId)));
        Assert.True(second.AcRequests > 0, "a second run checks AC itself");
        Assert.Equal(5, account.Fields().Count);
        Assert.All(account.Fields(), f => Assert.Equal(["0"], f.Relations));
        Assert.Equal("date", account.Fields().Single(f => f.Title == "Next Delivery").Type);
        Assert.Equal("date", account.Fields().Single(f => f.Title == "Cancelled On").Type);
        Assert.Equal(["Active", "All", "Cancelled", "Leads"], account.Lists().Select(l => l.Name).Order(StringComparer.Ordinal));
        Assert.Equal(OrderTags.Order(StringComparer.Ordinal), account.Tags().Select(t => t.Name).Order(StringComparer.Ordinal));

        await ShipAsync(service, """{"ts":"2024-06-03T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active"}}""");
        await WaitForSyncedAsync(service, Tenant, "1");
        Assert.Equal(5, account.Fields().Count);
        Assert.Equal(4, account.Lists().Count);
        Assert.Equal(4, account.Tags().Count);
        // The sync found everything in the ids provisioning stored: no lookups of fields, lists or tags.
        Assert.DoesNotContain(account.Requests().Skip(first.AcRequests == 0 ? 0 : (int)(first.AcRequests + second.AcRequests)),
            r => r.Method == "GET" && (r.Path.EndsWith("/fields", StringComparison.Ordinal) || r.Path.EndsWith("/lists", StringComparison.Ordinal) || r.Path.EndsWith("/tags", StringComparison.Ordinal)));
    }
}
