using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace KivaSync.Shipper;

/// <summary>Names of the shipper's telemetry.</summary>
public static class ShipperTelemetry
{
    /// <summary>The ActivitySource and Meter name.</summary>
    public const string Name = "KivaSync.Shipper";

    /// <summary>The span started per batch, ended at its acknowledgement.</summary>
    public const string ShipBatchActivity = "ship batch";

    /// <summary>Lines read from files (blank ones included).</summary>
    public const string LinesRead = "kivasync.shipper.lines_read";

    /// <summary>Bytes read from files.</summary>
    public const string BytesRead = "kivasync.shipper.bytes_read";

    /// <summary>Batches sent and not yet acknowledged.</summary>
    public const string BatchesInFlight = "kivasync.shipper.batches_in_flight";

    /// <summary>Batches acknowledged.</summary>
    public const string BatchesAcked = "kivasync.shipper.batches_acked";

    /// <summary>Per file: bytes not yet acknowledged.</summary>
    public const string LagBytes = "kivasync.shipper.lag_bytes";

    /// <summary>Reconnect attempts.</summary>
    public const string Retries = "kivasync.shipper.retries";

    /// <summary>Lines the service rejected, written to the dead-letter file.</summary>
    public const string DeadLettered = "kivasync.shipper.dead_lettered";

    /// <summary>Lines over the size limit, skipped with their hash only.</summary>
    public const string LinesTooLong = "kivasync.shipper.lines_too_long";

    /// <summary>Lines whose invalid UTF-8 was replaced.</summary>
    public const string LinesRepaired = "kivasync.shipper.lines_repaired";

    /// <summary>The shipper's spans.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);
}

/// <summary>The shipper's instruments on its one Meter; one set per runner.</summary>
internal sealed class ShipperMetrics : IDisposable
{
    private readonly Meter _meter;
    private int _observed;

    public ShipperMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(ShipperTelemetry.Name) ?? new Meter(ShipperTelemetry.Name);
        LinesRead = _meter.CreateCounter<long>(ShipperTelemetry.LinesRead, "{line}", "Lines read from files");
        BytesRead = _meter.CreateCounter<long>(ShipperTelemetry.BytesRead, "By", "Bytes read from files");
        BatchesAcked = _meter.CreateCounter<long>(ShipperTelemetry.BatchesAcked, "{batch}", "Batches acknowledged");
        Retries = _meter.CreateCounter<long>(ShipperTelemetry.Retries, "{retry}", "Reconnect attempts");
        DeadLettered = _meter.CreateCounter<long>(ShipperTelemetry.DeadLettered, "{line}", "Lines rejected by the service");
        LinesTooLong = _meter.CreateCounter<long>(ShipperTelemetry.LinesTooLong, "{line}", "Over-long lines skipped");
        LinesRepaired = _meter.CreateCounter<long>(ShipperTelemetry.LinesRepaired, "{line}", "Lines with invalid UTF-8 replaced");
    }

    public Counter<long> LinesRead { get; }
    public Counter<long> BytesRead { get; }
    public Counter<long> BatchesAcked { get; }
    public Counter<long> Retries { get; }
    public Counter<long> DeadLettered { get; }
    public Counter<long> LinesTooLong { get; }
    public Counter<long> LinesRepaired { get; }

    /// <summary>The gauges read the runner's state when observed; registered once, by the runner.</summary>
    public void ObserveGauges(Func<int> inFlight, Func<IEnumerable<Measurement<long>>> lag)
    {
        if (Interlocked.Exchange(ref _observed, 1) == 1)
        {
            throw new InvalidOperationException("The gauges are already observed.");
        }

        _meter.CreateObservableGauge(ShipperTelemetry.BatchesInFlight, inFlight, "{batch}", "Batches not yet acknowledged");
        _meter.CreateObservableGauge(ShipperTelemetry.LagBytes, lag, "By", "Bytes of each file not yet acknowledged");
    }

    public void Dispose() => _meter.Dispose();
}
