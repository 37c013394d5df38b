using System.Globalization;
using Google.Protobuf.Collections;
using KivaSync.Contracts;
using KivaSync.Contracts.V1;
using KivaSync.SystemLog;
using Microsoft.Extensions.Logging;

namespace KivaSync.Shipper;

/// <summary>What an acknowledged batch changes on the shipper's side.</summary>
internal interface IAckSink
{
    /// <summary>Called in order, once per acknowledged batch.</summary>
    void Acknowledged(InFlightBatch batch, BatchAck ack);
}

/// <summary>Records an acknowledgement: its rejections in the dead-letter file, then the file's checkpoint moved over it.</summary>
internal sealed class AckRecorder(CheckpointStore checkpoints, DeadLetterWriter deadLetters, TimeProvider time, ShipperMetrics metrics, ILogger<AckRecorder> logger)
    : IAckSink
{
    public void Acknowledged(InFlightBatch batch, BatchAck ack)
    {
        // Dead letters first: a crash must not leave the checkpoint past rejections never written down.
        if (ack.Rejections.Count > 0)
        {
            WriteDeadLetters(batch, ack.Rejections);
        }

        var file = batch.File;
        file.AdvanceAcked(batch.Start, batch.End);
        checkpoints.Advance(file.Fingerprint, batch.Path, file.Tenant, file.Acked, file.CheckpointGeneration);
    }

    private void WriteDeadLetters(InFlightBatch batch, RepeatedField<LineRejection> rejections)
    {
        var now = time.GetUtcNow();
        var letters = new List<DeadLetter>(rejections.Count);
        foreach (var rejection in rejections)
        {
            // A reason this build does not know (a newer service) is written as its number, not dropped.
            var reason = rejection.Reason.ToDomain()?.ToContractName() ?? ((int)rejection.Reason).ToString(CultureInfo.InvariantCulture);
            letters.Add(new DeadLetter(now, batch.File.Tenant, batch.Path, batch.File.Fingerprint, rejection.Offset, reason, rejection.Detail));
        }

        deadLetters.Write(letters);
        metrics.DeadLettered.Add(letters.Count);
        Log.Rejected(logger, letters.Count, batch.Path);
    }
}
