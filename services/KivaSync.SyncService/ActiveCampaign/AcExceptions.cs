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

/// <summary>AC asked us to slow down or is briefly unavailable (429, 503, other 5xx). Retried by the pipeline.</summary>
public sealed class AcTransientException(HttpStatusCode status, TimeSpan? retryAfter, string message)
    : Exception(message)
{
    /// <summary>The HTTP status AC answered.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>AC's Retry-After, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
