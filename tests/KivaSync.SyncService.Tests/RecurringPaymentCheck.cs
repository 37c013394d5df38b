using System.Globalization;
using KivaSync.SystemLog;
using KivaSync.Testing.Oracle;

namespace KivaSync.SyncService.Tests;

/// <summary>Compares a recurring payment (as the service maps it, or as AC holds it) with the oracle's, field by field.</summary>
internal static class RecurringPaymentCheck
{
    /// <summary>The service's recurring payment as GraphQL field name → value, never-logged fields left out.</summary>
    public static Dictionary<string, object?> Fields(RecurringPayment rp, bool suppressAutomations)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["storeRecurringPaymentId"] = rp.StoreRecurringPaymentId,
            ["storeCustomerId"] = rp.StoreCustomerId,
            ["email"] = rp.Email,
            ["normalizedStatus"] = rp.NormalizedStatus,
            ["storeStatus"] = rp.StoreStatus,
            ["suppressAutomations"] = suppressAutomations,
        };
        Add("name", rp.Name);
        Add("lineItemNames", rp.LineItemNames);
        Add("billingInterval", rp.BillingInterval);
        Add("billingIntervalCount", rp.BillingIntervalCount);
        Add("nextPaymentDate", rp.NextPaymentDate);
        Add("cancelledDate", rp.CancelledDate);
        Add("paymentAmount", rp.PaymentAmount);
        Add("currency", rp.Currency);
        return fields;

        void Add<T>(string name, Logged<T> value)
        {
            if (value.IsLogged)
            {
                fields[name] = value.Value;
            }
        }
    }

    /// <summary>AC's copy (the emulator's) as GraphQL field name → value: only the fields ever sent.</summary>
    public static Dictionary<string, object?> Fields(KivaSync.AcEmulator.EmulatedRecurringPayment rp)
    {
        var all = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["storeRecurringPaymentId"] = rp.StoreRecurringPaymentId,
            ["storeCustomerId"] = rp.StoreCustomerId,
            ["email"] = rp.Email,
            ["normalizedStatus"] = rp.NormalizedStatus,
            ["storeStatus"] = rp.StoreStatus,
            ["suppressAutomations"] = rp.SuppressAutomations,
            ["name"] = rp.Name,
            ["lineItemNames"] = rp.LineItemNames,
            ["billingInterval"] = rp.BillingInterval,
            ["billingIntervalCount"] = rp.BillingIntervalCount,
            ["nextPaymentDate"] = rp.NextPaymentDate,
            ["cancelledDate"] = rp.CancelledDate,
            ["paymentAmount"] = rp.PaymentAmount,
            ["currency"] = rp.Currency,
        };
        return all.Where(f => rp.FieldsSent.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
    }

    /// <summary>Every difference between what is there (<paramref name="got"/>, null: no recurring payment) and the oracle's.</summary>
    public static IEnumerable<string> Diff(string customerId, ExpectedRecurringPayment? want, IReadOnlyDictionary<string, object?>? got)
    {
        if (want is null || got is null)
        {
            if ((want is null) != (got is null))
            {
                yield return $"c:{customerId} recurring payment: {(got is null ? "none" : "one")}, expected {(want is null ? "none" : "one")}";
            }

            yield break;
        }

        var wanted = new Dictionary<string, object?>(want.Fields, StringComparer.Ordinal)
        {
            ["storeRecurringPaymentId"] = want.Id,
            ["storeCustomerId"] = want.CustomerId,
            ["email"] = want.Email,
            ["normalizedStatus"] = want.NormalizedStatus,
            ["storeStatus"] = want.StoreStatus,
            ["suppressAutomations"] = want.SuppressAutomations,
        };
        foreach (var key in wanted.Keys.Union(got.Keys).Order(StringComparer.Ordinal))
        {
            var w = wanted.TryGetValue(key, out var wv) ? Render(wv) : "(absent)";
            var g = got.TryGetValue(key, out var gv) ? Render(gv) : "(absent)";
            if (w != g)
            {
                yield return $"c:{customerId} recurring payment {key}: {g} != expected {w}";
            }
        }
    }

    /// <summary>One text per value: decimals without trailing zeros, lists in brackets, null as null.</summary>
    public static string Render(object? value) => value switch
    {
        null => "null",
        string s => '"' + s + '"',
        decimal d => d.ToString("G29", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IEnumerable<string> list => "[" + string.Join(",", list.Select(x => '"' + x + '"')) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
