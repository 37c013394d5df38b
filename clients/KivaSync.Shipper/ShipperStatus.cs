namespace KivaSync.Shipper;

/// <summary>One file as the shipper sees it now.</summary>
/// <param name="Path">Where the file was last seen.</param>
/// <param name="Fingerprint">Its identity.</param>
/// <param name="Tenant">Its source's tenant.</param>
/// <param name="AckedOffset">Acknowledged offset (the checkpoint, possibly not yet written to disk).</param>
/// <param name="ReadOffset">Offset past the last byte read.</param>
/// <param name="Length">Current length, for plain files.</param>
/// <param name="Orphaned">True when no configured path holds it any more (rotated away or deleted).</param>
public sealed record ShippedFileStatus(string Path, string Fingerprint, string Tenant, long AckedOffset, long ReadOffset, long? Length, bool Orphaned);

/// <summary>The shipper's state, for the health endpoint and tests.</summary>
/// <param name="Connected">True while a stream to the service is open.</param>
/// <param name="Healthy">False when the service has been unreachable, or a batch unacknowledged, for longer than UnhealthyAfter.</param>
/// <param name="LastAckAt">When the last acknowledgement arrived.</param>
/// <param name="LastError">The last stream failure, if any.</param>
/// <param name="BatchesInFlight">Batches sent and not yet acknowledged.</param>
/// <param name="Files">The files being followed.</param>
public sealed record ShipperStatus(bool Connected, bool Healthy, DateTimeOffset? LastAckAt, string? LastError, int BatchesInFlight, IReadOnlyList<ShippedFileStatus> Files);
