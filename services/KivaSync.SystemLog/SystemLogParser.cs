using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KivaSync.SystemLog;

/// <summary>
/// Parses one system-log line (JSON Lines, contract version 1) into a typed entry, or rejects it
/// with the first reason in the contract's order. One forward pass with <see cref="Utf8JsonReader"/>;
/// no regular expressions, no DOM except to compact a "data" object.
/// </summary>
public static class SystemLogParser
{
    /// <summary>Longest accepted line in bytes, line ending not counted.</summary>
    public const int MaxLineBytes = 262_144;

    private const int MaxEmailLength = 254;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 64,
    };

    /// <summary>
    /// Parses <paramref name="line"/> (its line ending removed; a trailing '\r' is tolerated).
    /// Invalid UTF-8 is read as U+FFFD. Lines without a "tenant" key belong to <paramref name="defaultTenant"/>.
    /// </summary>
    public static ParseOutcome Parse(ReadOnlySpan<byte> line, string defaultTenant)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (IsBlank(line))
        {
            return new ParseOutcome(null, RejectReason.None, null, defaultTenant, null, IsBlank: true);
        }

        if (line.Length > MaxLineBytes)
        {
            return Reject(RejectReason.TooLong, $"line is {line.Length} bytes; the limit is {MaxLineBytes}", defaultTenant, null);
        }

        if (!Utf8Repair.IsValid(line))
        {
            return Parse(Utf8Repair.Repair(line), defaultTenant);
        }

        var draft = new Draft();
        try
        {
            var reader = new Utf8JsonReader(line, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Reject(RejectReason.InvalidJson, "the line is not a JSON object", defaultTenant, null);
            }

            ReadTopLevel(ref reader, line, draft);
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
        if (draft.TenantError is not null)
        {
            // The tenant key is unusable: the line is the default tenant's to count.
            return Reject(RejectReason.InvalidEntry, draft.TenantError, defaultTenant, null);
        }

        if (draft.TsError is not null)
        {
            return Reject(RejectReason.InvalidTs, draft.TsError, tenant, id);
        }

        foreach (var (reason, detail) in draft.Errors.OrderBy(e => e.Reason))
        {
            return Reject(reason, detail, tenant, id);
        }

        var entry = new LogEntry(
            tenant,
            draft.Ts,
            id,
            draft.Event,
            draft.Customer,
            draft.Contact,
            draft.Customer is null ? null : draft.Attrs,
            draft.Order,
            draft.DataJson,
            draft.Week);
        return new ParseOutcome(entry, RejectReason.None, null, tenant, id, IsBlank: false);
    }

    /// <summary>True when the contract's email rule holds: one '@' between a non-empty local part
    /// and a domain with a dot, no whitespace, at most 254 characters.</summary>
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

        if (at <= 0 || at == email.Length - 1)
        {
            return false;
        }

        var dot = email.IndexOf('.', at + 1);
        // The dot must separate two non-empty labels of the domain.
        return dot > at + 1 && dot < email.Length - 1;
    }

    /// <summary>True for a real calendar day written YYYY-MM-DD.</summary>
    public static bool IsValidDate(string s) =>
        s.Length == 10 && DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

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

    /// <summary>Parses an RFC 3339 timestamp that carries "Z" or a numeric offset.</summary>
    public static bool TryParseRfc3339(string s, out DateTimeOffset value)
    {
        value = default;
        // yyyy-MM-ddTHH:mm:ss then optional fraction then Z or ±hh:mm.
        if (s.Length < 20 || s[4] != '-' || s[7] != '-' || (s[10] is not ('T' or 't')) || s[13] != ':' || s[16] != ':')
        {
            return false;
        }

        if (!TryDigits(s, 0, 4, out var year) || !TryDigits(s, 5, 2, out var month) || !TryDigits(s, 8, 2, out var day) ||
            !TryDigits(s, 11, 2, out var hour) || !TryDigits(s, 14, 2, out var minute) || !TryDigits(s, 17, 2, out var second))
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

        if (pos != s.Length || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month) ||
            hour > 23 || minute > 59 || second > 59 || year < 1)
        {
            return false;
        }

        try
        {
            value = new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(fractionTicks);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool TryDigits(string s, int start, int count, out int value)
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

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return "malformed JSON: " + (cut > 0 ? message[..cut] : message);
    }

    private static void ReadTopLevel(ref Utf8JsonReader reader, ReadOnlySpan<byte> line, Draft draft)
    {
        var sawTs = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            switch (key)
            {
                case "ts":
                    sawTs = true;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        draft.TsError = "\"ts\" must be an RFC 3339 string";
                    }
                    else
                    {
                        var ts = reader.GetString()!;
                        if (TryParseRfc3339(ts, out var parsed))
                        {
                            draft.Ts = parsed;
                            draft.TsError = null;
                        }
                        else
                        {
                            draft.TsError = $"\"ts\" is not RFC 3339 with Z or an offset: \"{Truncate(ts)}\"";
                        }
                    }

                    break;
                case "tenant":
                    if (reader.TokenType == JsonTokenType.String && IsValidTenant(reader.GetString()))
                    {
                        draft.Tenant = reader.GetString();
                        draft.TenantError = null;
                    }
                    else
                    {
                        draft.TenantError = "\"tenant\" must match [a-z0-9][a-z0-9-]{0,62}";
                    }

                    break;
                case "id":
                    draft.Id = ReadOptionalString(ref reader, draft, "id");
                    break;
                case "event":
                    draft.Event = ReadOptionalString(ref reader, draft, "event");
                    break;
                case "week":
                    draft.Week = ReadOptionalString(ref reader, draft, "week");
                    if (draft.Week is not null && !IsoWeek.IsValidLabel(draft.Week))
                    {
                        draft.Error(RejectReason.MalformedDate, $"\"week\" is not YYYY-Www: \"{Truncate(draft.Week)}\"");
                    }

                    break;
                case "customer":
                    draft.SawCustomer = reader.TokenType != JsonTokenType.Null;
                    draft.Customer = ReadPerson(ref reader, draft, "customer", requireId: true);
                    break;
                case "contact":
                    draft.SawContact = reader.TokenType != JsonTokenType.Null;
                    draft.Contact = ReadPerson(ref reader, draft, "contact", requireId: false);
                    break;
                case "attrs":
                    draft.Attrs = ReadAttrs(ref reader, draft);
                    break;
                case "order":
                    draft.Order = ReadPaidOrder(ref reader, draft);
                    break;
                case "data":
                    draft.DataJson = reader.TokenType == JsonTokenType.Null ? null : CompactValue(ref reader, line);
                    break;
                default:
                    // Unknown keys (level, msg, anything newer) are ignored.
                    reader.Skip();
                    break;
            }
        }

        if (!sawTs)
        {
            draft.TsError = "the line has no \"ts\"";
        }

        if (draft.SawCustomer && draft.SawContact)
        {
            draft.Error(RejectReason.InvalidEntry, "an entry has at most one of \"customer\" and \"contact\"");
        }
    }

    private static string? ReadOptionalString(ref Utf8JsonReader reader, Draft draft, string key)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Null:
                return null;
            default:
                draft.Error(RejectReason.InvalidEntry, $"\"{key}\" must be a string");
                reader.Skip();
                return null;
        }
    }

    private static Person? ReadPerson(ref Utf8JsonReader reader, Draft draft, string key, bool requireId)
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
        var idOk = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prop = reader.GetString()!;
            reader.Read();
            switch (prop)
            {
                case "id":
                    if (reader.TokenType == JsonTokenType.String && reader.GetString()!.Length > 0)
                    {
                        id = reader.GetString();
                        idOk = true;
                    }
                    else
                    {
                        reader.Skip();
                    }

                    break;
                case "email":
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        email = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }

                    break;
                case "first_name":
                    first = ReadOptionalString(ref reader, draft, $"{key}.first_name");
                    break;
                case "last_name":
                    last = ReadOptionalString(ref reader, draft, $"{key}.last_name");
                    break;
                case "phone":
                    phone = ReadOptionalString(ref reader, draft, $"{key}.phone");
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (requireId && !idOk)
        {
            draft.Error(RejectReason.InvalidEntry, "\"customer\" needs a string \"id\"");
            return null;
        }

        if (email is null)
        {
            draft.Error(RejectReason.InvalidEntry, $"\"{key}\" needs an \"email\"");
            return null;
        }

        var trimmed = email.Trim();
        if (!IsValidEmail(trimmed))
        {
            draft.Error(RejectReason.InvalidEmail, $"{key}.email is not a valid address: \"{Truncate(email)}\"");
            return null;
        }

        return new Person(requireId ? id : null, trimmed, first, last, phone);
    }

    private static AttrChanges? ReadAttrs(ref Utf8JsonReader reader, Draft draft)
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

        var attrs = new AttrChanges();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prop = reader.GetString()!;
            reader.Read();
            switch (prop)
            {
                case "status":
                    if (reader.TokenType == JsonTokenType.String && CustomerStatuses.All.Contains(reader.GetString()!))
                    {
                        attrs = attrs with { Status = Change<string>.To(reader.GetString()) };
                    }
                    else
                    {
                        var shown = reader.TokenType == JsonTokenType.String ? $"\"{Truncate(reader.GetString()!)}\"" : reader.TokenType.ToString().ToLowerInvariant();
                        draft.Error(RejectReason.UnknownStatus, $"attrs.status {shown} is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient");
                        reader.Skip();
                    }

                    break;
                case "next_delivery":
                    attrs = attrs with { NextDelivery = ReadDateChange(ref reader, draft, "attrs.next_delivery") };
                    break;
                case "cancelled_on":
                    attrs = attrs with { CancelledOn = ReadDateChange(ref reader, draft, "attrs.cancelled_on") };
                    break;
                case "schedule":
                    attrs = attrs with { Schedule = ReadTextChange(ref reader, draft, "attrs.schedule") };
                    break;
                case "box":
                    attrs = attrs with { Box = ReadTextChange(ref reader, draft, "attrs.box") };
                    break;
                case "order":
                    attrs = attrs with { Order = ReadOrderAttr(ref reader, draft) };
                    break;
                case "marketing_opt_in":
                    if (reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                    {
                        attrs = attrs with { MarketingOptIn = reader.GetBoolean() };
                    }
                    else
                    {
                        draft.Error(RejectReason.InvalidEntry, "attrs.marketing_opt_in must be true or false");
                        reader.Skip();
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return attrs;
    }

    private static Change<string> ReadTextChange(ref Utf8JsonReader reader, Draft draft, string key)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return Change<string>.To(null);
            case JsonTokenType.String:
                return Change<string>.To(reader.GetString());
            default:
                draft.Error(RejectReason.InvalidEntry, $"{key} must be a string or null");
                reader.Skip();
                return Change<string>.Absent;
        }
    }

    private static Change<string> ReadDateChange(ref Utf8JsonReader reader, Draft draft, string key)
    {
        var change = ReadTextChange(ref reader, draft, key);
        if (change.Value is { } value && !IsValidDate(value))
        {
            draft.Error(RejectReason.MalformedDate, $"{key} is not a real YYYY-MM-DD day: \"{Truncate(value)}\"");
            return Change<string>.Absent;
        }

        return change;
    }

    private static Change<OrderAttr> ReadOrderAttr(ref Utf8JsonReader reader, Draft draft)
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
            var prop = reader.GetString()!;
            reader.Read();
            if (prop == "week" && reader.TokenType == JsonTokenType.String)
            {
                week = reader.GetString();
            }
            else if (prop == "state" && reader.TokenType == JsonTokenType.String)
            {
                state = reader.GetString();
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
            draft.Error(RejectReason.InvalidEntry, "attrs.order needs a \"week\"");
            return Change<OrderAttr>.Absent;
        }

        if (!IsoWeek.IsValidLabel(week))
        {
            draft.Error(RejectReason.MalformedDate, $"attrs.order.week is not YYYY-Www: \"{Truncate(week)}\"");
            return Change<OrderAttr>.Absent;
        }

        return Change<OrderAttr>.To(new OrderAttr(week, parsedState));
    }

    private static PaidOrder? ReadPaidOrder(ref Utf8JsonReader reader, Draft draft)
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
            var prop = reader.GetString()!;
            reader.Read();
            switch (prop)
            {
                case "id" when reader.TokenType == JsonTokenType.String:
                    id = reader.GetString();
                    break;
                case "week" when reader.TokenType == JsonTokenType.String:
                    week = reader.GetString();
                    break;
                case "currency" when reader.TokenType == JsonTokenType.String:
                    currency = reader.GetString();
                    break;
                case "total_cents":
                    total = ReadCents(ref reader, draft, "order.total_cents", ref ok);
                    break;
                case "shipping_cents":
                    shipping = ReadCents(ref reader, draft, "order.shipping_cents", ref ok) ?? 0;
                    break;
                case "tax_cents":
                    tax = ReadCents(ref reader, draft, "order.tax_cents", ref ok) ?? 0;
                    break;
                case "discount_cents":
                    discount = ReadCents(ref reader, draft, "order.discount_cents", ref ok) ?? 0;
                    break;
                case "items" when reader.TokenType == JsonTokenType.StartArray:
                    items = ReadItems(ref reader, draft, ref ok);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (string.IsNullOrEmpty(id) || total is null || string.IsNullOrEmpty(currency) || items is null || items.Count == 0)
        {
            draft.Error(RejectReason.InvalidEntry, "\"order\" needs \"id\", \"total_cents\", \"currency\" and at least one item");
            return null;
        }

        if (week is not null && !IsoWeek.IsValidLabel(week))
        {
            draft.Error(RejectReason.MalformedDate, $"order.week is not YYYY-Www: \"{Truncate(week)}\"");
            return null;
        }

        return ok ? new PaidOrder(id, week, total.Value, currency, shipping, tax, discount, items) : null;
    }

    private static long? ReadCents(ref Utf8JsonReader reader, Draft draft, string key, ref bool ok)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var cents))
        {
            return cents;
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            draft.Error(RejectReason.InvalidEntry, $"{key} must be a whole number of cents");
            ok = false;
        }

        reader.Skip();
        return null;
    }

    private static List<OrderItem> ReadItems(ref Utf8JsonReader reader, Draft draft, ref bool ok)
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

            string? sku = null, name = null, category = null;
            var qty = 1;
            long price = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var prop = reader.GetString()!;
                reader.Read();
                switch (prop)
                {
                    case "sku" when reader.TokenType == JsonTokenType.String:
                        sku = reader.GetString();
                        break;
                    case "name" when reader.TokenType == JsonTokenType.String:
                        name = reader.GetString();
                        break;
                    case "category" when reader.TokenType == JsonTokenType.String:
                        category = reader.GetString();
                        break;
                    case "qty" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var q):
                        qty = q;
                        break;
                    case "price_cents" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var p):
                        price = p;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            items.Add(new OrderItem(sku, name, qty, price, category));
        }

        return items;
    }

    private static string CompactValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> line)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            // A scalar: its token bytes are already compact.
            var start = (int)reader.TokenStartIndex;
            var length = reader.TokenType == JsonTokenType.String ? reader.ValueSpan.Length + 2 : reader.ValueSpan.Length;
            return Encoding.UTF8.GetString(line.Slice(start, length));
        }

        var begin = (int)reader.TokenStartIndex;
        reader.Skip();
        var end = (int)reader.BytesConsumed;
        var raw = line[begin..end];
        if (!ContainsInsignificantWhitespace(raw))
        {
            return Encoding.UTF8.GetString(raw);
        }

        var buffer = new ArrayBufferWriter<byte>(raw.Length);
        using (var document = JsonDocument.Parse(raw.ToArray()))
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.RootElement.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool ContainsInsignificantWhitespace(ReadOnlySpan<byte> json)
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
            else if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                return true;
            }
        }

        return false;
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "…");

    /// <summary>What the single pass collected before validation decides.</summary>
    private sealed class Draft
    {
        public string? Tenant { get; set; }
        public string? TenantError { get; set; }
        public DateTimeOffset Ts { get; set; }
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
        public List<(RejectReason Reason, string Detail)> Errors { get; } = [];

        public void Error(RejectReason reason, string detail) => Errors.Add((reason, detail));
    }
}
