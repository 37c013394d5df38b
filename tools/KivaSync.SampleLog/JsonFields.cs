using System.Text.Json;

namespace KivaSync.SampleLog;

/// <summary>An ordered set of JSON members (attrs or data) built for one line; reused to avoid garbage.</summary>
internal sealed class JsonFields
{
    private enum Kind
    {
        Text,
        Null,
        Number,
        Boolean,
        OrderAttr,
    }

    private readonly List<(string Key, Kind Kind, string? Text, string? Text2, long Number)> members = [];

    public bool IsEmpty => members.Count == 0;

    public JsonFields Clear()
    {
        members.Clear();
        return this;
    }

    /// <summary>A string member; a null value writes JSON null (clears an attribute).</summary>
    public JsonFields Text(string key, string? value)
    {
        members.Add((key, value is null ? Kind.Null : Kind.Text, value, null, 0));
        return this;
    }

    public JsonFields Number(string key, long value)
    {
        members.Add((key, Kind.Number, null, null, value));
        return this;
    }

    public JsonFields Bool(string key, bool value)
    {
        members.Add((key, Kind.Boolean, null, null, value ? 1 : 0));
        return this;
    }

    /// <summary>attrs.order: {"week","state"}, or null when <paramref name="week"/> is null.</summary>
    public JsonFields Order(string? week, string? state)
    {
        members.Add(("order", week is null ? Kind.Null : Kind.OrderAttr, week, state, 0));
        return this;
    }

    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var (key, kind, text, text2, number) in members)
        {
            switch (kind)
            {
                case Kind.Text:
                    writer.WriteString(key, text);
                    break;
                case Kind.Null:
                    writer.WriteNull(key);
                    break;
                case Kind.Number:
                    writer.WriteNumber(key, number);
                    break;
                case Kind.Boolean:
                    writer.WriteBoolean(key, number != 0);
                    break;
                case Kind.OrderAttr:
                    writer.WriteStartObject(key);
                    writer.WriteString("week", text);
                    writer.WriteString("state", text2);
                    writer.WriteEndObject();
                    break;
            }
        }

        writer.WriteEndObject();
    }
}
