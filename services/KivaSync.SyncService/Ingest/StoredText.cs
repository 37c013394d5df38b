using System.Text.Json;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// The home of the byte bound on text a batch makes Redis keep per line (Ingest:MaxStoredTextBytes): a
/// rejection's detail and source path, an unknown event's name. A shipper chooses that text, so without a
/// bound one batch could make every record as large as the message (issue #11).
/// </summary>
internal static class StoredText
{
    /// <summary>Ends a text that was cut.</summary>
    public const string Marker = "…";

    // What the marker costs once JSON-escaped (\u2026).
    private const int MarkerCost = 6;

    /// <summary>
    /// <paramref name="text"/> cut so that its JSON-escaped UTF-8 form takes at most <paramref name="maxBytes"/> bytes,
    /// ending with <see cref="Marker"/> when cut. Counted as System.Text.Json's default encoder writes it at most
    /// (6 bytes per escaped UTF-16 unit), so a record built with <see cref="RejectionRecord"/> keeps the bound.
    /// </summary>
    public static string Cut(string text, int maxBytes)
    {
        var cost = 0;
        var fitsWithMarker = -1;
        for (var i = 0; i < text.Length; i++)
        {
            cost += Cost(text[i]);
            if (cost <= maxBytes - MarkerCost)
            {
                fitsWithMarker = i + 1;
            }

            if (cost > maxBytes)
            {
                var end = Math.Max(fitsWithMarker, 0);
                // Never split a surrogate pair.
                if (end > 0 && char.IsHighSurrogate(text[end - 1]))
                {
                    end--;
                }

                return string.Concat(text.AsSpan(0, end), Marker);
            }
        }

        return text;
    }

    /// <summary>One rejection as stored in <c>ks:{t}:rejected</c>: JSON with reason, detail, source path, offset and when
    /// (unix ms). Detail and source are cut with <see cref="Cut"/>, so a record is at most
    /// <see cref="RecordOverhead"/> + 2 × <paramref name="maxTextBytes"/> bytes.</summary>
    public static byte[] RejectionRecord(string reason, string detail, string source, ulong offset, long atMs, int maxTextBytes)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128 + (2 * maxTextBytes));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("reason", reason);
            json.WriteString("detail", Cut(detail, maxTextBytes));
            json.WriteString("source", Cut(source, maxTextBytes));
            json.WriteNumber("offset", offset);
            json.WriteNumber("at", atMs);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A record's bytes besides its detail and source: keys, punctuation, the longest reason, a 20-digit
    /// offset and a 20-digit time.</summary>
    public const int RecordOverhead = 128;

    /// <summary>The most bytes one stored rejection record takes.</summary>
    public static int MaxRecordBytes(int maxTextBytes) => RecordOverhead + (2 * maxTextBytes);

    private static int Cost(char c) => c switch
    {
        >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or ' ' or '.' or '-' or '_' or ',' or ':' or '/' or ';' or '(' or ')' or '=' or '!' or '?' or '#' or '@' or '%' or '*' or '[' or ']' or '{' or '}' or '|' or '^' or '$' or '~' => 1,
        _ => 6,
    };
}
