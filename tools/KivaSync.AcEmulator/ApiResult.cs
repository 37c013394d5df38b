using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace KivaSync.AcEmulator;

/// <summary>An answer before it is written: status, JSON body, and the Retry-After seconds to send (null: none).</summary>
internal sealed record ApiResult(int Status, JsonNode Body, int? RetryAfter = null)
{
    public static ApiResult Ok(JsonNode body) => new(StatusCodes.Status200OK, body);

    public static ApiResult Created(JsonNode body) => new(StatusCodes.Status201Created, body);

    /// <summary>AC's first error shape: {"message":"..."}.</summary>
    public static ApiResult Message(int status, string message, int? retryAfter = null) =>
        new(status, new JsonObject { ["message"] = message }, retryAfter);

    /// <summary>AC's second error shape (422): {"errors":[{title,detail,code,source:{pointer}}]}.</summary>
    public static ApiResult Unprocessable(string code, string title, string pointer, string detail = "") =>
        new(StatusCodes.Status422UnprocessableEntity, new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject
            {
                ["title"] = title,
                ["detail"] = detail,
                ["code"] = code,
                ["source"] = new JsonObject { ["pointer"] = pointer },
            }),
        });

    /// <summary>Several 422 errors at once (e.g. every missing required field).</summary>
    public static ApiResult Unprocessable(IEnumerable<(string Code, string Title, string Pointer)> errors)
    {
        var array = new JsonArray();
        foreach (var (code, title, pointer) in errors)
        {
            array.Add(new JsonObject
            {
                ["title"] = title,
                ["detail"] = "",
                ["code"] = code,
                ["source"] = new JsonObject { ["pointer"] = pointer },
            });
        }

        return new(StatusCodes.Status422UnprocessableEntity, new JsonObject { ["errors"] = array });
    }

    /// <summary>Some AC 400s are a bare {}.</summary>
    public static ApiResult BareBadRequest() => new(StatusCodes.Status400BadRequest, new JsonObject());

    public static ApiResult NotFound(string what, string id) =>
        Message(StatusCodes.Status404NotFound, $"No Result found for {what} with id {id}");
}

/// <summary>Reading AC-style JSON input (ids as string or number) and writing AC-style output.</summary>
internal static partial class AcJson
{
    /// <summary>A scalar as text: strings as-is, numbers by their JSON text, booleans as true/false; else null.</summary>
    public static string? Text(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    /// <summary>An id given as "79" or 79; null when absent or not a scalar.</summary>
    public static string? Id(JsonNode? node)
    {
        var text = Text(node)?.Trim();
        return string.IsNullOrEmpty(text) ? null : text;
    }

    /// <summary>true/false, 1/0, "1"/"0", "true"/"false"; null when absent or unreadable.</summary>
    public static bool? Bool(JsonNode? node) => Text(node)?.Trim().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => null,
    };

    /// <summary>A whole non-negative number given as 123 or "123" (money in cents, quantities).</summary>
    public static bool TryWhole(JsonNode? node, out long value)
    {
        value = 0;
        var text = Text(node)?.Trim();
        return text is not null && WholeNumber().IsMatch(text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static JsonObject Envelope(JsonNode? root, string name) => root?[name] as JsonObject ?? new JsonObject();

    public static string Stamp(DateTimeOffset at) => at.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public static bool IsEmail(string email) => EmailShape().IsMatch(email);

    /// <summary>AC date fields take YYYY-MM-DD (a real date) or "" (clears).</summary>
    public static bool IsDateValue(string value) =>
        value.Length == 0 ||
        (DateOnlyShape().IsMatch(value) &&
         DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _));

    public static string? Query(IQueryCollection query, string key) =>
        query.TryGetValue(key, out var values) && values.Count > 0 ? values[0] : null;

    /// <summary>AC paging: limit default 20, at most 100; offset from 0; meta.total as a string.</summary>
    public static JsonObject Page<T>(IReadOnlyList<T> items, IQueryCollection query, string key, Func<T, JsonNode> render)
    {
        var limit = int.TryParse(Query(query, "limit"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l > 0 ? Math.Min(l, 100) : 20;
        var offset = int.TryParse(Query(query, "offset"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var o) && o > 0 ? o : 0;
        var array = new JsonArray();
        foreach (var item in items.Skip(offset).Take(limit))
        {
            array.Add(render(item));
        }

        return new JsonObject
        {
            [key] = array,
            ["meta"] = new JsonObject { ["total"] = items.Count.ToString(CultureInfo.InvariantCulture) },
        };
    }

    public static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^[0-9]+$")]
    private static partial Regex WholeNumber();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailShape();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    private static partial Regex DateOnlyShape();
}
