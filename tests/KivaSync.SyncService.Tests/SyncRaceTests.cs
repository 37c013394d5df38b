using KivaSync.AcEmulator;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.RateLimiting;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Sync;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>
/// Interleavings of the sync side with ingest and with other workers, played step by step: the workers are off,
/// the test claims and syncs itself, and a gate in front of the emulator holds one AC request while the test acts.
/// </summary>
public sealed class SyncRaceTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string ApiKey = "ac-test-key";
    private const string ActId = "1000";
    private const string EventKey = "event-key";
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private AcEmulatorHost emulator = null!;
    private EmulatedAccount account = null!;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        account = emulator.AddAccount(Tenant, ApiKey, ActId, EventKey, requestsPerSecond: 50);
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    /// <summary>The service with its workers off and every AC request passing <paramref name="gate"/>.</summary>
    private Task<ServiceHarness> StartServiceAsync(RequestGate gate, int acRetries = 6, TimeSpan? lease = null) =>
        ServiceHarness.StartAsync(
            Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50,
            new Dictionary<string, string?>
            {
                ["KivaSync:Sync:Enabled"] = "false",
                ["KivaSync:Sync:Lease"] = (lease ?? Lease).ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                ["KivaSync:Sync:AcRetries"] = acRetries.ToString(System.Globalization.CultureInfo.InvariantCulture),
                [$"KivaSync:Tenants:{Tenant}:TrackingUrl"] = emulator.TrackingUrl.ToString(),
                [$"KivaSync:Tenants:{Tenant}:TrackingAccountId"] = ActId,
                [$"KivaSync:Tenants:{Tenant}:TrackingKey"] = EventKey,
                [$"KivaSync:Tenants:{Tenant}:EventsPerSecond"] = "50",
            },
            configure: b => b.Services.AddHttpClient(AcClientFactory.PipelineName).AddHttpMessageHandler(() => new GateHandler(gate)));

    private static long Later => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 60_000;

    private static async Task<string[]> ClaimAsync(ServiceHarness service, long nowMs, TimeSpan? lease = null) =>
        await service.App.Services.GetRequiredService<StateStore>().ClaimAsync(Tenant, nowMs, TimeSpan.Zero, lease ?? Lease, 10);

    /// <summary>Syncs a contact claimed at <paramref name="claimedAtMs"/>, as the worker that claimed it.</summary>
    private static Task SyncAsync(ServiceHarness service, string member, long claimedAtMs, TimeSpan? lease = null) =>
        service.App.Services.GetRequiredService<ContactSyncer>().SyncAsync(Tenant, member, StateStore.LeaseUntil(claimedAtMs, lease ?? Lease), CancellationToken.None);

    /// <summary>Claims and syncs until nothing is left to claim, as one worker would.</summary>
    private static async Task DrainAsync(ServiceHarness service)
    {
        var syncer = service.App.Services.GetRequiredService<ContactSyncer>();
        for (var round = 0; round < 20; round++)
        {
            var at = Later + (round * 1000);
            var members = await ClaimAsync(service, at);
            if (members.Length == 0)
            {
                return;
            }

            foreach (var member in members)
            {
                await syncer.SyncAsync(Tenant, member, StateStore.LeaseUntil(at, Lease), CancellationToken.None);
            }
        }

        Assert.Fail("the queue did not drain");
    }

    private static string Form(string ts, string subject) =>
        $$$"""{"ts":"{{{ts}}}","event":"Submitted Contact Form","contact":{"email":"ann@example.org","first_name":"Ann"},"data":{"subject":"{{{subject}}}"}}""";

    [Fact]
    public async Task Sync_LeadTurnsCustomerWhileItsEventsAreBeingSent_EachEventSentOnceInOrder()
    {
        var gate = new RequestGate(r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath.EndsWith("/event", StringComparison.Ordinal));
        await using var service = await StartServiceAsync(gate);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Form("2024-06-01T10:00:00Z", "one"), Form("2024-06-01T11:00:00Z", "two")));
        var claimedAt = Later;
        Assert.Equal(["l:ann@example.org"], await ClaimAsync(service, claimedAt));

        // The lead's worker is posting its first event when the signup that makes Ann a customer is ingested.
        var leadSync = SyncAsync(service, "l:ann@example.org", claimedAt);
        await gate.Reached;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2,
            """{"ts":"2024-06-03T14:22:05Z","event":"New Customer Signup","customer":{"id":"7","email":"ann@example.org"},"attrs":{"status":"Active"}}"""));
        gate.Open();
        await leadSync;
        await DrainAsync(service);

        // Every event exactly once, the lead's first, all on the one AC contact; nothing left queued.
        var contact = Assert.Single(account.Contacts());
        var events = account.Events();
        Assert.Equal(
            ["""2024-06-01T10:00:00Z {"subject":"one"}""", """2024-06-01T11:00:00Z {"subject":"two"}""", "2024-06-03T14:22:05Z"],
            events.Select(e => e.EventData));
        Assert.All(events, e => Assert.Equal(contact.Id, e.ContactId));
        var db = service.App.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var keys = new RedisKeys(Tenant);
        Assert.False(await db.KeyExistsAsync(keys.Events("l:ann@example.org")));
        Assert.False(await db.KeyExistsAsync(keys.Events("c:7")));
        Assert.Equal((0, 0), await service.App.Services.GetRequiredService<StateStore>().QueueDepthAsync(Tenant));
    }

    [Fact]
    public async Task Sync_LeadTurnsCustomerWhileItsEventFails_UnsentEventsGoToTheCustomer()
    {
        var gate = new RequestGate(r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath.EndsWith("/event", StringComparison.Ordinal));
        await using var service = await StartServiceAsync(gate, acRetries: 0);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Form("2024-06-01T10:00:00Z", "one"), Form("2024-06-01T11:00:00Z", "two")));
        var claimedAt = Later;
        Assert.Equal(["l:ann@example.org"], await ClaimAsync(service, claimedAt));

        // AC answers the lead's first event 503 (no retries here: the lead's sync fails) just as Ann becomes a customer.
        account.FailNextEvents = 1;
        var leadSync = SyncAsync(service, "l:ann@example.org", claimedAt);
        await gate.Reached;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2,
            """{"ts":"2024-06-03T14:22:05Z","event":"New Customer Signup","customer":{"id":"7","email":"ann@example.org"},"attrs":{"status":"Active"}}"""));
        gate.Open();
        await leadSync;
        await DrainAsync(service);

        var events = account.Events();
        Assert.Equal(
            ["""2024-06-01T10:00:00Z {"subject":"one"}""", """2024-06-01T11:00:00Z {"subject":"two"}""", "2024-06-03T14:22:05Z"],
            events.Select(e => e.EventData));
        Assert.Equal((0, 0), await service.App.Services.GetRequiredService<StateStore>().QueueDepthAsync(Tenant));
    }

    private static string Customer(string ts, string status) =>
        $$$"""{"ts":"{{{ts}}}","customer":{"id":"1","email":"bob@example.com"},"attrs":{"status":"{{{status}}}"}}""";

    private static RequestGate ContactSyncGate() =>
        new(r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath.EndsWith("/contact/sync", StringComparison.Ordinal));

    /// <summary>Starts a service whose AC contact/sync requests wait at a gate, ships customer 1 as Active, claims it
    /// at <paramref name="claimedAt"/> (past the debounce) and starts its sync: returns once that sync's request is held at the gate.</summary>
    private async Task<(ServiceHarness Service, RequestGate Gate, Task Slow)> StartSyncHeldAtAcAsync(long claimedAt)
    {
        var gate = ContactSyncGate();
        var service = await StartServiceAsync(gate);
        try
        {
            await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Customer("2024-06-03T10:00:00Z", "Active")));
            Assert.Equal(["c:1"], await ClaimAsync(service, claimedAt));
            var slow = SyncAsync(service, "c:1", claimedAt);
            await gate.Reached;
            return (service, gate, slow);
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Complete_ClaimTakenOverWhileAcWasSlow_LateCompletionLeavesTheNewHoldersClaim()
    {
        var first = Later;
        var (service, gate, slow) = await StartSyncHeldAtAcAsync(first);
        await using var _ = service;

        // The lease runs out while AC is slow: another replica takes the contact over, and a new entry queues it again.
        var takeover = first + (long)Lease.TotalMilliseconds + 1;
        Assert.Equal(["c:1"], await ClaimAsync(service, takeover));
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2, Customer("2024-06-04T10:00:00Z", "Stopped")));
        gate.Open();
        await slow;

        // The late completion must not free the new holder's claim: no third worker gets the contact meanwhile.
        Assert.Empty(await ClaimAsync(service, takeover + 1));
        await SyncAsync(service, "c:1", takeover);
        await DrainAsync(service);
        Assert.Equal("Stopped", account.FieldValue("bob@example.com", "Customer Status"));
    }

    [Fact]
    public async Task Complete_TakenOverClaimsRequestLandsAfterTheNewHolders_ContactSentAgainWithItsNewestState()
    {
        var first = Later;
        var (service, gate, slow) = await StartSyncHeldAtAcAsync(first);
        await using var _ = service;

        // The slow worker read "Active"; "Stopped" arrives; the lease runs out and another replica syncs "Stopped" in full.
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2, Customer("2024-06-04T10:00:00Z", "Stopped")));
        var takeover = first + (long)Lease.TotalMilliseconds + 1;
        Assert.Equal(["c:1"], await ClaimAsync(service, takeover));
        await SyncAsync(service, "c:1", takeover);
        Assert.Equal("Stopped", account.FieldValue("bob@example.com", "Customer Status"));

        // Only then does the slow worker's request reach AC, with the old state.
        gate.Open();
        await slow;
        await DrainAsync(service);

        Assert.Equal("Stopped", account.FieldValue("bob@example.com", "Customer Status"));
        Assert.Single(account.Contacts());
    }

    [Fact]
    public async Task Sync_SlowerThanTheLease_LeaseRenewedSoNoOtherReplicaTakesItOver()
    {
        var lease = TimeSpan.FromMilliseconds(1500);
        var gate = ContactSyncGate();
        await using var service = await StartServiceAsync(gate, lease: lease);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Customer("2024-06-03T10:00:00Z", "Active")));
        // Claimed now, after the ship: a contact becomes claimable only once it has been dirty for the debounce.
        var claimedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(["c:1"], await ClaimAsync(service, claimedAt, lease));
        var slow = SyncAsync(service, "c:1", claimedAt, lease);
        await gate.Reached;

        // While AC holds the request, the worker moves its lease on.
        var db = service.App.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var keys = new RedisKeys(Tenant);
        var claimedUntil = StateStore.LeaseUntil(claimedAt, lease);
        await AcSideHelpers.WaitUntilAsync(async () => await db.SortedSetScoreAsync(keys.InFlight, "c:1") > claimedUntil, "the lease to be renewed");

        // Another replica looking just past the first deadline finds the contact still held.
        Assert.Empty(await ClaimAsync(service, claimedUntil + 1, lease));
        gate.Open();
        await slow;
        Assert.Equal((0, 0), await service.App.Services.GetRequiredService<StateStore>().QueueDepthAsync(Tenant));
        Assert.Equal("Active", account.FieldValue("bob@example.com", "Customer Status"));
    }

    [Fact]
    public async Task Sync_LeadsRequestLandsAfterTheCustomerItMergedIntoWasSynced_CustomerSentAgainWithItsState()
    {
        var gate = ContactSyncGate();
        await using var service = await StartServiceAsync(gate);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-01T10:00:00Z","contact":{"email":"ann@example.org","first_name":"Ann"}}"""));
        var claimedAt = Later;
        Assert.Equal(["l:ann@example.org"], await ClaimAsync(service, claimedAt));
        var leadSync = SyncAsync(service, "l:ann@example.org", claimedAt);
        await gate.Reached;

        // While the lead's request is on its way, Ann signs up as "Annie" and the customer is synced in full.
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"7","email":"ann@example.org","first_name":"Annie"},"attrs":{"status":"Active"}}"""));
        var customerAt = claimedAt + 1000;
        Assert.Equal(["c:7"], await ClaimAsync(service, customerAt));
        await SyncAsync(service, "c:7", customerAt);
        Assert.Equal("Annie", Assert.Single(account.Contacts()).FirstName);

        // The lead's request, with the old name, reaches AC last.
        gate.Open();
        await leadSync;
        await DrainAsync(service);

        Assert.Equal("Annie", Assert.Single(account.Contacts()).FirstName);
        Assert.Equal(["Active", "All"], AcSideHelpers.SubscribedLists(account, "ann@example.org"));
    }

    [Fact]
    public async Task ForceResync_LeadMergedIntoACustomerSinceItWasLookedUp_NoStubContactLeftOrSent()
    {
        await using var service = await StartServiceAsync(new RequestGate(_ => false));
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Form("2024-06-01T10:00:00Z", "one")));
        var store = service.App.Services.GetRequiredService<StateStore>();
        var member = await store.FindByEmailAsync(Tenant, "ann@example.org");
        Assert.Equal("l:ann@example.org", member);

        // ForceResync found the lead; before it queues it, the signup making Ann a customer is ingested.
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2,
            """{"ts":"2024-06-03T14:22:05Z","event":"New Customer Signup","customer":{"id":"7","email":"ann@example.org"},"attrs":{"status":"Active"}}"""));
        await store.MarkDirtyAsync(Tenant, [member!], Later, force: true);
        await DrainAsync(service);

        var db = service.App.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        Assert.False(await db.KeyExistsAsync(new RedisKeys(Tenant).Contact("l:ann@example.org")));
        Assert.Equal("ann@example.org", Assert.Single(account.Contacts()).Email);
        Assert.DoesNotContain(account.Requests(), r => r.Status >= 400);
    }

    [Fact]
    public async Task Pause_ShorterRetryAfterAnsweredAfterALongerOne_TenantStaysPausedForTheLonger()
    {
        await using var service = await StartServiceAsync(ContactSyncGate());
        var limiter = service.App.Services.GetRequiredService<TenantRateLimiter>();

        // AC asks for a minute; a request another replica had in flight then gets a 503 without Retry-After (1 s).
        await limiter.PauseAsync(Tenant, TimeSpan.FromMinutes(1));
        await limiter.PauseAsync(Tenant, TimeSpan.FromSeconds(1));

        // Every replica reads the pause from Redis: it still lasts most of the minute.
        var db = service.App.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var left = await db.KeyTimeToLiveAsync(new RedisKeys(Tenant).RatePause);
        Assert.True(left > TimeSpan.FromSeconds(30), $"pause left: {left}");
    }
}

/// <summary>Holds the first AC request matching a predicate until <see cref="Open"/>; every other request passes.</summary>
internal sealed class RequestGate(Func<HttpRequestMessage, bool> match)
{
    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int taken;

    /// <summary>Completes when the held request arrived at the gate (it has not been sent yet).</summary>
    public Task Reached => reached.Task;

    /// <summary>Lets the held request go on.</summary>
    public void Open() => open.TrySetResult();

    internal async Task PassAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (match(request) && Interlocked.Exchange(ref taken, 1) == 0)
        {
            reached.TrySetResult();
            await open.Task.WaitAsync(ct);
        }
    }
}

/// <summary>The gate as a handler of the AC HttpClient.</summary>
internal sealed class GateHandler(RequestGate gate) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await gate.PassAsync(request, cancellationToken);
        return await base.SendAsync(request, cancellationToken);
    }
}
