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

    private static void Compare(List<Mismatch> mismatches, string email, string what, string? expected, string? actual)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            mismatches.Add(new Mismatch(email, what, expected, actual));
        }
    }
}
