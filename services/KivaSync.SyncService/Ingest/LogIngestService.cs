using System.Threading.Channels;
using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// The LogIngest gRPC service: one acknowledgement per batch, in order, once durable. Several batches
/// of a stream are worked on at once (parsed in parallel, their scripts pipelined to Redis in batch
/// order) while acknowledgements still go out strictly in order.
/// </summary>
public sealed class LogIngestService(IngestPipeline pipeline) : LogIngest.LogIngestBase
{
    /// <summary>Batches of one stream parsed or waiting for Redis at once; bounds a stream's memory.</summary>
    public const int MaxBatchesInFlight = 4;

    /// <inheritdoc />
    public override async Task Ship(IAsyncStreamReader<EntryBatch> requestStream, IServerStreamWriter<BatchAck> responseStream, ServerCallContext context)
    {
        Func<string, bool> tenantAllowed = static _ => true;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        using var window = new SemaphoreSlim(MaxBatchesInFlight);
        var inOrder = Channel.CreateUnbounded<Task<BatchAck>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = WriteAcksAsync(inOrder.Reader, responseStream, window, stop);
        var previousTurn = Task.CompletedTask;
        try
        {
            await foreach (var batch in requestStream.ReadAllAsync(stop.Token))
            {
                await window.WaitAsync(stop.Token);
                var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                inOrder.Writer.TryWrite(ProcessAsync(batch, tenantAllowed, previousTurn, turn, stop.Token));
                previousTurn = turn.Task;
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            // The ack writer failed (a batch was refused or Redis failed): its error is the call's answer.
        }
        finally
        {
            inOrder.Writer.TryComplete();
        }

        await writer;
    }

    private async Task<BatchAck> ProcessAsync(EntryBatch batch, Func<string, bool> tenantAllowed, Task previousTurn, TaskCompletionSource turn, CancellationToken ct)
    {
        try
        {
            var prepared = await Task.Run(() => pipeline.Prepare(batch, tenantAllowed), ct);
            // Scripts go to Redis in batch order (the earlier batch has sent its own), so the fold sees file order.
            await previousTurn;
            var ack = pipeline.SubmitAsync(prepared, ct);
            turn.TrySetResult();
            return await ack;
        }
        finally
        {
            turn.TrySetResult();
        }
    }

    private static async Task WriteAcksAsync(ChannelReader<Task<BatchAck>> inOrder, IServerStreamWriter<BatchAck> responseStream, SemaphoreSlim window, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var pending in inOrder.ReadAllAsync(stop.Token))
            {
                var ack = await pending;
                await responseStream.WriteAsync(ack, stop.Token);
                window.Release();
            }
        }
        catch
        {
            // Stop reading new batches; the batches still in flight are not acknowledged and will be resent.
            await stop.CancelAsync();
            throw;
        }
    }
}
