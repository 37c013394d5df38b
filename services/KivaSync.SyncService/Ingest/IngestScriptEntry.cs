using System.Text.Json;
using KivaSync.SyncService.State;
using KivaSync.SystemLog;

namespace KivaSync.SyncService.Ingest;

/// <summary>
/// Writes entries in the compact JSON the ingest script reads (State/Scripts/ingest.lua):
/// h identity (hex), ts (unix ms), k kind ("c" customer, "l" lead, "n" none), cid, em, el, fn, ln, ph,
/// a (attribute changes; "" clears), wk (new current week), tp (traceparent); rejections carry r, d, src, o.
/// </summary>
internal static class IngestScriptEntry
{
    public static void WriteAccepted(Utf8JsonWriter w, string identityHex, LogEntry entry, string? traceParent)
    {
        w.WriteStartObject();
        w.WriteString("h", identityHex);
        w.WriteNumber("ts", entry.Ts.ToUnixTimeMilliseconds());
        if (traceParent is not null)
        {
            w.WriteString("tp", traceParent);
        }

        if (entry.Event == EventCatalog.WeeklyCycleCompleted && entry.Week is not null)
        {
            w.WriteString("wk", entry.Week);
        }

        var person = entry.Subject;
        if (person is null)
        {
            w.WriteString("k", "n");
        }
        else
        {
            w.WriteString("k", entry.Customer is not null ? "c" : "l");
            if (person.CustomerId is not null)
            {
                w.WriteString("cid", person.CustomerId);
            }

            w.WriteString("em", person.Email);
            w.WriteString("el", person.Email.ToLowerInvariant());
            WriteIfCarried(w, "fn", person.FirstName);
            WriteIfCarried(w, "ln", person.LastName);
            WriteIfCarried(w, "ph", person.Phone);
        }

        if (entry.Customer is not null && entry.Attrs is { } attrs)
        {
            w.WriteStartObject("a");
            WriteChange(w, ContactSnapshot.Fields.Status, attrs.Status);
            WriteChange(w, ContactSnapshot.Fields.NextDelivery, attrs.NextDelivery);
            WriteChange(w, ContactSnapshot.Fields.CancelledOn, attrs.CancelledOn);
            WriteChange(w, ContactSnapshot.Fields.Schedule, attrs.Schedule);
            WriteChange(w, ContactSnapshot.Fields.Box, attrs.Box);
            if (attrs.Order.IsPresent)
            {
                w.WriteString(ContactSnapshot.Fields.OrderWeek, attrs.Order.Value?.Week ?? "");
                w.WriteString(ContactSnapshot.Fields.OrderState, attrs.Order.Value is { } order ? OrderStateName(order.State) : "");
            }

            if (attrs.MarketingOptIn is { } optIn)
            {
                w.WriteString(ContactSnapshot.Fields.OptIn, optIn ? "1" : "0");
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    public static void WriteRejected(Utf8JsonWriter w, string identityHex, RejectReason reason, string? detail, string sourcePath, ulong offset)
    {
        w.WriteStartObject();
        w.WriteString("h", identityHex);
        w.WriteString("r", reason.ToContractName());
        w.WriteString("d", detail ?? "");
        w.WriteString("src", sourcePath);
        w.WriteNumber("o", offset);
        w.WriteEndObject();
    }

    public static string OrderStateName(OrderState state) => state switch
    {
        OrderState.Open => "open",
        OrderState.Closed => "closed",
        _ => "cancelled",
    };

    private static void WriteIfCarried(Utf8JsonWriter w, string name, string? value)
    {
        // A null or absent name was not carried: it must never blank what AC has.
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteChange(Utf8JsonWriter w, string name, Change<string> change)
    {
        if (change.IsPresent)
        {
            w.WriteString(name, change.Value ?? "");
        }
    }
}
