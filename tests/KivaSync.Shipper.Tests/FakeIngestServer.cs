using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Grpc.Core;
using KivaSync.Contracts;
using KivaSync.Contracts.V1;
using KivaSync.SystemLog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper.Tests;

/// <summary>What the fake does with a batch it received.</summary>
public enum Reaction
{
    /// <summary>Acknowledge it (after the gate and delay).</summary>
    Ack,

    /// <summary>Fail the stream with UNAVAILABLE and a retry-after-ms trailer, without acknowledging it.</summary>
    Fail,

    /// <summary>Abort the HTTP/2 stream without a status.</summary>
    Drop,

    /// <summary>Record it and never acknowledge it (nor anything after it on this stream).</summary>
    Hang,
}

/// <summary>One batch as the fake received it.</summary>
public sealed record ReceivedBatch(int Stream, EntryBatch Batch);

/// <summary>
/// An in-process LogIngest: records every batch, acknowledges in order like the real service, rejects lines the
/// contract parser rejects, and can hold acknowledgements, fail or drop the stream.
/// </summary>
public sealed class FakeLogIngest : LogIngest.LogIngestBase
{
    private readonly Lock _gate = new();
    private readonly List<ReceivedBatch> _received = [];
    private readonly List<TaskCompletionSource> _waiters = [];
    private int _streams;
    private int _outstanding;

    /// <summary>Decides per batch (stream number, batch index within the stream counted from 1).</summary>
    public Func<int, int, EntryBatch, Reaction>? Behaviour { get; set; }

    /// <summary>When set, each acknowledgement waits for a permit.</summary>
    public SemaphoreSlim? AckGate { get; set; }

    /// <summary>Retry-after the fake asks for when it fails a stream.</summary>
    public int RetryAfterMs { get; set; } = 50;

    /// <summary>Most batches received and not yet acknowledged at once.</summary>
    public int MaxOutstanding { get; private set; }

    /// <summary>Per fingerprint, the highest end offset acknowledged so far (recorded before the ack is written).</summary>
    public ConcurrentDictionary<string, ulong> AckedEnd { get; } = new();

    /// <summary>The authorization header of each stream.</summary>
    public ConcurrentQueue<string?> AuthorizationHeaders { get; } = new();

    /// <summary>Streams opened so far.</summary>
    public int Streams => Volatile.Read(ref _streams);

    /// <summary>Every batch received, in order.</summary>
    public IReadOnlyList<ReceivedBatch> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Completes when at least <paramref name="count"/> batches were received.</summary>
    public async Task WaitForBatchesAsync(int count, CancellationToken ct)
    {
        while (true)
        {
            TaskCompletionSource waiter;
            lock (_gate)
            {
                if (_received.Count >= count)
                {
                    return;
                }

                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add(waiter);
            }

            await waiter.Task.WaitAsync(ct);
        }
    }

    /// <inheritdoc />
    public override async Task Ship(IAsyncStreamReader<EntryBatch> requestStream, IServerStreamWriter<BatchAck> responseStream, ServerCallContext context)
    {
        var stream = Interlocked.Increment(ref _streams);
        AuthorizationHeaders.Enqueue(context.RequestHeaders.GetValue("authorization"));
        var acks = Channel.CreateUnbounded<EntryBatch>();
        var writer = Task.Run(async () =>
        {
            await foreach (var batch in acks.Reader.ReadAllAsync(context.CancellationToken))
            {
                if (AckGate is { } gate)
                {
                    await gate.WaitAsync(context.CancellationToken);
                }

                AckedEnd.AddOrUpdate(batch.Source.Fingerprint, batch.EndOffset, (_, old) => Math.Max(old, batch.EndOffset));
                await responseStream.WriteAsync(Acknowledge(batch));
                lock (_gate)
                {
                    _outstanding--;
                }
            }
        });

        var index = 0;
        try
        {
            await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
            {
                index++;
                var reaction = Behaviour?.Invoke(stream, index, batch) ?? Reaction.Ack;
                if (reaction == Reaction.Fail)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, "the fake cannot make entries durable"), new Metadata { { "retry-after-ms", RetryAfterMs.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
                }

                if (reaction == Reaction.Drop)
                {
                    context.GetHttpContext().Abort();
                    return;
                }

                if (reaction == Reaction.Hang)
                {
                    Record(stream, batch);
                    await Task.Delay(Timeout.Infinite, context.CancellationToken);
                }

                List<TaskCompletionSource> wake;
                lock (_gate)
                {
                    _received.Add(new ReceivedBatch(stream, batch));
                    _outstanding++;
                    MaxOutstanding = Math.Max(MaxOutstanding, _outstanding);
                    wake = [.. _waiters];
                    _waiters.Clear();
                }

                wake.ForEach(w => w.TrySetResult());
                await acks.Writer.WriteAsync(batch, context.CancellationToken);
            }
        }
        finally
        {
            acks.Writer.TryComplete();
        }

        await writer;
    }

    private void Record(int stream, EntryBatch batch)
    {
        List<TaskCompletionSource> wake;
        lock (_gate)
        {
            _received.Add(new ReceivedBatch(stream, batch));
            wake = [.. _waiters];
            _waiters.Clear();
        }

        wake.ForEach(w => w.TrySetResult());
    }

    private static BatchAck Acknowledge(EntryBatch batch)
    {
        var ack = new BatchAck
        {
            Sequence = batch.Sequence,
            Fingerprint = batch.Source.Fingerprint,
            CheckpointOffset = batch.EndOffset,
        };
        foreach (var line in batch.Lines)
        {
            if (line.Raw.IsEmpty)
            {
                ack.Rejections.Add(new LineRejection { Offset = line.Offset, Reason = Contracts.V1.RejectReason.TooLong, Detail = $"line is {line.Length} bytes" });
                continue;
            }

            // The service's own parse of the raw bytes is the authority, not the shipper's advisory one.
            var outcome = SystemLogParser.Parse(line.Raw.Span, batch.Source.Tenant, DateTimeOffset.UtcNow);
            if (outcome.IsAccepted || outcome.IsBlank)
            {
                ack.Accepted++;
            }
            else
            {
                ack.Rejections.Add(new LineRejection { Offset = line.Offset, Reason = outcome.Reason.ToWire(), Detail = outcome.Detail ?? "" });
            }
        }

        return ack;
    }
}

/// <summary>Kestrel on 127.0.0.1 (HTTP/2 without TLS) hosting a <see cref="FakeLogIngest"/>.</summary>
public sealed class FakeIngestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeIngestServer(WebApplication app, FakeLogIngest service, Uri url)
    {
        _app = app;
        Service = service;
        Url = url;
    }

    public FakeLogIngest Service { get; }

    public Uri Url { get; }

    /// <summary>Starts a server on <paramref name="port"/> (0: any free port).</summary>
    public static async Task<FakeIngestServer> StartAsync(FakeLogIngest? service = null, int port = 0)
    {
        service ??= new FakeLogIngest();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<FakeLogIngest>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeIngestServer(app, service, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
