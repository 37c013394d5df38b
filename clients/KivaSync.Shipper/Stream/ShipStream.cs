using System.Diagnostics;
using Google.Protobuf.Collections;
using Grpc.Core;
using KivaSync.Contracts.V1;
using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper;

/// <summary>
/// One LogIngest.Ship stream: sends batches from the <see cref="IBatchSource"/> while the window has room, hands each
/// acknowledgement to the <see cref="IAckSink"/> in order, and fails when a batch waits longer than AckTimeout.
/// </summary>
internal sealed class ShipStream(
    ShipperOptions options,
    IngestChannel channel,
    IBatchSource source,
    IAckSink acks,
    InFlightWindow inFlight,
    ConnectionState connection,
    TimeProvider time,
    ShipperMetrics metrics,
    ILogger<ShipStream> logger)
{
    /// <summary>Runs one stream until it fails (<see cref="StreamFailedException"/>), the service ends it, or
    /// <paramref name="drain"/> asks it to finish: then it sends nothing more and waits for the acknowledgements.</summary>
    /// <returns>True when at least one batch was acknowledged.</returns>
    public async Task<bool> RunAsync(CancellationToken drain, CancellationToken hard)
    {
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(hard);
        source.ResetToAcked();
        var state = new StreamState(new SemaphoreSlim(options.MaxInFlightBatches, options.MaxInFlightBatches));
        using var window = state.Window;
        using var call = channel.OpenShip(streamCts.Token);
        _ = call.ResponseHeadersAsync.ContinueWith(
            headersTask => connection.Connected |= headersTask.IsCompletedSuccessfully && !streamCts.IsCancellationRequested,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        var receive = ReceiveAsync(call.ResponseStream, state, streamCts.Token);
        var send = PumpAsync(call.RequestStream, state, drain, streamCts.Token);
        var watchdog = WatchdogAsync(streamCts.Token);
        var first = await Task.WhenAny(receive, send, watchdog);
        try
        {
            if (first == send && send.IsCompletedSuccessfully)
            {
                // Drained: the request stream is complete; the service ends the response stream after the last ack.
                using var grace = CancellationTokenSource.CreateLinkedTokenSource(hard);
                grace.CancelAfter(options.AckTimeout);
                await receive.WaitAsync(grace.Token);
                return state.Acked;
            }

            await streamCts.CancelAsync();
            await receive.IgnoreFailure();
            await send.IgnoreFailure();
            await watchdog.IgnoreFailure();
            // The response side carries the service's status and trailers (retry-after-ms): prefer it.
            var failure = receive.Exception?.InnerException is RpcException { StatusCode: not StatusCode.Cancelled } rpc && first != watchdog
                ? rpc
                : first.Exception?.InnerException;
            if (failure is not null)
            {
                throw new StreamFailedException(failure, state.Acked);
            }

            hard.ThrowIfCancellationRequested();
            return state.Acked;
        }
        finally
        {
            connection.Connected = false;
        }
    }

    private async Task PumpAsync(IClientStreamWriter<EncodedBatch> writer, StreamState state, CancellationToken drain, CancellationToken ct)
    {
        await Task.Yield();
        // Each batch is the root of its own trace, not a child of whatever span started the stream.
        Activity.Current = null;
        var nextDiscovery = time.GetUtcNow() + options.PollInterval;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (drain.IsCancellationRequested)
            {
                while (inFlight.Count > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10), time, ct);
                }

                await writer.CompleteAsync();
                return;
            }

            var now = time.GetUtcNow();
            if (now >= nextDiscovery)
            {
                source.Discover();
                nextDiscovery = now + options.PollInterval;
            }

            // A full window means no reading at all: backpressure instead of buffering.
            if (!await state.Window.WaitAsync(options.PollInterval, ct))
            {
                continue;
            }

            if (drain.IsCancellationRequested)
            {
                // Stop was asked while waiting for room: send nothing more.
                state.Window.Release();
                continue;
            }

            var (file, batch) = source.NextBatch(now);
            if (batch is null)
            {
                state.Window.Release();
                await IdleDelayAsync(drain, ct);
                continue;
            }

            var header = batch.Header;
            header.Sequence = ++state.Sequence;
            var activity = StartBatchActivity(file!, batch);
            inFlight.Add(new InFlightBatch(header.Sequence, file!, file!.Path, (long)header.StartOffset, (long)header.EndOffset, activity, now));
            try
            {
                await writer.WriteAsync(batch, ct);
            }
            finally
            {
                // Serialised into the request by now (or never will be): the buffer goes back to the pool.
                batch.Release();
            }
        }
    }

    /// <summary>Fails the stream when the oldest batch waits too long, even while a write is stuck on flow control.</summary>
    private async Task WatchdogAsync(CancellationToken ct)
    {
        var period = options.AckTimeout / 4 < TimeSpan.FromSeconds(1) ? options.AckTimeout / 4 : TimeSpan.FromSeconds(1);
        while (true)
        {
            await Task.Delay(period, time, ct);
            if (inFlight.TryPeekOldest(out var oldest) && time.GetUtcNow() - oldest.SentAt > options.AckTimeout)
            {
                throw new TimeoutException($"batch {oldest.Sequence} was not acknowledged within {options.AckTimeout}");
            }
        }
    }

    private async Task ReceiveAsync(IAsyncStreamReader<BatchAck> reader, StreamState state, CancellationToken ct)
    {
        await Task.Yield();
        while (await reader.MoveNext(ct))
        {
            var ack = reader.Current;
            if (!inFlight.TryTakeOldest(out var head))
            {
                throw new InvalidOperationException($"acknowledgement {ack.Sequence} arrived with no batch in flight");
            }

            if (ack.Sequence != head.Sequence)
            {
                head.Activity?.SetStatus(ActivityStatusCode.Error, "out-of-order acknowledgement");
                head.Activity?.Dispose();
                throw new InvalidOperationException($"acknowledgement {ack.Sequence} arrived for batch {head.Sequence}");
            }

            acks.Acknowledged(head, ack);
            if (head.Activity is { } activity)
            {
                activity.SetTag("kivasync.accepted", ack.Accepted);
                activity.SetTag("kivasync.duplicates", ack.Duplicates);
                activity.SetTag("kivasync.rejected", ack.Rejections.Count);
                activity.Dispose();
            }

            metrics.BatchesAcked.Add(1);
            connection.Acknowledged(time.GetUtcNow());
            if (!state.Acked)
            {
                state.Acked = true;
                connection.Working();
                Log.Connected(logger, options.ServiceUrl!);
            }

            state.Window.Release();
        }
    }

    private static Activity? StartBatchActivity(TrackedFile file, EncodedBatch encoded)
    {
        var activity = ShipperTelemetry.ActivitySource.StartActivity(ShipperTelemetry.ShipBatchActivity, ActivityKind.Producer);
        if (activity is null)
        {
            return null;
        }

        var batch = encoded.Header;
        activity.SetTag("kivasync.tenant", file.Tenant);
        activity.SetTag("kivasync.file.path", file.Path);
        activity.SetTag("kivasync.file.fingerprint", file.Fingerprint);
        activity.SetTag("kivasync.batch.sequence", (long)batch.Sequence);
        activity.SetTag("kivasync.batch.start_offset", (long)batch.StartOffset);
        activity.SetTag("kivasync.batch.end_offset", (long)batch.EndOffset);
        activity.SetTag("kivasync.batch.lines", encoded.LineCount);
        DistributedContextPropagator.Current.Inject(activity, batch.TraceContext, static (carrier, key, value) =>
        {
            if (carrier is MapField<string, string> map && key is "traceparent" or "tracestate")
            {
                map[key] = value;
            }
        });
        // The span stays open until its acknowledgement; it must not become the parent of the next batch.
        Activity.Current = null;
        return activity;
    }

    private async Task IdleDelayAsync(CancellationToken drain, CancellationToken ct)
    {
        var delay = options.MaxDelay > TimeSpan.Zero && options.MaxDelay < options.PollInterval ? options.MaxDelay : options.PollInterval;
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(ct, drain);
        try
        {
            await Task.Delay(delay, time, wake.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Drain requested: the pump loop handles it.
        }
    }

    private sealed class StreamState(SemaphoreSlim window)
    {
        public SemaphoreSlim Window { get; } = window;

        public ulong Sequence { get; set; }

        public volatile bool Acked;
    }
}

/// <summary>A stream failed; <see cref="Acked"/> tells whether it had worked before (the backoff starts over).</summary>
internal sealed class StreamFailedException(Exception inner, bool acked) : Exception(inner.Message, inner)
{
    public bool Acked { get; } = acked;
}

internal static class TaskExtensions
{
    /// <summary>Awaits a task whose failure was already observed through the task that failed first.</summary>
    public static async Task IgnoreFailure(this Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // Already observed through the task that failed first.
        }
    }
}
