using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Telemetry;

namespace KivaSync.SyncService.Security;

/// <summary>
/// Authenticates every gRPC call before its handler runs and attaches the caller's <see cref="CallerAccess"/>;
/// handlers then check tenants with it. Runs for every service (fail closed), except the gRPC health service,
/// which Kubernetes probes call without credentials.
/// </summary>
internal sealed class CallerAuthenticationInterceptor(
    CallerAuthenticator authenticator, SyncTelemetry telemetry, RefusalLogThrottle throttle, ILogger<CallerAuthenticationInterceptor> logger) : Interceptor
{
    private const string HealthServicePrefix = "/grpc.health.v1.Health/";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException e) when (CountRefusal(e))
        {
            throw;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        try
        {
            return await continuation(requestStream, context);
        }
        catch (RpcException e) when (CountRefusal(e))
        {
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (RpcException e) when (CountRefusal(e))
        {
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (RpcException e) when (CountRefusal(e))
        {
            throw;
        }
    }

    /// <summary>Counts tenant refusals and overload; never catches (always false).</summary>
    private bool CountRefusal(RpcException e)
    {
        if (e.StatusCode is StatusCode.PermissionDenied or StatusCode.ResourceExhausted)
        {
            telemetry.CallsRefused.Add(1, new KeyValuePair<string, object?>(SyncTelemetry.Tags.GrpcStatus, e.StatusCode.ToString()));
        }

        return false;
    }

    private static string MethodName(string method) => method[(method.LastIndexOf('/') + 1)..];

    private void Authenticate(ServerCallContext context)
    {
        if (context.Method.StartsWith(HealthServicePrefix, StringComparison.Ordinal))
        {
            CallerAccess.Open.AttachTo(context);
            return;
        }

        var certificate = context.GetHttpContext().Connection.ClientCertificate;
        var access = authenticator.Authenticate(context.RequestHeaders.GetValue("authorization"), certificate, out var failure);
        if (access is null)
        {
            // Anyone can send these: one line a minute, the rest counted in it (and in kivasync.calls.refused).
            if (throttle.Throttle.ShouldLog(out var leftOut))
            {
                SecurityLog.CallRefused(logger, context.Method, context.Peer, failure, leftOut);
            }

            telemetry.CallsRefused.Add(1, new KeyValuePair<string, object?>(SyncTelemetry.Tags.GrpcStatus, nameof(StatusCode.Unauthenticated)));
            throw failure switch
            {
                AuthenticationFailure.MalformedAuthorization =>
                    GrpcErrors.Unauthenticated("MALFORMED_AUTHORIZATION", "the authorization metadata must be \"Bearer <token>\""),
                AuthenticationFailure.InvalidToken =>
                    GrpcErrors.Unauthenticated("INVALID_TOKEN", "the bearer token is not valid for this service"),
                AuthenticationFailure.UnknownCertificate =>
                    GrpcErrors.Unauthenticated("UNKNOWN_CERTIFICATE", "the client certificate's subject is not a configured caller"),
                _ => GrpcErrors.Unauthenticated("MISSING_CREDENTIALS", "this service needs \"authorization: Bearer <token>\" metadata or a client certificate"),
            };
        }

        Activity.Current?.SetTag(SyncTelemetry.Tags.Caller, access.Caller);
        // Before the handler, so a caller without the scope learns nothing about tenants either. A method no scope
        // grants is refused (fail closed) unless the service runs open.
        var scope = CallerScopes.RequiredFor(context.Method);
        if (!authenticator.IsOpen && (scope is null || !access.Has(scope)))
        {
            telemetry.CallsRefused.Add(1, new KeyValuePair<string, object?>(SyncTelemetry.Tags.GrpcStatus, nameof(StatusCode.PermissionDenied)));
            throw scope is null
                ? GrpcErrors.PermissionDenied("SCOPE_MISSING", $"no caller scope grants {context.Method}")
                : GrpcErrors.PermissionDenied("SCOPE_MISSING", $"caller \"{access.Caller}\" lacks the \"{scope}\" scope that {MethodName(context.Method)} needs (KivaSync:Callers:{access.Caller}:Scopes)");
        }

        access.AttachTo(context);
    }
}
