using System.Collections.Concurrent;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Timeout;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>
/// Each tenant's AC resilience pipeline: retry (429/503/5xx/timeouts, honouring Retry-After), then a circuit
/// breaker of its own, then a timeout. A tenant whose AC keeps failing (Sync:CircuitBreaker, e.g. half of at
/// least 20 calls in 30 s) gets no AC calls for the break, then one probe call closes it again; other
/// tenants never share its breaker. 503s, other 5xx, timeouts and network errors count as failures; 429s do not. The breaker is per replica (Polly, in process): it needs no Redis round
/// trip per call, and each replica sees the tenant's failures itself since the budget spreads calls over them.
/// </summary>
public sealed class AcCircuitBreakers(
    ResiliencePipelineRegistry<string> registry,
    IOptions<KivaSyncOptions> options,
    SyncTelemetry telemetry,
    TimeProvider time,
    ILogger<AcCircuitBreakers> logger)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> openUntil = new(StringComparer.Ordinal);

    /// <summary>The retry strategy every AC pipeline uses.</summary>
    public static RetryStrategyOptions RetryOptions(int maxRetries) => new()
    {
        ShouldHandle = new PredicateBuilder()
            .Handle<AcTransientException>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>(),
        MaxRetryAttempts = Math.Max(1, maxRetries),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = TimeSpan.FromMilliseconds(500),
        MaxDelay = TimeSpan.FromSeconds(30),
        // AC's Retry-After wins over our own backoff.
        DelayGenerator = args => ValueTask.FromResult(
            args.Outcome.Exception is AcTransientException { RetryAfter: { } retryAfter } ? retryAfter : (TimeSpan?)null),
    };

    /// <summary>The tenant's pipeline (made on first use).</summary>
    public ResiliencePipeline PipelineFor(string tenant) =>
        registry.GetOrAddPipeline($"{AcClientFactory.PipelineName}/{tenant}", builder => Configure(builder, tenant));

    /// <summary>True while the tenant's circuit is open; <paramref name="remaining"/> says for how much longer.</summary>
    public bool IsOpen(string tenant, out TimeSpan remaining)
    {
        remaining = TimeSpan.Zero;
        if (!openUntil.TryGetValue(tenant, out var until))
        {
            return false;
        }

        remaining = until - time.GetUtcNow();
        return remaining > TimeSpan.Zero;
    }

    private void Configure(ResiliencePipelineBuilder builder, string tenant)
    {
        var sync = options.Value.Sync;
        var breaker = sync.CircuitBreaker;
        if (sync.AcRetries > 0)
        {
            builder.AddRetry(RetryOptions(sync.AcRetries));
        }

        builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                // Only AC failing counts: not a 4xx about one contact's data, nor a 429 (the shared budget's
                // Retry-After pause already slows the tenant; other integrations on the account cause those too).
                ShouldHandle = new PredicateBuilder()
                    .Handle<AcTransientException>(e => e.Status != System.Net.HttpStatusCode.TooManyRequests)
                    .Handle<AcOutcomeUnknownException>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>(),
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = breaker.SamplingDuration,
                BreakDuration = breaker.BreakDuration,
                OnOpened = args =>
                {
                    openUntil[tenant] = time.GetUtcNow() + args.BreakDuration;
                    telemetry.SetCircuitOpen(tenant, true);
                    telemetry.CircuitOpened.Add(1, new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, tenant));
                    Log.CircuitOpened(logger, tenant, args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = args =>
                {
                    openUntil.TryRemove(tenant, out _);
                    return ValueTask.CompletedTask;
                },
                OnClosed = args =>
                {
                    openUntil.TryRemove(tenant, out _);
                    telemetry.SetCircuitOpen(tenant, false);
                    Log.CircuitClosed(logger, tenant);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(30));
    }
}
