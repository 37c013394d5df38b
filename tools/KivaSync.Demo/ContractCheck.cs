using KivaSync.AcEmulator;
using KivaSync.Testing.Oracle;

namespace KivaSync.Demo;

/// <summary>One way the emulator's account differs from what the contract says it must show.</summary>
public sealed record Mismatch(string Email, string What, string? Expected, string? Actual)
{
    /// <inheritdoc />
    public override string ToString() => $"{Email}: {What} expected \"{Expected ?? "(never sent)"}\" but AC has \"{Actual ?? "(never sent)"}\"";
}

/// <summary>Compares the emulator's contacts and five custom fields with the oracle's reading of the log.</summary>
public static class ContractCheck
{
    /// <summary>The five custom fields the contract names.</summary>
    public static readonly string[] CustomFields = ["Customer Status", "Next Delivery", "Cancelled On", "Schedule", "Box Name"];

    /// <summary>Every difference between the expected account and the emulated one (contacts, names, phone, custom fields).</summary>
    public static IReadOnlyList<Mismatch> Contacts(ExpectedAccount expected, EmulatedAccount actual)
    {
        var mismatches = new List<Mismatch>();
        var contacts = actual.Contacts();
        var byEmail = contacts.GroupBy(c => c.Email.Trim().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.ToList());
        var fieldTitles = actual.Fields().ToDictionary(f => f.Id, f => f.Title);
        foreach (var contact in byEmail.Where(kv => kv.Value.Count > 1))
        {
            mismatches.Add(new Mismatch(contact.Key, "contacts with this email", "1", contact.Value.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        foreach (var want in expected.Contacts)
        {
            if (!byEmail.TryGetValue(want.Email.Trim().ToLowerInvariant(), out var found))
            {
                mismatches.Add(new Mismatch(want.Email, "contact", "present", null));
                continue;
            }

            var have = found[0];
            Compare(mismatches, want.Email, "email", want.Email, have.Email);
            Compare(mismatches, want.Email, "first name", want.FirstName, have.FirstName);
            Compare(mismatches, want.Email, "last name", want.LastName, have.LastName);
            Compare(mismatches, want.Email, "phone", want.Phone, have.Phone);
            var values = have.FieldValues.ToDictionary(kv => fieldTitles.GetValueOrDefault(kv.Key, kv.Key), kv => kv.Value);
            foreach (var title in CustomFields)
            {
                Compare(mismatches, want.Email, title, want.Fields.GetValueOrDefault(title), values.GetValueOrDefault(title));
            }
        }

        var expectedEmails = expected.Contacts.Select(c => c.Email.Trim().ToLowerInvariant()).ToHashSet();
        foreach (var extra in byEmail.Keys.Where(e => !expectedEmails.Contains(e)))
        {
            mismatches.Add(new Mismatch(extra, "contact", null, "present"));
        }

        return mismatches;
    }

    /// <summary>The order tags the contract names: a customer carries exactly one, a lead none.</summary>
    public static readonly string[] OrderTags = ["Open Order", "Closed Order", "Cancelled Order", "No Order"];

    /// <summary>Every difference in the whole account: contacts and fields, list statuses, order tags, events, orders.</summary>
    public static IReadOnlyList<Mismatch> Account(ExpectedAccount expected, EmulatedAccount actual) =>
        [.. Contacts(expected, actual), .. Lists(expected, actual), .. Tags(expected, actual), .. Events(expected, actual), .. Orders(expected, actual),
         .. RecurringPayments(expected, actual)];

    /// <summary>Each subscriber exactly one recurring payment (keyed by the customer id), every field as the oracle reads the
    /// mapping: a field never logged never sent, a logged null sent as null; suppressAutomations as last sent.</summary>
    public static IReadOnlyList<Mismatch> RecurringPayments(ExpectedAccount expected, EmulatedAccount actual)
    {
        var mismatches = new List<Mismatch>();
        var found = actual.RecurringPayments().GroupBy(r => r.StoreRecurringPaymentId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var want in expected.RecurringPayments.Values)
        {
            var key = "recurring payment " + want.Id;
            if (!found.TryGetValue(want.Id, out var list))
            {
                mismatches.Add(new Mismatch(want.Email, key, "present", null));
                continue;
            }

            Compare(mismatches, want.Email, key + " count", "1", list.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var have = list[0];
            var got = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["storeCustomerId"] = have.StoreCustomerId, ["email"] = have.Email.Trim().ToLowerInvariant(),
                ["normalizedStatus"] = have.NormalizedStatus, ["storeStatus"] = have.StoreStatus, ["suppressAutomations"] = have.SuppressAutomations,
                ["name"] = have.Name, ["lineItemNames"] = have.LineItemNames, ["billingInterval"] = have.BillingInterval,
                ["billingIntervalCount"] = have.BillingIntervalCount, ["nextPaymentDate"] = have.NextPaymentDate, ["cancelledDate"] = have.CancelledDate,
                ["paymentAmount"] = have.PaymentAmount, ["currency"] = have.Currency,
            };
            var wanted = new Dictionary<string, object?>(want.Fields, StringComparer.Ordinal)
            {
                ["storeCustomerId"] = want.CustomerId, ["email"] = want.Email.Trim().ToLowerInvariant(),
                ["normalizedStatus"] = want.NormalizedStatus, ["storeStatus"] = want.StoreStatus, ["suppressAutomations"] = want.SuppressAutomations,
            };
            foreach (var field in got.Keys)
            {
                // AC shows a field never sent like a cleared one: FieldsSent tells them apart.
                var sent = field is "email" || have.FieldsSent.Contains(field);
                Compare(mismatches, want.Email, key + " " + field,
                    wanted.TryGetValue(field, out var w) ? Render(w) : "(never sent)", sent ? Render(got[field]) : "(never sent)");
            }
        }

        foreach (var extra in found.Keys.Where(id => !expected.RecurringPayments.ContainsKey(id)))
        {
            mismatches.Add(new Mismatch(extra, "recurring payment", null, "present"));
        }

        return mismatches;
    }

    private static string Render(object? value) => value switch
    {
        null => "null",
        string s => s,
        decimal d => d.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IEnumerable<string> list => "[" + string.Join(", ", list) + "]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Each contact is subscribed to exactly the lists it belongs to (for the others, never subscribed or unsubscribed).</summary>
    public static IReadOnlyList<Mismatch> Lists(ExpectedAccount expected, EmulatedAccount actual)
    {
        var mismatches = new List<Mismatch>();
        var listNames = actual.Lists().ToDictionary(l => l.Id, l => l.Name);
        var subscribed = actual.ContactLists().Where(m => m.Status == 1)
            .GroupBy(m => m.ContactId)
            .ToDictionary(g => g.Key, g => g.Select(m => listNames.GetValueOrDefault(m.ListId, m.ListId)).Order(StringComparer.Ordinal).ToList());
        foreach (var (want, have) in Pairs(expected, actual))
        {
            var wanted = want.Lists.Order(StringComparer.Ordinal).ToList();
            var got = subscribed.GetValueOrDefault(have.Id) ?? [];
            Compare(mismatches, want.Email, "lists subscribed", string.Join(", ", wanted), string.Join(", ", got));
        }

        return mismatches;
    }

    /// <summary>Customers carry exactly the one order tag the current week gives; leads none of the four.</summary>
    public static IReadOnlyList<Mismatch> Tags(ExpectedAccount expected, EmulatedAccount actual)
    {
        var mismatches = new List<Mismatch>();
        var tagNames = actual.Tags().ToDictionary(t => t.Id, t => t.Name);
        var orderTags = actual.ContactTags()
            .Select(ct => (ct.ContactId, Name: tagNames.GetValueOrDefault(ct.TagId, ct.TagId)))
            .Where(ct => OrderTags.Contains(ct.Name, StringComparer.OrdinalIgnoreCase))
            .GroupBy(ct => ct.ContactId)
            .ToDictionary(g => g.Key, g => g.Select(ct => ct.Name).Order(StringComparer.Ordinal).ToList());
        foreach (var (want, have) in Pairs(expected, actual))
        {
            var got = orderTags.GetValueOrDefault(have.Id) ?? [];
            Compare(mismatches, want.Email, "order tags", want.OrderTag ?? "", string.Join(", ", got));
        }

        return mismatches;
    }

    /// <summary>Each contact received exactly its events: AC names with the original ts and data, each once.</summary>
    public static IReadOnlyList<Mismatch> Events(ExpectedAccount expected, EmulatedAccount actual)
    {
        var mismatches = new List<Mismatch>();
        var received = actual.Events().GroupBy(e => e.ContactId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (want, have) in Pairs(expected, actual))
        {
            var wanted = want.Events.Select(e => $"{e.AcName} | {e.EventData}").Order(StringComparer.Ordinal).ToList();
            var got = (received.GetValueOrDefault(have.Id) ?? []).Select(e => $"{e.Name} | {e.EventData}").Order(StringComparer.Ordinal).ToList();
            if (!wanted.SequenceEqual(got, StringComparer.Ordinal))
            {
                var missing = wanted.Except(got, StringComparer.Ordinal).Take(2);
                var extra = got.Except(wanted, StringComparer.Ordinal).Take(2);
                mismatches.Add(new Mismatch(
                    want.Email,
                    $"events ({wanted.Count} expected, {got.Count} received; missing e.g. [{string.Join("; ", missing)}], unexpected e.g. [{string.Join("; ", extra)}])",
                    wanted.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    got.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        return mismatches;
    }

    /// <summary>Each order once, written through GraphQL (none through v3), with the creationSource it was first sent
    /// with, its latest amounts (currency units) and line items (unit prices), its store dates and status, for the
    /// e-commerce customer keyed by the customer id, with the customer's current email.</summary>
    public static IReadOnlyList<Mismatch> Orders(ExpectedAccount expected, EmulatedAccount actual)
    {
        var mismatches = new List<Mismatch>();
        foreach (var v3 in actual.EcomOrders())
        {
            mismatches.Add(new Mismatch(v3.Email, "order " + v3.ExternalId + " written through v3 ecomOrders", null, "present"));
        }

        var orders = actual.GraphQlOrders().GroupBy(o => o.StoreOrderId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var want in expected.Orders.Values)
        {
            var key = "order " + want.OrderId;
            if (!orders.TryGetValue(want.OrderId, out var found))
            {
                mismatches.Add(new Mismatch(want.Email, key, "present", null));
                continue;
            }

            Compare(mismatches, want.Email, key + " count", "1", found.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var have = found[0];
            Compare(mismatches, want.Email, key + " creationSource", want.CreationSource, have.CreationSource);
            Compare(mismatches, want.Email, key + " creationSource changed", want.CreationSource, have.CreationSourcesSent.FirstOrDefault(s => s != want.CreationSource) ?? want.CreationSource);
            Compare(mismatches, want.Email, key + " orderNumber", want.OrderId, have.OrderNumber);
            Compare(mismatches, want.Email, key + " finalAmount", Money(want.FinalAmount), Money(have.FinalAmount));
            Compare(mismatches, want.Email, key + " currency", want.Currency.ToUpperInvariant(), have.Currency);
            Compare(mismatches, want.Email, key + " shippingAmount", Money(want.ShippingAmount), Money(have.ShippingAmount));
            Compare(mismatches, want.Email, key + " discountsAmount", Money(want.DiscountsAmount), Money(have.DiscountsAmount));
            Compare(mismatches, want.Email, key + " normalizedStatus", "COMPLETED", have.NormalizedStatus);
            Compare(mismatches, want.Email, key + " storeStatus", want.StoreStatus, have.StoreStatus);
            Compare(mismatches, want.Email, key + " storeCreatedDate", ExpectedOrder.GraphQlDate(want.CreatedAt), have.StoreCreatedDate);
            Compare(mismatches, want.Email, key + " storeModifiedDate", ExpectedOrder.GraphQlDate(want.ModifiedAt), have.StoreModifiedDate);
            Compare(mismatches, want.Email, key + " storeCustomerId", want.CustomerId, have.StoreCustomerId);
            Compare(mismatches, want.Email, key + " email", want.Email.Trim().ToLowerInvariant(), have.Email.Trim().ToLowerInvariant());
            var wantItems = want.Items.Select(i => $"{i.Name ?? i.Sku}|{i.Qty}|{Money(i.PriceAmount)}|{i.Sku}|{i.Category}");
            var haveItems = have.LineItems.Select(i => $"{i.Name}|{i.Quantity}|{Money(i.PriceAmount)}|{i.Sku}|{i.Category}");
            Compare(mismatches, want.Email, key + " lineItems", string.Join("; ", wantItems), string.Join("; ", haveItems));
        }

        foreach (var extra in orders.Keys.Where(id => !expected.Orders.ContainsKey(id)))
        {
            mismatches.Add(new Mismatch(extra, "order", null, "present"));
        }

        return mismatches;
    }

    private static string? Money(decimal? amount) => amount?.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Each expected contact with the AC contact of its email; contacts AC lacks are reported by <see cref="Contacts"/>.</summary>
    private static IEnumerable<(ExpectedContact Want, EmulatedContact Have)> Pairs(ExpectedAccount expected, EmulatedAccount actual)
    {
        var byEmail = actual.Contacts().GroupBy(c => c.Email.Trim().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.First());
        foreach (var want in expected.Contacts)
        {
            if (byEmail.TryGetValue(want.Email.Trim().ToLowerInvariant(), out var have))
            {
                yield return (want, have);
            }
        }
    }

    private static string Text(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Compare(List<Mismatch> mismatches, string email, string what, string? expected, string? actual)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            mismatches.Add(new Mismatch(email, what, expected, actual));
        }
    }
}
