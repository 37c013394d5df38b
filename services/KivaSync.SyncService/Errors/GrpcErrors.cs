using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using StackExchange.Redis;

namespace KivaSync.SyncService.Errors;

/// <summary>The one place that turns failures into gRPC statuses, with Google.Rpc.Status details a caller can act on.</summary>
public static class GrpcErrors
{
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

    /// <summary>PERMISSION_DENIED: the caller is known but may not do this.</summary>
    public static RpcException PermissionDenied(string description) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.PermissionDenied,
            Message = description,
            Details = { Any.Pack(new ErrorInfo { Reason = "TENANT_NOT_ALLOWED", Domain = Domain }) },
        }.ToRpcException();

    /// <summary>UNAUTHENTICATED: no or wrong credentials.</summary>
    public static RpcException Unauthenticated(string description) =>
        new Google.Rpc.Status { Code = (int)Code.Unauthenticated, Message = description }.ToRpcException();

    /// <summary>UNAVAILABLE with a retry delay: the caller should wait and try again; nothing was accepted.</summary>
    public static RpcException Unavailable(string description, TimeSpan retryAfter) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.Unavailable,
            Message = description,
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }) },
        }.ToRpcException();

    /// <summary>Maps infrastructure exceptions to the status a caller should see; null when not ours to map.</summary>
    public static RpcException? FromException(Exception exception) => exception switch
    {
        RpcException => null,
        RedisConnectionException or RedisTimeoutException =>
            Unavailable("the sync service cannot reach Redis right now; nothing from this call was acknowledged, retry", TimeSpan.FromSeconds(1)),
        RedisServerException e when e.Message.StartsWith("LOADING", StringComparison.Ordinal) || e.Message.StartsWith("BUSY", StringComparison.Ordinal) =>
            Unavailable("Redis is loading or busy; retry", TimeSpan.FromSeconds(1)),
        _ => null,
    };
}
