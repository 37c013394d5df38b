using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Google.Protobuf.Collections;
using Grpc.Core;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using KivaSync.SystemLog;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KivaSync.Shipper;

/// <summary>One file as the shipper sees it now.</summary>
/// <param name="Path">Where the file was last seen.</param>
/// <param name="Fingerprint">Its identity.</param>
/// <param name="Tenant">Its source's tenant.</param>
/// <param name="AckedOffset">Acknowledged offset (the checkpoint, possibly not yet written to disk).</param>
/// <param name="ReadOffset">Offset past the last byte read.</param>
/// <param name="Length">Current length, for plain files.</param>
/// <param name="Orphaned">True when no configured path holds it any more (rotated away or deleted).</param>
public sealed record ShippedFileStatus(string Path, string Fingerprint, string Tenant, long AckedOffset, long ReadOffset, long? Length, bool Orphaned);

/// <summary>The shipper's state, for the health endpoint and tests.</summary>
/// <param name="Connected">True while a stream to the service is open.</param>
/// <param name="Healthy">False when the service has been unreachable, or a batch unacknowledged, for longer than UnhealthyAfter.</param>
/// <param name="LastAckAt">When the last acknowledgement arrived.</param>
/// <param name="LastError">The last stream failure, if any.</param>
/// <param name="BatchesInFlight">Batches sent and not yet acknowledged.</param>
/// <param name="Files">The files being followed.</param>
public sealed record ShipperStatus(bool Connected, bool Healthy, DateTimeOffset? LastAckAt, string? LastError, int BatchesInFlight, IReadOnlyList<ShippedFileStatus> Files);

/// <summary>
/// The log shipper: follows the configured files, streams their lines to LogIngest.Ship and advances each file's
/// checkpoint only over acknowledged batches. Usable in-process (tests, demo) or through <see cref="ShipperHost"/>.
/// </summary>
public sealed class ShipperRunner : IAsyncDisposable
{
    private const string RetryAfterTrailer = "retry-after-ms";

    private readonly ShipperOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CheckpointStore _checkpoints;
    private readonly DeadLetterWriter _deadLetters;
    private readonly ShipperMetrics _metrics;
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly ArrayPool<byte> _batchBuffers;
    private readonly BatchLimits _limits;

    // Owned by the loop task: discovery and reading never run concurrently.
    private readonly Dictionary<string, TrackedFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _startAtEndPending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _completeArchives = new(StringComparer.Ordinal);
    private bool _firstScanDone;
    private int _roundRobin;

    private readonly ConcurrentQueue<InFlight> _inFlight = new();
    private int _inFlightCount;
    private volatile TrackedFile[] _snapshot = [];
    private volatile bool _connected;
    private volatile bool _draining;
    private long _failingSinceTicks;
    private long _lastAckTicks;
    private volatile string? _lastError;
    private readonly CancellationTokenSource _drainCts = new();
    private readonly CancellationTokenSource _hardCts = new();
    private Task? _loop;
    private Task? _checkpointLoop;
    private int _stopped;

    /// <summary>Creates a runner; the options are validated here (<see cref="OptionsValidationException"/>).</summary>
    public ShipperRunner(
        ShipperOptions options,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null,
        HttpMessageHandler? httpHandler = null)
    {
        var validation = new ShipperOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(ShipperOptions.SectionName, typeof(ShipperOptions), validation.Failures);
        }

        _options = options;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ShipperRunner>() ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _limits = new BatchLimits(options.MaxLines, options.MaxBytes, options.MaxDelay);
        _checkpoints = new CheckpointStore(options.CheckpointDirectory, _time, options.CheckpointRetention);
        _deadLetters = new DeadLetterWriter(options.DeadLetterPath);
        _metrics = new ShipperMetrics(meterFactory, () => Volatile.Read(ref _inFlightCount), LagMeasurements);
        _channel = GrpcChannel.ForAddress(options.ServiceUrl!, new GrpcChannelOptions
        {
            HttpHandler = httpHandler ?? new SocketsHttpHandler
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
        // Batch buffers are reused: at most the window's batches plus the one being read are alive at once.
        _batchBuffers = ArrayPool<byte>.Create(8 * 1024 * 1024, options.MaxInFlightBatches + 2);
    }

    /// <summary>Opens a plain file for reading; tests wrap it to act as a writer at the very moment the shipper reads.</summary>
    internal Func<string, IByteSource> OpenPlainFile { get; init; } = PlainFileSource.Open;

    /// <summary>Path of the checkpoint file.</summary>
    public string CheckpointFilePath => _checkpoints.FilePath;

    /// <summary>Starts following the files and shipping; returns at once.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The shipper is already started.");
        }

        _checkpointLoop = Task.Run(() => CheckpointLoopAsync(_hardCts.Token), CancellationToken.None);
        _loop = Task.Run(() => RunAsync(_hardCts.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Graceful drain: stops reading, waits up to DrainTimeout (or until <paramref name="cancellationToken"/>) for the
    /// batches in flight to be acknowledged, closes the stream and writes the checkpoint.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        if (_loop is not null)
        {
            _draining = true;
            Log.Draining(_logger, (long)_options.DrainTimeout.TotalMilliseconds, Volatile.Read(ref _inFlightCount));
            await _drainCts.CancelAsync();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.DrainTimeout);
            try
            {
                await _loop.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Log.DrainTimedOut(_logger, Volatile.Read(ref _inFlightCount));
            }

            await _hardCts.CancelAsync();
            await IgnoreFailure(_loop);
            await IgnoreFailure(_checkpointLoop!);
        }

        FlushCheckpoints();
        foreach (var file in _files.Values)
        {
            file.Dispose();
        }

        _files.Clear();
        _snapshot = [];
    }

    /// <summary>
    /// Completes once the checkpoint written to disk for the file now at <paramref name="path"/> is at least
    /// <paramref name="offset"/> (the file is identified by its fingerprint, so it must have FingerprintBytes bytes).
    /// </summary>
    public async Task WaitForCheckpointAsync(string path, long offset, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var changed = _checkpoints.PersistedChanged;
            var fingerprint = Fingerprint.TryCompute(path, _options.FingerprintBytes);
            if (fingerprint is not null && _checkpoints.GetPersisted(fingerprint) is { } entry && entry.Offset >= offset)
            {
                return;
            }

            await Task.WhenAny(changed, Task.Delay(_options.PollInterval, _time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Completes once everything now in the file at <paramref name="path"/> is acknowledged and checkpointed: a plain file
    /// up to its current length (a last line without "\n" is not shipped while the file is live), a .gz archive to its end.
    /// </summary>
    public async Task WaitForFileShippedAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!GzipFileSource.IsGzipPath(path))
        {
            await WaitForCheckpointAsync(path, new FileInfo(path).Length, cancellationToken);
            return;
        }

        while (true)
        {
            var changed = _checkpoints.PersistedChanged;
            var fingerprint = Fingerprint.TryCompute(path, _options.FingerprintBytes);
            if (fingerprint is not null && _checkpoints.GetPersisted(fingerprint) is { Complete: true })
            {
                return;
            }

            await Task.WhenAny(changed, Task.Delay(_options.PollInterval, _time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The acknowledged checkpoint written to disk for a fingerprint, if any.</summary>
    public CheckpointEntry? GetCheckpoint(string fingerprint) => _checkpoints.GetPersisted(fingerprint);

    /// <summary>The shipper's state now.</summary>
    public ShipperStatus GetStatus()
    {
        var now = _time.GetUtcNow();
        var files = _snapshot.Select(f => new ShippedFileStatus(f.Path, f.Fingerprint, f.Tenant, f.Acked, f.ReadOffset, f.IsArchive ? null : f.LastLength, f.OrphanedSince is not null)).ToList();
        var inFlight = Volatile.Read(ref _inFlightCount);
        var lastAck = Interlocked.Read(ref _lastAckTicks);
        var failingSince = Interlocked.Read(ref _failingSinceTicks);
        var oldestSent = _inFlight.TryPeek(out var oldest) ? oldest.SentAt : now;
        // Unhealthy once the stream has kept failing, or a batch has waited for its acknowledgement, too long.
        var healthy = (failingSince == 0 || now.UtcTicks - failingSince < _options.UnhealthyAfter.Ticks) &&
            now - oldestSent < _options.UnhealthyAfter;
        return new ShipperStatus(_connected, healthy, lastAck == 0 ? null : new DateTimeOffset(lastAck, TimeSpan.Zero), _lastError, inFlight, files);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _channel.Dispose();
        _deadLetters.Dispose();
        _metrics.Dispose();
        _drainCts.Dispose();
        _hardCts.Dispose();
    }

    private async Task RunAsync(CancellationToken hard)
    {
        var attempt = 0;
        while (!hard.IsCancellationRequested && !_draining)
        {
            Exception? failure;
            var acked = false;
            try
            {
                Discover();
                acked = await RunStreamAsync(hard);
                if (_draining)
                {
                    break;
                }

                if (acked)
                {
                    // The service ended a working stream cleanly (its connection reached its maximum age, so
                    // shippers spread over the replicas again): reconnect at once; this is not a failure.
                    Log.StreamRebalanced(_logger);
                    attempt = 0;
                    continue;
                }

                failure = new RpcException(new Status(StatusCode.Unavailable, "the service ended the stream"));
            }
            catch (OperationCanceledException) when (hard.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failure = ex;
                acked |= ex is StreamFailedException { Acked: true };
            }
            finally
            {
                AbandonInFlight();
            }

            if (_draining)
            {
                break;
            }

            attempt = acked ? 1 : attempt + 1;
            var root = failure is StreamFailedException sf ? sf.InnerException! : failure;
            _lastError = root.Message;
            Interlocked.CompareExchange(ref _failingSinceTicks, _time.GetUtcNow().UtcTicks, 0);
            var delay = ReconnectDelay(_options, attempt, root, Random.Shared);
            _metrics.Retries.Add(1);
            if (IsRefusal(root) && root is RpcException refused)
            {
                Log.StreamRefused(_logger, refused.StatusCode.ToString(), refused.Status.Detail, (long)delay.TotalMilliseconds);
            }
            else
            {
                Log.StreamFailed(_logger, (root as RpcException)?.StatusCode.ToString() ?? root.GetType().Name, (long)delay.TotalMilliseconds, attempt, root);
            }

            await IdleAsync(delay, hard);
        }
    }

    /// <summary>One stream: sends batches and takes acknowledgements until it fails or the shipper drains.</summary>
    /// <returns>True when at least one batch was acknowledged.</returns>
    private async Task<bool> RunStreamAsync(CancellationToken hard)
    {
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(hard);
        var headers = new Metadata();
        if (!string.IsNullOrEmpty(_options.BearerToken))
        {
            headers.Add("authorization", "Bearer " + _options.BearerToken);
        }

        if (_options.Compress)
        {
            headers.Add("grpc-internal-encoding-request", "gzip");
        }

        foreach (var file in _files.Values)
        {
            file.ResetToAcked();
        }

        var state = new StreamState(new SemaphoreSlim(_options.MaxInFlightBatches, _options.MaxInFlightBatches));
        using var window = state.Window;
        using var call = _invoker.AsyncDuplexStreamingCall(EncodedBatch.ShipMethod, null, new CallOptions(headers, cancellationToken: streamCts.Token));
        _ = call.ResponseHeadersAsync.ContinueWith(
            headersTask => _connected |= headersTask.IsCompletedSuccessfully && !streamCts.IsCancellationRequested,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        var receive = ReceiveAsync(call.ResponseStream, state, streamCts.Token);
        var send = PumpAsync(call.RequestStream, state, streamCts.Token);
        var watchdog = WatchdogAsync(streamCts.Token);
        var first = await Task.WhenAny(receive, send, watchdog);
        try
        {
            if (first == send && send.IsCompletedSuccessfully)
            {
                // Drained: the request stream is complete; the service ends the response stream after the last ack.
                using var grace = CancellationTokenSource.CreateLinkedTokenSource(hard);
                grace.CancelAfter(_options.AckTimeout);
                await receive.WaitAsync(grace.Token);
                return state.Acked;
            }

            await streamCts.CancelAsync();
            await IgnoreFailure(receive);
            await IgnoreFailure(send);
            await IgnoreFailure(watchdog);
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
            _connected = false;
        }
    }

    private async Task PumpAsync(IClientStreamWriter<EncodedBatch> writer, StreamState state, CancellationToken ct)
    {
        await Task.Yield();
        // Each batch is the root of its own trace, not a child of whatever span started the stream.
        Activity.Current = null;
        var nextDiscovery = _time.GetUtcNow() + _options.PollInterval;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_draining)
            {
                while (Volatile.Read(ref _inFlightCount) > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10), _time, ct);
                }

                await writer.CompleteAsync();
                return;
            }

            var now = _time.GetUtcNow();
            if (now >= nextDiscovery)
            {
                Discover();
                nextDiscovery = now + _options.PollInterval;
            }

            // A full window means no reading at all: backpressure instead of buffering.
            if (!await state.Window.WaitAsync(_options.PollInterval, ct))
            {
                continue;
            }

            if (_draining)
            {
                // Stop was asked while waiting for room: send nothing more.
                state.Window.Release();
                continue;
            }

            var (file, batch) = NextBatch(now);
            if (batch is null)
            {
                state.Window.Release();
                await IdleDelayAsync(ct);
                continue;
            }

            var header = batch.Header;
            header.Sequence = ++state.Sequence;
            var activity = StartBatchActivity(file!, batch);
            _inFlight.Enqueue(new InFlight(header.Sequence, file!, file!.Path, (long)header.StartOffset, (long)header.EndOffset, activity, now));
            Interlocked.Increment(ref _inFlightCount);
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
        var period = _options.AckTimeout / 4 < TimeSpan.FromSeconds(1) ? _options.AckTimeout / 4 : TimeSpan.FromSeconds(1);
        while (true)
        {
            await Task.Delay(period, _time, ct);
            if (_inFlight.TryPeek(out var oldest) && _time.GetUtcNow() - oldest.SentAt > _options.AckTimeout)
            {
                throw new TimeoutException($"batch {oldest.Sequence} was not acknowledged within {_options.AckTimeout}");
            }
        }
    }

    private async Task ReceiveAsync(IAsyncStreamReader<BatchAck> reader, StreamState state, CancellationToken ct)
    {
        await Task.Yield();
        while (await reader.MoveNext(ct))
        {
            var ack = reader.Current;
            if (!_inFlight.TryDequeue(out var head))
            {
                throw new InvalidOperationException($"acknowledgement {ack.Sequence} arrived with no batch in flight");
            }

            Interlocked.Decrement(ref _inFlightCount);
            if (ack.Sequence != head.Sequence)
            {
                head.Activity?.SetStatus(ActivityStatusCode.Error, "out-of-order acknowledgement");
                head.Activity?.Dispose();
                throw new InvalidOperationException($"acknowledgement {ack.Sequence} arrived for batch {head.Sequence}");
            }

            // Dead letters first: a crash must not leave the checkpoint past rejections never written down.
            if (ack.Rejections.Count > 0)
            {
                WriteDeadLetters(head, ack.Rejections);
            }

            head.File.AdvanceAcked(head.Start, head.End);
            _checkpoints.Advance(head.File.Fingerprint, head.Path, head.File.Tenant, head.File.Acked, head.File.CheckpointGeneration);

            if (head.Activity is { } activity)
            {
                activity.SetTag("kivasync.accepted", ack.Accepted);
                activity.SetTag("kivasync.duplicates", ack.Duplicates);
                activity.SetTag("kivasync.rejected", ack.Rejections.Count);
                activity.Dispose();
            }

            _metrics.BatchesAcked.Add(1);
            Interlocked.Exchange(ref _lastAckTicks, _time.GetUtcNow().UtcTicks);
            Interlocked.Exchange(ref _failingSinceTicks, 0);
            if (!state.Acked)
            {
                state.Acked = true;
                _connected = true;
                _lastError = null;
                Log.Connected(_logger, _options.ServiceUrl!);
            }

            state.Window.Release();
        }
    }

    private void WriteDeadLetters(InFlight head, RepeatedField<LineRejection> rejections)
    {
        var now = _time.GetUtcNow();
        var letters = new List<DeadLetter>(rejections.Count);
        foreach (var rejection in rejections)
        {
            var reason = Enum.IsDefined((SystemLog.RejectReason)(int)rejection.Reason)
                ? ((SystemLog.RejectReason)(int)rejection.Reason).ToContractName()
                : ((int)rejection.Reason).ToString(CultureInfo.InvariantCulture);
            letters.Add(new DeadLetter(now, head.File.Tenant, head.Path, head.File.Fingerprint, rejection.Offset, reason, rejection.Detail));
        }

        _deadLetters.Write(letters);
        _metrics.DeadLettered.Add(letters.Count);
        Log.Rejected(_logger, letters.Count, head.Path);
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

    private (TrackedFile? File, EncodedBatch? Batch) NextBatch(DateTimeOffset now)
    {
        var files = _snapshot;
        for (var i = 0; i < files.Length; i++)
        {
            var index = (_roundRobin + i) % files.Length;
            var file = files[index];
            EncodedBatch? batch;
            try
            {
                var attached = file.Bytes is not null;
                batch = file.TryBuildBatch(_limits, now, _metrics);
                if (attached && file.Bytes is null)
                {
                    // Truncated since the last look, or while it was read (copy-and-truncate while we lagged): the file
                    // checks its first bytes before and after reading, so new content is never read as if it continued
                    // the old file. The rest of the old file can only be in a copy, found by discovery.
                    Log.Truncated(_logger, file.Path, file.Fingerprint, file.ReadOffset);
                    file.OrphanedSince ??= now;
                    continue;
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // Found again at the next discovery (a corrupt archive is retried from its checkpoint).
                Log.ReadFailed(_logger, file.Path, ex);
                file.DetachSource();
                continue;
            }

            if (batch is not null)
            {
                _roundRobin = index + 1;
                return (file, batch);
            }
        }

        return (null, null);
    }

    private async Task IdleDelayAsync(CancellationToken ct)
    {
        var delay = _options.MaxDelay > TimeSpan.Zero && _options.MaxDelay < _options.PollInterval ? _options.MaxDelay : _options.PollInterval;
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(ct, _drainCts.Token);
        try
        {
            await Task.Delay(delay, _time, wake.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Drain requested: the pump loop handles it.
        }
    }

    /// <summary>Waits before reconnecting, still looking for files so rotated ones are held open.</summary>
    private async Task IdleAsync(TimeSpan delay, CancellationToken hard)
    {
        var until = _time.GetUtcNow() + delay;
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(hard, _drainCts.Token);
        while (!wake.IsCancellationRequested)
        {
            var remaining = until - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            try
            {
                await Task.Delay(remaining < _options.PollInterval ? remaining : _options.PollInterval, _time, wake.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                Discover();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.ReadFailed(_logger, "(discovery)", ex);
            }
        }
    }

    /// <summary>
    /// Exponential backoff with "equal jitter" (half fixed, half random, so a fleet spreads out), capped at
    /// ReconnectMaxDelay; the longest delay for a refusal (bad tenant, bad batch, bad token), which a retry will not fix
    /// soon; never sooner than the service's retry-after-ms trailer asks (plus up to 10% jitter, at most 10 minutes).
    /// </summary>
    internal static TimeSpan ReconnectDelay(ShipperOptions options, int attempt, Exception failure, Random random)
    {
        var min = options.ReconnectMinDelay.TotalMilliseconds;
        var max = options.ReconnectMaxDelay.TotalMilliseconds;
        var exponential = IsRefusal(failure) ? max : Math.Min(max, min * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)));
        var delay = (exponential / 2) + (random.NextDouble() * exponential / 2);
        if (failure is RpcException rpc && rpc.Trailers.GetValue(RetryAfterTrailer) is { } text &&
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var retryAfterMs))
        {
            var asked = Math.Min(retryAfterMs, (long)TimeSpan.FromMinutes(10).TotalMilliseconds);
            delay = Math.Max(delay, asked + (random.NextDouble() * asked / 10));
        }

        return TimeSpan.FromMilliseconds(delay);
    }

    private static bool IsRefusal(Exception failure) =>
        failure is RpcException { StatusCode: StatusCode.FailedPrecondition or StatusCode.InvalidArgument or StatusCode.Unauthenticated or StatusCode.PermissionDenied };

    private void AbandonInFlight()
    {
        while (_inFlight.TryDequeue(out var lost))
        {
            lost.Activity?.SetStatus(ActivityStatusCode.Error, "stream failed before acknowledgement");
            lost.Activity?.Dispose();
        }

        Volatile.Write(ref _inFlightCount, 0);
    }

    private async Task CheckpointLoopAsync(CancellationToken ct)
    {
        var interval = _options.CheckpointInterval < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : _options.CheckpointInterval;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            FlushCheckpoints();
        }
    }

    private void FlushCheckpoints()
    {
        try
        {
            _checkpoints.Flush();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CheckpointFailed(_logger, _checkpoints.FilePath, ex);
        }
    }

    private IEnumerable<Measurement<long>> LagMeasurements()
    {
        foreach (var file in _snapshot)
        {
            if (!file.IsArchive)
            {
                yield return new Measurement<long>(Math.Max(0, file.LastLength - file.Acked), new KeyValuePair<string, object?>("file.path", file.Path));
            }
        }
    }

    /// <summary>
    /// Finds the configured files, tells new ones from known ones by fingerprint, notices rotation, truncation and
    /// deletion, and lets go of files that were read to their end.
    /// </summary>
    private void Discover()
    {
        var now = _time.GetUtcNow();
        try
        {
            CheckTrackedFiles(now);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var source in _options.Sources)
            {
                foreach (var path in FileGlob.Expand(source.Path))
                {
                    try
                    {
                        DiscoverPath(source, path, now, seen);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        // Gone or unreadable between listing and opening: looked at again next time.
                        Log.ReadFailed(_logger, path, ex);
                    }
                }
            }

            foreach (var file in _files.Values.ToList())
            {
                if (file.IsArchive)
                {
                    if (file.Exhausted && file.FullyAcked)
                    {
                        LetGo(file, complete: true);
                    }

                    continue;
                }

                if (seen.Contains(file.Fingerprint))
                {
                    file.Revive();
                    continue;
                }

                file.OrphanedSince ??= now;
                var quietSince = file.OrphanedSince.Value > file.LastGrowth ? file.OrphanedSince.Value : file.LastGrowth;
                if (now - quietSince < _options.RotatedFileWait)
                {
                    continue;
                }

                if (file.Bytes is null)
                {
                    // Truncated or replaced, and no copy with its fingerprint turned up in time.
                    Log.LetGoIncomplete(_logger, file.Path, file.Fingerprint, file.Acked, Math.Max(0, file.LastLength - file.Acked));
                    LetGo(file, complete: false);
                    continue;
                }

                file.Finalizing = true;
                if (file.Exhausted && file.FullyAcked)
                {
                    LetGo(file, complete: true);
                }
            }
        }
        finally
        {
            _firstScanDone = true;
            _snapshot = [.. _files.Values];
        }
    }

    private void CheckTrackedFiles(DateTimeOffset now)
    {
        foreach (var file in _files.Values)
        {
            if (file.Bytes is not { IsArchive: false } plain)
            {
                continue;
            }

            long length;
            string? fingerprint;
            try
            {
                length = plain.Length ?? 0;
                fingerprint = plain.CurrentFingerprint(_options.FingerprintBytes);
            }
            catch (IOException ex)
            {
                Log.ReadFailed(_logger, file.Path, ex);
                file.DetachSource();
                continue;
            }

            if (length < file.ReadOffset || fingerprint != file.Fingerprint)
            {
                // Truncated in place (or copy-and-truncate): the rest of this file's bytes can only be in a copy.
                Log.Truncated(_logger, file.Path, file.Fingerprint, file.ReadOffset);
                file.DetachSource();
                file.OrphanedSince ??= now;
                continue;
            }

            if (length > file.LastLength)
            {
                file.LastLength = length;
                file.LastGrowth = now;
            }
        }
    }

    private void DiscoverPath(SourceOptions source, string path, DateTimeOffset now, HashSet<string> seen)
    {
        var archive = GzipFileSource.IsGzipPath(path);
        string? archiveKey = null;
        if (archive)
        {
            var info = new FileInfo(path);
            archiveKey = string.Create(CultureInfo.InvariantCulture, $"{path}|{info.Length}|{info.LastWriteTimeUtc.Ticks}");
            if (_completeArchives.Contains(archiveKey))
            {
                return;
            }

            // A truncated gzip reads as a clean end of stream: wait until the archive is no longer being written,
            // or a half-written one would be taken as complete.
            if (_time.GetUtcNow() - new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero) < _options.RotatedFileWait)
            {
                return;
            }
        }

        var fingerprint = Fingerprint.TryCompute(path, _options.FingerprintBytes);
        if (fingerprint is null)
        {
            if (!_firstScanDone && source.StartAt == StartPosition.End && !archive && File.Exists(path))
            {
                _startAtEndPending[path] = new FileInfo(path).Length;
            }

            return;
        }

        var rewritten = false;
        if (_files.TryGetValue(fingerprint, out var known))
        {
            if (known.IsArchive != archive)
            {
                // The same content as a plain file and as its .gz: follow one of them.
                return;
            }

            if (known.Bytes is not null)
            {
                seen.Add(fingerprint);
                if (known.Path != path)
                {
                    known.Path = path;
                    Log.Moved(_logger, fingerprint, path);
                }

                return;
            }

            if (archive || new FileInfo(path).Length >= known.ReadOffset)
            {
                // The copy of a truncated file (or an archive after a read error): same bytes, same offsets.
                seen.Add(fingerprint);
                known.AttachSource(archive ? new GzipFileSource(path) : OpenPlainFile(path), path);
                known.Revive();
                Log.Moved(_logger, fingerprint, path);
                return;
            }

            // Truncated and rewritten with the same first bytes: not the bytes that were read, so a new file.
            LetGo(known, complete: false);
            rewritten = true;
        }

        var checkpoint = _checkpoints.Get(fingerprint);
        long start;
        IByteSource bytes;
        if (archive)
        {
            if (checkpoint is { Complete: true })
            {
                _completeArchives.Add(archiveKey!);
                return;
            }

            start = checkpoint?.Offset ?? 0;
            bytes = new GzipFileSource(path);
        }
        else
        {
            var plain = OpenPlainFile(path);
            var length = plain.Length ?? 0;
            if (checkpoint is { Complete: true } && length <= checkpoint.Offset)
            {
                plain.Dispose();
                return;
            }

            var pendingEnd = _startAtEndPending.Remove(path, out var endAtStartup) ? endAtStartup : (long?)null;
            start = checkpoint?.Offset
                ?? (!_firstScanDone && source.StartAt == StartPosition.End ? length : (long?)null)
                ?? (pendingEnd is { } e && e <= length ? e : 0);
            if (start > length || rewritten)
            {
                // The checkpoint is past the end: the file was truncated and rewritten with the same first bytes.
                start = 0;
                _checkpoints.Restart(fingerprint, path, source.Tenant);
            }

            bytes = plain;
        }

        var file = new TrackedFile(fingerprint, path, source.Tenant, bytes, start, _options.ParseLines, _batchBuffers)
        {
            LastGrowth = now,
            FingerprintBytes = _options.FingerprintBytes,
            CheckpointGeneration = _checkpoints.Generation(fingerprint),
        };
        _files[fingerprint] = file;
        seen.Add(fingerprint);
        Log.Tracking(_logger, path, fingerprint, source.Tenant, start);
    }

    private void LetGo(TrackedFile file, bool complete)
    {
        if (complete)
        {
            _checkpoints.MarkComplete(file.Fingerprint, file.Path, file.Tenant, file.Acked);
            Log.LetGo(_logger, file.Path, file.Fingerprint, file.Acked);
        }

        file.Dispose();
        _files.Remove(file.Fingerprint);
    }

    private static async Task IgnoreFailure(Task task)
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

    private sealed class StreamState(SemaphoreSlim window)
    {
        public SemaphoreSlim Window { get; } = window;

        public ulong Sequence { get; set; }

        public volatile bool Acked;
    }

    private sealed record InFlight(ulong Sequence, TrackedFile File, string Path, long Start, long End, Activity? Activity, DateTimeOffset SentAt);

    private sealed class StreamFailedException(Exception inner, bool acked) : Exception(inner.Message, inner)
    {
        public bool Acked { get; } = acked;
    }
}
