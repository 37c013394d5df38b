using System.Globalization;
using System.Net;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using KivaSync.SyncService.ActiveCampaign;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace KivaSync.SyncService.Errors;

/// <summary>The one place that turns failures into gRPC statuses, with Google.Rpc.Status details a caller can act on.</summary>
public static class GrpcErrors
{
    /// <summary>Trailer with the retry delay in whole milliseconds; the shipper reads it (besides RetryInfo in the details).</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    private const string Domain = "kivasync.kiva.dev";

    /// <summary>INVALID_ARGUMENT naming the bad field.</summary>
    public static RpcException InvalidArgument(string field, string description) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = $"{field}: {description}",
            Details = { Any.Pack(new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = description } } }) },
        }.ToRpcException();

    /// <summary>NOT_FOUND for a resource the caller named.</summary>
    public static RpcException NotFound(string resourceType, string resourceName, string description) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.NotFound,
            Message = description,
            Details = { Any.Pack(new ResourceInfo { ResourceType = resourceType, ResourceName = resourceName, Description = description }) },
        }.ToRpcException();

    /// <summary>FAILED_PRECONDITION: the system is not in a state to do this; the reason says what to fix.</summary>
    public static RpcException FailedPrecondition(string reason, string description) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.FailedPrecondition,
            Message = description,
            Details = { Any.Pack(new ErrorInfo { Reason = reason, Domain = Domain }) },
        }.ToRpcException();

    /// <summary>FAILED_PRECONDITION REDIS_STATE_LOST: Redis lost the tenant's state; nothing is accepted until an operator
    /// re-ships and acknowledges. The shipper keeps the batch and resends.</summary>
    public static RpcException StateLost(string tenant, string reason, string recovery) =>
        FailedPrecondition("REDIS_STATE_LOST", $"Redis lost the state of tenant \"{tenant}\" ({reason}); nothing was accepted. To recover: {recovery}");

    /// <summary>PERMISSION_DENIED: the caller is known but may not use this tenant.</summary>
    public static RpcException PermissionDenied(string description) => PermissionDenied("TENANT_NOT_ALLOWED", description);

    /// <summary>PERMISSION_DENIED: the caller is known but may not do this; <paramref name="reason"/> says why (ErrorInfo).</summary>
    public static RpcException PermissionDenied(string reason, string description) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.PermissionDenied,
            Message = description,
            Details = { Any.Pack(new ErrorInfo { Reason = reason, Domain = Domain }) },
        }.ToRpcException();

    /// <summary>UNAUTHENTICATED: no or wrong credentials. Never put a presented or configured token in <paramref name="description"/>.</summary>
    public static RpcException Unauthenticated(string reason, string description) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.Unauthenticated,
            Message = description,
            Details = { Any.Pack(new ErrorInfo { Reason = reason, Domain = Domain }) },
        }.ToRpcException();

    /// <summary>UNAVAILABLE with a retry delay: the caller should wait and try again; nothing was accepted.</summary>
    public static RpcException Unavailable(string description, TimeSpan retryAfter) =>
        WithRetryAfter(new Google.Rpc.Status
        {
            Code = (int)Code.Unavailable,
            Message = description,
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }) },
        }.ToRpcException(), retryAfter);

    /// <summary>RESOURCE_EXHAUSTED: the service is at its limit; retry after the delay (RetryInfo and the retry-after-ms trailer).</summary>
    public static RpcException ResourceExhausted(string reason, string description, TimeSpan retryAfter) =>
        WithRetryAfter(new Google.Rpc.Status
        {
            Code = (int)Code.ResourceExhausted,
            Message = description,
            Details =
            {
                Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }),
                Any.Pack(new ErrorInfo { Reason = reason, Domain = Domain }),
            },
        }.ToRpcException(), retryAfter);

    /// <summary>Maps infrastructure exceptions to the status a caller should see; null when not ours to map.</summary>
    public static RpcException? FromException(Exception exception) => exception switch
    {
        RpcException => null,
        InvalidProtocolBufferException or { InnerException: InvalidProtocolBufferException } =>
            InvalidArgument("message", "a request message is not valid protobuf for this method"),
        AcRequestException { Status: HttpStatusCode.Forbidden } =>
            FailedPrecondition("AC_API_KEY_REFUSED", "ActiveCampaign refused the tenant's API key (403); check the tenant's ApiKey setting"),
        AcRequestException e =>
            FailedPrecondition("AC_REFUSED", "ActiveCampaign refused a request: " + e.Message),
        AcTransientException or AcOutcomeUnknownException or BrokenCircuitException or TimeoutRejectedException or HttpRequestException =>
            Unavailable("ActiveCampaign is unavailable or slowing the tenant down right now; retry", TimeSpan.FromSeconds(30)),
        RedisConnectionException or RedisTimeoutException =>
            Unavailable("the sync service cannot reach Redis right now; nothing from this call was acknowledged, retry", TimeSpan.FromSeconds(1)),
        RedisServerException e when e.Message.StartsWith("KSSTATE", StringComparison.Ordinal) =>
            FailedPrecondition("REDIS_STATE_LOST", "Redis holds no intact state for this batch's tenant (its state marker is missing or marked lost); nothing was accepted. See `kivasync status` and README \"Operate\""),
        RedisServerException e when e.Message.StartsWith("LOADING", StringComparison.Ordinal) || e.Message.StartsWith("BUSY", StringComparison.Ordinal) =>
            Unavailable("Redis is loading or busy; retry", TimeSpan.FromSeconds(1)),
        _ => null,
    };

    private static RpcException WithRetryAfter(RpcException exception, TimeSpan retryAfter)
    {
        var ms = (long)Math.Ceiling(Math.Max(0, retryAfter.TotalMilliseconds));
        exception.Trailers.Add(RetryAfterTrailer, ms.ToString(CultureInfo.InvariantCulture));
        return exception;
    }
}
