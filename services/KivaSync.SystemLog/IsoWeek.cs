using System.Globalization;

namespace KivaSync.SystemLog;

/// <summary>ISO 8601 week labels, "YYYY-Www".</summary>
public static class IsoWeek
{
    /// <summary>True for "YYYY-Www" with ww in 01–53.</summary>
    public static bool IsValidLabel(ReadOnlySpan<char> s)
    {
        if (s.Length != 8 || s[4] != '-' || s[5] != 'W')
        {
            return false;
        }

        for (var i = 0; i < 4; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }
        }

        if (!char.IsAsciiDigit(s[6]) || !char.IsAsciiDigit(s[7]))
        {
            return false;
        }

        var week = ((s[6] - '0') * 10) + (s[7] - '0');
        return week is >= 1 and <= 53;
    }

    /// <summary>The ISO week label (UTC) of an instant, e.g. "2024-W24".</summary>
    public static string LabelOf(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(utc):D4}-W{ISOWeek.GetWeekOfYear(utc):D2}");
    }
}
