using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KivaSync.AcEmulator;

/// <summary>
/// One emulated AC account (tenant): its data, its API key, its rate limit and fault knobs.
/// Thread-safe: every read and write takes the account's lock; snapshots are copies.
/// </summary>
public sealed partial class EmulatedAccount
{
    /// <summary>Fault injection is seeded so a failing run can be repeated.</summary>
    public const int FaultSeed = 20_261_126;

    // AC writes "+" and non-ASCII characters as they are, not as \uXXXX escapes.
    private static readonly JsonSerializerOptions Output = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SlidingWindow _apiWindow;
    private readonly Random _faults = new(FaultSeed);
    private readonly List<EmulatedRequest> _requests = [];
    private long _nextId;
    private int _requestsPerSecond;
    private int _tooManyRequests;
    private double _failureRate;
    private int _faultRetryAfterSeconds = 1;
    private TimeSpan _latency;

    internal EmulatedAccount(string name, string apiToken, string actId, string eventKey, int requestsPerSecond, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerSecond, 1);
        Name = name;
        ApiToken = apiToken;
        ActId = actId;
        EventKey = eventKey;
        _requestsPerSecond = requestsPerSecond;
        _time = time;
        _logger = logger;
        _apiWindow = new SlidingWindow(time, TimeSpan.FromSeconds(1));
        _bulkSingleWindow = new SlidingWindow(time, TimeSpan.FromMinutes(1));
        _bulkMultiWindow = new SlidingWindow(time, TimeSpan.FromMinutes(1));
        BulkWorker = Task.Run(() => RunBulkWorkerAsync(stopping), CancellationToken.None);
    }

    /// <summary>The account's name: the first path segment of its API URL.</summary>
    public string Name { get; }

    /// <summary>The key every API call must send in the Api-Token header.</summary>
    public string ApiToken { get; }

    /// <summary>The account id event-tracking posts send as actid.</summary>
    public string ActId { get; }

    /// <summary>The event key event-tracking posts send as key (not the API token).</summary>
    public string EventKey { get; }

    /// <summary>Admitted API requests per rolling second (AC: 5).</summary>
    public int RequestsPerSecond
    {
        get { lock (_gate) { return _requestsPerSecond; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (_gate) { _requestsPerSecond = value; }
        }
    }

    /// <summary>Share (0..1) of admitted API requests answered 503 + Retry-After instead of being applied.</summary>
    public double FailureRate
    {
        get { lock (_gate) { return _failureRate; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 0);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1);
            lock (_gate) { _failureRate = value; }
        }
    }

    /// <summary>The Retry-After (whole seconds) an injected 503 carries; default 1. Zero ("retry at once") keeps
    /// long fault tests fast while still making every failed request retry.</summary>
    public int FaultRetryAfterSeconds
    {
        get { lock (_gate) { return _faultRetryAfterSeconds; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 0);
            lock (_gate) { _faultRetryAfterSeconds = value; }
        }
    }

    /// <summary>Delay added to every answer (API and event tracking).</summary>
    public TimeSpan Latency
    {
        get { lock (_gate) { return _latency; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate) { _latency = value; }
        }
    }

    /// <summary>How many requests were answered 429.</summary>
    public int TooManyRequestsCount
    {
        get { lock (_gate) { return _tooManyRequests; } }
    }

    internal Task BulkWorker { get; }

    /// <summary>Every request the account received, oldest first.</summary>
    public IReadOnlyList<EmulatedRequest> Requests()
    {
        lock (_gate) { return [.. _requests]; }
    }

    private string NextId() => (++_nextId).ToString(CultureInfo.InvariantCulture);

    private void Record(string method, string path, string query, int status, DateTimeOffset at, string? body)
    {
        lock (_gate) { _requests.Add(new EmulatedRequest(method, path, query, status, at, body)); }
    }

    /// <summary>Answers one call under /{account}/api/3/: auth, rate limit, faults, then the endpoint.</summary>
    internal async Task HandleApiAsync(HttpContext context, string path, string[] route)
    {
        var request = context.Request;
        var ct = context.RequestAborted;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        var bodyBytes = (int)buffer.Length;
        var body = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, bodyBytes);
        var token = request.Headers["Api-Token"].ToString();

        ApiResult result;
        DateTimeOffset at;
        TimeSpan latency;
        lock (_gate)
        {
            at = _time.GetUtcNow();
            latency = _latency;
            if (!string.Equals(token, ApiToken, StringComparison.Ordinal))
            {
                result = ApiResult.Message(StatusCodes.Status403Forbidden, "You are not authorized to access this resource");
            }
            else if (!_apiWindow.TryAcquire(_requestsPerSecond))
            {
                _tooManyRequests++;
                result = ApiResult.Message(StatusCodes.Status429TooManyRequests, "Too many requests: at most " + AcJson.Str(_requestsPerSecond) + " per second", retryAfter: 1);
            }
            else if (_failureRate > 0 && _faults.NextDouble() < _failureRate)
            {
                result = ApiResult.Message(StatusCodes.Status503ServiceUnavailable, "Service temporarily unavailable", retryAfter: _faultRetryAfterSeconds);
            }
            else
            {
                result = Dispatch(request.Method, route, request.Query, body, bodyBytes);
            }
        }

        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, ct);
        }

        Record(request.Method, path, request.QueryString.Value ?? "", result.Status, at, body.Length == 0 ? null : body);
        Log.ApiAnswered(_logger, Name, request.Method, path, result.Status);
        await WriteAsync(context, result);
    }

    internal static async Task WriteAsync(HttpContext context, ApiResult result)
    {
        var response = context.Response;
        response.StatusCode = result.Status;
        if (result.RetryAfter is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json; charset=utf-8";
        await response.WriteAsync(result.Body.ToJsonString(Output), context.RequestAborted);
    }

    private static bool Is(string[] route, params string[] pattern)
    {
        if (route.Length != pattern.Length)
        {
            return false;
        }

        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] != "*" && !string.Equals(route[i], pattern[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private ApiResult Dispatch(string method, string[] r, IQueryCollection q, string body, int bodyBytes)
    {
        var get = HttpMethods.IsGet(method);
        var post = HttpMethods.IsPost(method);
        var put = HttpMethods.IsPut(method);
        var delete = HttpMethods.IsDelete(method);

        ApplyDueGraphQl();
        if (post && Is(r, "ecom", "graphql"))
        {
            return GraphQl(body, bodyBytes);
        }

        JsonNode? root = null;
        if ((post || put) && !string.IsNullOrWhiteSpace(body))
        {
            // Bulk import's byte limit is checked on the raw body, before parsing.
            if (post && Is(r, "import", "bulk_import") && bodyBytes > BulkMaxBytes)
            {
                return BulkRejected("The request is larger than 400000 bytes.");
            }

            try
            {
                root = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                return ApiResult.BareBadRequest();
            }
        }

        var id = r.Length > 1 ? r[1] : "";
        return true switch
        {
            _ when post && Is(r, "contact", "sync") => ContactSync(root),
            _ when get && Is(r, "contacts") => ListContacts(q),
            _ when get && Is(r, "contacts", "*") => GetContact(id),
            _ when put && Is(r, "contacts", "*") => UpdateContact(id, root),
            _ when get && Is(r, "contacts", "*", "contactLists") => ContactListsOf(id),
            _ when get && Is(r, "contacts", "*", "contactTags") => ContactTagsOf(id),
            _ when get && Is(r, "contacts", "*", "fieldValues") => FieldValuesOf(id),
            _ when get && Is(r, "contacts", "*", "trackingLogs") => TrackingLogsOf(id, q),
            _ when get && Is(r, "fields") => ListFields(q),
            _ when post && Is(r, "fields") => CreateField(root),
            _ when get && Is(r, "fields", "*") => GetField(id),
            _ when get && Is(r, "fieldRels") => ListFieldRels(q),
            _ when post && Is(r, "fieldRels") => CreateFieldRel(root),
            _ when get && Is(r, "fieldValues") => ListFieldValues(q),
            _ when post && Is(r, "fieldValues") => CreateFieldValue(root),
            _ when get && Is(r, "fieldValues", "*") => GetFieldValue(id),
            _ when get && Is(r, "lists") => ListLists(q),
            _ when post && Is(r, "lists") => CreateList(root),
            _ when get && Is(r, "lists", "*") => GetList(id),
            _ when post && Is(r, "contactLists") => SetContactList(root),
            _ when get && Is(r, "tags") => ListTags(q),
            _ when post && Is(r, "tags") => CreateTag(root),
            _ when get && Is(r, "tags", "*") => GetTag(id),
            _ when post && Is(r, "contactTags") => AddContactTag(root),
            _ when get && Is(r, "contactTags", "*") => GetContactTag(id),
            _ when delete && Is(r, "contactTags", "*") => DeleteContactTag(id),
            _ when get && Is(r, "eventTracking") => GetEventTracking(),
            _ when put && Is(r, "eventTracking") => SetEventTracking(root),
            _ when get && Is(r, "eventTrackingEvents") => ListEventNames(q),
            _ when post && Is(r, "eventTrackingEvents") => CreateEventName(root),
            _ when get && Is(r, "connections") => ListConnections(q),
            _ when post && Is(r, "connections") => CreateConnection(root),
            _ when get && Is(r, "connections", "*") => GetConnection(id),
            _ when get && Is(r, "ecomCustomers") => ListEcomCustomers(q),
            _ when post && Is(r, "ecomCustomers") => CreateEcomCustomer(root),
            _ when get && Is(r, "ecomCustomers", "*") => GetEcomCustomer(id),
            _ when get && Is(r, "ecomOrders") => ListEcomOrders(q),
            _ when post && Is(r, "ecomOrders") => CreateEcomOrder(root),
            _ when get && Is(r, "ecomOrders", "*") => GetEcomOrder(id),
            _ when put && Is(r, "ecomOrders", "*") => UpdateEcomOrder(id, root),
            _ when post && Is(r, "import", "bulk_import") => QueueBulkImport(root),
            _ when get && Is(r, "import", "info") => BulkImportInfo(q),
            _ => ApiResult.Message(StatusCodes.Status404NotFound, "No route for " + method + " /api/3/" + string.Join('/', r)),
        };
    }
}
