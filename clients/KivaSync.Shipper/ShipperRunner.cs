using System.Diagnostics.Metrics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KivaSync.Shipper;

/// <summary>
/// The log shipper's orchestrator: runs streams (<see cref="ShipStream"/>) one after the other with the
/// <see cref="ReconnectPolicy"/> between failures, and the checkpoint flush beside them; drains on stop. The parts are
/// wired by <see cref="ShipperServices.AddShipperParts"/>. Usable in-process (tests, demo) or through <see cref="ShipperHost"/>.
/// </summary>
public sealed class ShipperRunner : IAsyncDisposable
{
    private readonly ShipperParts _parts;
    private readonly ServiceProvider? _owned;
    private readonly CancellationTokenSource _drainCts = new();
    private readonly CancellationTokenSource _hardCts = new();
    private Task? _loop;
    private Task? _checkpointLoop;
    private int _stopped;

    /// <summary>Creates a runner with its own parts; the options are validated here (<see cref="OptionsValidationException"/>).</summary>
    public ShipperRunner(
        ShipperOptions options,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null,
        HttpMessageHandler? httpHandler = null)
        : this(ShipperServices.Compose(options, loggerFactory, timeProvider, meterFactory, httpHandler, fileSystem: null))
    {
    }

    /// <summary>A runner over another file system (tests that act as the writer at the moment the shipper reads).</summary>
    internal ShipperRunner(ShipperOptions options, IShipperFileSystem fileSystem, TimeProvider? timeProvider = null)
        : this(ShipperServices.Compose(options, null, timeProvider, null, null, fileSystem))
    {
    }

    /// <summary>A runner over parts from a container (the host's).</summary>
    internal ShipperRunner(ShipperParts parts)
    {
        _parts = parts;
        parts.Metrics.ObserveGauges(() => parts.InFlight.Count, LagMeasurements);
    }

    private ShipperRunner(ServiceProvider owned)
        : this(owned.GetRequiredService<ShipperParts>()) => _owned = owned;

    /// <summary>Path of the checkpoint file.</summary>
    public string CheckpointFilePath => _parts.Checkpoints.FilePath;

    private ShipperOptions Options => _parts.Options;

    private ILogger Logger => _parts.Logger;

    /// <summary>Starts following the files and shipping; returns at once.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The shipper is already started.");
        }

        _checkpointLoop = Task.Run(() => _parts.Checkpoints.RunAsync(_hardCts.Token), CancellationToken.None);
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
            Log.Draining(Logger, (long)Options.DrainTimeout.TotalMilliseconds, _parts.InFlight.Count);
            await _drainCts.CancelAsync();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.DrainTimeout);
            try
            {
                await _loop.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Log.DrainTimedOut(Logger, _parts.InFlight.Count);
            }

            await _hardCts.CancelAsync();
            await _loop.IgnoreFailure();
            await _checkpointLoop!.IgnoreFailure();
        }

        _parts.Checkpoints.Flush();
        _parts.Files.Dispose();
    }

    /// <summary>
    /// Completes once the checkpoint written to disk for the file now at <paramref name="path"/> is at least
    /// <paramref name="offset"/> (the file is identified by its fingerprint, so it must have FingerprintBytes bytes).
    /// </summary>
    public Task WaitForCheckpointAsync(string path, long offset, CancellationToken cancellationToken = default) =>
        _parts.Checkpoints.WaitForCheckpointAsync(path, offset, cancellationToken);

    /// <summary>
    /// Completes once everything now in the file at <paramref name="path"/> is acknowledged and checkpointed: a plain file
    /// up to its current length (a last line without "\n" is not shipped while the file is live), a .gz archive to its end.
    /// </summary>
    public Task WaitForFileShippedAsync(string path, CancellationToken cancellationToken = default) =>
        _parts.Checkpoints.WaitForFileShippedAsync(path, cancellationToken);

    /// <summary>The acknowledged checkpoint written to disk for a fingerprint, if any.</summary>
    public CheckpointEntry? GetCheckpoint(string fingerprint) => _parts.Checkpoints.GetPersisted(fingerprint);

    /// <summary>The shipper's state now.</summary>
    public ShipperStatus GetStatus()
    {
        var now = _parts.Time.GetUtcNow();
        var files = _parts.Files.Snapshot
            .Select(f => new ShippedFileStatus(f.Path, f.Fingerprint, f.Tenant, f.Acked, f.ReadOffset, f.IsArchive ? null : f.LastLength, f.OrphanedSince is not null))
            .ToList();
        var connection = _parts.Connection;
        // Unhealthy once the stream has kept failing, or a batch has waited for its acknowledgement, too long.
        var healthy = (connection.FailingSince is not { } failingSince || now - failingSince < Options.UnhealthyAfter) &&
            now - (_parts.InFlight.OldestSentAt ?? now) < Options.UnhealthyAfter;
        return new ShipperStatus(connection.Connected, healthy, connection.LastAckAt, connection.LastError, _parts.InFlight.Count, files);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_owned is not null)
        {
            await _owned.DisposeAsync();
        }

        _drainCts.Dispose();
        _hardCts.Dispose();
    }

    /// <summary>Streams one after the other until stopped, waiting between failures as the reconnect policy says.</summary>
    private async Task RunAsync(CancellationToken hard)
    {
        var drain = _drainCts.Token;
        var reconnect = _parts.Reconnect;
        while (!hard.IsCancellationRequested && !drain.IsCancellationRequested)
        {
            Exception? failure;
            var acked = false;
            try
            {
                _parts.Files.Discover();
                acked = await _parts.Stream.RunAsync(drain, hard);
                if (drain.IsCancellationRequested)
                {
                    break;
                }

                if (acked)
                {
                    // The service ended a working stream cleanly (its connection reached its maximum age, so
                    // shippers spread over the replicas again): reconnect at once; this is not a failure.
                    Log.StreamRebalanced(Logger);
                    reconnect.Reset();
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
                _parts.InFlight.Abandon();
            }

            if (drain.IsCancellationRequested)
            {
                break;
            }

            var root = failure is StreamFailedException sf ? sf.InnerException! : failure;
            _parts.Connection.Failed(_parts.Time.GetUtcNow(), root.Message);
            var delay = reconnect.NextDelay(root, acked);
            _parts.Metrics.Retries.Add(1);
            if (ReconnectPolicy.IsRefusal(root) && root is RpcException refused)
            {
                Log.StreamRefused(Logger, refused.StatusCode.ToString(), refused.Status.Detail, (long)delay.TotalMilliseconds);
            }
            else
            {
                Log.StreamFailed(Logger, (root as RpcException)?.StatusCode.ToString() ?? root.GetType().Name, (long)delay.TotalMilliseconds, reconnect.Attempt, root);
            }

            // Still looking for files while waiting, so rotated ones are held open.
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(hard, drain);
            await reconnect.WaitAsync(delay, DiscoverWhileWaiting, wake.Token);
        }
    }

    private void DiscoverWhileWaiting()
    {
        try
        {
            _parts.Files.Discover();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ReadFailed(Logger, "(discovery)", ex);
        }
    }

    private IEnumerable<Measurement<long>> LagMeasurements()
    {
        foreach (var file in _parts.Files.Snapshot)
        {
            if (!file.IsArchive)
            {
                yield return new Measurement<long>(Math.Max(0, file.LastLength - file.Acked), new KeyValuePair<string, object?>("file.path", file.Path));
            }
        }
    }
}
