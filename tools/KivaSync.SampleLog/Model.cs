namespace KivaSync.SampleLog;

/// <summary>How a customer account comes to exist.</summary>
internal enum CustomerKind
{
    Regular,
    Promo,
    GiftPurchaser,
    GiftRecipient,
}

/// <summary>A simulated customer and the sync state the log has told so far.</summary>
internal sealed class SimCustomer
{
    public required int Index { get; init; }
    public required CustomerKind Kind { get; init; }
    public required int SignupDay { get; init; }
    public required string First { get; set; }
    public required string FirstAscii { get; init; }
    public required string Last { get; set; }
    public required string LastAscii { get; init; }
    public required string Email { get; set; }
    public required string Domain { get; init; }
    public required double Activity { get; init; }
    public SimLead? FromLead { get; init; }
    public string Id { get; set; } = "";
    public string? Phone { get; set; }
    public bool LastLogged { get; set; }
    public bool PhoneLogged { get; set; }
    public bool Joined { get; set; }
    public string Status { get; set; } = "Active";
    public int StatusDay { get; set; }
    public int ResumeDay { get; set; } = -1;
    public int PromoActivationDay { get; set; } = -1;
    public string? Schedule { get; set; }
    public int Cadence { get; set; } = 1;
    public int Phase { get; set; }
    public SampleData.Box? Box { get; set; }
    public string? NextDelivery { get; set; }
    public string? CancelledOn { get; set; }
    public string? OrderWeek { get; set; }
    public string? OrderState { get; set; }
    public string? DeliveryWeek { get; set; }
    public bool OptIn { get; set; } = true;
    public int EmailChanges { get; set; }
    public List<SampleData.Product> AddOns { get; } = [];
    public List<SampleData.Product> Recurring { get; } = [];
    public string? PendingDiscount { get; set; }
}

/// <summary>A simulated lead: a person who wrote in without an account.</summary>
internal sealed class SimLead
{
    public required int Index { get; init; }
    public required string Email { get; init; }
    public required string First { get; init; }
    public required string FirstAscii { get; init; }
    public required string Last { get; init; }
    public required int FirstContactDay { get; init; }
    public required int FollowUpDay { get; init; }
    public int ConvertDay { get; set; } = -1;
    public bool Appeared { get; set; }
}

/// <summary>The person object of a line: a customer (with id) or a contact (lead).</summary>
internal readonly record struct Who(bool IsCustomer, string? Id, string? Email, string? First, string? Last, string? Phone)
{
    public static Who None => default;
    public bool IsSome => Email is not null;
}

/// <summary>A paid order as written in "order".</summary>
internal sealed record SimOrder(string Id, string Week, long ShippingCents, long TaxCents, long DiscountCents, IReadOnlyList<(SampleData.Product Product, int Qty)> Items)
{
    public long TotalCents => Items.Sum(i => i.Product.PriceCents * i.Qty) + ShippingCents + TaxCents - DiscountCents;
}
