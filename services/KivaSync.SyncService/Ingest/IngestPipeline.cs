using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using KivaSync.SystemLog;
using ContractReason = KivaSync.Contracts.V1.RejectReason;
using LogReason = KivaSync.SystemLog.RejectReason;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// Turns one shipped batch into durable state: parses every line (the service is the authority,
/// whatever the shipper thought), groups entries by tenant and runs the ingest script once per
/// tenant. Only when every script has returned is the batch acknowledged.
/// </summary>
public sealed class IngestPipeline(StateStore store, TenantRegistry tenants, TimeProvider time, SyncTelemetry telemetry)
{
    /// <summary>Accepts a batch; throws an RpcException (via <see cref="GrpcErrors"/>) for a batch that cannot be taken.</summary>
    public async Task<BatchAck> AcceptAsync(EntryBatch batch, Func<string, bool> tenantAllowed, CancellationToken ct)
    {
        Validate(batch, tenantAllowed);
        var sourceTenant = batch.Source.Tenant;
        var path = batch.Source.Path;
        var parent = ExtractParent(batch);
        using var activity = telemetry.Source.StartActivity(SyncTelemetry.Spans.IngestBatch, ActivityKind.Consumer, parent);
        activity?.SetTag(SyncTelemetry.Tags.Tenant, sourceTenant);
        activity?.SetTag(SyncTelemetry.Tags.Lines, batch.Lines.Count);
        var traceParent = activity is null ? null : $"00-{activity.TraceId}-{activity.SpanId}-{(activity.Recorded ? "01" : "00")}";

        var groups = new Dictionary<string, TenantGroup>(StringComparer.Ordinal);
        var lineCount = batch.Lines.Count;
        var slots = new (TenantGroup? Group, int Index, LogReason Reason, string? Detail)[lineCount];
        Span<byte> identity = stackalloc byte[EntryIdentity.Size];
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
                outcome = SystemLogParser.Parse(raw, sourceTenant);
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
                group = new TenantGroup(tenant);
                groups[tenant] = group;
            }

            var hex = Convert.ToHexStringLower(identity);
            if (outcome.Entry is { } entry)
            {
                IngestScriptEntry.WriteAccepted(group.Writer, hex, entry, traceParent);
            }
            else
            {
                IngestScriptEntry.WriteRejected(group.Writer, hex, outcome.Reason, outcome.Detail, path, line.Offset);
            }

            slots[i] = (group, group.Count++, outcome.Reason, outcome.Detail);
        }

        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var group in groups.Values)
        {
            ct.ThrowIfCancellationRequested();
            group.Codes = await store.IngestAsync(group.Tenant, group.Finish(), nowMs);
        }

        var ack = new BatchAck
        {
            Sequence = batch.Sequence,
            Fingerprint = batch.Source.Fingerprint,
            CheckpointOffset = batch.EndOffset,
        };
        for (var i = 0; i < lineCount; i++)
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
                    ack.Rejections.Add(new LineRejection { Offset = batch.Lines[i].Offset, Reason = (ContractReason)(int)reason, Detail = detail ?? "" });
                    telemetry.LinesRejected.Add(1, new KeyValuePair<string, object?>(SyncTelemetry.Tags.Reason, reason.ToContractName()));
                    break;
                default:
                    ack.Duplicates++;
                    break;
            }
        }

        telemetry.EntriesAccepted.Add(ack.Accepted);
        telemetry.DuplicatesDropped.Add(ack.Duplicates);
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

        if (batch.EndOffset < batch.StartOffset)
        {
            throw GrpcErrors.InvalidArgument("end_offset", "end_offset is before start_offset");
        }

        foreach (var line in batch.Lines)
        {
            if (line.Offset < batch.StartOffset || line.Offset + line.Length > batch.EndOffset)
            {
                throw GrpcErrors.InvalidArgument("lines.offset", $"line at offset {line.Offset} lies outside the batch's range [{batch.StartOffset}, {batch.EndOffset})");
            }
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

    private sealed class TenantGroup
    {
        private readonly ArrayBufferWriter<byte> buffer = new(4096);

        public TenantGroup(string tenant)
        {
            Tenant = tenant;
            Writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
            Writer.WriteStartArray();
        }

        public string Tenant { get; }

        public Utf8JsonWriter Writer { get; }

        public int Count { get; set; }

        public int[]? Codes { get; set; }

        public string Finish()
        {
            Writer.WriteEndArray();
            Writer.Flush();
            Writer.Dispose();
            return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }
}
