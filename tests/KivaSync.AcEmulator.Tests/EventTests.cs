using System.Globalization;
using System.Net;

namespace KivaSync.AcEmulator.Tests;

public sealed class EventTests : EmulatorTest
{
    private async Task EnableAndRegisterAsync(string name)
    {
        var enabled = await Api.PutAsync("eventTracking", """{"eventTracking":{"enabled":true}}""");
        Assert.Equal(HttpStatusCode.OK, enabled.Status);
        var registered = await Api.PostAsync("eventTrackingEvents", AcTestClient.Json(new { eventTrackingEvent = new { name } }));
        Assert.Equal(HttpStatusCode.Created, registered.Status);
    }

    private static Dictionary<string, string> Form(string @event, string email, string key = EventKey, string actid = ActId) => new()
    {
        ["actid"] = actid,
        ["key"] = key,
        ["event"] = @event,
        ["eventdata"] = "{\"order\":\"A-1\"}",
        ["visit"] = AcTestClient.Json(new { email }),
    };

    [Fact]
    public async Task TrackEvent_EnabledRegisteredKnownContact_SpawnsEvent()
    {
        await EnableAndRegisterAsync("Order placed");
        var contactId = await CreateContactAsync("e@example.com");

        var answer = await Api.TrackAsync(Form("Order placed", "e@example.com"));

        Assert.Equal(1, (int)answer["success"]!);
        Assert.Equal("Event spawned", (string)answer["message"]!);
        var spawned = Assert.Single(Account.Events());
        Assert.Equal(("Order placed", "e@example.com", "{\"order\":\"A-1\"}", contactId), (spawned.Name, spawned.Email, spawned.EventData, spawned.ContactId));
        Assert.Equal(Clock.GetUtcNow(), spawned.ReceivedAt);
        Assert.Contains(Account.Requests(), r => r.Path == "/event");
    }

    [Theory]
    [InlineData("wrong-key", "Order placed", "e@example.com")]
    [InlineData(EventKey, "Never registered", "e@example.com")]
    [InlineData(EventKey, "Order placed", "stranger@example.com")]
    [InlineData(EventKey, "A name that is longer than 32 chars", "e@example.com")]
    public async Task TrackEvent_WrongKeyUnregisteredNameUnknownContactOrLongName_AnswersSuccess0(string key, string name, string email)
    {
        await EnableAndRegisterAsync("Order placed");
        await CreateContactAsync("e@example.com");

        var answer = await Api.TrackAsync(Form(name, email, key));

        Assert.Equal(0, (int)answer["success"]!);
        Assert.False(string.IsNullOrEmpty((string?)answer["message"]));
        Assert.Empty(Account.Events());
    }

    [Fact]
    public async Task TrackEvent_TrackingDisabled_AnswersSuccess0()
    {
        await EnableAndRegisterAsync("Order placed");
        await CreateContactAsync("e@example.com");
        await Api.PutAsync("eventTracking", """{"eventTracking":{"enabled":false}}""");

        var answer = await Api.TrackAsync(Form("Order placed", "e@example.com"));

        Assert.Equal(0, (int)answer["success"]!);
        Assert.False(Account.EventTrackingEnabled);
        Assert.Empty(Account.Events());
    }

    [Fact]
    public async Task TrackEvent_UnknownActId_AnswersSuccess0()
    {
        await EnableAndRegisterAsync("Order placed");
        await CreateContactAsync("e@example.com");

        var answer = await Api.TrackAsync(Form("Order placed", "e@example.com", actid: "999999"));

        Assert.Equal(0, (int)answer["success"]!);
        Assert.Empty(Account.Events());
    }

    [Fact]
    public async Task TrackEvent_BurstAboveApiLimit_IsNotRateLimitedAndLeavesApiBudget()
    {
        await EnableAndRegisterAsync("Order placed");
        await CreateContactAsync("e@example.com");
        Clock.Advance(TimeSpan.FromSeconds(1));
        Account.RequestsPerSecond = 5;

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(1, (int)(await Api.TrackAsync(Form("Order placed", "e@example.com")))["success"]!);
        }

        Assert.Equal(10, Account.Events().Count);
        Assert.Equal(10, Account.Requests().Count(r => r.Path == "/event"));
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync("contacts")).Status);
        Assert.Equal(0, Account.TooManyRequestsCount);
    }

    [Fact]
    public async Task EventTrackingEvents_DuplicateName_Answers422AndListShowsNameOnce()
    {
        await EnableAndRegisterAsync("Order placed");

        var duplicate = await Api.PostAsync("eventTrackingEvents", """{"eventTrackingEvent":{"name":"Order placed"}}""");
        var listed = await Api.GetAsync("eventTrackingEvents");

        Assert.Equal("duplicate", duplicate.ErrorCode);
        Assert.Equal("Order placed", (string)Assert.Single(listed.Json["eventTrackingEvents"]!.AsArray())!["name"]!);
        Assert.Equal(["Order placed"], Account.EventNames());
        Assert.True(Account.EventTrackingEnabled);
    }

    [Fact]
    public async Task TrackingLogs_EventsOfTwoContacts_ListsThatContactsWithTypeValueTstampAndStringIds()
    {
        await EnableAndRegisterAsync("Order placed");
        var ann = await CreateContactAsync("ann@example.com");
        await CreateContactAsync("bob@example.com");
        await Api.TrackAsync(Form("Order placed", "ann@example.com"));
        await Api.TrackAsync(Form("Order placed", "bob@example.com"));
        Clock.Advance(TimeSpan.FromSeconds(5));
        await Api.TrackAsync(Form("order PLACED", "ann@example.com"));

        var logs = await Api.GetAsync($"contacts/{ann}/trackingLogs");

        Assert.Equal(HttpStatusCode.OK, logs.Status);
        var items = logs.Json["trackingLogs"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.Equal("2", logs.Json["meta"]!["total"]!.GetValue<string>());
        var filed = Account.Events().Where(e => e.ContactId == ann).ToList();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(ann, items[i]!["contact"]!.GetValue<string>());
            Assert.Equal("Order placed", items[i]!["type"]!.GetValue<string>());
            Assert.Equal("{\"order\":\"A-1\"}", items[i]!["value"]!.GetValue<string>());
            Assert.Equal(filed[i].Id, items[i]!["id"]!.GetValue<string>());
            Assert.Equal(filed[i].ReceivedAt, DateTimeOffset.Parse(items[i]!["tstamp"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        }

        Assert.NotEqual(items[0]!["id"]!.GetValue<string>(), items[1]!["id"]!.GetValue<string>());
        Assert.Equal(Clock.GetUtcNow(), filed[1].ReceivedAt);
    }

    [Fact]
    public async Task TrackingLogs_MoreThanAPage_PagedByLimitAndOffset()
    {
        await EnableAndRegisterAsync("Order placed");
        var ann = await CreateContactAsync("ann@example.com");
        for (var i = 0; i < 25; i++)
        {
            var form = Form("Order placed", "ann@example.com");
            form["eventdata"] = "n" + i.ToString(CultureInfo.InvariantCulture);
            await Api.TrackAsync(form);
        }

        var first = await Api.GetAsync($"contacts/{ann}/trackingLogs");
        var second = await Api.GetAsync($"contacts/{ann}/trackingLogs?limit=10&offset=20");

        Assert.Equal(20, first.Json["trackingLogs"]!.AsArray().Count);
        Assert.Equal("25", first.Json["meta"]!["total"]!.GetValue<string>());
        Assert.Equal(["n20", "n21", "n22", "n23", "n24"], second.Json["trackingLogs"]!.AsArray().Select(l => l!["value"]!.GetValue<string>()));
    }

    [Fact]
    public async Task TrackingLogs_UnknownContact_Answers404()
    {
        var logs = await Api.GetAsync("contacts/424242/trackingLogs");

        Assert.Equal(HttpStatusCode.NotFound, logs.Status);
        Assert.False(string.IsNullOrEmpty((string?)logs.Json["message"]));
    }

    [Fact]
    public async Task TrackEvent_DropNextEventAnswers_RecordsTheEventAndAbortsWithoutAnAnswer()
    {
        await EnableAndRegisterAsync("Order placed");
        var ann = await CreateContactAsync("ann@example.com");
        Account.DropNextEventAnswers = 1;

        var lost = await Assert.ThrowsAsync<HttpRequestException>(() => Api.PostTrackingAsync(Form("Order placed", "ann@example.com")));
        var answered = await Api.TrackAsync(Form("Order placed", "ann@example.com"));

        // The request was sent and processed; only its answer is missing (a reset, not a refused connection).
        Assert.NotEqual(HttpRequestError.ConnectionError, lost.HttpRequestError);
        Assert.Equal(1, (int)answered["success"]!);
        Assert.Equal(2, Account.Events().Count);
        Assert.Equal(1, Account.DroppedEventAnswers);
        Assert.Equal(0, Account.DropNextEventAnswers);
        Assert.Equal([0, 200], Account.Requests().Where(r => r.Path == "/event").Select(r => r.Status));
        var logs = await Api.GetAsync($"contacts/{ann}/trackingLogs");
        Assert.Equal("2", logs.Json["meta"]!["total"]!.GetValue<string>());
    }

    [Fact]
    public async Task TrackEvent_LoseNextEvents_AbortsWithoutRecording()
    {
        await EnableAndRegisterAsync("Order placed");
        await CreateContactAsync("ann@example.com");
        Account.LoseNextEvents = 1;

        var lost = await Assert.ThrowsAsync<HttpRequestException>(() => Api.PostTrackingAsync(Form("Order placed", "ann@example.com")));

        Assert.NotEqual(HttpRequestError.ConnectionError, lost.HttpRequestError);
        Assert.Empty(Account.Events());
        Assert.Equal(1, Account.DroppedEventAnswers);
        Assert.Equal(0, Account.LoseNextEvents);
    }

    [Fact]
    public async Task TrackEvent_DropWindow_DropsAnswersUntilTheClockPassesIt()
    {
        await EnableAndRegisterAsync("Order placed");
        await CreateContactAsync("ann@example.com");
        Account.DropEventAnswersUntil = Clock.GetUtcNow() + TimeSpan.FromSeconds(30);

        await Assert.ThrowsAsync<HttpRequestException>(() => Api.PostTrackingAsync(Form("Order placed", "ann@example.com")));
        Clock.Advance(TimeSpan.FromSeconds(29));
        await Assert.ThrowsAsync<HttpRequestException>(() => Api.PostTrackingAsync(Form("Order placed", "ann@example.com")));
        Clock.Advance(TimeSpan.FromSeconds(1));
        var answered = await Api.TrackAsync(Form("Order placed", "ann@example.com"));

        Assert.Equal(1, (int)answered["success"]!);
        Assert.Equal(3, Account.Events().Count);
        Assert.Equal(2, Account.DroppedEventAnswers);
    }
}
