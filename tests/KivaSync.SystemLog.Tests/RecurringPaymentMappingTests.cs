namespace KivaSync.SystemLog.Tests;

/// <summary>The contract's "Subscription" mapping, rule by rule.</summary>
public sealed class RecurringPaymentMappingTests
{
    private static SubscriberState State(
        string? status = "Active",
        Logged<string> box = default,
        Logged<string> schedule = default,
        Logged<string> next = default,
        Logged<string> cancelled = default,
        (long, string)? order = null) =>
        new("48214", "bob@example.com", status, box, schedule, next, cancelled, order);

    [Theory]
    [InlineData("Active", "ACTIVE")]
    [InlineData("Stopped", "PAUSED")]
    [InlineData("Cancelled", "CANCELLED")]
    [InlineData("Dead", "EXPIRED")]
    public void Map_SubscriberStatus_NormalizedAndStoreStatus(string status, string normalized)
    {
        var rp = RecurringPaymentMapping.Map(State(status))!;

        Assert.Equal(normalized, rp.NormalizedStatus);
        Assert.Equal(status, rp.StoreStatus);
        Assert.Equal("48214", rp.StoreRecurringPaymentId);
        Assert.Equal("48214", rp.StoreCustomerId);
        Assert.Equal("bob@example.com", rp.Email);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Gift Purchaser")]
    [InlineData("Gift Recipient")]
    public void Map_NeverASubscriber_NoRecurringPayment(string? status)
    {
        Assert.Null(RecurringPaymentMapping.Map(State(status)));
    }

    [Theory]
    [InlineData("Active", true)]
    [InlineData("Stopped", true)]
    [InlineData("Cancelled", true)]
    [InlineData("Dead", true)]
    [InlineData("Gift Purchaser", false)]
    [InlineData("Gift Recipient", false)]
    [InlineData("active", false)]
    [InlineData(null, false)]
    public void IsSubscriberStatus_EachStatus_OnlyTheFourExactly(string? status, bool expected)
    {
        Assert.Equal(expected, RecurringPaymentMapping.IsSubscriberStatus(status));
    }

    [Fact]
    public void Map_NothingButStatusLogged_EveryOtherFieldAbsent()
    {
        var rp = RecurringPaymentMapping.Map(State())!;

        Assert.False(rp.Name.IsLogged);
        Assert.False(rp.LineItemNames.IsLogged);
        Assert.False(rp.BillingInterval.IsLogged);
        Assert.False(rp.BillingIntervalCount.IsLogged);
        Assert.False(rp.NextPaymentDate.IsLogged);
        Assert.False(rp.CancelledDate.IsLogged);
        Assert.False(rp.PaymentAmount.IsLogged);
        Assert.False(rp.Currency.IsLogged);
        Assert.Null(rp.UnreadableSchedule);
    }

    [Fact]
    public void Map_Box_NameAndOneLineItemName()
    {
        var rp = RecurringPaymentMapping.Map(State(box: Logged<string>.Of("Large Veggie")))!;

        Assert.Equal(Logged<string>.Of("Large Veggie"), rp.Name);
        Assert.True(rp.LineItemNames.IsLogged);
        Assert.Equal(["Large Veggie"], rp.LineItemNames.Value!);
    }

    [Fact]
    public void Map_BoxLoggedNull_NullNameAndEmptyLineItemNames()
    {
        var rp = RecurringPaymentMapping.Map(State(box: Logged<string>.Of(null)))!;

        Assert.Equal(Logged<string>.Of(null), rp.Name);
        Assert.True(rp.LineItemNames.IsLogged);
        Assert.Empty(rp.LineItemNames.Value!);
    }

    [Theory]
    [InlineData("weekly", "WEEKLY", 1)]
    [InlineData("bi-weekly", "WEEKLY", 2)]
    [InlineData("every 6 weeks", "WEEKLY", 6)]
    [InlineData("every 1 weeks", "WEEKLY", 1)]
    [InlineData("monthly", "MONTHLY", 1)]
    [InlineData("every 3 months", "MONTHLY", 3)]
    [InlineData("Weekly", "WEEKLY", 1)]
    [InlineData("BI-WEEKLY", "WEEKLY", 2)]
    [InlineData("Every 6 Weeks", "WEEKLY", 6)]
    [InlineData("  every   6  weeks ", "WEEKLY", 6)]
    [InlineData(" monthly ", "MONTHLY", 1)]
    [InlineData("every 06 weeks", "WEEKLY", 6)]
    public void ReadSchedule_ContractForms_IntervalAndCount(string text, string interval, int count)
    {
        Assert.Equal(new BillingInterval(interval, count), RecurringPaymentMapping.ReadSchedule(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("daily")]
    [InlineData("fortnightly")]
    [InlineData("every 0 weeks")]
    [InlineData("every -2 weeks")]
    [InlineData("every +2 weeks")]
    [InlineData("every 2.5 weeks")]
    [InlineData("every two weeks")]
    [InlineData("every 2 week")]
    [InlineData("every 2 days")]
    [InlineData("every weeks")]
    [InlineData("every 2 weeks please")]
    [InlineData("bi weekly")]
    [InlineData("every 99999999999 weeks")]
    [InlineData("every ٣ weeks")]
    public void ReadSchedule_AnyOtherText_Null(string text)
    {
        Assert.Null(RecurringPaymentMapping.ReadSchedule(text));
    }

    [Fact]
    public void Map_ReadableSchedule_BillingIntervalAndCount()
    {
        var rp = RecurringPaymentMapping.Map(State(schedule: Logged<string>.Of("every 3 weeks")))!;

        Assert.Equal(Logged<string>.Of("WEEKLY"), rp.BillingInterval);
        Assert.Equal(Logged<int?>.Of(3), rp.BillingIntervalCount);
        Assert.Null(rp.UnreadableSchedule);
    }

    [Fact]
    public void Map_UnreadableSchedule_BothNullAndReportedAsAnomaly()
    {
        var rp = RecurringPaymentMapping.Map(State(schedule: Logged<string>.Of("every other tuesday")))!;

        Assert.Equal(Logged<string>.Of(null), rp.BillingInterval);
        Assert.Equal(Logged<int?>.Of(null), rp.BillingIntervalCount);
        Assert.Equal("every other tuesday", rp.UnreadableSchedule);
    }

    [Fact]
    public void Map_ScheduleLoggedNull_BothNullAndNoAnomaly()
    {
        var rp = RecurringPaymentMapping.Map(State(schedule: Logged<string>.Of(null)))!;

        Assert.Equal(Logged<string>.Of(null), rp.BillingInterval);
        Assert.Equal(Logged<int?>.Of(null), rp.BillingIntervalCount);
        Assert.Null(rp.UnreadableSchedule);
    }

    [Fact]
    public void Map_Dates_AtMidnightUtc()
    {
        var rp = RecurringPaymentMapping.Map(State(next: Logged<string>.Of("2024-06-07"), cancelled: Logged<string>.Of("2024-05-31")))!;

        Assert.Equal(Logged<string>.Of("2024-06-07T00:00:00Z"), rp.NextPaymentDate);
        Assert.Equal(Logged<string>.Of("2024-05-31T00:00:00Z"), rp.CancelledDate);
    }

    [Fact]
    public void Map_DatesLoggedNull_Null()
    {
        var rp = RecurringPaymentMapping.Map(State(next: Logged<string>.Of(null), cancelled: Logged<string>.Of(null)))!;

        Assert.Equal(Logged<string>.Of(null), rp.NextPaymentDate);
        Assert.Equal(Logged<string>.Of(null), rp.CancelledDate);
    }

    [Theory]
    [InlineData(4599, "USD", "45.99")]
    [InlineData(500, "eur", "5")]
    [InlineData(1, "USD", "0.01")]
    [InlineData(0, "USD", "0")]
    public void Map_LatestOrder_AmountInCurrencyUnitsAndCurrency(long cents, string currency, string amount)
    {
        var rp = RecurringPaymentMapping.Map(State(order: (cents, currency)))!;

        Assert.Equal(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), rp.PaymentAmount.Value);
        Assert.True(rp.PaymentAmount.IsLogged);
        Assert.Equal(Logged<string>.Of(currency.ToUpperInvariant()), rp.Currency);
    }

    [Fact]
    public void NormalizedStatus_GiftStatus_Throws()
    {
        Assert.Throws<ArgumentException>(() => RecurringPaymentMapping.NormalizedStatus("Gift Recipient"));
    }
}
