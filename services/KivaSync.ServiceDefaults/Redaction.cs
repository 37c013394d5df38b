namespace KivaSync.ServiceDefaults;

/// <summary>Keeps personal data out of telemetry: emails are shown as "b***@example.com".</summary>
public static class Redaction
{
    /// <summary>Redacts an email's local part, keeping its first character and the domain for debugging.</summary>
    public static string Email(string? email)
    {
        if (string.IsNullOrEmpty(email))
        {
            return string.Empty;
        }

        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at <= 0 ? "***" : string.Concat(email.AsSpan(0, 1), "***", email.AsSpan(at));
    }
}
