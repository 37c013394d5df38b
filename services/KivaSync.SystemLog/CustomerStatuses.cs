using System.Collections.Frozen;

namespace KivaSync.SystemLog;

/// <summary>The six values attrs.status may take.</summary>
public static class CustomerStatuses
{
    /// <summary>Active.</summary>
    public const string Active = "Active";
    /// <summary>Stopped.</summary>
    public const string Stopped = "Stopped";
    /// <summary>Cancelled.</summary>
    public const string Cancelled = "Cancelled";
    /// <summary>Dead.</summary>
    public const string Dead = "Dead";
    /// <summary>Gift Purchaser.</summary>
    public const string GiftPurchaser = "Gift Purchaser";
    /// <summary>Gift Recipient.</summary>
    public const string GiftRecipient = "Gift Recipient";

    /// <summary>All six, exact spelling.</summary>
    public static FrozenSet<string> All { get; } =
        new[] { Active, Stopped, Cancelled, Dead, GiftPurchaser, GiftRecipient }.ToFrozenSet(StringComparer.Ordinal);
}
