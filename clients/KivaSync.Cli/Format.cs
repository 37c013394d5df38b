using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace KivaSync.Cli;

/// <summary>Text and JSON formatting shared by the commands.</summary>
public static class Format
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>A message as JSON (proto3 JSON mapping, zero values included so scripts always find every field).</summary>
    public static string Json(IMessage message) => Formatter.Format(message);

    /// <summary>Compact JSON that keeps quotes and non-ASCII readable (stdout is not HTML).</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A JSON object built with a writer, as one compact document.</summary>
    public static string JsonObject(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A whole number with thousands separators.</summary>
    public static string N(ulong n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A whole number with thousands separators.</summary>
    public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A duration for a person: "0 s", "42 s", "3m 05s", "2h 10m", "3d 4h".</summary>
    public static string Span(TimeSpan t)
    {
        if (t < TimeSpan.Zero)
        {
            t = TimeSpan.Zero;
        }

        return t.TotalSeconds < 60 ? $"{Math.Round(t.TotalSeconds, 1).ToString(CultureInfo.InvariantCulture)} s"
            : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes}m {t.Seconds:D2}s"
            : t.TotalHours < 48 ? $"{(int)t.TotalHours}h {t.Minutes:D2}m"
            : $"{(int)t.TotalDays}d {t.Hours}h";
    }

    /// <summary>A duration message for a person.</summary>
    public static string Span(Duration? d) => d is null ? "0 s" : Span(d.ToTimeSpan());

    /// <summary>A timestamp as UTC "yyyy-MM-dd HH:mm:ssZ", or "never".</summary>
    public static string Time(Timestamp? t) => t is null ? "never" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Cents as an amount: 123456 → "1,234.56".</summary>
    public static string Money(long cents) => (cents / 100m).ToString("N2", CultureInfo.InvariantCulture);

    /// <summary>"a 3, b 2" from counts, largest first.</summary>
    public static string Counts(IEnumerable<KeyValuePair<string, ulong>> counts) =>
        string.Join(", ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {N(c.Value)}"));

    /// <summary>A progress bar: [#########-----------].</summary>
    public static string Bar(double fraction, int width = 30)
    {
        fraction = double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0;
        var filled = (int)Math.Round(fraction * width);
        return "[" + new string('#', filled) + new string('-', width - filled) + "]";
    }

    /// <summary>A number with at most two decimals.</summary>
    public static string D(double value) => Math.Round(value, 2).ToString(CultureInfo.InvariantCulture);
}
