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
}
