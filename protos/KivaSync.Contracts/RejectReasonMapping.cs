using DomainReason = KivaSync.SystemLog.RejectReason;
using WireReason = KivaSync.Contracts.V1.RejectReason;

namespace KivaSync.Contracts;

/// <summary>
/// The one conversion between the contract's reject reasons (<see cref="DomainReason"/>) and the wire enum of
/// ingest.proto, used by the shipper and the service alike. Name by name, never by number: a value added to one enum only
/// fails here (and in its test) instead of turning into another reason on the other side.
/// </summary>
public static class RejectReasonMapping
{
    /// <summary>The wire value of a reason.</summary>
    public static WireReason ToWire(this DomainReason reason) => reason switch
    {
        DomainReason.None => WireReason.Unspecified,
        DomainReason.TooLong => WireReason.TooLong,
        DomainReason.InvalidJson => WireReason.InvalidJson,
        DomainReason.InvalidTs => WireReason.InvalidTs,
        DomainReason.InvalidEntry => WireReason.InvalidEntry,
        DomainReason.InvalidEmail => WireReason.InvalidEmail,
        DomainReason.UnknownStatus => WireReason.UnknownStatus,
        DomainReason.MalformedDate => WireReason.MalformedDate,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "reject reason without a wire value"),
    };

    /// <summary>The reason a wire value stands for; null for a value this build does not know (a newer peer).</summary>
    public static DomainReason? ToDomain(this WireReason reason) => reason switch
    {
        WireReason.Unspecified => DomainReason.None,
        WireReason.TooLong => DomainReason.TooLong,
        WireReason.InvalidJson => DomainReason.InvalidJson,
        WireReason.InvalidTs => DomainReason.InvalidTs,
        WireReason.InvalidEntry => DomainReason.InvalidEntry,
        WireReason.InvalidEmail => DomainReason.InvalidEmail,
        WireReason.UnknownStatus => DomainReason.UnknownStatus,
        WireReason.MalformedDate => DomainReason.MalformedDate,
        _ => null,
    };
}
