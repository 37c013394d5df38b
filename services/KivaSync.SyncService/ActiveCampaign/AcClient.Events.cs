using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using KivaSync.SyncService.RateLimiting;
using KivaSync.SyncService.Telemetry;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>How the tracking endpoint answered one event.</summary>
/// <param name="Accepted">True for {"success":1}.</param>
/// <param name="Message">AC's message (e.g. "Event name is not registered").</param>
public sealed record AcEventResult(bool Accepted, string Message);

/// <summary>One event AC filed under a contact (GET contacts/{id}/trackingLogs).</summary>
/// <param name="Type">The event name.</param>
/// <param name="Value">The event data as AC stored it.</param>
public sealed record AcTrackingLog(string Type, string? Value);

// Event tracking: the API switch and registered names (API budget), and the tracking posts (own budget).
public sealed partial class AcClient
{
    /// <summary>True when the tenant has event tracking credentials (actid and key) configured.</summary>
    public bool CanTrackEvents => !string.IsNullOrEmpty(tenant.TrackingAccountId) && !string.IsNullOrEmpty(tenant.TrackingKey);

    /// <summary>GET /api/3/eventTracking: whether event tracking is on.</summary>
    public async Task<bool> IsEventTrackingEnabledAsync(CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Get, "eventTracking", "eventTracking", null, ct);
        return json["eventTracking"]?["enabled"] switch
        {
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            JsonValue v when v.TryGetValue<string>(out var s) => s is "1" or "true",
            JsonValue v when v.TryGetValue<long>(out var n) => n == 1,
            _ => false,
        };
    }

    /// <summary>PUT /api/3/eventTracking: switches event tracking on.</summary>
    public Task EnableEventTrackingAsync(CancellationToken ct) =>
        SendAsync(HttpMethod.Put, "eventTracking", "eventTracking", new JsonObject { ["eventTracking"] = new JsonObject { ["enabled"] = true } }, ct);

    /// <summary>GET /api/3/eventTrackingEvents, every page: the registered event names.</summary>
    public async Task<IReadOnlyList<string>> ListEventNamesAsync(CancellationToken ct) =>
        (await ListAllAsync("eventTrackingEvents", "", "eventTrackingEvents", ct))
            .Select(node => node["name"]?.GetValue<string>() ?? "")
            .Where(name => name.Length > 0)
            .ToList();

    /// <summary>POST /api/3/eventTrackingEvents; false when AC already has the name (422 duplicate).</summary>
    public async Task<bool> RegisterEventNameAsync(string name, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Post, "eventTrackingEvents", "eventTrackingEvents", new JsonObject { ["eventTrackingEvent"] = new JsonObject { ["name"] = name } }, ct);
            return true;
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
        {
            return false;
        }
    }

    /// <summary>
    /// Sends one event to the tenant's tracking URL, form-encoded: actid, key, event (at most 32 characters),
    /// eventdata, visit = {"email":...}. Uses the tenant's event budget; a 429/503 pauses tracking only.
    /// </summary>
    public async Task<AcEventResult> SendEventAsync(string name, string eventData, string email, CancellationToken ct)
    {
        if (!CanTrackEvents)
        {
            // Never the key itself: only the setting to fix.
            throw new AcRequestException(HttpStatusCode.Unauthorized, null,
                $"event tracking is not configured; set KivaSync:Tenants:{tenantId}:TrackingAccountId and TrackingKey");
        }

        var visit = new JsonObject { ["email"] = email }.ToJsonString();
        var form = new Dictionary<string, string>
        {
            ["actid"] = tenant.TrackingAccountId!,
            ["key"] = tenant.TrackingKey!,
            ["event"] = name.Length > 32 ? name[..32] : name,
            ["eventdata"] = eventData,
            ["visit"] = visit,
        };
        var uri = new Uri(tenant.TrackingUrl);
        return await pipeline.ExecuteAsync(
            async token =>
            {
                await using var lease = await limiter.AcquireAsync(tenantId, tenant.EventsPerSecond, RateBudget.Events, token);
                using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new FormUrlEncodedContent(form) };
                var (_, text) = await SendUnrepeatedAsync(request, "POST event", RateBudget.Events, token, ct);
                return ReadEventResult(text);
            },
            ct);
    }

    /// <summary>GET /api/3/contacts/{id}/trackingLogs, every page: the events AC filed under the contact (API budget).</summary>
    public async Task<IReadOnlyList<AcTrackingLog>> ListTrackingLogsAsync(string contactId, CancellationToken ct) =>
        (await ListAllAsync($"contacts/{Uri.EscapeDataString(contactId)}/trackingLogs", "", "trackingLogs", ct, "contacts/{id}/trackingLogs"))
            .Select(node => new AcTrackingLog(
                node["type"]?.GetValue<string>() ?? "",
                node["value"] is JsonValue v && v.TryGetValue<string>(out var value) ? value : null))
            .ToList();

    /// <summary>
    /// Sends a post that must not be repeated blindly: a failure after which it may have reached AC becomes
    /// <see cref="AcOutcomeUnknownException"/>, which the pipeline does not retry. A 429/503 or a connection never
    /// made stays retryable.
    /// </summary>
    private async Task<(HttpStatusCode Status, string Text)> SendUnrepeatedAsync(
        HttpRequestMessage request, string endpoint, RateBudget budget, CancellationToken token, CancellationToken caller)
    {
        try
        {
            return await SendCheckedAsync(request, endpoint, budget, token);
        }
        catch (Exception e) when (AcOutcomeUnknownException.MayHaveReachedAc(e, caller))
        {
            throw new AcOutcomeUnknownException(endpoint, e);
        }
    }

    private static AcEventResult ReadEventResult(string text)
    {
        try
        {
            var json = JsonNode.Parse(text);
            var success = json?["success"] switch
            {
                JsonValue v when v.TryGetValue<long>(out var n) => n == 1,
                JsonValue v when v.TryGetValue<string>(out var s) => s == "1",
                JsonValue v when v.TryGetValue<bool>(out var b) => b,
                _ => false,
            };
            var message = json?["message"] is JsonValue m && m.TryGetValue<string>(out var s2) ? s2 : "";
            return new AcEventResult(success, message);
        }
        catch (JsonException)
        {
            return new AcEventResult(false, text.Length > 200 ? text[..200] : text);
        }
    }
}
