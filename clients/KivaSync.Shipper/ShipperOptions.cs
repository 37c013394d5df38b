using Microsoft.Extensions.Options;

namespace KivaSync.Shipper;

/// <summary>Where to start reading a file that has no checkpoint yet.</summary>
public enum StartPosition
{
    /// <summary>From its first byte (a new tenant's history).</summary>
    Beginning,

    /// <summary>From its length when the shipper first sees it at start-up; files that appear later start at 0.</summary>
    End,
}

/// <summary>One configured source: a file or a glob, and the tenant its lines belong to.</summary>
public sealed class SourceOptions
{
    /// <summary>Tenant for lines without a "tenant" key.</summary>
    public string Tenant { get; set; } = "";

    /// <summary>A file path, or a directory plus a file-name pattern with '*' and '?' (e.g. /var/log/kiva/system.log*).</summary>
    public string Path { get; set; } = "";

    /// <summary>Where a file without a checkpoint starts.</summary>
    public StartPosition StartAt { get; set; } = StartPosition.Beginning;
}

/// <summary>The shipper's configuration (section "Shipper").</summary>
public sealed class ShipperOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Shipper";

    /// <summary>The sync service's gRPC address (http:// means HTTP/2 without TLS).</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Sent as "Authorization: Bearer …" on every call; never logged.</summary>
    public string? BearerToken { get; set; }

    /// <summary>The files to ship.</summary>
    public List<SourceOptions> Sources { get; set; } = [];

    /// <summary>Directory of checkpoints.json.</summary>
    public string CheckpointDirectory { get; set; } = "";

    /// <summary>JSON-lines file of lines the service rejected.</summary>
    public string DeadLetterPath { get; set; } = "";

    /// <summary>Most lines in one batch.</summary>
    public int MaxLines { get; set; } = 2000;

    /// <summary>Most raw bytes in one batch (a single longer line still goes alone).</summary>
    public int MaxBytes { get; set; } = 1024 * 1024;

    /// <summary>Longest a partial batch waits for more lines at the end of a file.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Most unacknowledged batches on the stream; reading stops while it is full.</summary>
    public int MaxInFlightBatches { get; set; } = 8;

    /// <summary>Bytes hashed for a file's fingerprint; a live file shorter than this waits until it grows.</summary>
    public int FingerprintBytes { get; set; } = 1024;

    /// <summary>How often files are looked for and read when at their end.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a rotated-away or deleted file is kept open without growing before it is let go.</summary>
    public TimeSpan RotatedFileWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Fewest time between checkpoint writes.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the checkpoint keeps the entry of a file that was read to its end and let go; a copy of it
    /// (e.g. its .gz) found later than this is shipped again (the service drops the duplicates).</summary>
    public TimeSpan CheckpointRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>First reconnect delay; doubles per failed attempt (with jitter).</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest reconnect delay (a longer retry-after from the service is still honoured).</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A batch not acknowledged within this time fails the stream, which is then reopened.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>On stop (SIGTERM) how long to wait for batches in flight to be acknowledged.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Fill each line's advisory ParsedEntry with the contract parser (the service re-parses the raw bytes
    /// anyway and is the authority); off (the default), only the source's tenant is set, and reading costs a fraction
    /// of the CPU: the shipper then only finds line boundaries, skips over-long lines and repairs invalid UTF-8.</summary>
    public bool ParseLines { get; set; }

    /// <summary>Compress batches with gzip on the wire.</summary>
    public bool Compress { get; set; } = true;

    /// <summary>Health endpoint address, e.g. http://0.0.0.0:8081; empty: no endpoint.</summary>
    public string? HealthUrl { get; set; }

    /// <summary>The health endpoint answers 503 once the service has been unreachable this long.</summary>
    public TimeSpan UnhealthyAfter { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Checks the options at start-up so a bad configuration fails fast with every problem listed.</summary>
public sealed class ShipperOptionsValidator : IValidateOptions<ShipperOptions>
{
    /// <summary>Largest MaxBytes: 3 MiB of lines plus their framing stays under gRPC's default 4 MiB message limit.</summary>
    public const int MaxBatchBytes = 3 * 1024 * 1024;

    /// <summary>Largest MaxLines: the service refuses batches of more lines (its default KivaSync:Ingest:MaxLinesPerBatch).</summary>
    public const int MaxBatchLines = 10_000;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ShipperOptions options)
    {
        var errors = new List<string>();
        if (options.ServiceUrl is null || !options.ServiceUrl.IsAbsoluteUri || options.ServiceUrl.Scheme is not ("http" or "https"))
        {
            errors.Add("Shipper:ServiceUrl must be an absolute http:// or https:// address");
        }

        if (options.Sources.Count == 0)
        {
            errors.Add("Shipper:Sources must name at least one source");
        }

        for (var i = 0; i < options.Sources.Count; i++)
        {
            var source = options.Sources[i];
            if (!KivaSync.SystemLog.SystemLogParser.IsValidTenant(source.Tenant))
            {
                errors.Add($"Shipper:Sources:{i}:Tenant must match [a-z0-9][a-z0-9-]{{0,62}}");
            }

            if (string.IsNullOrWhiteSpace(source.Path))
            {
                errors.Add($"Shipper:Sources:{i}:Path is required");
            }
            else if (FileGlob.HasWildcard(System.IO.Path.GetDirectoryName(source.Path) ?? ""))
            {
                errors.Add($"Shipper:Sources:{i}:Path may have wildcards in its file name only");
            }
        }

        if (string.IsNullOrWhiteSpace(options.CheckpointDirectory))
        {
            errors.Add("Shipper:CheckpointDirectory is required");
        }

        if (string.IsNullOrWhiteSpace(options.DeadLetterPath))
        {
            errors.Add("Shipper:DeadLetterPath is required");
        }

        Positive(options.MaxLines, "MaxLines");
        Positive(options.MaxBytes, "MaxBytes");
        if (options.MaxLines > MaxBatchLines)
        {
            errors.Add($"Shipper:MaxLines must be at most {MaxBatchLines} (the service refuses larger batches)");
        }

        if (options.MaxBytes > MaxBatchBytes)
        {
            // A batch is one gRPC message: it must stay under the service's default 4 MiB receive limit.
            errors.Add($"Shipper:MaxBytes must be at most {MaxBatchBytes}");
        }

        Positive(options.MaxInFlightBatches, "MaxInFlightBatches");
        Positive(options.FingerprintBytes, "FingerprintBytes");
        PositiveTime(options.PollInterval, "PollInterval");
        PositiveTime(options.ReconnectMinDelay, "ReconnectMinDelay");
        PositiveTime(options.AckTimeout, "AckTimeout");
        PositiveTime(options.UnhealthyAfter, "UnhealthyAfter");
        PositiveTime(options.CheckpointRetention, "CheckpointRetention");
        if (options.MaxDelay < TimeSpan.Zero || options.RotatedFileWait < TimeSpan.Zero || options.CheckpointInterval < TimeSpan.Zero ||
            options.DrainTimeout < TimeSpan.Zero)
        {
            errors.Add("Shipper: MaxDelay, RotatedFileWait, CheckpointInterval and DrainTimeout cannot be negative");
        }

        if (options.ReconnectMaxDelay < options.ReconnectMinDelay)
        {
            errors.Add("Shipper:ReconnectMaxDelay must be at least ReconnectMinDelay");
        }

        if (!string.IsNullOrEmpty(options.HealthUrl) && !Uri.TryCreate(options.HealthUrl, UriKind.Absolute, out _))
        {
            errors.Add("Shipper:HealthUrl must be an absolute address such as http://0.0.0.0:8081");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);

        void Positive(int value, string key)
        {
            if (value <= 0)
            {
                errors.Add($"Shipper:{key} must be positive");
            }
        }

        void PositiveTime(TimeSpan value, string key)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"Shipper:{key} must be positive");
            }
        }
    }
}
