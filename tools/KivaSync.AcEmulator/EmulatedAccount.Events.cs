using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KivaSync.AcEmulator;

// Event tracking: the API switch, registered names, and the tracking endpoint (trackcmp.net/event).
public sealed partial class EmulatedAccount
{
    /// <summary>AC takes event names of at most 32 characters.</summary>
    public const int MaxEventNameLength = 32;

    private readonly List<string> _eventNames = [];
    private readonly List<EmulatedEvent> _events = [];
    private bool _eventTrackingEnabled;
    private int _eventFailures;
    private int _dropNextAnswers;
    private int _loseNextEvents;
    private DateTimeOffset? _dropAnswersUntil;
    private int _droppedAnswers;

    /// <summary>The next this-many tracking posts are answered 503 with Retry-After and not recorded (fault injection).</summary>
    public int FailNextEvents
    {
        get { lock (_gate) { return _eventFailures; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate) { _eventFailures = value; }
        }
    }

    /// <summary>
    /// The next this-many tracking posts are processed as usual (a valid event is recorded) and then get no answer:
    /// the connection is aborted, so the client sees a request that was sent and an answer that was lost.
    /// </summary>
    public int DropNextEventAnswers
    {
        get { lock (_gate) { return _dropNextAnswers; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate) { _dropNextAnswers = value; }
        }
    }

    /// <summary>
    /// Every tracking post received before this time (the account's clock) is processed and then gets no answer,
    /// like <see cref="DropNextEventAnswers"/>: AC's connection cut for a window. Null (default): no window.
    /// </summary>
    public DateTimeOffset? DropEventAnswersUntil
    {
        get { lock (_gate) { return _dropAnswersUntil; } }
        set { lock (_gate) { _dropAnswersUntil = value; } }
    }

    /// <summary>
    /// The next this-many tracking posts are lost before AC processes them: nothing recorded, the connection aborted.
    /// To the client this looks exactly like <see cref="DropNextEventAnswers"/>; only a look-up tells them apart.
    /// </summary>
    public int LoseNextEvents
    {
        get { lock (_gate) { return _loseNextEvents; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate) { _loseNextEvents = value; }
        }
    }

    /// <summary>How many tracking posts got no answer (dropped after or lost before processing).</summary>
    public int DroppedEventAnswers
    {
        get { lock (_gate) { return _droppedAnswers; } }
    }

    /// <summary>Whether event tracking is switched on (PUT /api/3/eventTracking).</summary>
    public bool EventTrackingEnabled
    {
        get { lock (_gate) { return _eventTrackingEnabled; } }
        set { lock (_gate) { _eventTrackingEnabled = value; } }
    }

    /// <summary>Registered event names, in registration order.</summary>
    public IReadOnlyList<string> EventNames()
    {
        lock (_gate) { return [.. _eventNames]; }
    }

    /// <summary>Events AC accepted ("Event spawned"), oldest first.</summary>
    public IReadOnlyList<EmulatedEvent> Events()
    {
        lock (_gate) { return [.. _events]; }
    }

    private ApiResult GetEventTracking() =>
        ApiResult.Ok(new JsonObject { ["eventTracking"] = new JsonObject { ["enabled"] = _eventTrackingEnabled } });

    private ApiResult SetEventTracking(JsonNode? root)
    {
        var e = AcJson.Envelope(root, "eventTracking");
        if (!e.ContainsKey("enabled"))
        {
            return ApiResult.Unprocessable("field_missing", "Enabled is required.", "/data/attributes/enabled");
        }

        if (AcJson.Bool(e["enabled"]) is not { } enabled)
        {
            return ApiResult.Unprocessable("field_invalid", "Enabled must be true or false.", "/data/attributes/enabled");
        }

        _eventTrackingEnabled = enabled;
        return GetEventTracking();
    }

    private ApiResult ListEventNames(IQueryCollection q) =>
        ApiResult.Ok(AcJson.Page(_eventNames, q, "eventTrackingEvents", n => new JsonObject { ["name"] = n }));

    private ApiResult CreateEventName(JsonNode? root)
    {
        var name = AcJson.Text(AcJson.Envelope(root, "eventTrackingEvent")["name"])?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            return ApiResult.Unprocessable("field_missing", "Name is required.", "/data/attributes/name");
        }

        if (name.Length > MaxEventNameLength)
        {
            return ApiResult.Unprocessable("field_invalid", "Event names are at most 32 characters.", "/data/attributes/name");
        }

        if (_eventNames.Exists(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)))
        {
            return ApiResult.Unprocessable("duplicate", "An event with this name already exists.", "/data/attributes/name");
        }

        _eventNames.Add(name);
        return ApiResult.Created(new JsonObject { ["eventTrackingEvent"] = new JsonObject { ["name"] = name } });
    }

    private bool _eventsCountAgainstApiLimit;

    /// <summary>When true, event posts share the account's API window (RequestsPerSecond): over it they get 429 like any
    /// API call. AC publishes no limit for tracking; this lets a test hold a client to the contract's default.</summary>
    public bool EventsCountAgainstApiLimit
    {
        get { lock (_gate) { return _eventsCountAgainstApiLimit; } }
        set { lock (_gate) { _eventsCountAgainstApiLimit = value; } }
    }

    /// <summary>
    /// Answers one tracking post (form fields already read). Rate limited only with <see cref="EventsCountAgainstApiLimit"/>; failed only by <see cref="FailNextEvents"/>
    /// (503, not recorded) and left without an answer by <see cref="LoseNextEvents"/> (not recorded),
    /// <see cref="DropNextEventAnswers"/> and <see cref="DropEventAnswersUntil"/> (recorded).
    /// </summary>
    internal async Task HandleEventAsync(HttpContext context, IFormCollection form)
    {
        ApiResult? result = null;
        DateTimeOffset at;
        TimeSpan latency;
        var drop = false;
        lock (_gate)
        {
            at = _time.GetUtcNow();
            latency = _latency;
            if (_eventsCountAgainstApiLimit && !_apiWindow.TryAcquire(_requestsPerSecond))
            {
                _tooManyRequests++;
                result = ApiResult.Message(StatusCodes.Status429TooManyRequests, "Too many requests: at most " + AcJson.Str(_requestsPerSecond) + " per second", retryAfter: 1);
            }
            else if (_eventFailures > 0)
            {
                _eventFailures--;
                result = ApiResult.Message(StatusCodes.Status503ServiceUnavailable, "Service temporarily unavailable", retryAfter: 1);
            }
            else if (_loseNextEvents > 0)
            {
                _loseNextEvents--;
                drop = true;
            }
            else
            {
                result = TrackEvent(form, at);
                if (_dropNextAnswers > 0)
                {
                    _dropNextAnswers--;
                    drop = true;
                }
                else
                {
                    drop = at < _dropAnswersUntil;
                }
            }

            if (drop)
            {
                _droppedAnswers++;
            }
        }

        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, context.RequestAborted);
        }

        Record(context.Request.Method, "/event", context.Request.QueryString.Value ?? "", drop ? 0 : result!.Status, at, body: null);
        if (drop)
        {
            // No status line, no byte: the client cannot tell whether the event was filed.
            context.Abort();
            return;
        }

        await WriteAsync(context, result!);
    }

    /// <summary>GET contacts/{id}/trackingLogs: the events filed under the contact, oldest first, paged (limit/offset).</summary>
    private ApiResult TrackingLogsOf(string contactId, IQueryCollection q) =>
        _contactsById.ContainsKey(contactId)
            ? ApiResult.Ok(AcJson.Page(_events.Where(e => e.ContactId == contactId).ToList(), q, "trackingLogs", e => new JsonObject
            {
                ["contact"] = e.ContactId,
                ["type"] = e.Name,
                ["value"] = e.EventData,
                ["tstamp"] = AcJson.Stamp(e.ReceivedAt),
                ["id"] = e.Id,
            }))
            : ApiResult.NotFound("Subscriber", contactId);

    internal static ApiResult EventRefused(string message) =>
        ApiResult.Ok(new JsonObject { ["success"] = 0, ["message"] = message });

    private ApiResult TrackEvent(IFormCollection form, DateTimeOffset at)
    {
        if (!string.Equals(form["key"].ToString(), EventKey, StringComparison.Ordinal))
        {
            return EventRefused("Invalid key");
        }

        var name = form["event"].ToString();
        if (name.Length == 0)
        {
            return EventRefused("An event name is required");
        }

        if (name.Length > MaxEventNameLength)
        {
            return EventRefused("Event names are at most 32 characters");
        }

        if (!_eventTrackingEnabled)
        {
            return EventRefused("Event tracking is not enabled for this account");
        }

        var registered = _eventNames.Find(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        if (registered is null)
        {
            return EventRefused("Event name is not registered");
        }

        string? email;
        try
        {
            email = AcJson.Text(JsonNode.Parse(form["visit"].ToString())?["email"])?.Trim();
        }
        catch (JsonException)
        {
            email = null;
        }

        if (string.IsNullOrEmpty(email))
        {
            return EventRefused("visit must be JSON with an email");
        }

        if (!_contactsByEmail.TryGetValue(email, out var contact))
        {
            return EventRefused("No contact with this email");
        }

        var data = form.TryGetValue("eventdata", out var eventData) ? eventData.ToString() : null;
        _events.Add(new EmulatedEvent(registered, email, data, at, contact.Id, NextId()));
        return ApiResult.Ok(new JsonObject { ["success"] = 1, ["message"] = "Event spawned" });
    }
}
