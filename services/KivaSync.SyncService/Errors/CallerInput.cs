using KivaSync.ServiceDefaults;

namespace KivaSync.SyncService.Errors;

/// <summary>
/// How much of a caller's own input an answer may repeat. A 20 KiB key echoed twice in a NOT_FOUND made a trailer
/// too big to send (the caller saw the connection drop), and error messages are logged, so emails are redacted there.
/// </summary>
public static class CallerInput
{
    /// <summary>Characters of one caller value repeated at most.</summary>
    public const int MaxEcho = 64;

    /// <summary>The value cut to <see cref="MaxEcho"/> characters (with its length), for answers only the caller sees.</summary>
    public static string Cap(string value)
    {
        if (value.Length <= MaxEcho)
        {
            return value;
        }

        var cut = MaxEcho - 24;
        // Never split a surrogate pair.
        if (char.IsHighSurrogate(value[cut - 1]))
        {
            cut--;
        }

        return $"{value.AsSpan(0, cut)}…({value.Length} characters)";
    }

    /// <summary>The value as an error message may show it (messages end up in logs): an email redacted, then capped.</summary>
    public static string ForMessage(string value) => Cap(value.Contains('@', StringComparison.Ordinal) ? Redaction.Email(value) : value);
}
