using System.Diagnostics;
using System.Text;
using Google.Protobuf;
using KivaSync.Contracts;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using KivaSync.SystemLog;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using LogReason = KivaSync.SystemLog.RejectReason;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// Turns one shipped batch into durable state: parses every line (the service is the authority,
/// whatever the shipper thought), groups entries by tenant and runs the ingest script once per
/// tenant. Only when every script has returned is the batch acknowledged.
/// </summary>
/// <remarks>
/// Two steps so a stream can pipeline: <see cref="Prepare"/> (parse, CPU only, may run for several
/// batches at once) and <see cref="SubmitAsync"/>, which sends the scripts before it first awaits, so
/// calling it in batch order makes Redis run the batches in file order on one connection while
/// their results are still on the way. A script that asks to be called again (keys it found at run time) wrote
/// nothing; the stream's fence (<see cref="IngestStream"/>) holds the batches sent after it until it is applied.
/// </remarks>
public sealed class IngestPipeline(StateStore store, TenantRegistry tenants, TimeProvider time, SyncTelemetry telemetry, IOptions<KivaSyncOptions> options, StateGuard guard)
{
    private readonly IngestOptions limits = options.Value.Ingest;

    /// <summary>How long identities of entries whose replay is harmless are kept at least (docs/dedup.md);
    /// they are dropped between one and two windows after they were first seen.</summary>
    public static readonly TimeSpan DedupWindow = TimeSpan.FromDays(7);

    /// <summary>Validates and parses a batch into one script payload per tenant; touches no shared state.
    /// Throws an RpcException (via <see cref="GrpcErrors"/>) for a batch that cannot be taken.</summary>
    public PreparedBatch Prepare(EntryBatch batch, Func<string, bool> tenantAllowed)
    {
        Validate(batch, tenantAllowed);
        var sourceTenant = batch.Source.Tenant;
        var path = batch.Source.Path;
        var parent = ExtractParent(batch);
        // The span lives until SubmitAsync ends; it must not become the caller's current activity meanwhile.
        var caller = Activity.Current;
        var activity = telemetry.Source.StartActivity(SyncTelemetry.Spans.IngestBatch, ActivityKind.Consumer, parent);
        Activity.Current = caller;
        activity?.SetTag(SyncTelemetry.Tags.Tenant, sourceTenant);
        activity?.SetTag(SyncTelemetry.Tags.Lines, batch.Lines.Count);
        var traceParent = activity is null ? null : $"00-{activity.TraceId}-{activity.SpanId}-{(activity.Recorded ? "01" : "00")}";

        var groups = new Dictionary<string, TenantGroup>(StringComparer.Ordinal);
        var lineCount = batch.Lines.Count;
        var slots = new Slot[lineCount];
        Span<byte> identity = stackalloc byte[EntryIdentity.Size];
        // Historical or live is decided as the batch is processed (the contract's "at the time it is processed").
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        for (var i = 0; i < lineCount; i++)
        {
            var line = batch.Lines[i];
            ParseOutcome outcome;
            if (line.Raw.IsEmpty && line.RawSha256.Length == 32)
            {
                EntryIdentity.ComputeFromLineHash(sourceTenant, line.RawSha256.Span, identity);
                outcome = new ParseOutcome(null, LogReason.TooLong, $"line is {line.Length} bytes; the limit is {SystemLogParser.MaxLineBytes}", sourceTenant, null, false);
            }
            else
            {
                var raw = line.Raw.Span;
                outcome = SystemLogParser.Parse(raw, sourceTenant, now);
                if (outcome.IsBlank)
                {
                    continue;
                }

                var rawForIdentity = raw.Length > 0 && raw[^1] == (byte)'\r' ? raw[..^1] : raw;
                EntryIdentity.Compute(outcome.Tenant, outcome.Id, rawForIdentity, identity);
            }

            var tenant = outcome.Tenant;
            if (tenant != sourceTenant && (!tenants.TryGet(tenant, out _) || !tenantAllowed(tenant)))
            {
                // A line naming a tenant this caller may not write is refused alone, counted under the
                // file's tenant, so it never blocks the lines after it.
                outcome = outcome with
                {
                    Entry = null,
                    Reason = LogReason.InvalidEntry,
                    Detail = $"tenant \"{tenant}\" is not configured or not allowed for this caller",
                    Tenant = sourceTenant,
                };
                tenant = sourceTenant;
            }

            if (!groups.TryGetValue(tenant, out var group))
            {
                tenants.TryGet(tenant, out var tenantOptions);
                group = new TenantGroup(tenant, traceParent, lineCount, EventRules.For(tenantOptions), limits);
                groups[tenant] = group;
            }

            var detail = outcome.Detail;
            if (outcome.Entry is { } entry)
            {
                IngestScriptEntry.WriteAccepted(group.Args, group.Keys, identity, entry, group.Rules, nowMs, limits.MaxStoredTextBytes);
            }
            else
            {
                // Cut once: the stored record and the acknowledgement say the same.
                detail = StoredText.Cut(detail ?? "", limits.MaxStoredTextBytes);
                var record = StoredText.RejectionRecord(outcome.Reason.ToContractName(), detail, path, line.Offset, nowMs, limits.MaxStoredTextBytes);
                IngestScriptEntry.WriteRejected(group.Args, group.Keys, identity, outcome.Reason, record);
            }

            slots[i] = new Slot(group, group.Count++, outcome.Reason, detail);
        }

        return new PreparedBatch(batch, groups.Values.ToArray(), slots, activity);
    }

    /// <summary>
    /// Runs a prepared batch's scripts and builds its acknowledgement. The scripts are sent before this
    /// method first awaits: a caller that calls it in batch order with its stream (and the previous batch's task)
    /// gets Redis to apply batches in that order, also when a script is called again.
    /// </summary>
    public async Task<BatchAck> SubmitAsync(PreparedBatch prepared, CancellationToken ct, IngestStream? stream = null)
    {
        using var _ = prepared;
        var activity = prepared.Activity;
        var batch = prepared.Batch;
        ct.ThrowIfCancellationRequested();
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var windowMs = (long)DedupWindow.TotalMilliseconds;
        foreach (var group in prepared.Groups)
        {
            // Never fold into a Redis that lost the tenant's state: the shipper keeps the batch until it is re-armed.
            guard.ThrowIfNotIntact(group.Tenant);
        }

        var calls = new Task<int[]>[prepared.Groups.Length];
        for (var g = 0; g < calls.Length; g++)
        {
            var group = prepared.Groups[g];
            calls[g] = store.IngestAsync(group.Tenant, group.Args, group.Keys, nowMs, windowMs, stream?.Next(group.Tenant));
        }

        for (var g = 0; g < calls.Length; g++)
        {
            prepared.Groups[g].Codes = await calls[g];
        }

        var ack = new BatchAck
        {
            Sequence = batch.Sequence,
            Fingerprint = batch.Source.Fingerprint,
            CheckpointOffset = batch.EndOffset,
        };
        var slots = prepared.Slots;
        for (var i = 0; i < slots.Length; i++)
        {
            var (group, index, reason, detail) = slots[i];
            if (group is null)
            {
                continue;
            }

            switch (group.Codes![index])
            {
                case 1:
                    ack.Accepted++;
                    break;
                case 2:
                    ack.Rejections.Add(new LineRejection { Offset = batch.Lines[i].Offset, Reason = reason.ToWire(), Detail = detail ?? "" });
                    telemetry.LinesRejected.Add(
                        1,
                        new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, group.Tenant),
                        new KeyValuePair<string, object?>(SyncTelemetry.Tags.Reason, reason.ToContractName()));
                    break;
                default:
                    ack.Duplicates++;
                    break;
            }
        }

        foreach (var group in prepared.Groups)
        {
            // Per tenant: a file may carry entries of tenants other than its own.
            var tenant = new KeyValuePair<string, object?>(SyncTelemetry.Tags.Tenant, group.Tenant);
            telemetry.EntriesAccepted.Add(group.Codes!.Count(code => code == 1), tenant);
            telemetry.DuplicatesDropped.Add(group.Codes!.Count(code => code == 0), tenant);
        }
        activity?.SetTag(SyncTelemetry.Tags.Accepted, ack.Accepted);
        activity?.SetTag(SyncTelemetry.Tags.Duplicates, ack.Duplicates);
        return ack;
    }

    private void Validate(EntryBatch batch, Func<string, bool> tenantAllowed)
    {
        if (batch.Source is null || string.IsNullOrEmpty(batch.Source.Tenant))
        {
            throw GrpcErrors.InvalidArgument("source.tenant", "every batch names the tenant its file is configured for");
        }

        if (!SystemLogParser.IsValidTenant(batch.Source.Tenant))
        {
            throw GrpcErrors.InvalidArgument("source.tenant", "a tenant id must match [a-z0-9][a-z0-9-]{0,62}");
        }

        if (!tenantAllowed(batch.Source.Tenant))
        {
            throw GrpcErrors.PermissionDenied($"this caller may not ship entries for tenant \"{batch.Source.Tenant}\"");
        }

        if (!tenants.TryGet(batch.Source.Tenant, out _))
        {
            throw GrpcErrors.FailedPrecondition(
                "TENANT_NOT_CONFIGURED",
                $"tenant \"{batch.Source.Tenant}\" has no configuration on the sync service; add it under KivaSync:Tenants and the shipper will resend");
        }

        if (string.IsNullOrEmpty(batch.Source.Fingerprint))
        {
            throw GrpcErrors.InvalidArgument("source.fingerprint", "every batch carries its source's fingerprint");
        }

        // A source identity is kept per rejection and in traces: absurd ones are refused, not stored.
        CheckBytes("source.fingerprint", batch.Source.Fingerprint, limits.MaxFingerprintBytes, nameof(IngestOptions.MaxFingerprintBytes));
        CheckBytes("source.path", batch.Source.Path, limits.MaxSourcePathBytes, nameof(IngestOptions.MaxSourcePathBytes));
        if (batch.Lines.Count > limits.MaxLinesPerBatch)
        {
            throw GrpcErrors.InvalidArgument(
                "lines",
                $"the batch has {batch.Lines.Count} lines; the service takes at most {limits.MaxLinesPerBatch} (KivaSync:Ingest:MaxLinesPerBatch): ship smaller batches");
        }

        if (batch.EndOffset < batch.StartOffset)
        {
            throw GrpcErrors.InvalidArgument("end_offset", "end_offset is before start_offset");
        }

        foreach (var line in batch.Lines)
        {
            // Compared without adding: offset + length may wrap past 2^64 - 1.
            if (line.Offset < batch.StartOffset || line.Offset > batch.EndOffset || line.Length > batch.EndOffset - line.Offset)
            {
                throw GrpcErrors.InvalidArgument("lines.offset", $"line at offset {line.Offset} lies outside the batch's range [{batch.StartOffset}, {batch.EndOffset})");
            }
        }
    }

    private static void CheckBytes(string field, string value, int max, string option)
    {
        // Characters first: a UTF-8 character takes at most 3 bytes per UTF-16 unit, so short strings skip the count.
        if (value.Length * 3 > max && Encoding.UTF8.GetByteCount(value) is var bytes && bytes > max)
        {
            throw GrpcErrors.InvalidArgument(field, $"{field} is {bytes} bytes; the service takes at most {max} (KivaSync:Ingest:{option})");
        }
    }

    private static ActivityContext ExtractParent(EntryBatch batch)
    {
        if (batch.TraceContext.TryGetValue("traceparent", out var traceParent) &&
            ActivityContext.TryParse(traceParent, batch.TraceContext.GetValueOrDefault("tracestate"), isRemote: true, out var context))
        {
            return context;
        }

        return Activity.Current?.Context ?? default;
    }

    internal readonly record struct Slot(TenantGroup? Group, int Index, LogReason Reason, string? Detail);

    /// <summary>A parsed batch waiting for its scripts to run. <see cref="SubmitAsync"/> disposes it; dispose one
    /// that is never submitted to end its span.</summary>
    public sealed class PreparedBatch : IDisposable
    {
        internal PreparedBatch(EntryBatch batch, TenantGroup[] groups, Slot[] slots, Activity? activity)
        {
            Batch = batch;
            Groups = groups;
            Slots = slots;
            Activity = activity;
        }

        /// <summary>The batch as shipped.</summary>
        public EntryBatch Batch { get; }

        internal TenantGroup[] Groups { get; }

        internal Slot[] Slots { get; }

        internal Activity? Activity { get; }

        /// <inheritdoc />
        public void Dispose() => Activity?.Dispose();
    }

    internal sealed class TenantGroup
    {
        public TenantGroup(string tenant, string? traceParent, int lines, EventRules rules, IngestOptions limits)
        {
            Tenant = tenant;
            Rules = rules;
            // About 12 arguments per line; the store fills its own header slots.
            Args = new List<RedisValue>(StateStore.IngestHeaderArgs + 2 + (lines * 12));
            for (var i = 0; i < StateStore.IngestHeaderArgs; i++)
            {
                Args.Add(RedisValue.Null);
            }

            IngestScriptEntry.WriteHeader(Args, traceParent, limits.MaxRejectedEntries, limits.MaxRejectedBytes);
        }

        public string Tenant { get; }

        /// <summary>The tenant's event rules.</summary>
        public EventRules Rules { get; }

        /// <summary>The script's ARGV: the store's header slots, this batch's header, then the entries.</summary>
        public List<RedisValue> Args { get; }

        /// <summary>The keys the entries name (the script's KEYS besides the tenant's fixed ones).</summary>
        public IngestBatchKeys Keys { get; } = new();

        public int Count { get; set; }

        public int[]? Codes { get; set; }
    }
}
