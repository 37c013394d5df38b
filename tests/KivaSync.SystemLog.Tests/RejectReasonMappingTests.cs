using System.Reflection;
using Google.Protobuf.Reflection;
using KivaSync.Contracts;
using DomainReason = KivaSync.SystemLog.RejectReason;
using WireReason = KivaSync.Contracts.V1.RejectReason;

namespace KivaSync.SystemLog.Tests;

/// <summary>The one conversion between the contract's reasons and ingest.proto's enum, used by shipper and service.</summary>
public sealed class RejectReasonMappingTests
{
    [Fact]
    public void ToWire_EveryReason_DistinctWireValueThatMapsBack()
    {
        var reasons = Enum.GetValues<DomainReason>();

        var wire = reasons.Select(r => r.ToWire()).ToList();

        Assert.Equal(reasons.Length, wire.Distinct().Count());
        Assert.Equal(reasons, wire.Select(w => w.ToDomain()!.Value));
    }

    [Fact]
    public void ToDomain_EveryWireValue_KnownReasonThatMapsBack()
    {
        var wire = Enum.GetValues<WireReason>();

        var reasons = wire.Select(w => w.ToDomain()).ToList();

        Assert.All(reasons, r => Assert.NotNull(r));
        Assert.Equal(wire.Length, reasons.Distinct().Count());
        Assert.Equal(wire, reasons.Select(r => r!.Value.ToWire()));
    }

    [Fact]
    public void ToWire_EveryReason_ProtoNameSpellsTheContractName()
    {
        foreach (var reason in Enum.GetValues<DomainReason>())
        {
            var wire = reason.ToWire();
            var protoName = typeof(WireReason).GetField(wire.ToString())!.GetCustomAttribute<OriginalNameAttribute>()!.Name;

            // REJECT_REASON_TOO_LONG is "too_long"; the contract's "none" is proto's UNSPECIFIED (the zero value).
            var expected = reason == DomainReason.None ? "REJECT_REASON_UNSPECIFIED" : "REJECT_REASON_" + reason.ToContractName().ToUpperInvariant();
            Assert.Equal(expected, protoName);
        }
    }

    [Fact]
    public void ToDomain_ValueFromANewerPeer_Null()
    {
        Assert.Null(((WireReason)999).ToDomain());
    }
}
