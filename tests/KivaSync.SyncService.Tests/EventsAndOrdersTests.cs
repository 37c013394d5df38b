using System.Globalization;
using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.Provisioning;
using KivaSync.Testing.Oracle;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.SyncService.Tests;

/// <summary>Events and Deep Data orders from the log to the AC emulator: names, data, order, historical vs live, sources.</summary>
public sealed class EventsAndOrdersTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string ApiKey = "ac-test-key";
    private const string ActId = "1000";
    private const string EventKey = "event-key";
    private AcEmulatorHost emulator = null!;
    private EmulatedAccount account = null!;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        account = emulator.AddAccount(Tenant, ApiKey, ActId, EventKey, requestsPerSecond: 50);
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    private Task<ServiceHarness> StartServiceAsync(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            [$"KivaSync:Tenants:{Tenant}:TrackingUrl"] = emulator.TrackingUrl.ToString(),
            [$"KivaSync:Tenants:{Tenant}:TrackingAccountId"] = ActId,
            [$"KivaSync:Tenants:{Tenant}:TrackingKey"] = EventKey,
            [$"KivaSync:Tenants:{Tenant}:EventsPerSecond"] = "50",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50, settings);
    }

    private static string Now(int secondsAgo = 0) =>
        DateTimeOffset.UtcNow.AddSeconds(-secondsAgo).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Signup(string id, string email, string ts) =>
        $$$"""{"ts":"{{{ts}}}","event":"New Customer Signup","customer":{"id":"{{{id}}}","email":"{{{email}}}"},"attrs":{"status":"Active","marketing_opt_in":true}}""";

    private static string Event(string id, string email, string ts, string name, string? data = null) =>
        data is null
            ? $$$"""{"ts":"{{{ts}}}","event":"{{{name}}}","customer":{"id":"{{{id}}}","email":"{{{email}}}"}}"""
            : $$$"""{"ts":"{{{ts}}}","event":"{{{name}}}","customer":{"id":"{{{id}}}","email":"{{{email}}}"},"data":{{{data}}}}""";

    private static string Order(string customerId, string email, string ts, string orderId, long total, string id = "") =>
        $$$"""{"ts":"{{{ts}}}",{{{(id.Length > 0 ? $"\"id\":\"{id}\"," : "")}}}"event":"Order Completed","customer":{"id":"{{{customerId}}}","email":"{{{email}}}"},"order":{"id":"{{{orderId}}}","week":"2024-W23","total_cents":{{{total}}},"currency":"USD","shipping_cents":500,"tax_cents":0,"discount_cents":0,"items":[{"sku":"LVB","name":"Large Veggie Box","qty":1,"price_cents":{{{total - 500}}},"category":"box"}]}}""";

    [Fact]
    public async Task Sync_CustomerWithEvents_SentUnderAcNamesWithTsInDataInOrderAfterTheContact()
    {
        await using var service = await StartServiceAsync();
        string[] lines =
        [
            Signup("1", "bob@example.com", "2024-06-03T14:22:05.123Z"),
            Event("1", "bob@example.com", "2024-06-04T09:10:44.350+02:00", "Made a substitution", """{"from":"Kale", "to":"Chard"}"""),
            Event("1", "bob@example.com", "2024-06-05T09:00:00Z", "Customer created order from welcome page"),
            """{"ts":"2024-06-05T10:00:00Z","event":"Not In The Catalogue","customer":{"id":"1","email":"bob@example.com"}}""",
        ];
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, lines));

        await ContactSyncTests.WaitForSyncedAsync(service, "1");

        var contact = Assert.Single(account.Contacts());
        var events = account.Events();
        Assert.Equal(["New Customer Signup", "Made a substitution", "Order created from welcome page"], events.Select(e => e.Name));
        Assert.Equal(
            ["2024-06-03T14:22:05.123Z", """2024-06-04T09:10:44.350+02:00 {"from":"Kale","to":"Chard"}""", "2024-06-05T09:00:00Z"],
            events.Select(e => e.EventData));
        Assert.All(events, e => Assert.Equal(contact.Id, e.ContactId));
        Assert.All(events, e => Assert.Equal("bob@example.com", e.Email));
        // The contact was made before its first event was posted.
        var requests = account.Requests();
        Assert.True(requests.ToList().FindIndex(r => r.Path.EndsWith("contact/sync", StringComparison.Ordinal))
            < requests.ToList().FindIndex(r => r.Path == "/event" && r.Status == 200));
        // The oracle, reading the contract on its own, expects the same events.
        var expected = ContractOracle.Compute(lines, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        Assert.Equal(expected.Contacts.Single().Events.Select(e => (e.AcName, e.EventData)), events.Select(e => (e.Name, e.EventData!)));
        var figures = await service.App.Services.GetRequiredService<FollowUpStore>().ReadFiguresAsync(Tenant);
        Assert.Equal(1, figures.Unknown["Not In The Catalogue"]);
    }

    [Fact]
    public async Task Sync_EventDataCutInsideAnEmoji_SentWithoutHalfACharacter()
    {
        await using var service = await StartServiceAsync();
        // ts, a space and {"note":" are 34 characters: the 250-character cut falls between the emoji's two UTF-16 halves.
        var ts = "2024-06-04T09:10:44.350Z";
        var note = new string('a', 215) + "\U0001F600 and more";
        string[] lines = [Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"), Event("1", "bob@example.com", ts, "Made a substitution", $$"""{"note":"{{note}}"}""")];
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, lines));

        await WaitForNoPendingWorkAsync(service, "1");

        var sent = account.Events().Single(e => e.Name == "Made a substitution").EventData!;
        Assert.Equal($$"""{{ts}} {"note":"{{new string('a', 215)}}""", sent);
        Assert.DoesNotContain('\uFFFD', sent);
        var expected = ContractOracle.Compute(lines, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        Assert.Equal(sent, expected.Contacts.Single().Events.Single(e => e.LogName == "Made a substitution").EventData);
    }

    [Fact]
    public async Task Sync_EmailChangedBeforeEvent_EventUsesTheNewEmail()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Signup("1", "old@example.com", "2024-06-03T14:22:05Z")));
        await ContactSyncTests.WaitForSyncedAsync(service, "1");

        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 500, 2,
            Event("1", "new@example.com", "2024-06-04T10:00:00Z", "Updated Address", """{"city":"Oslo"}""")));
        await WaitForNoPendingWorkAsync(service, "1");

        var contact = Assert.Single(account.Contacts());
        Assert.Equal("new@example.com", contact.Email);
        var moved = account.Events().Single(e => e.Name == "Updated Address");
        Assert.Equal("new@example.com", moved.Email);
        Assert.Equal(contact.Id, moved.ContactId);
    }

    [Fact]
    public async Task Sync_HistoricalLiveOnlyEvent_NotSentButALiveOneIs()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Event("1", "bob@example.com", "2024-06-04T07:00:00Z", "Delivery Today Reminder Email Sent"),
            Event("1", "bob@example.com", Now(5), "Delivery Today Reminder Email Sent")));

        await ContactSyncTests.WaitForSyncedAsync(service, "1");

        var reminders = account.Events().Where(e => e.Name == "Delivery reminder email sent").ToList();
        Assert.Single(reminders);
        Assert.DoesNotContain("2024-06-04", reminders[0].EventData, StringComparison.Ordinal);
        var figures = await service.App.Services.GetRequiredService<FollowUpStore>().ReadFiguresAsync(Tenant);
        Assert.Equal(1, figures.HistoricalNotSent);
    }

    [Fact]
    public async Task Sync_HistoricalEventsOffForTenant_OnlyLiveEventsSent()
    {
        await using var service = await StartServiceAsync(new Dictionary<string, string?> { [$"KivaSync:Tenants:{Tenant}:SendHistoricalEvents"] = "false" });
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Event("1", "bob@example.com", "2024-06-04T07:00:00Z", "Logged in"),
            Event("1", "bob@example.com", Now(5), "Logged out")));

        await ContactSyncTests.WaitForSyncedAsync(service, "1");

        Assert.Equal(["Logged out"], account.Events().Select(e => e.Name));
        Assert.Single(account.Contacts());
    }

    [Fact]
    public async Task Sync_HistoricalEventsOffForOneName_OthersStillSent()
    {
        await using var service = await StartServiceAsync(new Dictionary<string, string?> { [$"KivaSync:Tenants:{Tenant}:HistoricalEventsOff:0"] = "Logged in" });
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Event("1", "bob@example.com", "2024-06-04T07:00:00Z", "Logged in"),
            Event("1", "bob@example.com", "2024-06-04T08:00:00Z", "Logged out"),
            Event("1", "bob@example.com", Now(5), "Logged in")));

        await ContactSyncTests.WaitForSyncedAsync(service, "1");

        var events = account.Events();
        Assert.Equal(["New Customer Signup", "Logged out", "Logged in"], events.Select(e => e.Name));
        Assert.StartsWith(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), events[2].EventData, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_RepeatedLines_EachEventSentOnce()
    {
        await using var service = await StartServiceAsync();
        string[] lines = [Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"), Event("1", "bob@example.com", "2024-06-04T07:00:00Z", "Logged in")];
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, lines));
        await ContactSyncTests.WaitForSyncedAsync(service, "1");

        // A replay from an old checkpoint and an overlapping archive.
        var acks = await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, lines), ServiceHarness.Batch(Tenant, "archive", 0, 1, lines));
        await WaitForNoPendingWorkAsync(service, "1");

        Assert.All(acks, a => Assert.Equal(2u, a.Duplicates));
        Assert.Equal(["New Customer Signup", "Logged in"], account.Events().Select(e => e.Name));
    }

    [Fact]
    public async Task Sync_TrackingAnswers503ThenAccepts_EventSentOnce()
    {
        await using var service = await StartServiceAsync();
        account.FailNextEvents = 1;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Event("1", "bob@example.com", "2024-06-04T07:00:00Z", "Logged in")));

        await ContactSyncTests.WaitForSyncedAsync(service, "1");

        Assert.Equal(["New Customer Signup", "Logged in"], account.Events().Select(e => e.Name));
        var posts = account.Requests().Where(r => r.Path == "/event").Select(r => r.Status).ToList();
        Assert.Equal([503, 200, 200], posts);
        Assert.Equal(0, account.TooManyRequestsCount);
    }

    [Fact]
    public async Task Sync_HistoricalAndLiveOrders_GraphQlWithCreationSourceAmountsAndNoV3Writes()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Order("1", "bob@example.com", "2024-06-07T10:00:00Z", "o-1", 4599),
            Order("1", "bob@example.com", Now(5), "o-2", 3000)));

        await WaitForGraphQlOrdersAsync(2);

        var orders = account.GraphQlOrders().ToDictionary(o => o.StoreOrderId);
        Assert.Equal(("HISTORICAL", "REAL_TIME"), (orders["o-1"].CreationSource, orders["o-2"].CreationSource));
        var o1 = orders["o-1"];
        Assert.Equal((45.99m, (decimal?)5m, (decimal?)0m, "USD", "1", "bob@example.com", "o-1", "2024-06-07T10:00:00Z", "COMPLETED", "Order Completed"),
            (o1.FinalAmount, o1.ShippingAmount, o1.DiscountsAmount, o1.Currency, o1.StoreCustomerId, o1.Email, o1.OrderNumber, o1.StoreCreatedDate, o1.NormalizedStatus, o1.StoreStatus));
        Assert.Equal(new EmulatedLineItem("Large Veggie Box", 1, 40.99m, "LVB", "box", "o-1-1"), Assert.Single(o1.LineItems));
        Assert.Equal(account.FindContact("bob@example.com")!.Id, o1.ContactId);
        var customer = Assert.Single(account.EcomCustomers());
        Assert.Equal(("1", 7599L), (customer.ExternalId, customer.TotalRevenue));
        Assert.Single(account.Connections());
        Assert.DoesNotContain(account.Requests(), r => r.Path.Contains("/ecomOrders", StringComparison.Ordinal) || r.Path.Contains("/ecomCustomers", StringComparison.Ordinal));
        // Both orders in one call; the orders' events are sent too.
        Assert.Single(account.Requests(), r => r.Path.EndsWith("/ecom/graphql", StringComparison.Ordinal) && r.Status == 200);
        Assert.Equal(2, account.Events().Count(e => e.Name == "Order Completed"));
    }

    [Fact]
    public async Task Sync_SameOrderIdLater_UpdatesAmountsAndKeepsFirstCreationSource()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Order("1", "bob@example.com", "2024-06-07T10:00:00Z", "o-1", 4599, id: "e-1")));
        await WaitForGraphQlOrdersAsync(1);

        var live = Now(5);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2, Order("1", "bob@example.com", live, "o-1", 5200, id: "e-2")));
        await WaitForNoPendingWorkAsync(service, "1");
        await WaitUntilAsync(() => account.GraphQlOrders().Single().UpsertCount == 2 && account.PendingGraphQlItems == 0);

        var order = Assert.Single(account.GraphQlOrders());
        Assert.Equal((52m, "HISTORICAL", "2024-06-07T10:00:00Z"), (order.FinalAmount, order.CreationSource, order.StoreCreatedDate));
        Assert.Equal(["HISTORICAL", "HISTORICAL"], order.CreationSourcesSent);
        Assert.Equal(live[..19] + "Z", order.StoreModifiedDate);
        Assert.Equal(5200, Assert.Single(account.EcomCustomers()).TotalRevenue);
    }

    [Fact]
    public async Task Sync_RefusedOrder_SetAsideWithReasonInDeadLettersOthersLandAndRetrySendsIt()
    {
        await using var service = await StartServiceAsync();
        account.RefuseOrderIds("o-2-b");
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Order("1", "bob@example.com", "2024-06-07T10:00:00Z", "o-1", 4599),
            Order("1", "bob@example.com", "2024-06-07T11:00:00Z", "o-2-b", 3000),
            Order("1", "bob@example.com", "2024-06-07T12:00:00Z", "o-3", 2000)));

        await WaitForGraphQlOrdersAsync(2);
        var dead = await WaitForDeadLettersAsync(service, 1);

        Assert.Equal(["o-1", "o-3"], account.GraphQlOrders().Select(o => o.StoreOrderId).Order());
        var letter = Assert.Single(dead.DeadLetters);
        Assert.Equal(("order", "o-2-b"), (letter.Kind, letter.Detail));
        Assert.Contains("refused", letter.Reason, StringComparison.Ordinal);

        account.AcceptAllGraphQlIds();
        await service.Api.RetryDeadLettersAsync(new RetryDeadLettersRequest { Tenant = Tenant, All = true });
        await WaitForGraphQlOrdersAsync(3);
        Assert.Equal(0u, (await service.Api.ListDeadLettersAsync(new ListDeadLettersRequest { Tenant = Tenant })).Total);
    }

    private async Task WaitForGraphQlOrdersAsync(int count) =>
        await WaitUntilAsync(() => account.GraphQlOrders().Count >= count);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for AC");
            await Task.Delay(50);
        }
    }

    private static async Task<ListDeadLettersResponse> WaitForDeadLettersAsync(ServiceHarness service, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var list = await service.Api.ListDeadLettersAsync(new ListDeadLettersRequest { Tenant = Tenant });
            if (list.Total >= count)
            {
                return list;
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for dead letters");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Sync_LeadBecomesCustomer_KeepsTheLeadsEvents()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-01T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"Ann@Example.org","first_name":"Ann"},"data":{"subject":"94110?"}}""",
            Signup("7", "ann@example.org", "2024-06-03T14:22:05Z")));

        await ContactSyncTests.WaitForSyncedAsync(service, "7");

        var contact = Assert.Single(account.Contacts());
        var events = account.Events();
        Assert.Equal(["Submitted Contact Form", "New Customer Signup"], events.Select(e => e.Name));
        Assert.All(events, e => Assert.Equal(contact.Id, e.ContactId));
        Assert.Equal("""2024-06-01T10:00:00Z {"subject":"94110?"}""", events[0].EventData);
    }

    [Fact]
    public async Task Provision_TwiceAgainstOneAccount_SecondRunCreatesNothing()
    {
        await using var service = await StartServiceAsync(new Dictionary<string, string?>
        {
            [$"KivaSync:Tenants:{Tenant}:EventNames:Box Tasting Booked"] = "Box tasting booked by the customer at the farm",
        });
        var steps = service.App.Services.GetServices<IProvisioningStep>().Where(s => s is EventTrackingStep or DeepDataConnectionStep).OrderBy(s => s.Order).ToList();
        var client = service.App.Services.GetRequiredService<AcClientFactory>().For(Tenant);

        var first = new List<ProvisionedThing>();
        var second = new List<ProvisionedThing>();
        foreach (var step in steps)
        {
            first.AddRange(await step.RunAsync(Tenant, client, CancellationToken.None));
        }

        foreach (var step in steps)
        {
            second.AddRange(await step.RunAsync(Tenant, client, CancellationToken.None));
        }

        Assert.True(account.EventTrackingEnabled);
        var names = account.EventNames();
        Assert.Equal(42, names.Count);
        Assert.Contains("Box tasting booked by the custom", names);
        Assert.All(names, n => Assert.True(n.Length <= 32));
        Assert.Single(account.Connections());
        Assert.All(first, t => Assert.True(t.Created, t.Name));
        Assert.All(second, t => Assert.False(t.Created, t.Name));
        Assert.Equal(first.Select(t => (t.Kind, t.Name)), second.Select(t => (t.Kind, t.Name)));
        Assert.Equal(first.Single(t => t.Kind == "connection").AcId, second.Single(t => t.Kind == "connection").AcId);
    }

    [Fact]
    public async Task GetSyncStatus_QueuedEventsAndOrders_CountAsPendingWork()
    {
        // Workers off: nothing leaves the queue.
        await using var service = await ServiceHarness.StartAsync(Tenant);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Event("1", "bob@example.com", "2024-06-04T07:00:00Z", "Logged in"),
            Order("1", "bob@example.com", "2024-06-07T10:00:00Z", "o-1", 4599),
            """{"ts":"2024-06-07T11:00:00Z","event":"Logged in"}"""));

        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" });

        // The contact itself, three events (signup, login, order) and one order.
        Assert.Equal(5u, status.PendingWork);
        Assert.Equal(SyncState.Pending, status.State);
        var figures = await service.App.Services.GetRequiredService<FollowUpStore>().ReadFiguresAsync(Tenant);
        Assert.Equal(3, figures.Queued);
        Assert.Equal(1, figures.WithoutContact);
    }

    internal static async Task WaitForNoPendingWorkAsync(ServiceHarness service, string customerId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = customerId });
            if (status.State == SyncState.Synced && status.PendingWork == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"customer {customerId} still has work: state {status.State}, pending {status.PendingWork}, error \"{status.Error}\"");
            }

            await Task.Delay(50);
        }
    }
}
