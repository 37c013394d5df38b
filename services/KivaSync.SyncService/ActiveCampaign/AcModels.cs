namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>A contact as AC returns it (ids are strings).</summary>
public sealed record AcContact(string Id, string Email)
{
    /// <summary>True when the request that returned it made the contact (AC answered 201).</summary>
    public bool Created { get; init; }
}

/// <summary>A custom field as AC returns it.</summary>
public sealed record AcField(string Id, string Title, string Type);

/// <summary>What the sync sends for one contact. Null members are not sent (AC would blank them).</summary>
/// <param name="Email">The email to store.</param>
/// <param name="FirstName">First name, when ever logged.</param>
/// <param name="LastName">Last name, when ever logged.</param>
/// <param name="Phone">Phone, when ever logged.</param>
/// <param name="FieldValues">Custom field id → value ("" clears).</param>
public sealed record AcContactInput(string Email, string? FirstName, string? LastName, string? Phone, IReadOnlyList<KeyValuePair<string, string>> FieldValues);

/// <summary>The custom fields the contract asks for, with their AC types and personalisation tags.</summary>
public static class AcCustomFields
{
    /// <summary>Customer Status ← attrs.status.</summary>
    public static readonly AcFieldDefinition CustomerStatus = new("Customer Status", "text", "CUSTOMER_STATUS");

    /// <summary>Next Delivery ← attrs.next_delivery (date).</summary>
    public static readonly AcFieldDefinition NextDelivery = new("Next Delivery", "date", "NEXT_DELIVERY");

    /// <summary>Cancelled On ← attrs.cancelled_on (date).</summary>
    public static readonly AcFieldDefinition CancelledOn = new("Cancelled On", "date", "CANCELLED_ON");

    /// <summary>Schedule ← attrs.schedule.</summary>
    public static readonly AcFieldDefinition Schedule = new("Schedule", "text", "SCHEDULE");

    /// <summary>Box Name ← attrs.box.</summary>
    public static readonly AcFieldDefinition BoxName = new("Box Name", "text", "BOX_NAME");

    /// <summary>All five, in the contract's order.</summary>
    public static IReadOnlyList<AcFieldDefinition> All { get; } = [CustomerStatus, NextDelivery, CancelledOn, Schedule, BoxName];
}

/// <summary>A custom field the sync needs.</summary>
public sealed record AcFieldDefinition(string Title, string Type, string PersTag);
