using Grpc.Core;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper;

/// <summary>How the shipper reaches the service; tests and benchmarks may bring their own HTTP handler.</summary>
/// <param name="Handler">The HTTP handler of the gRPC channel; null: a SocketsHttpHandler with keep-alive pings.</param>
public sealed record ShipperTransport(HttpMessageHandler? Handler);

/// <summary>The gRPC channel to the service and its LogIngest.Ship calls, with the token and compression headers.</summary>
internal sealed class IngestChannel : IDisposable
{
    private readonly ShipperOptions _options;
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;

    public IngestChannel(ShipperOptions options, ILoggerFactory loggerFactory, ShipperTransport? transport = null)
    {
        _options = options;
        _channel = GrpcChannel.ForAddress(options.ServiceUrl!, new GrpcChannelOptions
        {
            HttpHandler = transport?.Handler ?? new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                // Pings find a dead connection even while no acknowledgement is due.
                KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            },
            DisposeHttpClient = true,
            LoggerFactory = loggerFactory,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
            CompressionProviders = [new BufferedGzipProvider()],
        });
        _invoker = _channel.CreateCallInvoker();
    }

    /// <summary>Opens a LogIngest.Ship stream.</summary>
    public AsyncDuplexStreamingCall<EncodedBatch, BatchAck> OpenShip(CancellationToken ct)
    {
        var headers = new Metadata();
        if (!string.IsNullOrEmpty(_options.BearerToken))
        {
            headers.Add("authorization", "Bearer " + _options.BearerToken);
        }

        if (_options.Compress)
        {
            headers.Add("grpc-internal-encoding-request", "gzip");
        }

        return _invoker.AsyncDuplexStreamingCall(EncodedBatch.ShipMethod, null, new CallOptions(headers, cancellationToken: ct));
    }

    public void Dispose() => _channel.Dispose();
}
