using System.Net;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>AC refused a request. <see cref="Code"/> is the 422 error code when AC gave one
/// (duplicate, field_missing, field_invalid, related_missing).</summary>
public sealed class AcRequestException(HttpStatusCode status, string? code, string message)
    : Exception(message)
{
    /// <summary>The HTTP status AC answered.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>The first error's code, if any.</summary>
    public string? Code { get; } = code;

    /// <summary>True when retrying the same request can succeed.</summary>
    public bool IsTransient => Status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)Status >= 500;
}

/// <summary>
/// A post that must not be repeated blindly (an event: AC's tracking endpoint has no idempotency key) failed after it
/// may have reached AC, so whether AC acted on it is unknown. The pipeline never retries it; the caller looks the
/// outcome up before sending again.
/// </summary>
public sealed class AcOutcomeUnknownException(string endpoint, Exception inner)
    : Exception($"the answer to {endpoint} was lost ({inner.Message}); whether AC took it is unknown", inner)
{
    /// <summary>
    /// Whether a request that failed may have reached AC and been acted on. Not delivered: AC answered 429 or 503 (it
    /// refused the request before acting on it), or no connection was made (name resolution, refused connection, TLS,
    /// proxy). Maybe delivered: any other 5xx (a gateway's 502/504, a 500 after the work), a connection reset or an
    /// answer that ended early, a timeout (<paramref name="caller"/> not cancelled: the request may be in AC's hands).
    /// </summary>
    public static bool MayHaveReachedAc(Exception exception, CancellationToken caller) => exception switch
    {
        AcTransientException e => e.Status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable),
        HttpRequestException e => e.HttpRequestError is not (HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError
            or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError),
        OperationCanceledException => !caller.IsCancellationRequested,
        _ => false,
    };
}

/// <summary>AC asked us to slow down or is briefly unavailable (429, 503, other 5xx). Retried by the pipeline.</summary>
public sealed class AcTransientException(HttpStatusCode status, TimeSpan? retryAfter, string message)
    : Exception(message)
{
    /// <summary>The HTTP status AC answered.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>AC's Retry-After, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
