using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KivaSync.SyncService.RateLimiting;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Polly;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>
/// A typed client for one tenant's AC account. Every request waits for the tenant's shared budget,
/// runs in the "ac-api" resilience pipeline (retries 429/503/5xx/timeouts honouring Retry-After; an event post that
/// may have reached AC is not retried: <see cref="AcOutcomeUnknownException"/>), and a 429/503 pauses the whole
/// tenant, not just this request.
/// </summary>
public sealed partial class AcClient(
    HttpClient http,
    string tenantId,
    TenantOptions tenant,
    TenantRateLimiter limiter,
    ResiliencePipeline pipeline,
    SyncTelemetry telemetry,
    ILogger logger)
{
    private const int PageSize = 100;

    private int requestCount;

    /// <summary>HTTP requests this client sent to AC (retries included): provisioning reports it.</summary>
    public int RequestCount => Volatile.Read(ref requestCount);

    /// <summary>POST /api/3/contact/sync: creates or updates the contact with this email.</summary>
    public async Task<AcContact> SyncContactAsync(AcContactInput input, CancellationToken ct)
    {
        var body = new JsonObject { ["contact"] = ContactBody(input) };
        var (json, status) = await SendWithStatusAsync(HttpMethod.Post, "contact/sync", "contact/sync", body, ct);
        // 201: AC made the contact now; 200: it had one with this email.
        return ReadContact(json) with { Created = status == HttpStatusCode.Created };
    }

    /// <summary>PUT /api/3/contacts/{id}: updates by id (the only way to change an email without a second contact).
    /// Returns null when AC no longer has the contact.</summary>
    public async Task<AcContact?> UpdateContactAsync(string contactId, AcContactInput input, CancellationToken ct)
    {
        var body = new JsonObject { ["contact"] = ContactBody(input) };
        try
        {
            var json = await SendAsync(HttpMethod.Put, $"contacts/{Uri.EscapeDataString(contactId)}", "contacts/{id}", body, ct);
            return ReadContact(json);
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>GET /api/3/fields, every page.</summary>
    public async Task<IReadOnlyList<AcField>> ListFieldsAsync(CancellationToken ct) =>
        (await ListAllAsync("fields", "", "fields", ct))
            .Select(node => new AcField(Id(node["id"]), node["title"]?.GetValue<string>() ?? "", node["type"]?.GetValue<string>() ?? ""))
            .ToList();

    /// <summary>
    /// Every item of a collection, page by page (limit 100, offset) to the end: a short page or
    /// meta.total reached. <paramref name="query"/> holds extra parameters ("filters[x]=y&amp;"-joined, or "");
    /// <paramref name="endpoint"/> names the endpoint in telemetry when the path holds an id.
    /// </summary>
    private async Task<List<JsonNode>> ListAllAsync(string path, string query, string collection, CancellationToken ct, string? endpoint = null)
    {
        var items = new List<JsonNode>();
        var extra = query.Length == 0 ? "" : "&" + query;
        for (var offset = 0; ; offset += PageSize)
        {
            var json = await SendAsync(HttpMethod.Get, $"{path}?limit={PageSize}&offset={offset}{extra}", endpoint ?? path, null, ct);
            var page = json[collection]?.AsArray() ?? [];
            items.AddRange(page.Where(node => node is not null)!);
            var total = ReadTotal(json);
            if (page.Count < PageSize || (total is { } t && items.Count >= t))
            {
                return items;
            }
        }
    }

    /// <summary>POST /api/3/fields. Throws <see cref="AcRequestException"/> with code "duplicate" when the title exists.</summary>
    public async Task<AcField> CreateFieldAsync(AcFieldDefinition definition, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["field"] = new JsonObject { ["title"] = definition.Title, ["type"] = definition.Type, ["perstag"] = definition.PersTag },
        };
        var json = await SendAsync(HttpMethod.Post, "fields", "fields", body, ct);
        var field = json["field"]!;
        return new AcField(Id(field["id"]), field["title"]?.GetValue<string>() ?? definition.Title, definition.Type);
    }

    /// <summary>POST /api/3/fieldRels: makes a field available on a list ("0" = all lists).</summary>
    public Task AddFieldRelationAsync(string fieldId, string listId, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "fieldRels", "fieldRels", new JsonObject { ["fieldRel"] = new JsonObject { ["field"] = fieldId, ["relid"] = listId } }, ct);

    private static JsonObject ContactBody(AcContactInput input)
    {
        var contact = new JsonObject { ["email"] = input.Email };
        if (input.FirstName is not null)
        {
            contact["firstName"] = input.FirstName;
        }

        if (input.LastName is not null)
        {
            contact["lastName"] = input.LastName;
        }

        if (input.Phone is not null)
        {
            contact["phone"] = input.Phone;
        }

        if (input.FieldValues.Count > 0)
        {
            var values = new JsonArray();
            foreach (var (field, value) in input.FieldValues)
            {
                values.Add(new JsonObject { ["field"] = field, ["value"] = value });
            }

            contact["fieldValues"] = values;
        }

        return contact;
    }

    private static AcContact ReadContact(JsonNode json)
    {
        var contact = json["contact"] ?? throw new AcRequestException(HttpStatusCode.OK, null, "AC answered without a contact");
        return new AcContact(Id(contact["id"]), contact["email"]?.GetValue<string>() ?? "");
    }

    /// <summary>AC ids are strings, sometimes numbers: accept both.</summary>
    private static string Id(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new AcRequestException(HttpStatusCode.OK, null, "AC answered an object without an id"),
    };

    private static long? ReadTotal(JsonNode json)
    {
        var total = json["meta"]?["total"];
        return total switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) && long.TryParse(s, out var n) => n,
            JsonValue v when v.TryGetValue<long>(out var n) => n,
            _ => null,
        };
    }

    private async Task<JsonNode> SendAsync(HttpMethod method, string relative, string endpoint, JsonNode? body, CancellationToken ct) =>
        (await SendWithStatusAsync(method, relative, endpoint, body, ct)).Json;

    private async Task<(JsonNode Json, HttpStatusCode Status)> SendWithStatusAsync(HttpMethod method, string relative, string endpoint, JsonNode? body, CancellationToken ct)
    {
        var uri = new Uri($"{tenant.ApiUrl.TrimEnd('/')}/api/3/{relative}");
        var payload = body?.ToJsonString();
        return await pipeline.ExecuteAsync(
            async token =>
            {
                await using var lease = await limiter.AcquireAsync(tenantId, tenant.RequestsPerSecond, token);
                using var request = new HttpRequestMessage(method, uri);
                request.Headers.Add("Api-Token", tenant.ApiKey);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                if (payload is not null)
                {
                    request.Content = new StringContent(payload, Encoding.UTF8, "application/json");
                }

                Interlocked.Increment(ref requestCount);
                var (statusCode, text) = await SendCheckedAsync(request, $"{method.Method} {endpoint}", RateBudget.Api, token);
                return (string.IsNullOrWhiteSpace(text) ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject(), statusCode);
            },
            ct);
    }

    /// <summary>
    /// Sends one request and sorts the answer: counted in telemetry by endpoint and status; 429/503/5xx throw
    /// <see cref="AcTransientException"/> (retried by the pipeline), and a 429/503 first pauses the whole
    /// budget of the tenant, since AC's limit is per account and shared by every replica; other failures throw
    /// <see cref="AcRequestException"/> with AC's error code and message. Returns the status and body text.
    /// </summary>
    private async Task<(HttpStatusCode Status, string Text)> SendCheckedAsync(HttpRequestMessage request, string endpoint, RateBudget budget, CancellationToken token)
    {
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
        var status = (int)response.StatusCode;
        telemetry.AcRequests.Add(
            1,
            new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, tenantId),
            new KeyValuePair<string, object?>(SyncTelemetry.Tags.Endpoint, endpoint),
            new KeyValuePair<string, object?>(SyncTelemetry.Tags.Status, status));
        var text = await response.Content.ReadAsStringAsync(token);
        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable || status >= 500)
        {
            var retryAfter = RetryAfter(response);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            {
                var pause = retryAfter ?? TimeSpan.FromSeconds(1);
                await limiter.PauseAsync(tenantId, budget, pause);
                Log.AcBackoff(logger, status, tenantId, pause);
            }

            throw new AcTransientException(response.StatusCode, retryAfter, $"AC answered {status} to {endpoint}");
        }

        if (!response.IsSuccessStatusCode)
        {
            var (code, message) = ReadError(text);
            throw new AcRequestException(response.StatusCode, code, $"AC answered {status} to {endpoint}: {message}");
        }

        return (response.StatusCode, text);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>Reads both AC error shapes: {"message"} and {"errors":[{"title","detail","code"}]}.</summary>
    private static (string? Code, string Message) ReadError(string text)
    {
        try
        {
            var json = JsonNode.Parse(text);
            if (json?["errors"] is JsonArray { Count: > 0 } errors)
            {
                var first = errors[0]!;
                var title = first["title"]?.GetValue<string>() ?? "";
                var detail = first["detail"]?.GetValue<string>();
                return (first["code"]?.GetValue<string>(), string.IsNullOrEmpty(detail) ? title : $"{title}: {detail}");
            }

            if (json?["message"] is JsonValue message && message.TryGetValue<string>(out var m))
            {
                return (null, m);
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }

        return (null, text.Length > 200 ? text[..200] : text);
    }
}
