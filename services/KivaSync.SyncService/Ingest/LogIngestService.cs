using Grpc.Core;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Security;

namespace KivaSync.SyncService.Ingest;

/// <summary>The LogIngest gRPC service: one acknowledgement per batch, in order, once durable.</summary>
public sealed class LogIngestService(IngestPipeline pipeline, IngestAdmission admission) : LogIngest.LogIngestBase
{
    /// <inheritdoc />
    public override async Task Ship(IAsyncStreamReader<EntryBatch> requestStream, IServerStreamWriter<BatchAck> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        // The batch's source tenant must be allowed (else PERMISSION_DENIED); a line naming another tenant the
        // caller may not write is rejected alone by the pipeline.
        Func<string, bool> tenantAllowed = CallerAccess.Of(context).Allows;
        await foreach (var batch in requestStream.ReadAllAsync(ct))
        {
            if (!admission.TryEnter())
            {
                throw GrpcErrors.ResourceExhausted(
                    "INGEST_OVERLOADED", "the sync service is processing as many batches as it may; nothing from this batch on was acknowledged, resend after the retry delay", admission.RetryAfter);
            }

            BatchAck ack;
            try
            {
                ack = await pipeline.AcceptAsync(batch, tenantAllowed, ct);
            }
            finally
            {
                admission.Exit();
            }

            await responseStream.WriteAsync(ack, ct);
        }
    }
}
