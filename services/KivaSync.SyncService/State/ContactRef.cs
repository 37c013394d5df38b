namespace KivaSync.SyncService.State;

/// <summary>
/// A contact as the queues and keys name it: a customer by id or a lead by lower-cased email. The one C# home of the
/// member encoding ("c:&lt;id&gt;" / "l:&lt;email&gt;", <see cref="Schema.Member"/>; Scripts/lib/members.lua is the Lua one).
/// </summary>
public readonly record struct ContactRef
{
    private ContactRef(bool isCustomer, string id)
    {
        IsCustomer = isCustomer;
        Id = id;
    }

    /// <summary>True for a customer, false for a lead.</summary>
    public bool IsCustomer { get; }

    /// <summary>The customer id or the lead's lower-cased email.</summary>
    public string Id { get; }

    /// <summary>The customer id, or null for a lead.</summary>
    public string? CustomerId => IsCustomer ? Id : null;

    /// <summary>A customer.</summary>
    public static ContactRef Customer(string customerId) => new(true, customerId);

    /// <summary>A lead, by its lower-cased email.</summary>
    public static ContactRef Lead(string emailLowerCase) => new(false, emailLowerCase);

    /// <summary>The member string stored in queues and key names.</summary>
    public string Format() => (IsCustomer ? Schema.Member.CustomerPrefix : Schema.Member.LeadPrefix) + Id;

    /// <inheritdoc />
    public override string ToString() => Format();

    /// <summary>Reads a member string; throws <see cref="FormatException"/> for anything else.</summary>
    public static ContactRef Parse(string member) =>
        TryParse(member, out var contact) ? contact : throw new FormatException($"\"{member}\" is not a contact member (c:<id> or l:<email>)");

    /// <summary>Reads a member string.</summary>
    public static bool TryParse(string? member, out ContactRef contact)
    {
        if (member is not null && member.StartsWith(Schema.Member.CustomerPrefix, StringComparison.Ordinal))
        {
            contact = Customer(member[Schema.Member.CustomerPrefix.Length..]);
            return true;
        }

        if (member is not null && member.StartsWith(Schema.Member.LeadPrefix, StringComparison.Ordinal))
        {
            contact = Lead(member[Schema.Member.LeadPrefix.Length..]);
            return true;
        }

        contact = default;
        return false;
    }

    /// <summary>True when <paramref name="member"/> names a customer.</summary>
    public static bool IsCustomerMember(string member) => member.StartsWith(Schema.Member.CustomerPrefix, StringComparison.Ordinal);
}
