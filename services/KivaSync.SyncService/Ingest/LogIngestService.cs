using System.Threading.Channels;
using Grpc.Core;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Security;
using KivaSync.SyncService.State;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// The LogIngest gRPC service: one acknowledgement per batch, in order, once durable. Several batches
/// of a stream are worked on at once (parsed in parallel, their scripts pipelined to Redis in batch
/// order) while acknowledgements still go out strictly in order.
/// </summary>
public sealed class LogIngestService(IngestPipeline pipeline, IngestAdmission admission, ConnectionAgeLimiter connectionAge) : LogIngest.LogIngestBase
{
    /// <summary>Batches of one stream parsed or waiting for Redis at once; bounds a stream's memory.</summary>
    public const int MaxBatchesInFlight = 4;

    /// <inheritdoc />
    public override async Task Ship(IAsyncStreamReader<EntryBatch> requestStream, IServerStreamWriter<BatchAck> responseStream, ServerCallContext context)
    {
        // The batch's source tenant must be allowed (else PERMISSION_DENIED); a line naming another tenant the
        // caller may not write is rejected alone by the pipeline.
        var access = CallerAccess.Of(context);
        Func<string, bool> tenantAllowed = access.Allows;
        // Open mode has one anonymous caller: no per-caller share there, the tenant share still applies.
        var caller = ReferenceEquals(access, CallerAccess.Open) ? null : access.Caller;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        using var window = new SemaphoreSlim(MaxBatchesInFlight);
        var inOrder = Channel.CreateUnbounded<Task<BatchAck>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = WriteAcksAsync(inOrder.Reader, responseStream, window, stop);
        var previousTurn = Task.FromResult(true);
        var stream = new IngestStream();
        // At the connection's maximum age: stop reading, acknowledge what was read, end the call cleanly.
        var aged = connectionAge.AgeReached(context.GetHttpContext().Connection.Id);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, aged);
        try
        {
            await foreach (var batch in requestStream.ReadAllAsync(reading.Token))
            {
                await window.WaitAsync(reading.Token);
                // A batch counts against its source tenant's share only if the caller may write that tenant (else it
                // is refused by validation and must not eat another tenant's share meanwhile).
                var tenant = batch.Source?.Tenant is { Length: > 0 } named && tenantAllowed(named) ? named : null;
                var refusal = admission.TryEnter(caller, tenant);
                if (refusal != IngestRefusal.None)
                {
                    // Acks of the batches before it still go out; then the call ends with the refusal.
                    inOrder.Writer.TryWrite(Task.FromException<BatchAck>(Refused(refusal, caller, tenant)));
                    break;
                }

                var turn = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                inOrder.Writer.TryWrite(ProcessAsync(batch, tenantAllowed, caller, tenant, previousTurn, turn, stream, stop.Token));
                previousTurn = turn.Task;
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            // The ack writer failed (a batch was refused or Redis failed): its error is the call's answer;
            // or the connection reached its age: the batches read so far are still acknowledged.
        }
        finally
        {
            inOrder.Writer.TryComplete();
        }

        await writer;
    }

    /// <summary>Parses a batch, then sends its scripts once the previous batch has sent its own. The turn
    /// says whether this batch's scripts went out; after a failed batch the later ones are not applied. The stream's
    /// fence keeps file order when ingest.lua asks to be called again for a batch (State/IngestStream).</summary>
    private async Task<BatchAck> ProcessAsync(
        EntryBatch batch, Func<string, bool> tenantAllowed, string? caller, string? tenant, Task<bool> previousTurn, TaskCompletionSource<bool> turn,
        IngestStream stream, CancellationToken ct)
    {
        try
        {
            using var prepared = await Task.Run(() => pipeline.Prepare(batch, tenantAllowed), ct);
            // Scripts go to Redis in batch order, so the fold sees file order.
            if (!await previousTurn)
            {
                throw new OperationCanceledException("an earlier batch of this stream failed");
            }

            var ack = pipeline.SubmitAsync(prepared, ct, stream);
            turn.TrySetResult(true);
            return await ack;
        }
        finally
        {
            turn.TrySetResult(false);
            admission.Exit(caller, tenant);
        }
    }

    private RpcException Refused(IngestRefusal refusal, string? caller, string? tenant)
    {
        const string Resend = "nothing from this batch on was acknowledged, resend after the retry delay";
        return refusal switch
        {
            IngestRefusal.CallerShare => GrpcErrors.ResourceExhausted(
                "INGEST_CALLER_SHARE",
                $"caller \"{caller}\" has {admission.CallerLimit} batches in progress, its share of this replica's {admission.Max} (KivaSync:Ingest:CallerShare); {Resend}",
                admission.RetryAfter),
            IngestRefusal.TenantShare => GrpcErrors.ResourceExhausted(
                "INGEST_TENANT_SHARE",
                $"tenant \"{tenant}\" has {admission.TenantLimit} batches in progress, its share of this replica's {admission.Max} (KivaSync:Ingest:TenantShare); {Resend}",
                admission.RetryAfter),
            _ => GrpcErrors.ResourceExhausted(
                "INGEST_OVERLOADED",
                $"the sync service is processing as many batches as it may; {Resend}",
                admission.RetryAfter),
        };
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
