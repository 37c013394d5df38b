using System.Globalization;
using System.Text;

namespace KivaSync.SystemLog;

/// <summary>Byte-level helpers for JSON text the reader has already validated.</summary>
internal static class JsonStrings
{
    /// <summary>True when the JSON text has no whitespace outside strings.</summary>
    public static bool IsCompact(ReadOnlySpan<byte> json)
    {
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                if (b == (byte)'\\')
                {
                    i++;
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b == (byte)'"')
            {
                inString = true;
            }
            else if (IsJsonWhitespace(b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The JSON text with every whitespace byte outside strings removed; everything else kept as is.</summary>
    public static string Compact(ReadOnlySpan<byte> json)
    {
        var buffer = new byte[json.Length];
        var n = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                buffer[n++] = b;
                if (b == (byte)'\\')
                {
                    buffer[n++] = json[++i];
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (!IsJsonWhitespace(b))
            {
                buffer[n++] = b;
                inString = b == (byte)'"';
            }
        }

        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    /// <summary>
    /// Unescapes a JSON string's raw (escaped, valid UTF-8) content, reading an unpaired surrogate escape
    /// such as <c>\uD800</c> as U+FFFD — the case <see cref="System.Text.Json.Utf8JsonReader.GetString"/> throws on.
    /// </summary>
    public static string UnescapeLenient(ReadOnlySpan<byte> raw)
    {
        var text = Encoding.UTF8.GetString(raw);
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            var e = text[++i];
            switch (e)
            {
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    sb.Append((char)int.Parse(text.AsSpan(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default: sb.Append(e); break; // \" \\ \/
            }
        }

        // Unpaired surrogates become U+FFFD; pairs are kept.
        for (var i = 0; i < sb.Length; i++)
        {
            if (char.IsHighSurrogate(sb[i]) && i + 1 < sb.Length && char.IsLowSurrogate(sb[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(sb[i]))
            {
                sb[i] = '\uFFFD';
            }
        }

        return sb.ToString();
    }

    private static bool IsJsonWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';
}
