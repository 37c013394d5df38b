using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>Folded state reaching the AC emulator: contacts, the five custom fields, email changes, rate limits.</summary>
public sealed class ContactSyncTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string ApiKey = "ac-test-key";
    private AcEmulatorHost emulator = null!;
    private EmulatedAccount account = null!;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        account = emulator.AddAccount("greenleaf", ApiKey, "1000", "event-key", requestsPerSecond: 50);
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    private Task<ServiceHarness> StartServiceAsync(double budget = 50) =>
        ServiceHarness.StartAsync(Tenant, emulator.ApiUrl("greenleaf").ToString(), ApiKey, budget);

    [Fact]
    public async Task Sync_NewCustomer_ContactWithItsLoggedFieldsOnly()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","event":"New Customer Signup","customer":{"id":"48214","email":"bob@example.com","first_name":"Bob"},"attrs":{"status":"Active","next_delivery":"2024-06-07","schedule":"weekly"}}"""));

        var status = await WaitForSyncedAsync(service, "48214");
        var contact = Assert.Single(account.Contacts());

        Assert.Equal("bob@example.com", contact.Email);
        Assert.Equal("Bob", contact.FirstName);
        Assert.Null(contact.LastName);
        Assert.Null(contact.Phone);
        Assert.Equal("Active", account.FieldValue("bob@example.com", "Customer Status"));
        Assert.Equal("2024-06-07", account.FieldValue("bob@example.com", "Next Delivery"));
        Assert.Equal("weekly", account.FieldValue("bob@example.com", "Schedule"));
        // Never logged: never sent, not even as "".
        Assert.Null(account.FieldValue("bob@example.com", "Box Name"));
        Assert.Null(account.FieldValue("bob@example.com", "Cancelled On"));
        Assert.Equal(contact.Id, status.AcContactId);
        Assert.Equal($"https://greenleaf.activehosted.com/app/contacts/{contact.Id}", status.AcContactUrl);
        Assert.NotNull(status.LastSynced);
    }

    [Fact]
    public async Task Sync_FiveCustomFields_CreatedOnceWithDateTypes()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active"}}""",
            """{"ts":"2024-06-03T14:22:06Z","customer":{"id":"2","email":"b@example.com"},"attrs":{"status":"Active"}}"""));
        await WaitForSyncedAsync(service, "1");
        await WaitForSyncedAsync(service, "2");

        await service.RestartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 500, 2,
            """{"ts":"2024-06-04T14:22:06Z","customer":{"id":"3","email":"c@example.com"},"attrs":{"status":"Dead"}}"""));
        await WaitForSyncedAsync(service, "3");

        var fields = account.Fields();
        Assert.Equal(5, fields.Count);
        Assert.Equal("date", fields.Single(f => f.Title == "Next Delivery").Type);
        Assert.Equal("date", fields.Single(f => f.Title == "Cancelled On").Type);
        Assert.All(fields, f => Assert.Contains("0", f.Relations));
    }

    [Fact]
    public async Task Sync_NullAttribute_ClearsTheFieldInsteadOfAFakeDate()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Cancelled","cancelled_on":"2024-06-03","next_delivery":null}}"""));
        await WaitForSyncedAsync(service, "1");

        Assert.Equal("2024-06-03", account.FieldValue("a@example.com", "Cancelled On"));
        Assert.Equal("", account.FieldValue("a@example.com", "Next Delivery"));
    }

    [Fact]
    public async Task Sync_EmailChangeAfterSync_UpdatesTheSameContactNoSecondOne()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"old@example.com","first_name":"Bob"},"attrs":{"status":"Active"}}"""));
        var before = await WaitForSyncedAsync(service, "1");

        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 200, 2,
            """{"ts":"2024-06-05T14:22:05Z","customer":{"id":"1","email":"new@example.com"},"attrs":{"box":"Small"}}"""));
        var after = await WaitForSyncedAsync(service, "1", minVersionAfter: before.LastSynced.ToDateTimeOffset());

        var contact = Assert.Single(account.Contacts());
        Assert.Equal("new@example.com", contact.Email);
        Assert.Equal("Bob", contact.FirstName);
        Assert.Equal(before.AcContactId, after.AcContactId);
        Assert.Equal("Small", account.FieldValue("new@example.com", "Box Name"));
    }

    [Fact]
    public async Task Sync_ManyEntriesForOneCustomer_OneContactSyncWithTheFinalState()
    {
        await using var service = await StartServiceAsync();
        var lines = Enumerable.Range(0, 40).Select(i =>
            $$$"""{"ts":"2024-06-03T14:{{{i:D2}}}:00Z","event":"Logged in","customer":{"id":"1","email":"a@example.com"},"attrs":{"box":"Box {{{i}}}"}}""").ToArray();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, lines));
        await WaitForSyncedAsync(service, "1");

        var syncs = account.Requests().Count(r => r.Path.EndsWith("/contact/sync", StringComparison.Ordinal) && r.Status is 200 or 201);
        Assert.Equal(1, syncs);
        Assert.Equal("Box 39", account.FieldValue("a@example.com", "Box Name"));
    }

    [Fact]
    public async Task Sync_BudgetOfFiveAgainstAcLimitOfFive_NeverAnswered429()
    {
        account.RequestsPerSecond = 5;
        await using var service = await StartServiceAsync(budget: 5);
        await ShipCustomersAndWaitAsync(service, 20, TimeSpan.FromSeconds(60));

        Assert.Equal(0, account.TooManyRequestsCount);
        Assert.Equal(20, account.Contacts().Count);
    }

    [Fact]
    public async Task Sync_AcAnswers429_RetriedAfterRetryAfterAndEveryContactArrives()
    {
        // The tenant's budget is set too high for the account: AC's 429s must slow it down, not lose work.
        account.RequestsPerSecond = 3;
        await using var service = await StartServiceAsync(budget: 40);
        await ShipCustomersAndWaitAsync(service, 12, TimeSpan.FromSeconds(90));

        Assert.True(account.TooManyRequestsCount > 0, "the emulator should have answered 429 at least once");
        Assert.Equal(12, account.Contacts().Count);
    }

    [Fact]
    public async Task Sync_WrongApiKey_FailedWithAReasonThatNamesTheSettingNotTheKey()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl("greenleaf").ToString(), "wrong-key", 50);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active"}}"""));

        CustomerSyncStatus status;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(100);
            status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" });
        }
        while (status.State != SyncState.Failed && DateTime.UtcNow < deadline);

        Assert.Equal(SyncState.Failed, status.State);
        Assert.Contains("403", status.Error, StringComparison.Ordinal);
        Assert.Contains("ApiKey", status.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", status.Error, StringComparison.Ordinal);
        Assert.Empty(account.Contacts());
    }

    [Fact]
    public async Task ForceResync_SyncedCustomer_SendsItAgainAndWeeklyCycleAloneDoesNot()
    {
        await using var service = await StartServiceAsync();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active"}}"""));
        var first = await WaitForSyncedAsync(service, "1");
        int Syncs() => account.Requests().Count(r => r.Path.EndsWith("/contact/sync", StringComparison.Ordinal));

        // A weekly cycle resyncs everyone, but a contact whose AC data cannot have changed costs no request.
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 300, 2,
            """{"ts":"2024-06-06T23:00:00Z","event":"Weekly cycle completed","week":"2024-W24"}"""));
        await WaitForWeeklyResyncDrainedAsync(service);
        var afterCycle = Syncs();
        var response = await service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = Tenant, CustomerIds = { "1" } });
        var forced = await WaitForSyncedAsync(service, "1", minVersionAfter: first.LastSynced.ToDateTimeOffset());

        Assert.Equal(1, afterCycle);
        Assert.Equal(1u, response.Queued);
        Assert.Equal(2, Syncs());
        Assert.Equal(first.AcContactId, forced.AcContactId);
    }

    /// <summary>Waits until the worker queued everyone for the weekly cycle and the queue drained: what the
    /// resync would send has been sent by then.</summary>
    private static async Task WaitForWeeklyResyncDrainedAsync(ServiceHarness service)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString);
        var db = redis.GetDatabase();
        var p = $"ks:{{{Tenant}}}:";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var meta = await db.HashGetAsync(p + "meta", ["resync_all", "resync_all_done"]);
            var waiting = await db.SortedSetLengthAsync(p + "dirty") + await db.SortedSetLengthAsync(p + "dirty:live") + await db.SortedSetLengthAsync(p + "inflight");
            if ((long?)meta[0] >= 1 && (long?)meta[1] >= (long?)meta[0] && waiting == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"weekly resync not drained in time: resync_all {meta[0]}, done {meta[1]}, waiting {waiting}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Ships customers "0".."count-1" (status Active) and waits until each is synced.</summary>
    private static async Task ShipCustomersAndWaitAsync(ServiceHarness service, int count, TimeSpan timeout)
    {
        var lines = Enumerable.Range(0, count).Select(i =>
            $$$"""{"ts":"2024-06-03T14:00:{{{i:D2}}}Z","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"Active"}}""").ToArray();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, lines));
        for (var i = 0; i < count; i++)
        {
            await WaitForSyncedAsync(service, i.ToString(System.Globalization.CultureInfo.InvariantCulture), timeout: timeout);
        }
    }

    internal static async Task<CustomerSyncStatus> WaitForSyncedAsync(
        ServiceHarness service, string customerId, DateTimeOffset? minVersionAfter = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = customerId });
            if (status.State == SyncState.Synced && (minVersionAfter is null || status.LastSynced.ToDateTimeOffset() > minVersionAfter))
            {
                return status;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"customer {customerId} not synced in time: state {status.State}, error \"{status.Error}\"");
            }

            await Task.Delay(50);
        }
    }
}
