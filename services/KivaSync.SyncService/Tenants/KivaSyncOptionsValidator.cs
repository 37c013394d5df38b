using KivaSync.SystemLog;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Tenants;

/// <summary>Checks at start-up what data annotations cannot: tenant ids and URLs.</summary>
internal sealed class KivaSyncOptionsValidator : IValidateOptions<KivaSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, KivaSyncOptions options)
    {
        var failures = new List<string>();
        foreach (var (id, tenant) in options.Tenants)
        {
            if (!SystemLogParser.IsValidTenant(id))
            {
                failures.Add($"KivaSync:Tenants:{id}: a tenant id must match [a-z0-9][a-z0-9-]{{0,62}}");
            }

            CheckUrl(failures, id, nameof(TenantOptions.ApiUrl), tenant.ApiUrl, required: true);
            CheckUrl(failures, id, nameof(TenantOptions.TrackingUrl), tenant.TrackingUrl, required: false);
            CheckUrl(failures, id, nameof(TenantOptions.AccountWebUrl), tenant.AccountWebUrl, required: false);
            if (string.IsNullOrWhiteSpace(tenant.ApiKey))
            {
                failures.Add($"KivaSync:Tenants:{id}:ApiKey is required");
            }

            if (tenant.RequestsPerSecond is <= 0 or > 10_000)
            {
                failures.Add($"KivaSync:Tenants:{id}:RequestsPerSecond must be in (0, 10000]");
            }
        }

        if (options.Api.MaxResyncKeys is < 1 or > 100_000)
        {
            failures.Add("KivaSync:Api:MaxResyncKeys must be in [1, 100000]");
        }

        if (options.Api.MaxConcurrentTestSyncs is < 1 or > 1000)
        {
            failures.Add("KivaSync:Api:MaxConcurrentTestSyncs must be in [1, 1000]");
        }

        if (options.Api.TestSyncRetryAfter <= TimeSpan.Zero || options.Api.TestSyncRetryAfter > TimeSpan.FromMinutes(10))
        {
            failures.Add("KivaSync:Api:TestSyncRetryAfter must be in (0, 00:10:00]");
        }

        if (options.Ingest.MaxConcurrentBatches is < 1 or > 100_000)
        {
            failures.Add("KivaSync:Ingest:MaxConcurrentBatches must be in [1, 100000]");
        }

        if (options.Ingest.OverloadRetryAfter <= TimeSpan.Zero || options.Ingest.OverloadRetryAfter > TimeSpan.FromMinutes(10))
        {
            failures.Add("KivaSync:Ingest:OverloadRetryAfter must be in (0, 00:10:00]");
        }

        var ingest = options.Ingest;
        if (ingest.CallerShare is not (> 0 and <= 1) || ingest.TenantShare is not (> 0 and <= 1))
        {
            failures.Add("KivaSync:Ingest:CallerShare and TenantShare must be in (0, 1]");
        }

        CheckRange(failures, nameof(IngestOptions.MaxLinesPerBatch), ingest.MaxLinesPerBatch, 1, 100_000);
        CheckRange(failures, nameof(IngestOptions.MaxSourcePathBytes), ingest.MaxSourcePathBytes, 1, 64 * 1024);
        CheckRange(failures, nameof(IngestOptions.MaxFingerprintBytes), ingest.MaxFingerprintBytes, 1, 4096);
        CheckRange(failures, nameof(IngestOptions.MaxStoredTextBytes), ingest.MaxStoredTextBytes, 16, 64 * 1024);
        CheckRange(failures, nameof(IngestOptions.MaxRejectedEntries), ingest.MaxRejectedEntries, 0, 1_000_000);
        CheckRange(failures, nameof(IngestOptions.MaxRejectedBytes), ingest.MaxRejectedBytes, 0, 1024L * 1024 * 1024);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckRange(List<string> failures, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            failures.Add($"KivaSync:Ingest:{key} must be in [{min}, {max}]");
        }
    }

    private static void CheckUrl(List<string> failures, string tenant, string key, string? value, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                failures.Add($"KivaSync:Tenants:{tenant}:{key} is required");
            }

            return;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"KivaSync:Tenants:{tenant}:{key} must be an absolute http(s) URL");
        }
    }
}
