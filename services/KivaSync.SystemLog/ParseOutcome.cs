namespace KivaSync.SystemLog;

/// <summary>What the parser made of one line: an entry, a rejection, or a blank line.</summary>
/// <param name="Entry">The entry when the line was accepted.</param>
/// <param name="Reason">The rejection reason; <see cref="RejectReason.None"/> when accepted or blank.</param>
/// <param name="Detail">For a rejection, what exactly is wrong, for a person to act on.</param>
/// <param name="Tenant">The line's tenant when it could be read (also for most rejections), else the default tenant.</param>
/// <param name="Id">The line's "id" when it could be read, else null: with <see cref="Tenant"/> it is the identity.</param>
/// <param name="IsBlank">True for an empty or whitespace-only line: skipped without a count.</param>
public readonly record struct ParseOutcome(
    LogEntry? Entry,
    RejectReason Reason,
    string? Detail,
    string Tenant,
    string? Id,
    bool IsBlank)
{
    /// <summary>True when the line became an entry.</summary>
    public bool IsAccepted => Entry is not null;
}
