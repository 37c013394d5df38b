using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace KivaSync.SyncService.Telemetry;

/// <summary>The sync service's one ActivitySource and one Meter, with their names as constants.</summary>
public sealed class SyncTelemetry : IDisposable
{
    /// <summary>Name of the ActivitySource and the Meter.</summary>
    public const string Name = "KivaSync.SyncService";

    private readonly ConcurrentDictionary<string, int> openCircuits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> stateLost = new(StringComparer.Ordinal);

    /// <summary>Creates the instruments from the host's meter factory.</summary>
    public SyncTelemetry(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(Name);
        var meter = Meter;
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
        meter.CreateObservableGauge(
            Instruments.StateLost,
            () => stateLost.Select(c => new Measurement<int>(c.Value, new KeyValuePair<string, object?>(Tags.Tenant, c.Key))),
            "1",
            "1 while Redis lost the tenant's state (ingest and sync stopped until acknowledged, see README Operate), else 0");
        CircuitOpened = meter.CreateCounter<long>("kivasync.ac.circuit.opened", "{event}", "Times a tenant's AC circuit breaker opened");
        DeadLettered = meter.CreateCounter<long>("kivasync.deadletters", "{item}", "Work dead-lettered after its bounded retries, by kind");
        EventLookups = meter.CreateCounter<long>(
            "kivasync.events.lookups", "{lookup}",
            "Event posts whose answer was lost, looked up in the contact's AC tracking logs, by outcome (delivered: AC had it, not sent again)");
        ConnectionsAged = meter.CreateCounter<long>("kivasync.connections.aged", "{connection}", "Client connections closed at their maximum age, so streams rebalance");

        // Tenant gauges report the last sample (Status/TenantGauges.cs), never a Redis call made inside a collection.
        meter.CreateObservableGauge(
            Instruments.QueueDepth,
            () => TenantSamples.SelectMany(t => new[]
            {
                new Measurement<long>(t.Value.Pending, TenantTag(t.Key), new(Tags.Queue, "pending")),
                new Measurement<long>(t.Value.InFlight, TenantTag(t.Key), new(Tags.Queue, "in_flight")),
            }),
            "{contact}",
            "Contacts waiting for a sync, and being synced now");
        meter.CreateObservableGauge(
            Instruments.Lag,
            () => TenantSamples.Select(t => new Measurement<double>(t.Value.LagSeconds, TenantTag(t.Key))),
            "s",
            "Age of the oldest contact waiting for a sync: how far AC is behind the log");
        meter.CreateObservableGauge(
            Instruments.BackfillActive,
            () => TenantSamples.Select(t => new Measurement<int>(t.Value.Backfill ? 1 : 0, TenantTag(t.Key))),
            "1",
            "1 while the tenant works through its history, 0 once it is live");
        meter.CreateObservableGauge(
            Instruments.BackfillProgress,
            () => TenantSamples.Select(t => new Measurement<double>(t.Value.Progress, TenantTag(t.Key))),
            "1",
            "Share of the tenant's contacts with nothing waiting (1 = caught up)");
        meter.CreateObservableGauge(
            Instruments.CatchUp,
            () => TenantSamples.Select(t => new Measurement<double>(t.Value.CatchUpSeconds, TenantTag(t.Key))),
            "s",
            "Estimated time to sync what waits, at the tenant's budget");
    }

    /// <summary>The service's meter.</summary>
    public Meter Meter { get; }

    /// <summary>Each tenant's latest sampled figures, read by the tenant gauges.</summary>
    public ConcurrentDictionary<string, TenantSample> TenantSamples { get; } = new(StringComparer.Ordinal);

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

    /// <summary>kivasync.events.lookups (tag <see cref="Tags.Lookup"/>: delivered, not_delivered, failed)</summary>
    public Counter<long> EventLookups { get; }

    /// <summary>kivasync.connections.aged</summary>
    public Counter<long> ConnectionsAged { get; }

    /// <summary>kivasync.calls.refused</summary>
    public Counter<long> CallsRefused { get; }

    /// <summary>kivasync.ac.circuit.opened</summary>
    public Counter<long> CircuitOpened { get; }

    /// <summary>kivasync.deadletters</summary>
    public Counter<long> DeadLettered { get; }

    /// <summary>Feeds the kivasync.ac.circuit.open gauge.</summary>
    public void SetCircuitOpen(string tenant, bool open) => openCircuits[tenant] = open ? 1 : 0;

    /// <summary>Feeds the kivasync.redis.state_lost gauge.</summary>
    public void SetStateLost(string tenant, bool lost) => stateLost[tenant] = lost ? 1 : 0;

    /// <inheritdoc />
    public void Dispose()
    {
        Source.Dispose();
        Meter.Dispose();
    }

    private static KeyValuePair<string, object?> TenantTag(string tenant) => new(Tags.Tenant, tenant);

    /// <summary>Names of the tenant gauges.</summary>
    public static class Instruments
    {
        public const string QueueDepth = "kivasync.queue.depth";
        public const string Lag = "kivasync.lag";
        public const string BackfillActive = "kivasync.backfill.active";
        public const string BackfillProgress = "kivasync.backfill.progress";
        public const string CatchUp = "kivasync.backfill.catch_up";
        public const string StateLost = "kivasync.redis.state_lost";
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        public const string IngestBatch = "ingest batch";
        public const string SyncContact = "sync contact";
        public const string BulkImport = "bulk import";
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
        public const string Queue = "kivasync.queue";
        public const string Lookup = "kivasync.event.lookup";
    }
}

/// <summary>A tenant's figures for the gauges, as last sampled.</summary>
public sealed record TenantSample(long Pending, long InFlight, double LagSeconds, bool Backfill, double Progress, double CatchUpSeconds);
