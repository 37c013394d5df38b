using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KivaSync.SystemLog;

/// <summary>
/// Parses one system-log line (JSON Lines, contract version 1) into a typed entry, or rejects it
/// with the first reason in the contract's order. One forward pass with <see cref="Utf8JsonReader"/>;
/// no regular expressions, no DOM.
/// </summary>
/// <remarks>
/// Readings where the contract is silent (kept here so they are decided once):
/// <list type="bullet">
/// <item>A top-level optional key with JSON null (<c>tenant</c>, <c>id</c>, <c>event</c>, <c>week</c>,
/// <c>customer</c>, <c>contact</c>, <c>attrs</c>, <c>order</c>, <c>data</c>) is the same as absent.</item>
/// <item>An empty <c>id</c> is no id (identity falls back to the bytes), so a platform bug writing
/// <c>"id":""</c> everywhere cannot collapse every line into one entry.</item>
/// <item>A <c>tenant</c> that is present but not a valid tenant id is <c>invalid_entry</c>, counted under
/// the default tenant.</item>
/// <item>The Bad-input rules apply to the whole line: <c>attrs</c> on a contact (or subject-less) entry is
/// validated, then ignored (<see cref="LogEntry.Attrs"/> is null).</item>
/// <item>A wrong JSON type for a known key (e.g. <c>"event": 5</c>, <c>"marketing_opt_in": null</c>,
/// a non-integer cent amount) is <c>invalid_entry</c>; a non-string or null <c>status</c> is <c>unknown_status</c>.</item>
/// <item>A leading UTF-8 byte-order mark is skipped; a JSON <c>\uD800</c>-style lone surrogate is read as
/// U+FFFD, like invalid UTF-8; nesting depth is limited only by the line length.</item>
/// <item>RFC 3339 leap second <c>:60</c> is accepted as the last tick of second 59.</item>
/// <item>Offsets up to ±23:59 are accepted, as RFC 3339 allows; one beyond ±14:00 gives a UTC <see cref="LogEntry.Ts"/>.</item>
/// <item>A <c>ts</c> more than 24 hours after the time the line is processed is invalid_ts; exactly 24 hours is accepted.</item>
/// <item>Cent amounts and item quantities must be whole JSON numbers (<c>4599</c> or <c>4599.0</c>); an item's
/// fields are optional (qty 1, price 0, no sku/name/category) but a mistyped one is <c>invalid_entry</c>.</item>
/// <item>An email is checked exactly as logged: no trimming, so surrounding spaces make it <c>invalid_email</c>.</item>
/// <item>A line of only whitespace is blank (skipped) whatever its length.</item>
/// </list>
/// </remarks>
public static class SystemLogParser
{
    /// <summary>Longest accepted line in bytes, line ending not counted.</summary>
    public const int MaxLineBytes = 262_144;

    private const int MaxEmailLength = 254;

    /// <summary>The largest offset a <see cref="DateTimeOffset"/> can carry.</summary>
    private static readonly TimeSpan MaxDateTimeOffset = TimeSpan.FromHours(14);

    /// <summary>Short unescaped strings (ts, tenant, event, status) are decoded on the stack, not the heap.</summary>
    private const int MaxStackChars = 128;

    /// <summary>Catalogue names and the six statuses: a logged value equal to one reuses its string.</summary>
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> EventNames =
        EventCatalog.All.Select(e => e.LogName).Append(EventCatalog.WeeklyCycleCompleted)
            .ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> StatusNames =
        CustomerStatuses.All.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> OrderStateNames =
        new[] { "open", "closed", "cancelled" }.ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        // The reader and Skip() are iterative, so any depth that fits in a line is safe to read.
        MaxDepth = MaxLineBytes,
    };

    /// <summary>How far after the time a line is processed its "ts" may be: more is a clock error (invalid_ts).</summary>
    public static readonly TimeSpan MaxTsAhead = TimeSpan.FromHours(24);

    /// <summary>
    /// Parses <paramref name="line"/> (its line ending removed; a trailing '\r' is tolerated).
    /// Invalid UTF-8 is read as U+FFFD. Lines without a "tenant" key belong to <paramref name="defaultTenant"/>.
    /// <paramref name="now"/> is the time the line is processed: a "ts" more than <see cref="MaxTsAhead"/>
    /// after it is invalid_ts.
    /// </summary>
    public static ParseOutcome Parse(ReadOnlySpan<byte> line, string defaultTenant, DateTimeOffset now)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (IsBlank(line))
        {
            return new ParseOutcome(null, RejectReason.None, null, defaultTenant, null, IsBlank: true);
        }

        // The limit is on the bytes as shipped, before any U+FFFD repair could grow them.
        if (line.Length > MaxLineBytes)
        {
            return Reject(RejectReason.TooLong, $"line is {line.Length} bytes; the limit is {MaxLineBytes}", defaultTenant, null);
        }

        if (line.StartsWith("\uFEFF"u8))
        {
            line = line[3..];
        }

        return Utf8Repair.IsValid(line) ? ParseJson(line, defaultTenant, now) : ParseJson(Utf8Repair.Repair(line), defaultTenant, now);
    }

    /// <summary>True when the contract's email rule holds: exactly one '@' between a non-empty local part
    /// and a domain that contains a dot, no whitespace anywhere, at most 254 characters (UTF-16 code units).
    /// Surrounding spaces are not trimmed: they break the "without spaces" rule.</summary>
    public static bool IsValidEmail(string email)
    {
        if (email.Length is 0 or > MaxEmailLength)
        {
            return false;
        }

        var at = -1;
        for (var i = 0; i < email.Length; i++)
        {
            var c = email[i];
            if (char.IsWhiteSpace(c))
            {
                return false;
            }

            if (c == '@')
            {
                if (at >= 0)
                {
                    return false;
                }

                at = i;
            }
        }

        // The contract asks for "a domain with a dot" and no more (a dot anywhere after the '@').
        return at > 0 && email.AsSpan(at + 1).Contains('.');
    }

    /// <summary>True for a real calendar day written YYYY-MM-DD (ASCII digits, year 0001–9999).</summary>
    public static bool IsValidDate(string s) => TryParseDate(s, out _, out _, out _);

    /// <summary>True for a tenant id: [a-z0-9][a-z0-9-]{0,62}.</summary>
    public static bool IsValidTenant(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > 63 || !IsLowerAlnum(s[0]))
        {
            return false;
        }

        foreach (var c in s[1..])
        {
            if (!IsLowerAlnum(c) && c != '-')
            {
                return false;
            }
        }

        return true;

        static bool IsLowerAlnum(char c) => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c);
    }

    /// <summary>Parses an RFC 3339 date-time that carries "Z" or a numeric offset ("T"/"Z" in either case,
    /// any number of fraction digits, kept to 100 ns).</summary>
    public static bool TryParseRfc3339(string s, out DateTimeOffset value) => TryParseRfc3339Chars(s, out value);

    private static bool TryParseRfc3339Chars(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        // yyyy-MM-ddTHH:mm:ss then optional fraction then Z or ±hh:mm.
        if (s.Length < 20 || s[10] is not ('T' or 't') || s[13] != ':' || s[16] != ':' ||
            !TryParseDate(s[..10], out var year, out var month, out var day))
        {
            return false;
        }

        if (!TryDigits(s, 11, 2, out var hour) || !TryDigits(s, 14, 2, out var minute) || !TryDigits(s, 17, 2, out var second))
        {
            return false;
        }

        var pos = 19;
        long fractionTicks = 0;
        if (s[pos] == '.')
        {
            pos++;
            var start = pos;
            var scale = TimeSpan.TicksPerSecond / 10;
            while (pos < s.Length && char.IsAsciiDigit(s[pos]))
            {
                fractionTicks += (s[pos] - '0') * scale;
                scale /= 10;
                pos++;
            }

            if (pos == start)
            {
                return false;
            }
        }

        if (pos >= s.Length)
        {
            return false;
        }

        TimeSpan offset;
        if (s[pos] is 'Z' or 'z')
        {
            offset = TimeSpan.Zero;
            pos++;
        }
        else if (s[pos] is '+' or '-')
        {
            if (s.Length - pos != 6 || s[pos + 3] != ':' || !TryDigits(s, pos + 1, 2, out var oh) || !TryDigits(s, pos + 4, 2, out var om) ||
                oh > 23 || om > 59)
            {
                return false;
            }

            offset = new TimeSpan(oh, om, 0);
            if (s[pos] == '-')
            {
                offset = -offset;
            }

            pos += 6;
        }
        else
        {
            return false;
        }

        if (pos != s.Length || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        if (second == 60)
        {
            // A leap second is valid RFC 3339 but not representable: keep it inside second 59.
            second = 59;
            fractionTicks = TimeSpan.TicksPerSecond - 1;
        }

        try
        {
            // RFC 3339 offsets go to ±23:59, DateTimeOffset's only to ±14:00: beyond that the instant is kept in UTC
            // (the text as logged is kept in LogEntry.TsText).
            value = offset.Duration() <= MaxDateTimeOffset
                ? new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(fractionTicks)
                : new DateTimeOffset(new DateTime(year, month, day, hour, minute, second) - offset, TimeSpan.Zero).AddTicks(fractionTicks);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            // The UTC instant falls outside DateTimeOffset's range (e.g. 0001-01-01T00:00:00+01:00).
            return false;
        }
    }

    private static bool TryParseDate(ReadOnlySpan<char> s, out int year, out int month, out int day)
    {
        month = day = 0;
        if (s.Length != 10 || s[4] != '-' || s[7] != '-' ||
            !TryDigits(s, 0, 4, out year) || !TryDigits(s, 5, 2, out month) || !TryDigits(s, 8, 2, out day))
        {
            year = 0;
            return false;
        }

        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    private static bool TryDigits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }

            value = (value * 10) + (s[i] - '0');
        }

        return true;
    }

    private static ParseOutcome Reject(RejectReason reason, string detail, string tenant, string? id) =>
        new(null, reason, detail, tenant, id, IsBlank: false);

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    private static ParseOutcome ParseJson(ReadOnlySpan<byte> line, string defaultTenant, DateTimeOffset now)
    {
        var draft = new Draft();
        try
        {
            var reader = new Utf8JsonReader(line, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Reject(RejectReason.InvalidJson, "the line is not a JSON object", defaultTenant, null);
            }

            ReadTopLevel(ref reader, line, defaultTenant, ref draft);
            if (reader.Read())
            {
                return Reject(RejectReason.InvalidJson, "extra content after the JSON object", defaultTenant, null);
            }
        }
        catch (JsonException ex)
        {
            return Reject(RejectReason.InvalidJson, FirstSentence(ex.Message), defaultTenant, null);
        }

        var tenant = draft.Tenant ?? defaultTenant;
        var id = draft.Id;
        if (draft.TsError is not null)
        {
            return Reject(RejectReason.InvalidTs, draft.TsError, tenant, id);
        }

        // Ticks, not DateTimeOffset arithmetic: "now + 24 h" must not overflow near year 9999.
        if (draft.Ts.UtcTicks - now.UtcTicks > MaxTsAhead.Ticks)
        {
            return Reject(
                RejectReason.InvalidTs,
                $"\"ts\" {Truncate(draft.TsText!)} is more than 24 hours after the time the line was processed ({now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}): a clock error",
                tenant,
                id);
        }

        if (draft.Reason != RejectReason.None)
        {
            return Reject(draft.Reason, draft.Detail!, tenant, id);
        }

        var entry = new LogEntry(
            tenant,
            draft.Ts,
            id,
            draft.Event,
            draft.Customer,
            draft.Contact,
            // attrs describe a customer's sync state; on a lead or subject-less entry they are ignored.
            draft.Customer is null ? null : draft.Attrs,
            draft.Order,
            draft.DataJson,
            draft.Week)
        {
            TsText = draft.TsText ?? "",
        };
        return new ParseOutcome(entry, RejectReason.None, null, tenant, id, IsBlank: false);
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        }

        return "malformed JSON: " + (cut > 0 ? message[..cut] : message);
    }

    private static void ReadTopLevel(ref Utf8JsonReader reader, ReadOnlySpan<byte> line, string defaultTenant, ref Draft draft)
    {
        var sawTs = false;
        string? tenantError = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = KeyOf(ref reader);
            reader.Read();
            if (key.SequenceEqual("ts"u8))
            {
                sawTs = true;
                ReadTs(ref reader, ref draft);
            }
            else if (key.SequenceEqual("tenant"u8))
            {
                if (reader.TokenType == JsonTokenType.Null)
                {
                    draft.Tenant = null;
                    tenantError = null;
                }
                else if (reader.TokenType == JsonTokenType.String && ReadTenant(ref reader, defaultTenant) is var t && IsValidTenant(t))
                {
                    draft.Tenant = t;
                    tenantError = null;
                }
                else
                {
                    draft.Tenant = null;
                    tenantError = "\"tenant\" must match [a-z0-9][a-z0-9-]{0,62}";
                    reader.Skip();
                }
            }
            else if (key.SequenceEqual("id"u8))
            {
                var id = ReadOptionalString(ref reader, ref draft, "id");
                draft.Id = string.IsNullOrEmpty(id) ? null : id;
            }
            else if (key.SequenceEqual("event"u8))
            {
                draft.Event = reader.TokenType == JsonTokenType.String
                    ? ReadPooledString(ref reader, EventNames)
                    : ReadOptionalString(ref reader, ref draft, "event");
            }
            else if (key.SequenceEqual("week"u8))
            {
                draft.Week = ReadOptionalString(ref reader, ref draft, "week");
                if (draft.Week is not null && !IsoWeek.IsValidLabel(draft.Week))
                {
                    draft.Error(RejectReason.MalformedDate, $"\"week\" is not YYYY-Www (01-53): \"{Truncate(draft.Week)}\"");
                }
            }
            else if (key.SequenceEqual("customer"u8))
            {
                draft.SawCustomer = reader.TokenType != JsonTokenType.Null;
                draft.Customer = ReadPerson(ref reader, ref draft, "customer", requireId: true);
            }
            else if (key.SequenceEqual("contact"u8))
            {
                draft.SawContact = reader.TokenType != JsonTokenType.Null;
                draft.Contact = ReadPerson(ref reader, ref draft, "contact", requireId: false);
            }
            else if (key.SequenceEqual("attrs"u8))
            {
                draft.Attrs = ReadAttrs(ref reader, ref draft);
            }
            else if (key.SequenceEqual("order"u8))
            {
                draft.Order = ReadPaidOrder(ref reader, ref draft);
            }
            else if (key.SequenceEqual("data"u8))
            {
                draft.DataJson = reader.TokenType == JsonTokenType.Null ? null : CompactValue(ref reader, line);
            }
            else
            {
                // Unknown keys (level, msg, anything newer) are ignored.
                reader.Skip();
            }
        }

        if (!sawTs)
        {
            draft.TsError = "the line has no \"ts\"";
        }

        if (tenantError is not null)
        {
            draft.Error(RejectReason.InvalidEntry, tenantError);
        }

        if (draft.SawCustomer && draft.SawContact)
        {
            draft.Error(RejectReason.InvalidEntry, "an entry has at most one of \"customer\" and \"contact\"");
        }
    }

    private static void ReadTs(ref Utf8JsonReader reader, ref Draft draft)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            draft.TsError = "\"ts\" must be an RFC 3339 string";
            return;
        }

        Span<char> buffer = stackalloc char[MaxStackChars];
        var chars = TryGetShortChars(ref reader, buffer, out var n) ? buffer[..n] : ReadString(ref reader).AsSpan();
        if (TryParseRfc3339Chars(chars, out var parsed))
        {
            draft.Ts = parsed;
            draft.TsText = chars.ToString();
            draft.TsError = null;
        }
        else
        {
            draft.TsError = $"\"ts\" is not RFC 3339 with Z or an offset: \"{Truncate(chars.ToString())}\"";
        }
    }

    /// <summary>The tenant string; the configured tenant's own instance when equal (the usual case).</summary>
    private static string ReadTenant(ref Utf8JsonReader reader, string defaultTenant)
    {
        Span<char> buffer = stackalloc char[MaxStackChars];
        if (!TryGetShortChars(ref reader, buffer, out var n))
        {
            return ReadString(ref reader);
        }

        var chars = buffer[..n];
        return chars.SequenceEqual(defaultTenant) ? defaultTenant : new string(chars);
    }

    /// <summary>The current string, reusing the pool's instance when it is one of the pool's values.</summary>
    private static string ReadPooledString(ref Utf8JsonReader reader, FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> pool)
    {
        Span<char> buffer = stackalloc char[MaxStackChars];
        if (!TryGetShortChars(ref reader, buffer, out var n))
        {
            return ReadString(ref reader);
        }

        var chars = buffer[..n];
        return pool.TryGetValue(chars, out var known) ? known : new string(chars);
    }

    /// <summary>Decodes a short, unescaped string token into <paramref name="buffer"/>; false otherwise.</summary>
    private static bool TryGetShortChars(ref Utf8JsonReader reader, scoped Span<char> buffer, out int length)
    {
        length = 0;
        // UTF-8 never has fewer bytes than UTF-16 has chars, so the byte length bounds the char count.
        if (reader.ValueIsEscaped || reader.ValueSpan.Length > buffer.Length)
        {
            return false;
        }

        length = Encoding.UTF8.GetChars(reader.ValueSpan, buffer);
        return true;
    }

    /// <summary>The current property name as unescaped UTF-8; escaped names are rare and take a slow path.</summary>
    private static ReadOnlySpan<byte> KeyOf(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(ReadString(ref reader)) : reader.ValueSpan;

    /// <summary>The current string token. Unlike <see cref="Utf8JsonReader.GetString"/> it never throws on a
    /// lone-surrogate escape ("\uD800"): that is read as U+FFFD, as the contract reads invalid UTF-8.</summary>
    private static string ReadString(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            // The line was made valid UTF-8 up front, so this cannot lose data.
            return Encoding.UTF8.GetString(reader.ValueSpan);
        }

        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return JsonStrings.UnescapeLenient(reader.ValueSpan);
        }
    }

    private static string? ReadOptionalString(ref Utf8JsonReader reader, ref Draft draft, string key)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return ReadString(ref reader);
            case JsonTokenType.Null:
                return null;
            default:
                draft.Error(RejectReason.InvalidEntry, $"\"{key}\" must be a string");
                reader.Skip();
                return null;
        }
    }

    private static Person? ReadPerson(ref Utf8JsonReader reader, ref Draft draft, string key, bool requireId)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            draft.Error(RejectReason.InvalidEntry, $"\"{key}\" must be an object");
            reader.Skip();
            return null;
        }

        string? id = null, email = null, first = null, last = null, phone = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prop = KeyOf(ref reader);
            reader.Read();
            if (prop.SequenceEqual("id"u8))
            {
                // Only a customer's id matters; a non-string or empty one is reported below.
                id = reader.TokenType == JsonTokenType.String ? ReadString(ref reader) : null;
                reader.Skip();
            }
            else if (prop.SequenceEqual("email"u8))
            {
                // A non-string email is "no email" (invalid_entry), not an invalid address.
                email = reader.TokenType == JsonTokenType.String ? ReadString(ref reader) : null;
                reader.Skip();
            }
            else if (prop.SequenceEqual("first_name"u8))
            {
                // JSON null is "not carried", like absent: a value never logged is never sent.
                first = ReadOptionalString(ref reader, ref draft, $"{key}.first_name");
            }
            else if (prop.SequenceEqual("last_name"u8))
            {
                last = ReadOptionalString(ref reader, ref draft, $"{key}.last_name");
            }
            else if (prop.SequenceEqual("phone"u8))
            {
                phone = ReadOptionalString(ref reader, ref draft, $"{key}.phone");
            }
            else
            {
                reader.Skip();
            }
        }

        if (requireId && string.IsNullOrEmpty(id))
        {
            draft.Error(RejectReason.InvalidEntry, "\"customer\" needs a non-empty string \"id\"");
            return null;
        }

        if (email is null)
        {
            draft.Error(RejectReason.InvalidEntry, $"\"{key}\" needs a string \"email\"");
            return null;
        }

        if (!IsValidEmail(email))
        {
            draft.Error(RejectReason.InvalidEmail, $"{key}.email is not a valid address: \"{Truncate(email)}\"");
            return null;
        }

        return new Person(requireId ? id : null, email, first, last, phone);
    }

    private static AttrChanges? ReadAttrs(ref Utf8JsonReader reader, ref Draft draft)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            draft.Error(RejectReason.InvalidEntry, "\"attrs\" must be an object");
            reader.Skip();
            return null;
        }

        // Collected in locals and built once: a "with" per key would allocate a record per key.
        Change<string> status = default, nextDelivery = default, cancelledOn = default, schedule = default, box = default;
        Change<OrderAttr> order = default;
        bool? optIn = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prop = KeyOf(ref reader);
            reader.Read();
            if (prop.SequenceEqual("status"u8))
            {
                var value = reader.TokenType == JsonTokenType.String ? ReadPooledString(ref reader, StatusNames) : null;
                if (value is not null && CustomerStatuses.All.Contains(value))
                {
                    status = Change<string>.To(value);
                }
                else
                {
                    var shown = value is null ? reader.TokenType.ToString().ToLowerInvariant() : $"\"{Truncate(value)}\"";
                    draft.Error(RejectReason.UnknownStatus, $"attrs.status {shown} is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient");
                    reader.Skip();
                }
            }
            else if (prop.SequenceEqual("next_delivery"u8))
            {
                nextDelivery = ReadDateChange(ref reader, ref draft, "attrs.next_delivery");
            }
            else if (prop.SequenceEqual("cancelled_on"u8))
            {
                cancelledOn = ReadDateChange(ref reader, ref draft, "attrs.cancelled_on");
            }
            else if (prop.SequenceEqual("schedule"u8))
            {
                schedule = ReadTextChange(ref reader, ref draft, "attrs.schedule");
            }
            else if (prop.SequenceEqual("box"u8))
            {
                box = ReadTextChange(ref reader, ref draft, "attrs.box");
            }
            else if (prop.SequenceEqual("order"u8))
            {
                order = ReadOrderAttr(ref reader, ref draft);
            }
            else if (prop.SequenceEqual("marketing_opt_in"u8))
            {
                if (reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                {
                    optIn = reader.GetBoolean();
                }
                else
                {
                    draft.Error(RejectReason.InvalidEntry, "attrs.marketing_opt_in must be true or false");
                    reader.Skip();
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return new AttrChanges
        {
            Status = status,
            NextDelivery = nextDelivery,
            CancelledOn = cancelledOn,
            Schedule = schedule,
            Box = box,
            Order = order,
            MarketingOptIn = optIn,
        };
    }

    private static Change<string> ReadTextChange(ref Utf8JsonReader reader, ref Draft draft, string key)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return Change<string>.To(null);
            case JsonTokenType.String:
                return Change<string>.To(ReadString(ref reader));
            default:
                draft.Error(RejectReason.InvalidEntry, $"{key} must be a string or null");
                reader.Skip();
                return Change<string>.Absent;
        }
    }

    private static Change<string> ReadDateChange(ref Utf8JsonReader reader, ref Draft draft, string key)
    {
        var change = ReadTextChange(ref reader, ref draft, key);
        if (change.Value is { } value && !IsValidDate(value))
        {
            draft.Error(RejectReason.MalformedDate, $"{key} is not a real YYYY-MM-DD day: \"{Truncate(value)}\"");
            return Change<string>.Absent;
        }

        return change;
    }

    private static Change<OrderAttr> ReadOrderAttr(ref Utf8JsonReader reader, ref Draft draft)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return Change<OrderAttr>.To(null);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            draft.Error(RejectReason.InvalidEntry, "attrs.order must be an object or null");
            reader.Skip();
            return Change<OrderAttr>.Absent;
        }

        string? week = null, state = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prop = KeyOf(ref reader);
            reader.Read();
            if (prop.SequenceEqual("week"u8) && reader.TokenType == JsonTokenType.String)
            {
                week = ReadString(ref reader);
            }
            else if (prop.SequenceEqual("state"u8) && reader.TokenType == JsonTokenType.String)
            {
                state = ReadPooledString(ref reader, OrderStateNames);
            }
            else
            {
                reader.Skip();
            }
        }

        OrderState parsedState;
        switch (state)
        {
            case "open":
                parsedState = OrderState.Open;
                break;
            case "closed":
                parsedState = OrderState.Closed;
                break;
            case "cancelled":
                parsedState = OrderState.Cancelled;
                break;
            default:
                draft.Error(RejectReason.InvalidEntry, $"attrs.order.state must be open, closed or cancelled, not {(state is null ? "missing" : $"\"{Truncate(state)}\"")}");
                return Change<OrderAttr>.Absent;
        }

        if (week is null)
        {
            draft.Error(RejectReason.InvalidEntry, "attrs.order needs a string \"week\"");
            return Change<OrderAttr>.Absent;
        }

        if (!IsoWeek.IsValidLabel(week))
        {
            draft.Error(RejectReason.MalformedDate, $"attrs.order.week is not YYYY-Www (01-53): \"{Truncate(week)}\"");
            return Change<OrderAttr>.Absent;
        }

        return Change<OrderAttr>.To(new OrderAttr(week, parsedState));
    }

    private static PaidOrder? ReadPaidOrder(ref Utf8JsonReader reader, ref Draft draft)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            draft.Error(RejectReason.InvalidEntry, "\"order\" must be an object");
            reader.Skip();
            return null;
        }

        string? id = null, week = null, currency = null;
        long? total = null;
        long shipping = 0, tax = 0, discount = 0;
        List<OrderItem>? items = null;
        var ok = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prop = KeyOf(ref reader);
            reader.Read();
            if (prop.SequenceEqual("id"u8) && reader.TokenType == JsonTokenType.String)
            {
                id = ReadString(ref reader);
            }
            else if (prop.SequenceEqual("week"u8))
            {
                week = ReadOptionalString(ref reader, ref draft, "order.week");
            }
            else if (prop.SequenceEqual("currency"u8) && reader.TokenType == JsonTokenType.String)
            {
                currency = ReadString(ref reader);
            }
            else if (prop.SequenceEqual("total_cents"u8))
            {
                total = ReadCents(ref reader, ref draft, "order.total_cents", ref ok);
            }
            else if (prop.SequenceEqual("shipping_cents"u8))
            {
                shipping = ReadCents(ref reader, ref draft, "order.shipping_cents", ref ok) ?? 0;
            }
            else if (prop.SequenceEqual("tax_cents"u8))
            {
                tax = ReadCents(ref reader, ref draft, "order.tax_cents", ref ok) ?? 0;
            }
            else if (prop.SequenceEqual("discount_cents"u8))
            {
                discount = ReadCents(ref reader, ref draft, "order.discount_cents", ref ok) ?? 0;
            }
            else if (prop.SequenceEqual("items"u8) && reader.TokenType == JsonTokenType.StartArray)
            {
                items = ReadItems(ref reader, ref draft, ref ok);
            }
            else
            {
                reader.Skip();
            }
        }

        if (string.IsNullOrEmpty(id) || total is null || string.IsNullOrEmpty(currency) || items is null || items.Count == 0)
        {
            draft.Error(RejectReason.InvalidEntry, "\"order\" needs \"id\", \"total_cents\", \"currency\" and at least one item");
            return null;
        }

        if (week is not null && !IsoWeek.IsValidLabel(week))
        {
            draft.Error(RejectReason.MalformedDate, $"order.week is not YYYY-Www (01-53): \"{Truncate(week)}\"");
            return null;
        }

        return ok ? new PaidOrder(id, week, total.Value, currency, shipping, tax, discount, items) : null;
    }

    private static long? ReadCents(ref Utf8JsonReader reader, ref Draft draft, string key, ref bool ok)
    {
        if (TryGetWhole(ref reader, out var cents))
        {
            return cents;
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            draft.Error(RejectReason.InvalidEntry, $"{key} must be a whole number");
            ok = false;
        }

        reader.Skip();
        return null;
    }

    /// <summary>A JSON number that is a whole value in range (4599, 4599.0, 4.599e3), as an integer.</summary>
    private static bool TryGetWhole(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        if (reader.TokenType != JsonTokenType.Number)
        {
            return false;
        }

        if (reader.TryGetInt64(out value))
        {
            return true;
        }

        if (reader.TryGetDecimal(out var d) && decimal.Truncate(d) == d && d is >= long.MinValue and <= long.MaxValue)
        {
            value = (long)d;
            return true;
        }

        return false;
    }

    private static List<OrderItem> ReadItems(ref Utf8JsonReader reader, ref Draft draft, ref bool ok)
    {
        var items = new List<OrderItem>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                draft.Error(RejectReason.InvalidEntry, "order.items must be objects");
                ok = false;
                reader.Skip();
                continue;
            }

            // The contract does not shape an item: absent or null fields keep their defaults (qty 1, price 0),
            // but a mistyped one is invalid_entry rather than silently becoming a wrong amount.
            string? sku = null, name = null, category = null;
            long qty = 1, price = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var prop = KeyOf(ref reader);
                reader.Read();
                if (prop.SequenceEqual("sku"u8))
                {
                    sku = ReadOptionalString(ref reader, ref draft, "order.items.sku");
                }
                else if (prop.SequenceEqual("name"u8))
                {
                    name = ReadOptionalString(ref reader, ref draft, "order.items.name");
                }
                else if (prop.SequenceEqual("category"u8))
                {
                    category = ReadOptionalString(ref reader, ref draft, "order.items.category");
                }
                else if (prop.SequenceEqual("qty"u8))
                {
                    qty = ReadCents(ref reader, ref draft, "order.items.qty", ref ok) ?? 1;
                    if (qty is < int.MinValue or > int.MaxValue)
                    {
                        draft.Error(RejectReason.InvalidEntry, "order.items.qty is out of range");
                        ok = false;
                    }
                }
                else if (prop.SequenceEqual("price_cents"u8))
                {
                    price = ReadCents(ref reader, ref draft, "order.items.price_cents", ref ok) ?? 0;
                }
                else
                {
                    reader.Skip();
                }
            }

            items.Add(new OrderItem(sku, name, (int)Math.Clamp(qty, int.MinValue, int.MaxValue), price, category));
        }

        return items;
    }

    /// <summary>The current value's JSON text as logged, without insignificant whitespace. Escapes and
    /// number spellings are kept byte for byte, so the event data is what the platform wrote.</summary>
    private static string CompactValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> line)
    {
        var begin = (int)reader.TokenStartIndex;
        reader.Skip();
        var raw = line[begin..(int)reader.BytesConsumed];
        return JsonStrings.IsCompact(raw) ? Encoding.UTF8.GetString(raw) : JsonStrings.Compact(raw);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "…");

    /// <summary>What the single pass collected before validation decides. A struct passed by ref: one
    /// allocation fewer per line.</summary>
    private struct Draft
    {
        public string? Tenant { get; set; }
        public DateTimeOffset Ts { get; set; }
        public string? TsText { get; set; }
        public string? TsError { get; set; }
        public string? Id { get; set; }
        public string? Event { get; set; }
        public string? Week { get; set; }
        public bool SawCustomer { get; set; }
        public bool SawContact { get; set; }
        public Person? Customer { get; set; }
        public Person? Contact { get; set; }
        public AttrChanges? Attrs { get; set; }
        public PaidOrder? Order { get; set; }
        public string? DataJson { get; set; }

        /// <summary>The earliest reason (in the contract's order) found so far; ties keep the first found.</summary>
        public RejectReason Reason { get; private set; }

        public string? Detail { get; private set; }

        public void Error(RejectReason reason, string detail)
        {
            if (Reason == RejectReason.None || reason < Reason)
            {
                Reason = reason;
                Detail = detail;
            }
        }
    }
}
