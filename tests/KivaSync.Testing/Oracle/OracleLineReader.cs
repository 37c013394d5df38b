using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace KivaSync.Testing.Oracle;

/// <summary>
/// A second, deliberately separate reading of the contract's "An entry" and "Bad input" sections,
/// written with <see cref="JsonDocument"/> and plain checks. It shares no code with the service's
/// parser: when the two disagree, one of them misreads the contract.
/// </summary>
internal static partial class OracleLineReader
{
    public const int MaxLineBytes = 262_144;

    // Reject reasons in the contract's check order; the lowest one found wins.
    private static readonly string[] Reasons =
        ["too_long", "invalid_json", "invalid_ts", "invalid_entry", "invalid_email", "unknown_status", "malformed_date"];

    private static readonly HashSet<string> Statuses =
        new(["Active", "Stopped", "Cancelled", "Dead", "Gift Purchaser", "Gift Recipient"], StringComparer.Ordinal);

    private static readonly HashSet<string> OrderStates = new(["open", "closed", "cancelled"], StringComparer.Ordinal);

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex DateShape();

    [GeneratedRegex("^[0-9]{4}-W[0-9]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex WeekShape();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex TenantShape();

    /// <summary>Reads one line processed at <paramref name="now"/>: the verdict, and the entry when accepted.</summary>
    public static (LineVerdict Verdict, OracleEntry? Entry) Read(string line, string defaultTenant, DateTimeOffset now)
    {
        // The identity excludes the line ending; a "\r" left by "\r\n" is part of the ending.
        var raw = line.EndsWith('\r') ? line[..^1] : line;
        if (raw.All(c => c is ' ' or '\t' or '\r' or '\n'))
        {
            return (new LineVerdict(true, null, defaultTenant, null, ""), null);
        }

        if (Encoding.UTF8.GetByteCount(raw) > MaxLineBytes)
        {
            return (Verdict("too_long", defaultTenant, null, raw), null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(raw, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException)
        {
            return (Verdict("invalid_json", defaultTenant, null, raw), null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (Verdict("invalid_json", defaultTenant, null, raw), null);
            }

            var check = new Check();
            var tenant = defaultTenant;
            var tenantOk = true;
            if (Last(root, "tenant") is { } tenantElement)
            {
                if (tenantElement.ValueKind == JsonValueKind.String && TenantShape().IsMatch(tenantElement.GetString()!))
                {
                    tenant = tenantElement.GetString()!;
                }
                else
                {
                    tenantOk = false;
                    check.Fail("invalid_entry");
                }
            }

            string? id = null;
            if (Last(root, "id") is { } idElement)
            {
                if (idElement.ValueKind == JsonValueKind.String)
                {
                    id = idElement.GetString();
                }
                else if (idElement.ValueKind != JsonValueKind.Null)
                {
                    check.Fail("invalid_entry");
                }
            }

            if (!tenantOk)
            {
                // With an unreadable tenant the line is the file's tenant's, identified by its bytes.
                id = null;
            }

            var tsText = Last(root, "ts") is { ValueKind: JsonValueKind.String } tsElement ? tsElement.GetString() : null;
            DateTimeOffset ts = default;
            if (tsText is null || !TryParseTs(tsText, out ts))
            {
                check.Fail("invalid_ts");
            }
            else if (ts - now > TimeSpan.FromDays(1))
            {
                // "More than 24 hours later than the time the line is processed": a clock error.
                check.Fail("invalid_ts");
            }

            var evt = OptionalString(root, "event", check);
            var week = OptionalString(root, "week", check);
            if (week is not null && !IsWeek(week))
            {
                check.Fail("malformed_date");
            }

            var customer = ReadPerson(root, "customer", requireId: true, check);
            var contact = ReadPerson(root, "contact", requireId: false, check);
            if (IsPresent(root, "customer") && IsPresent(root, "contact"))
            {
                check.Fail("invalid_entry");
            }

            var attrs = ReadAttrs(root, check);
            var order = ReadOrder(root, check);
            var data = Last(root, "data") is { } dataElement && dataElement.ValueKind != JsonValueKind.Null ? Compact(dataElement.GetRawText()) : null;

            if (check.Reason is { } reason)
            {
                return (Verdict(reason, tenant, id, raw), null);
            }

            var verdict = Verdict(null, tenant, id, raw);
            var entry = new OracleEntry(tenant, ts, tsText!, id, evt, customer, contact, attrs, order, data, week);
            return (verdict, entry);
        }
    }

    private static LineVerdict Verdict(string? reason, string tenant, string? id, string raw) =>
        new(false, reason, tenant, id, id is null ? tenant + "\u0001L" + raw : tenant + "\u0001I" + id);

    /// <summary>The last member with this name (a later duplicate key overrides an earlier one).</summary>
    private static JsonElement? Last(JsonElement obj, string name)
    {
        JsonElement? found = null;
        foreach (var member in obj.EnumerateObject())
        {
            if (member.NameEquals(name))
            {
                found = member.Value;
            }
        }

        return found;
    }

    private static bool IsPresent(JsonElement obj, string name) => Last(obj, name) is { } e && e.ValueKind != JsonValueKind.Null;

    private static string? OptionalString(JsonElement obj, string name, Check check)
    {
        switch (Last(obj, name))
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString();
            case { ValueKind: JsonValueKind.Null }:
                return null;
            default:
                check.Fail("invalid_entry");
                return null;
        }
    }

    private static OraclePerson? ReadPerson(JsonElement root, string key, bool requireId, Check check)
    {
        if (Last(root, key) is not { } p || p.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (p.ValueKind != JsonValueKind.Object)
        {
            check.Fail("invalid_entry");
            return null;
        }

        string? id = null;
        if (requireId)
        {
            if (Last(p, "id") is { ValueKind: JsonValueKind.String } idElement && idElement.GetString()!.Length > 0)
            {
                id = idElement.GetString();
            }
            else
            {
                check.Fail("invalid_entry");
            }
        }

        string? email = null;
        if (Last(p, "email") is { ValueKind: JsonValueKind.String } emailElement)
        {
            email = emailElement.GetString()!;
            if (!IsEmail(email))
            {
                check.Fail("invalid_email");
            }
        }
        else
        {
            check.Fail("invalid_entry");
        }

        var first = OptionalString(p, "first_name", check);
        var last = OptionalString(p, "last_name", check);
        var phone = OptionalString(p, "phone", check);
        return email is null ? null : new OraclePerson(id, email, first, last, phone);
    }

    private static OracleAttrs? ReadAttrs(JsonElement root, Check check)
    {
        if (Last(root, "attrs") is not { } a || a.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (a.ValueKind != JsonValueKind.Object)
        {
            check.Fail("invalid_entry");
            return null;
        }

        var attrs = new OracleAttrs();
        if (Last(a, "status") is { } status)
        {
            if (status.ValueKind == JsonValueKind.String && Statuses.Contains(status.GetString()!))
            {
                attrs.Status = status.GetString();
            }
            else
            {
                check.Fail("unknown_status");
            }
        }

        attrs.NextDelivery = DateAttr(a, "next_delivery", check);
        attrs.CancelledOn = DateAttr(a, "cancelled_on", check);
        attrs.Schedule = TextAttr(a, "schedule", check);
        attrs.Box = TextAttr(a, "box", check);
        if (Last(a, "order") is { } order)
        {
            if (order.ValueKind == JsonValueKind.Null)
            {
                attrs.Order = new Optional<(string Week, string State)?>(true, null);
            }
            else if (order.ValueKind != JsonValueKind.Object)
            {
                check.Fail("invalid_entry");
            }
            else
            {
                var state = Last(order, "state") is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
                var week = Last(order, "week") is { ValueKind: JsonValueKind.String } w ? w.GetString() : null;
                if (state is null || !OrderStates.Contains(state) || week is null)
                {
                    check.Fail("invalid_entry");
                }
                else if (!IsWeek(week))
                {
                    check.Fail("malformed_date");
                }
                else
                {
                    attrs.Order = new Optional<(string Week, string State)?>(true, (week, state));
                }
            }
        }

        if (Last(a, "marketing_opt_in") is { } optIn)
        {
            if (optIn.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                attrs.MarketingOptIn = optIn.GetBoolean();
            }
            else
            {
                check.Fail("invalid_entry");
            }
        }

        return attrs;
    }

    private static Optional<string> TextAttr(JsonElement attrs, string key, Check check)
    {
        switch (Last(attrs, key))
        {
            case null:
                return default;
            case { ValueKind: JsonValueKind.Null }:
                return new(true, null);
            case { ValueKind: JsonValueKind.String } s:
                return new(true, s.GetString());
            default:
                check.Fail("invalid_entry");
                return default;
        }
    }

    private static Optional<string> DateAttr(JsonElement attrs, string key, Check check)
    {
        var value = TextAttr(attrs, key, check);
        if (value.Value is { } text && !IsDate(text))
        {
            check.Fail("malformed_date");
            return default;
        }

        return value;
    }

    private static OraclePaidOrder? ReadOrder(JsonElement root, Check check)
    {
        if (Last(root, "order") is not { } o || o.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (o.ValueKind != JsonValueKind.Object)
        {
            check.Fail("invalid_entry");
            return null;
        }

        var id = Last(o, "id") is { ValueKind: JsonValueKind.String } idElement && idElement.GetString()!.Length > 0 ? idElement.GetString() : null;
        var currency = Last(o, "currency") is { ValueKind: JsonValueKind.String } c && c.GetString()!.Length > 0 ? c.GetString() : null;
        long? total = Last(o, "total_cents") is { ValueKind: JsonValueKind.Number } t && t.TryGetInt64(out var tv) ? tv : null;
        var items = new List<ExpectedOrderItem>();
        var itemsOk = false;
        if (Last(o, "items") is { ValueKind: JsonValueKind.Array } array)
        {
            itemsOk = array.GetArrayLength() > 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    itemsOk = false;
                    continue;
                }

                items.Add(new ExpectedOrderItem(
                    Text(item, "sku"),
                    Text(item, "name"),
                    Last(item, "qty") is { ValueKind: JsonValueKind.Number } q && q.TryGetInt64(out var qv) ? qv : 1,
                    Last(item, "price_cents") is { ValueKind: JsonValueKind.Number } p && p.TryGetInt64(out var pv) ? pv : 0,
                    Text(item, "category")));
            }
        }

        if (id is null || currency is null || total is null || !itemsOk)
        {
            check.Fail("invalid_entry");
            return null;
        }

        var shipping = Cents(o, "shipping_cents", check);
        var tax = Cents(o, "tax_cents", check);
        var discount = Cents(o, "discount_cents", check);
        var week = Text(o, "week");
        if (week is not null && !IsWeek(week))
        {
            check.Fail("malformed_date");
        }

        return new OraclePaidOrder(id, week, total.Value, currency, shipping, tax, discount, items);

        static string? Text(JsonElement e, string key) => Last(e, key) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
    }

    private static long Cents(JsonElement order, string key, Check check)
    {
        switch (Last(order, key))
        {
            case null:
            case { ValueKind: JsonValueKind.Null }:
                return 0;
            case { ValueKind: JsonValueKind.Number } n when n.TryGetInt64(out var v):
                return v;
            default:
                check.Fail("invalid_entry");
                return 0;
        }
    }

    /// <summary>RFC 3339 with "Z" or a numeric offset, a real instant.</summary>
    internal static bool TryParseTs(string s, out DateTimeOffset value)
    {
        value = default;
        if (!Rfc3339().IsMatch(s))
        {
            return false;
        }

        int N(int start, int length) => int.Parse(s.AsSpan(start, length), NumberStyles.None, CultureInfo.InvariantCulture);
        int year = N(0, 4), month = N(5, 2), day = N(8, 2), hour = N(11, 2), minute = N(14, 2), second = N(17, 2);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var rest = s[19..];
        long fractionTicks = 0;
        if (rest.StartsWith('.'))
        {
            var digits = new string(rest.Skip(1).TakeWhile(char.IsAsciiDigit).ToArray());
            rest = rest[(1 + digits.Length)..];
            var seven = (digits + "0000000")[..7];
            fractionTicks = long.Parse(seven, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        var offset = TimeSpan.Zero;
        if (rest is not ("Z" or "z"))
        {
            var oh = int.Parse(rest.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture);
            var om = int.Parse(rest.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture);
            if (oh > 23 || om > 59)
            {
                return false;
            }

            offset = new TimeSpan(oh, om, 0) * (rest[0] == '-' ? -1 : 1);
        }

        try
        {
            // The instant in UTC: RFC 3339 allows offsets up to 23:59, more than a DateTimeOffset can carry.
            var utc = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).AddTicks(fractionTicks).Add(-offset);
            value = new DateTimeOffset(utc);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>One '@' between a non-empty local part and a domain with a dot, no whitespace, at most 254 characters.</summary>
    internal static bool IsEmail(string email)
    {
        if (email.Length > 254 || email.Any(char.IsWhiteSpace))
        {
            return false;
        }

        var parts = email.Split('@');
        if (parts.Length != 2 || parts[0].Length == 0)
        {
            return false;
        }

        // "A domain with a dot": a dot between labels, not a bare leading or trailing one.
        var domain = parts[1];
        return domain.Contains('.', StringComparison.Ordinal) && !domain.StartsWith('.') && !domain.EndsWith('.');
    }

    internal static bool IsDate(string s)
    {
        if (!DateShape().IsMatch(s))
        {
            return false;
        }

        var year = int.Parse(s.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture);
        var month = int.Parse(s.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture);
        var day = int.Parse(s.AsSpan(8, 2), NumberStyles.None, CultureInfo.InvariantCulture);
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    internal static bool IsWeek(string s) =>
        WeekShape().IsMatch(s) && int.Parse(s.AsSpan(6, 2), NumberStyles.None, CultureInfo.InvariantCulture) is >= 1 and <= 53;

    /// <summary>Compact JSON: the text with whitespace outside strings removed (escapes kept as logged).</summary>
    internal static string Compact(string json)
    {
        var sb = new StringBuilder(json.Length);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < json.Length)
                {
                    sb.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
                sb.Append(c);
            }
            else if (c is not (' ' or '\t' or '\r' or '\n'))
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>Collects failures; the first reason in the contract's order wins.</summary>
    private sealed class Check
    {
        private int best = int.MaxValue;

        public string? Reason => best == int.MaxValue ? null : Reasons[best];

        public void Fail(string reason) => best = Math.Min(best, Array.IndexOf(Reasons, reason));
    }
}

/// <summary>A value that may be absent, present, or present as null.</summary>
internal readonly record struct Optional<T>(bool IsPresent, T? Value);

internal sealed record OraclePerson(string? Id, string Email, string? First, string? Last, string? Phone);

internal sealed class OracleAttrs
{
    public string? Status { get; set; }
    public Optional<string> NextDelivery { get; set; }
    public Optional<string> CancelledOn { get; set; }
    public Optional<string> Schedule { get; set; }
    public Optional<string> Box { get; set; }
    public Optional<(string Week, string State)?> Order { get; set; }
    public bool? MarketingOptIn { get; set; }
}

internal sealed record OraclePaidOrder(string Id, string? Week, long TotalCents, string Currency, long ShippingCents, long TaxCents, long DiscountCents, IReadOnlyList<ExpectedOrderItem> Items);

internal sealed record OracleEntry(
    string Tenant,
    DateTimeOffset Ts,
    string TsText,
    string? Id,
    string? Event,
    OraclePerson? Customer,
    OraclePerson? Contact,
    OracleAttrs? Attrs,
    OraclePaidOrder? Order,
    string? DataJson,
    string? Week);
