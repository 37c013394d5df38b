using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Ingest;

/// <summary>The LogIngest gRPC service: one acknowledgement per batch, in order, once durable.</summary>
public sealed class LogIngestService(IngestPipeline pipeline) : LogIngest.LogIngestBase
{
    /// <inheritdoc />
    public override async Task Ship(IAsyncStreamReader<EntryBatch> requestStream, IServerStreamWriter<BatchAck> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        await foreach (var batch in requestStream.ReadAllAsync(ct))
        {
            var ack = await pipeline.AcceptAsync(batch, static _ => true, ct);
            await responseStream.WriteAsync(ack, ct);
        }
    }
}
