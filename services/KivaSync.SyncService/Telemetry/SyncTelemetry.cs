using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace KivaSync.SyncService.Telemetry;

/// <summary>The sync service's one ActivitySource and one Meter, with their names as constants.</summary>
public sealed class SyncTelemetry : IDisposable
{
    /// <summary>Name of the ActivitySource and the Meter.</summary>
    public const string Name = "KivaSync.SyncService";

    private readonly Meter meter;
    private readonly ConcurrentDictionary<string, int> openCircuits = new(StringComparer.Ordinal);

    /// <summary>Creates the instruments from the host's meter factory.</summary>
    public SyncTelemetry(IMeterFactory meterFactory)
    {
        meter = meterFactory.Create(Name);
        EntriesAccepted = meter.CreateCounter<long>("kivasync.entries.accepted", "{entry}", "Entries that took effect");
        DuplicatesDropped = meter.CreateCounter<long>("kivasync.entries.duplicates", "{entry}", "Entries dropped because their identity was seen before");
        LinesRejected = meter.CreateCounter<long>("kivasync.entries.rejected", "{entry}", "Lines rejected, by contract reason");
        ContactSyncs = meter.CreateCounter<long>("kivasync.contact.syncs", "{sync}", "Contact syncs by outcome");
        AcRequests = meter.CreateCounter<long>("kivasync.ac.requests", "{request}", "ActiveCampaign API requests by endpoint and status");
        RateLimitWait = meter.CreateHistogram<double>("kivasync.ratelimit.wait", "s", "Time spent waiting for the tenant's AC budget");
        CallsRefused = meter.CreateCounter<long>("kivasync.calls.refused", "{call}", "gRPC calls refused: unauthenticated, tenant not allowed, or overload");
        meter.CreateObservableGauge(
            "kivasync.ac.circuit.open",
            () => openCircuits.Select(c => new Measurement<int>(c.Value, new KeyValuePair<string, object?>(Tags.Tenant, c.Key))),
            "{circuit}",
            "1 while the tenant's AC circuit breaker is open (no AC calls), else 0");
        CircuitOpened = meter.CreateCounter<long>("kivasync.ac.circuit.opened", "{event}", "Times a tenant's AC circuit breaker opened");
        DeadLettered = meter.CreateCounter<long>("kivasync.deadletters", "{item}", "Work dead-lettered after its bounded retries, by kind");
    }

    /// <summary>The service's spans.</summary>
    public ActivitySource Source { get; } = new(Name);

    /// <summary>kivasync.entries.accepted</summary>
    public Counter<long> EntriesAccepted { get; }

    /// <summary>kivasync.entries.duplicates</summary>
    public Counter<long> DuplicatesDropped { get; }

    /// <summary>kivasync.entries.rejected</summary>
    public Counter<long> LinesRejected { get; }

    /// <summary>kivasync.contact.syncs</summary>
    public Counter<long> ContactSyncs { get; }

    /// <summary>kivasync.ac.requests</summary>
    public Counter<long> AcRequests { get; }

    /// <summary>kivasync.ratelimit.wait</summary>
    public Histogram<double> RateLimitWait { get; }

    /// <summary>kivasync.calls.refused</summary>
    public Counter<long> CallsRefused { get; }

    /// <summary>kivasync.ac.circuit.opened</summary>
    public Counter<long> CircuitOpened { get; }

    /// <summary>kivasync.deadletters</summary>
    public Counter<long> DeadLettered { get; }

    /// <summary>Feeds the kivasync.ac.circuit.open gauge.</summary>
    public void SetCircuitOpen(string tenant, bool open) => openCircuits[tenant] = open ? 1 : 0;

    /// <inheritdoc />
    public void Dispose()
    {
        Source.Dispose();
        meter.Dispose();
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        public const string IngestBatch = "ingest batch";
        public const string SyncContact = "sync contact";
        public const string EnsureFields = "ensure AC fields";
    }

    /// <summary>Tag (attribute) names.</summary>
    public static class Tags
    {
        public const string Tenant = "kivasync.tenant";
        public const string Lines = "kivasync.batch.lines";
        public const string Accepted = "kivasync.batch.accepted";
        public const string Duplicates = "kivasync.batch.duplicates";
        public const string Reason = "kivasync.reject.reason";
        public const string Member = "kivasync.contact.kind";
        public const string Outcome = "kivasync.sync.outcome";
        public const string Endpoint = "ac.endpoint";
        public const string Status = "http.response.status_code";
        public const string Email = "kivasync.contact.email";
        public const string Caller = "kivasync.caller";
        public const string GrpcStatus = "rpc.grpc.status_code";
        public const string Kind = "kivasync.deadletter.kind";
    }
}
