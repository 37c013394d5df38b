using System.Collections.Frozen;
using Google.Protobuf;
using Grpc.Core;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Telemetry;

namespace KivaSync.SyncService.Hosting;

/// <summary>
/// Reads a unary call's request message before gRPC does and answers INVALID_ARGUMENT itself when it is not valid
/// protobuf. gRPC reads a unary message before any interceptor runs (so before authentication) and answered UNKNOWN
/// with an error and its stack trace in the log for each; here a flood of them costs one short line a minute.
/// Streaming calls read their messages inside the handler, after authentication: ErrorMappingInterceptor maps those.
/// </summary>
internal sealed partial class MalformedMessageGuard(RequestDelegate next, TimeProvider time, ILogger<MalformedMessageGuard> logger)
{
    private const int FrameHeaderBytes = 5;
    private static readonly FrozenDictionary<string, MessageParser> UnaryParsers = Parsers(LogIngest.Descriptor, SyncApi.Descriptor);
    private readonly LogThrottle throttle = new(time, TimeSpan.FromMinutes(1));

    /// <summary>Largest request message read here; a larger one is left to gRPC's own limit.</summary>
    private const int MaxMessageBytes = KivaSyncHostingExtensions.MaxReceiveMessageBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!UnaryParsers.TryGetValue(context.Request.Path.Value ?? "", out var parser)
            || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) != true
            || context.Request.ContentLength > MaxMessageBytes + FrameHeaderBytes)
        {
            await next(context);
            return;
        }

        context.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: MaxMessageBytes + FrameHeaderBytes);
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > MaxMessageBytes + FrameHeaderBytes)
            {
                // Over the limit: gRPC refuses it with RESOURCE_EXHAUSTED.
                context.Request.Body.Position = 0;
                await next(context);
                return;
            }
        }

        context.Request.Body.Position = 0;
        if (IsMalformed(body.GetBuffer().AsSpan(0, (int)body.Length), parser))
        {
            if (throttle.ShouldLog(out var leftOut))
            {
                MalformedRefused(logger, context.Request.Path.Value ?? "", leftOut);
            }

            // A trailers-only gRPC answer: the status goes in the headers.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = "the request message is not valid protobuf for this method";
            await context.Response.CompleteAsync();
            return;
        }

        await next(context);
    }

    /// <summary>True only for one whole, uncompressed frame whose message cannot be parsed; anything else is gRPC's to judge.</summary>
    private static bool IsMalformed(ReadOnlySpan<byte> body, MessageParser parser)
    {
        if (body.Length < FrameHeaderBytes || body[0] != 0)
        {
            return false;
        }

        var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(body[1..FrameHeaderBytes]);
        if (length != body.Length - FrameHeaderBytes)
        {
            return false;
        }

        try
        {
            parser.ParseFrom(body[FrameHeaderBytes..].ToArray());
            return false;
        }
        catch (InvalidProtocolBufferException)
        {
            return true;
        }
    }

    private static FrozenDictionary<string, MessageParser> Parsers(params Google.Protobuf.Reflection.ServiceDescriptor[] services) =>
        services.SelectMany(s => s.Methods.Where(m => !m.IsClientStreaming).Select(m => KeyValuePair.Create($"/{s.FullName}/{m.Name}", m.InputType.Parser)))
            .ToFrozenDictionary(StringComparer.Ordinal);

    [LoggerMessage(120, LogLevel.Warning, "Refused a gRPC call to {Method} whose request is not valid protobuf ({LeftOut} more since the last such line)")]
    private static partial void MalformedRefused(ILogger logger, string method, long leftOut);
}
