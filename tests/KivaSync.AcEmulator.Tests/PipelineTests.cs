using System.Net;
using System.Text.Json;

namespace KivaSync.AcEmulator.Tests;

public sealed class PipelineTests : EmulatorTest
{
    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    public async Task ApiCall_WithoutValidApiToken_Answers403MessageAndIsRecorded(string? token)
    {
        using var client = new AcTestClient(Host, "acme", token);

        var response = await client.PostAsync("contact/sync", """{"contact":{"email":"a@example.com"}}""");

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.False(string.IsNullOrEmpty((string?)response.Json["message"]));
        Assert.Empty(Account.Contacts());
        var recorded = Assert.Single(Account.Requests());
        Assert.Equal(("POST", "/api/3/contact/sync", 403), (recorded.Method, recorded.Path, recorded.Status));
    }

    [Theory]
    [InlineData("nosuchroute")]
    [InlineData("contacts/1/nosuch")]
    public async Task ApiCall_UnknownRoute_Answers404WithMessage(string path)
    {
        var response = await Api.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.False(string.IsNullOrEmpty((string?)response.Json["message"]));
    }

    [Fact]
    public async Task ApiCall_UnknownAccount_Answers404WithMessage()
    {
        using var http = new HttpClient();

        using var response = await http.GetAsync(new Uri(Host.BaseAddress, "nobody/api/3/contacts"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("\"message\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiCall_MalformedJson_Answers400BareObject()
    {
        var response = await Api.PostAsync("contact/sync", "{\"contact\":");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("{}", response.Json.ToJsonString());
    }

    [Fact]
    public async Task Burst_OverLimitWithinOneSecond_Answers429WithRetryAfterAndIsNotApplied()
    {
        Account.RequestsPerSecond = 5;

        var responses = new List<AcResponse>();
        for (var i = 0; i < 8; i++)
        {
            responses.Add(await Api.PostAsync("contact/sync", AcTestClient.Json(new { contact = new { email = $"p{i}@example.com" } })));
        }

        Assert.Equal(5, responses.Count(r => r.Status == HttpStatusCode.Created));
        var refused = responses.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(3, refused.Count);
        Assert.All(refused, r => Assert.Equal("1", r.RetryAfter));
        Assert.All(refused, r => Assert.False(string.IsNullOrEmpty((string?)r.Json["message"])));
        Assert.Equal(5, Account.Contacts().Count);
        Assert.Null(Account.FindContact("p7@example.com"));
        Assert.Equal(3, Account.TooManyRequestsCount);
        Assert.Equal(3, Account.Requests().Count(r => r.Status == 429));
    }

    [Fact]
    public async Task Paced_FiveRequestsPerSecond_NeverAnswers429()
    {
        Account.RequestsPerSecond = 5;

        for (var second = 0; second < 4; second++)
        {
            for (var i = 0; i < 5; i++)
            {
                var response = await Api.PostAsync("contact/sync", AcTestClient.Json(new { contact = new { email = $"s{second}-{i}@example.com" } }));
                Assert.Equal(HttpStatusCode.Created, response.Status);
            }

            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, Account.TooManyRequestsCount);
        Assert.Equal(20, Account.Contacts().Count);
    }

    [Fact]
    public async Task Window_SlidesRatherThanResetsPerSecond_Answers429UntilOldestLeaves()
    {
        Account.RequestsPerSecond = 5;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync("contacts")).Status);
            Clock.Advance(TimeSpan.FromMilliseconds(150));
        }

        // 750 ms after the first request: still five within the last second.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Api.GetAsync("contacts")).Status);
        Clock.Advance(TimeSpan.FromMilliseconds(260));
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync("contacts")).Status);
    }

    [Fact]
    public async Task Burst_OnRealClock_SomeAnswer429WithRetryAfter()
    {
        await using var host = await AcEmulatorHost.StartAsync();
        var account = host.AddAccount("live", "live-token", "2002", "live-ev");
        using var client = new AcTestClient(host, "live", "live-token");

        var responses = await Task.WhenAll(Enumerable.Range(0, 15).Select(_ => client.GetAsync("contacts")));

        var refused = responses.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Equal("1", r.RetryAfter));
        Assert.Equal(refused.Count, account.TooManyRequestsCount);
        Assert.Equal(15, account.Requests().Count);
    }

    [Fact]
    public async Task FaultInjection_FullRate_Answers503WithRetryAfterAndIsNotApplied()
    {
        Account.FailureRate = 1;

        var failed = await Api.PostAsync("contact/sync", """{"contact":{"email":"f@example.com"}}""");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.Status);
        Assert.Equal("1", failed.RetryAfter);
        Assert.Empty(Account.Contacts());

        Account.FailureRate = 0;
        var retried = await Api.PostAsync("contact/sync", """{"contact":{"email":"f@example.com"}}""");
        Assert.Equal(HttpStatusCode.Created, retried.Status);
    }

    [Fact]
    public async Task FaultInjection_HalfRate_FailsSomeAndAppliesOnlyTheOthers()
    {
        Account.FailureRate = 0.5;

        var responses = new List<AcResponse>();
        for (var i = 0; i < 40; i++)
        {
            responses.Add(await Api.PostAsync("contact/sync", AcTestClient.Json(new { contact = new { email = $"h{i}@example.com" } })));
        }

        var created = responses.Count(r => r.Status == HttpStatusCode.Created);
        Assert.InRange(created, 1, 39);
        Assert.Equal(40 - created, responses.Count(r => r.Status == HttpStatusCode.ServiceUnavailable));
        Assert.Equal(created, Account.Contacts().Count);
    }

    [Fact]
    public async Task Ids_AreJsonStrings()
    {
        var response = await Api.PostAsync("contact/sync", """{"contact":{"email":"s@example.com"}}""");

        Assert.Equal(JsonValueKind.String, response.Json["contact"]!["id"]!.GetValueKind());
        var list = await Api.GetAsync("contacts");
        Assert.Equal(JsonValueKind.String, list.Json["meta"]!["total"]!.GetValueKind());
    }
}
