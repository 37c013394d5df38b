using System.Diagnostics.Metrics;
using KivaSync.AcEmulator;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.State;
using KivaSync.Testing.Oracle;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>
/// Events exactly once in effect when AC's answers are lost (issue #11, bug 8): the emulator files an event and
/// then drops the connection, or loses the post before filing it; the sync looks the event up before sending again.
/// </summary>
public sealed class EventDeliveryTests : IAsyncLifetime
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

    private Task<ServiceHarness> StartServiceAsync(int acRetries = 6) =>
        ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50, new Dictionary<string, string?>
        {
            ["KivaSync:Sync:AcRetries"] = acRetries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"KivaSync:Tenants:{Tenant}:TrackingUrl"] = emulator.TrackingUrl.ToString(),
            [$"KivaSync:Tenants:{Tenant}:TrackingAccountId"] = ActId,
            [$"KivaSync:Tenants:{Tenant}:TrackingKey"] = EventKey,
            [$"KivaSync:Tenants:{Tenant}:EventsPerSecond"] = "50",
        });

    private static string Signup(string id, string email, string ts) =>
        $$$"""{"ts":"{{{ts}}}","event":"New Customer Signup","customer":{"id":"{{{id}}}","email":"{{{email}}}"},"attrs":{"status":"Active"}}""";

    private static string Event(string entryId, string customerId, string email, string ts, string name, string data) =>
        $$$"""{"ts":"{{{ts}}}","id":"{{{entryId}}}","event":"{{{name}}}","customer":{"id":"{{{customerId}}}","email":"{{{email}}}"},"data":{{{data}}}}""";

    /// <summary>The events AC filed, per AC contact email, in order, as (name, data).</summary>
    private Dictionary<string, List<(string, string)>> FiledEvents() =>
        account.Events().GroupBy(e => e.Email).ToDictionary(g => g.Key, g => g.Select(e => (e.Name, e.EventData ?? "")).ToList(), StringComparer.Ordinal);

    [Fact]
    public async Task Sync_EventAnswersDroppedAfterAcFiledThem_EveryEventReachesAcExactlyOnce()
    {
        await using var service = await StartServiceAsync();
        using var lookups = new LookupCounter(service);
        string[] lines =
        [
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Event("e-1", "1", "bob@example.com", "2024-06-04T09:00:00Z", "Made a substitution", """{"from":"Kale","to":"Chard"}"""),
            Event("e-2", "1", "bob@example.com", "2024-06-04T10:00:00Z", "Logged in", """{"via":"web"}"""),
            Event("e-3", "1", "bob@example.com", "2024-06-04T11:00:00Z", "Updated Address", """{"city":"Oslo"}"""),
            Signup("2", "ann@example.org", "2024-06-03T15:00:00Z"),
            Event("e-4", "2", "ann@example.org", "2024-06-04T09:30:00Z", "Logged in", """{"via":"app"}"""),
            Event("e-5", "2", "ann@example.org", "2024-06-04T12:00:00Z", "Logged out", """{"via":"app"}"""),
        ];
        // AC's connection is cut after it filed the event, for the next six posts (the issue saw six events twice).
        account.DropNextEventAnswers = 6;

        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, lines));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "2");

        Assert.Equal(6, account.DroppedEventAnswers);
        var expected = ContractOracle.Compute(lines, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        var filed = FiledEvents();
        Assert.Equal(expected.Contacts.Count, filed.Count);
        foreach (var contact in expected.Contacts)
        {
            Assert.Equal(contact.Events.Select(e => (e.AcName, e.EventData)), filed[contact.Email]);
        }

        // Each lost answer was looked up once and found filed.
        Assert.Equal(6, lookups.Delivered);
        Assert.Equal(0, lookups.NotDelivered);
    }

    [Fact]
    public async Task Sync_IdenticalEventLostBeforeAcFiledIt_SentAgainSoAcHoldsBoth()
    {
        await using var service = await StartServiceAsync();
        using var lookups = new LookupCounter(service);
        var login = Event("e-1", "1", "bob@example.com", "2024-06-04T10:00:00Z", "Logged in", """{"via":"web"}""");
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"), login));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");

        // A second entry with the same ts and data (another id): AC already holds one identical event, this
        // sync confirmed one, so only a second filed copy means this post arrived.
        account.LoseNextEvents = 1;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2, login.Replace("e-1", "e-2", StringComparison.Ordinal)));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");

        Assert.Equal(1, account.DroppedEventAnswers);
        Assert.Equal(2, account.Events().Count(e => e.Name == "Logged in" && e.EventData == """2024-06-04T10:00:00Z {"via":"web"}"""));
        Assert.Equal((0, 1), (lookups.Delivered, lookups.NotDelivered));
    }

    [Fact]
    public async Task Sync_IdenticalEventAnswerDroppedAfterAcFiledIt_NotSentAgain()
    {
        await using var service = await StartServiceAsync();
        using var lookups = new LookupCounter(service);
        var login = Event("e-1", "1", "bob@example.com", "2024-06-04T10:00:00Z", "Logged in", """{"via":"web"}""");
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"), login));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");

        account.DropNextEventAnswers = 1;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2, login.Replace("e-1", "e-2", StringComparison.Ordinal)));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");

        Assert.Equal(1, account.DroppedEventAnswers);
        Assert.Equal(2, account.Events().Count(e => e.Name == "Logged in" && e.EventData == """2024-06-04T10:00:00Z {"via":"web"}"""));
        Assert.Equal((1, 0), (lookups.Delivered, lookups.NotDelivered));
    }

    [Fact]
    public async Task Sync_LookUpOfALostAnswerFails_EventStaysQueuedAndIsNeverSentBlind()
    {
        await using var service = await StartServiceAsync(acRetries: 0);
        using var lookups = new LookupCounter(service);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            Signup("1", "bob@example.com", "2024-06-03T14:22:05Z"),
            Event("e-0", "1", "bob@example.com", "2024-06-04T09:00:00Z", "Logged in", """{"via":"app"}""")));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");
        bool IsTheLogin(EmulatedEvent e) => e.Name == "Logged in" && e.EventData == """2024-06-04T10:00:00Z {"via":"web"}""";

        // The post's answer is lost and every API call (the look-up) fails while AC is down.
        account.DropNextEventAnswers = 1;
        account.FailureRate = 1;
        account.FaultRetryAfterSeconds = 0;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2, Event("e-1", "1", "bob@example.com", "2024-06-04T10:00:00Z", "Logged in", """{"via":"web"}""")));
        await WaitUntilAsync(() => lookups.Failed >= 2, "two failed look-ups");

        var queued = await service.App.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase().ListLengthAsync(new RedisKeys(Tenant).Events("c:1"));
        Assert.Equal(1, queued);
        Assert.Single(account.Events(), IsTheLogin);
        // The first batch's two posts, then the login's post whose answer was lost: nothing sent since.
        Assert.Equal([200, 200, 0], account.Requests().Where(r => r.Path == "/event").Select(r => r.Status));

        account.FailureRate = 0;
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");

        Assert.Single(account.Events(), IsTheLogin);
        Assert.Equal(1, lookups.Delivered);
    }

    [Fact]
    public async Task Sync_PostLostTwiceInARow_LookedUpAgainOnTheRetryAndFiledOnce()
    {
        await using var service = await StartServiceAsync();
        using var lookups = new LookupCounter(service);
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1, Signup("1", "bob@example.com", "2024-06-03T14:22:05Z")));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");

        // Lost, looked up (not there), sent again, lost again: the sync fails; its retry looks it up before sending.
        account.LoseNextEvents = 2;
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 1000, 2, Event("e-1", "1", "bob@example.com", "2024-06-04T10:00:00Z", "Made a substitution", """{"from":"Kale"}""")));
        await EventsAndOrdersTests.WaitForNoPendingWorkAsync(service, "1");

        Assert.Equal(2, account.DroppedEventAnswers);
        Assert.Single(account.Events(), e => e.Name == "Made a substitution");
        Assert.Equal([200, 0, 0, 200], account.Requests().Where(r => r.Path == "/event").Select(r => r.Status));
        Assert.Equal((0, 2), (lookups.Delivered, lookups.NotDelivered));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    /// <summary>Reads kivasync.events.lookups of this service instance by outcome.</summary>
    private sealed class LookupCounter : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> counts = new(StringComparer.Ordinal);

        public LookupCounter(ServiceHarness service)
        {
            var meter = service.App.Services.GetRequiredService<SyncTelemetry>().Meter;
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "kivasync.events.lookups")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == SyncTelemetry.Tags.Lookup)
                    {
                        counts.AddOrUpdate((string)tag.Value!, value, (_, n) => n + value);
                    }
                }
            });
            listener.Start();
        }

        public long Delivered => counts.GetValueOrDefault("delivered");

        public long NotDelivered => counts.GetValueOrDefault("not_delivered");

        public long Failed => counts.GetValueOrDefault("failed");

        public void Dispose() => listener.Dispose();
    }
}

/// <summary>The counting rule of <see cref="EventDelivery"/> on its own.</summary>
public sealed class EventDeliveryRuleTests
{
    private static readonly QueuedEvent Login = QueuedEvent.Parse("2024-06-04T10:00:00Z {\"via\":\"web\"}\nLogged in");

    [Fact]
    public void IsDelivered_TwoIdenticalEventsOneConfirmed_OnlyASecondFiledCopyMeansThePostArrived()
    {
        AcTrackingLog[] oneFiled = [new("Logged in", Login.Data), new("Logged in", "2024-06-04T11:00:00Z"), new("Logged out", Login.Data)];
        AcTrackingLog[] bothFiled = [.. oneFiled, new("LOGGED IN", Login.Data)];

        Assert.Equal(1, EventDelivery.CountOnAc(oneFiled, Login));
        Assert.Equal(2, EventDelivery.CountOnAc(bothFiled, Login));
        // The first of the two identical events was confirmed: the one filed copy is that one, not the lost post.
        Assert.False(EventDelivery.IsDelivered(EventDelivery.CountOnAc(oneFiled, Login), confirmedBefore: 1));
        Assert.True(EventDelivery.IsDelivered(EventDelivery.CountOnAc(bothFiled, Login), confirmedBefore: 1));
        // Nothing confirmed before: one filed copy is the lost post.
        Assert.True(EventDelivery.IsDelivered(EventDelivery.CountOnAc(oneFiled, Login), confirmedBefore: 0));
        Assert.False(EventDelivery.IsDelivered(0, confirmedBefore: 0));
    }

    [Fact]
    public void Key_NameInOtherCaseOrOtherData_SameKeyOnlyForTheSameEvent()
    {
        var otherCase = QueuedEvent.Parse("2024-06-04T10:00:00Z {\"via\":\"web\"}\nLOGGED IN");
        var otherData = QueuedEvent.Parse("2024-06-04T10:00:00Z {\"via\":\"app\"}\nLogged in");

        Assert.Equal(EventDelivery.Key(Login), EventDelivery.Key(otherCase));
        Assert.NotEqual(EventDelivery.Key(Login), EventDelivery.Key(otherData));
        Assert.Equal(16, EventDelivery.Key(Login).Length);
    }
}
