using System.ComponentModel.DataAnnotations;
using KivaSync.SyncService.Security;

namespace KivaSync.SyncService.Tenants;

/// <summary>The sync service's configuration, section "KivaSync".</summary>
public sealed class KivaSyncOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "KivaSync";

    /// <summary>Redis: a StackExchange.Redis configuration string ("host:port,password=...") or a redis:// URL.</summary>
    [Required]
    public string Redis { get; set; } = "127.0.0.1:6379";

    /// <summary>Tenants by id; each has its own AC account.</summary>
    public Dictionary<string, TenantOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How the workers pace contact syncs.</summary>
    [Required]
    public SyncWorkerOptions Sync { get; set; } = new();

    /// <summary>Who may call the gRPC API, by caller name. None configured: the service runs open (local dev, demo).</summary>
    public Dictionary<string, CallerOptions> Callers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How much ingest work the service takes on at once.</summary>
    [Required]
    public IngestOptions Ingest { get; set; } = new();

    /// <summary>Bounds on what one SyncApi call may ask for.</summary>
    [Required]
    public ApiOptions Api { get; set; } = new();
}

/// <summary>Bounds on SyncApi calls, so one call cannot hold a replica's memory or Redis for long.</summary>
public sealed class ApiOptions
{
    /// <summary>Customer ids plus emails one ForceResync may name; more is INVALID_ARGUMENT (a whole tenant is all_customers).</summary>
    public int MaxResyncKeys { get; set; } = 1000;

    /// <summary>TestSync calls running at once on this replica; one more is refused with RESOURCE_EXHAUSTED.</summary>
    public int MaxConcurrentTestSyncs { get; set; } = 2;

    /// <summary>The retry delay a refused TestSync is given.</summary>
    public TimeSpan TestSyncRetryAfter { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Bounds on ingest work, so a flood of shippers gets told to come back later instead of exhausting the replica.</summary>
public sealed class IngestOptions
{
    /// <summary>Batches processed at once across all streams of this replica; one more is refused with RESOURCE_EXHAUSTED.</summary>
    public int MaxConcurrentBatches { get; set; } = 64;

    /// <summary>The retry delay a refused shipper is given (RetryInfo and the retry-after-ms trailer).</summary>
    public TimeSpan OverloadRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Share of <see cref="MaxConcurrentBatches"/> one caller (bearer-token name) may hold at once, so one caller's
    /// flood leaves room for the others; at least one slot. Not applied in open mode (no callers configured).</summary>
    public double CallerShare { get; set; } = 0.5;

    /// <summary>Share of <see cref="MaxConcurrentBatches"/> the batches of one tenant (the batch's source tenant) may hold at once; at least one slot.</summary>
    public double TenantShare { get; set; } = 0.5;

    /// <summary>Most lines in one batch; more is refused with INVALID_ARGUMENT. Bounds one ingest script's run (Redis runs
    /// one script at a time for every tenant) and the acknowledgement's size.</summary>
    public int MaxLinesPerBatch { get; set; } = 10_000;

    /// <summary>Longest <c>source.path</c> in UTF-8 bytes; longer is refused with INVALID_ARGUMENT.</summary>
    public int MaxSourcePathBytes { get; set; } = 1024;

    /// <summary>Longest <c>source.fingerprint</c> in UTF-8 bytes; longer is refused with INVALID_ARGUMENT.</summary>
    public int MaxFingerprintBytes { get; set; } = 128;

    /// <summary>Text from a batch that is stored per line (a rejection's detail and source path, an unknown event's name)
    /// is cut to this many bytes once JSON-escaped, ending with "…" when cut. A rejection's detail in the acknowledgement is cut alike.</summary>
    public int MaxStoredTextBytes { get; set; } = 256;

    /// <summary>The tenant's list of latest rejections (<c>ks:{t}:rejected</c>) keeps at most this many records; the oldest go first.</summary>
    public int MaxRejectedEntries { get; set; } = 10_000;

    /// <summary>The tenant's list of latest rejections keeps at most this many bytes of records; the oldest go first.</summary>
    public long MaxRejectedBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>A client connection is asked to close after this long (± 10 %), so long-lived shipper streams
    /// spread over the replicas again; its streams end cleanly and shippers reconnect. Zero: never.</summary>
    public TimeSpan MaxConnectionAge { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a connection past its age may live to finish its calls before it is aborted.</summary>
    public TimeSpan MaxConnectionAgeGrace { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>One tenant's ActiveCampaign settings.</summary>
public sealed class TenantOptions
{
    /// <summary>The AC API URL, e.g. https://ACCOUNT.api-us1.com (paths under /api/3/ are appended).</summary>
    [Required]
    public string ApiUrl { get; set; } = "";

    /// <summary>The AC API key (header Api-Token). A secret: never logged.</summary>
    [Required]
    public string ApiKey { get; set; } = "";

    /// <summary>Event tracking endpoint; AC's is https://trackcmp.net/event.</summary>
    public string TrackingUrl { get; set; } = "https://trackcmp.net/event";

    /// <summary>Event tracking account id (actid).</summary>
    public string? TrackingAccountId { get; set; }

    /// <summary>Event tracking key (not the API key). A secret: never logged.</summary>
    public string? TrackingKey { get; set; }

    /// <summary>The account's web app URL, e.g. https://ACCOUNT.activehosted.com; derived from ApiUrl when empty.</summary>
    public string? AccountWebUrl { get; set; }

    /// <summary>AC API requests per second this tenant may use, shared by all replicas (AC allows 5 per account).</summary>
    [Range(0.1, 10_000)]
    public double RequestsPerSecond { get; set; } = 5;

    /// <summary>An entry older than this when processed is historical.</summary>
    public TimeSpan LiveThreshold { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Unset (default): event posts share <see cref="RequestsPerSecond"/>, the account's budget, as AC counts them.
    /// Set: event tracking gets a budget of its own of this many posts per second (only for an account where AC confirmed
    /// a separate limit for tracking).</summary>
    [Range(0.1, 10_000)]
    public double? EventsPerSecond { get; set; }

    /// <summary>False: historical events are not sent (live ones always are). Live-only events are never sent when historical.</summary>
    public bool SendHistoricalEvents { get; set; } = true;

    /// <summary>Log event names whose historical entries are not sent, on top of <see cref="SendHistoricalEvents"/>.</summary>
    public List<string> HistoricalEventsOff { get; set; } = [];

    /// <summary>The tenant's renames and additions: log event name → AC event name (cut to 32 characters).</summary>
    public Dictionary<string, string> EventNames { get; set; } = new(StringComparer.Ordinal);

    /// <summary>More contacts than this waiting in backfill are sent by bulk import (250 a request) instead of one by one.</summary>
    [Range(11, 1_000_000)]
    public int BulkImportThreshold { get; set; } = 50;
}

/// <summary>Contact-sync pacing.</summary>
public sealed class SyncWorkerOptions
{
    /// <summary>False makes an ingest-only replica: it accepts entries but sends nothing to AC.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a contact stays dirty before it is synced, so a burst of entries makes one sync.</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a worker holds a claimed contact before another replica may take it over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Contacts synced concurrently per tenant per replica.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>Pause between polls when a tenant has nothing to do.</summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Backfill contacts wait until no historical entry arrived for this long, so each is sent once with its
    /// final state; live work never waits.</summary>
    public TimeSpan BackfillSettle { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A backfill contact dirty this long is sent even while history still arrives (long histories show progress).</summary>
    public TimeSpan BackfillMaxHold { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often each tenant's pending recurring payments (subscriptions) are looked at: a live change goes within it.</summary>
    public TimeSpan RecurringPaymentsPoll { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest a call of fewer than fifty historical recurring payments waits for more to fill it.</summary>
    public TimeSpan RecurringPaymentsBatchWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an order from a live entry waits for others to share its GraphQL call (fifty orders a call).</summary>
    public TimeSpan OrderBatchWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait before retrying a contact whose sync failed.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Failed attempts after which a contact is dead-lettered (listed, retried only on request or new data).</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Retries of one AC request on 429/503/5xx/timeouts (honouring Retry-After) before the attempt fails.</summary>
    [Range(0, 20)]
    public int AcRetries { get; set; } = 6;

    /// <summary>When a tenant's AC counts as failing, and how long it is then left alone.</summary>
    [Required]
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
}

/// <summary>The per-tenant circuit breaker on AC calls (per replica).</summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>Share of failed calls (429/503/5xx, timeouts, network errors) in the sampling window that opens the circuit.</summary>
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls the window must hold before the ratio counts.</summary>
    [Range(2, 100_000)]
    public int MinimumThroughput { get; set; } = 20;

    /// <summary>The sampling window.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit stops every call to the tenant's AC before one probe call tests it.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
