namespace KivaSync.SystemLog;

/// <summary>Why a line was rejected, in the order the contract checks them.</summary>
public enum RejectReason
{
    /// <summary>Not rejected.</summary>
    None = 0,
    /// <summary>Over 262,144 bytes without its line ending.</summary>
    TooLong = 1,
    /// <summary>Not one JSON object.</summary>
    InvalidJson = 2,
    /// <summary>No ts, or not RFC 3339 with Z or an offset, or more than 24 hours after the line is processed.</summary>
    InvalidTs = 3,
    /// <summary>Breaks the entry's shape.</summary>
    InvalidEntry = 4,
    /// <summary>An email that is not a plausible address.</summary>
    InvalidEmail = 5,
    /// <summary>A status outside the six.</summary>
    UnknownStatus = 6,
    /// <summary>A date that is not a real day, or a week that is not YYYY-Www.</summary>
    MalformedDate = 7,
}

/// <summary>Names of reasons as the contract spells them (metrics, status, dead letters).</summary>
public static class RejectReasonNames
{
    /// <summary>The contract's snake_case name of a reason.</summary>
    public static string ToContractName(this RejectReason reason) => reason switch
    {
        RejectReason.None => "none",
        RejectReason.TooLong => "too_long",
        RejectReason.InvalidJson => "invalid_json",
        RejectReason.InvalidTs => "invalid_ts",
        RejectReason.InvalidEntry => "invalid_entry",
        RejectReason.InvalidEmail => "invalid_email",
        RejectReason.UnknownStatus => "unknown_status",
        RejectReason.MalformedDate => "malformed_date",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown reject reason"),
    };
}
