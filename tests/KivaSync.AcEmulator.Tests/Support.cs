using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KivaSync.AcEmulator.Tests;

/// <summary>One answer: status, parsed JSON body and headers.</summary>
internal sealed record AcResponse(HttpStatusCode Status, JsonNode? Body, HttpResponseHeaders Headers)
{
    public JsonNode Json => Body ?? throw new InvalidOperationException("No JSON body");

    public string? RetryAfter => Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;

    /// <summary>The code of the first 422 error.</summary>
    public string? ErrorCode => (string?)Body?["errors"]?[0]?["code"];
}

/// <summary>A plain HTTP client for one account's API, as a real AC client would call it.</summary>
internal sealed class AcTestClient(AcEmulatorHost host, string account, string? token) : IDisposable
{
    private readonly HttpClient _http = new();
    private readonly string _apiUrl = host.ApiUrl(account).ToString().TrimEnd('/');

    public Task<AcResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<AcResponse> PostAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);

    public Task<AcResponse> PutAsync(string path, string json) => SendAsync(HttpMethod.Put, path, json);

    public Task<AcResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public async Task<AcResponse> SendAsync(HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, _apiUrl + "/api/3/" + path);
        if (token is not null)
        {
            request.Headers.Add("Api-Token", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new AcResponse(response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response.Headers);
    }

    /// <summary>Posts form fields to the tracking URL, as AC's event tracking expects.</summary>
    public async Task<JsonNode> TrackAsync(IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        using var response = await _http.PostAsync(host.TrackingUrl, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    /// <summary>Posts form fields to the tracking URL and hands back the raw answer (or the transport's exception).</summary>
    public async Task<HttpResponseMessage> PostTrackingAsync(IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        return await _http.PostAsync(host.TrackingUrl, content);
    }

    public static string Json(object value) => JsonSerializer.Serialize(value);

    public void Dispose() => _http.Dispose();
}

/// <summary>A clock that moves only when told, so rate-limit windows are exact.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks = DateTimeOffset.Parse("2026-11-26T12:00:00Z", CultureInfo.InvariantCulture).UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>A started emulator with one account on a held clock; generous rate limit unless a test lowers it.</summary>
public abstract class EmulatorTest : IAsyncLifetime
{
    internal const string Token = "token-acme";
    internal const string ActId = "1001";
    internal const string EventKey = "evkey-acme";

    internal ManualClock Clock { get; } = new();

    internal AcEmulatorHost Host { get; private set; } = null!;

    internal EmulatedAccount Account { get; private set; } = null!;

    internal AcTestClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await AcEmulatorHost.StartAsync(Clock);
        Account = Host.AddAccount("acme", Token, ActId, EventKey, requestsPerSecond: 1000);
        Api = new AcTestClient(Host, "acme", Token);
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Host.DisposeAsync();
    }

    internal async Task<string> CreateContactAsync(string email, string? firstName = null)
    {
        var response = await Api.PostAsync("contact/sync", AcTestClient.Json(new { contact = new { email, firstName } }));
        Assert.True(response.Status is HttpStatusCode.Created or HttpStatusCode.OK, response.Status.ToString());
        return (string)response.Json["contact"]!["id"]!;
    }

    internal async Task<string> CreateFieldAsync(string title, string type = "text")
    {
        var response = await Api.PostAsync("fields", AcTestClient.Json(new { field = new { title, type } }));
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return (string)response.Json["field"]!["id"]!;
    }

    internal async Task<string> CreateListAsync(string name)
    {
        var response = await Api.PostAsync("lists", AcTestClient.Json(new
        {
            list = new { name, stringid = name.ToLowerInvariant(), sender_url = "https://kiva.example", sender_reminder = "You signed up." },
        }));
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return (string)response.Json["list"]!["id"]!;
    }

    internal async Task<string> CreateTagAsync(string tag)
    {
        var response = await Api.PostAsync("tags", AcTestClient.Json(new { tag = new { tag, tagType = "contact", description = "" } }));
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return (string)response.Json["tag"]!["id"]!;
    }

    internal async Task<AcResponse> SetListStatusAsync(string contactId, string listId, int status) =>
        await Api.PostAsync("contactLists", AcTestClient.Json(new { contactList = new { list = listId, contact = contactId, status } }));
}
