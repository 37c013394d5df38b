using System.Collections.Concurrent;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// Maximum connection age, which Kestrel lacks: shippers hold one HTTP/2 connection for days, so without
/// it a replica added by the autoscaler (or restarted) would get no streams. When a connection reaches
/// its age (± 10 % jitter, so a fleet does not reconnect at once) its ingest streams stop reading, send
/// their last acknowledgements and end cleanly; the connection is asked to close (HTTP/2 GOAWAY), and
/// aborted if it still lives after the grace. The shipper reconnects at once — to any replica — and
/// resends from its checkpoint, so nothing is lost.
/// </summary>
public sealed class ConnectionAgeLimiter(IOptions<KivaSyncOptions> options, TimeProvider time, SyncTelemetry telemetry)
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> aging = new(StringComparer.Ordinal);

    /// <summary>Connections closed because they reached their age, since start.</summary>
    public long Closed => Interlocked.Read(ref closed);

    private long closed;

    /// <summary>Cancelled when the connection with this id reached its age: its streams should end cleanly.</summary>
    public CancellationToken AgeReached(string connectionId) =>
        aging.TryGetValue(connectionId, out var cts) ? cts.Token : CancellationToken.None;

    /// <summary>Kestrel connection middleware: times the connection's age.</summary>
    public async Task RunAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var ingest = options.Value.Ingest;
        if (ingest.MaxConnectionAge <= TimeSpan.Zero)
        {
            await next(connection);
            return;
        }

        using var cts = new CancellationTokenSource();
        aging[connection.ConnectionId] = cts;
        var age = ingest.MaxConnectionAge * (0.9 + (Random.Shared.NextDouble() * 0.2));
        await using var reached = time.CreateTimer(_ => Expire(connection, cts), null, age, Timeout.InfiniteTimeSpan);
        await using var abort = time.CreateTimer(_ => connection.Abort(new ConnectionAbortedException("maximum connection age and grace reached")), null, age + ingest.MaxConnectionAgeGrace, Timeout.InfiniteTimeSpan);
        try
        {
            await next(connection);
        }
        finally
        {
            aging.TryRemove(connection.ConnectionId, out _);
        }
    }

    private void Expire(ConnectionContext connection, CancellationTokenSource cts)
    {
        try
        {
            cts.Cancel();
            connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
            Interlocked.Increment(ref closed);
            telemetry.ConnectionsAged.Add(1);
        }
        catch (ObjectDisposedException)
        {
            // The connection ended just before its age.
        }
    }
}
