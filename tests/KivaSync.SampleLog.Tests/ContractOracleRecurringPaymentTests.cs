using KivaSync.Testing.Oracle;

namespace KivaSync.SampleLog.Tests;

/// <summary>The oracle's reading of the contract's "Subscription" mapping: one rule per test.</summary>
public sealed class ContractOracleRecurringPaymentTests
{
    private const string Tenant = "greenleaf";
    private static readonly DateTimeOffset Now = new(2024, 6, 20, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Threshold = TimeSpan.FromMinutes(10);

    private static ExpectedAccount Compute(params string[] lines) => ContractOracle.Compute(lines, Tenant, Now, Threshold);

    private const string Signup =
        """{"ts":"2024-06-03T14:22:05.123Z","id":"a1","event":"New Customer Signup","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Active","schedule":"bi-weekly","box":"Large Veggie","next_delivery":"2024-06-07"}}""";

    private const string Order =
        """{"ts":"2024-06-07T08:00:00Z","id":"o1","event":"Order Completed","customer":{"id":"48214","email":"bob@example.com"},"order":{"id":"o-1","total_cents":4599,"currency":"USD","items":[{"sku":"LVB","qty":1,"price_cents":4599}]}}""";

    private static string Live(string attrsJson, string id = "48214", string email = "bob@example.com") =>
        $$"""{"ts":"2024-06-20T11:59:00Z","customer":{"id":"{{id}}","email":"{{email}}"},"attrs":{{attrsJson}}}""";

    [Fact]
    public void Compute_Subscriber_EveryLoggedFieldMapped()
    {
        var rp = Compute(Signup, Order).RecurringPayments["48214"];

        Assert.Equal(("48214", "48214", "bob@example.com", "ACTIVE", "Active"), (rp.Id, rp.CustomerId, rp.Email, rp.NormalizedStatus, rp.StoreStatus));
        Assert.Equal("Large Veggie", rp.Fields["name"]);
        Assert.Equal(["Large Veggie"], (string[])rp.Fields["lineItemNames"]!);
        Assert.Equal("WEEKLY", rp.Fields["billingInterval"]);
        Assert.Equal(2, rp.Fields["billingIntervalCount"]);
        Assert.Equal("2024-06-07T00:00:00Z", rp.Fields["nextPaymentDate"]);
        Assert.Equal(45.99m, rp.Fields["paymentAmount"]);
        Assert.Equal("USD", rp.Fields["currency"]);
        Assert.False(rp.Fields.ContainsKey("cancelledDate"));
        Assert.True(rp.SuppressAutomations);
    }

    [Fact]
    public void Compute_StatusOnly_NeverLoggedFieldsAbsent()
    {
        var rp = Compute("""{"ts":"2024-06-03T10:00:00Z","customer":{"id":"9","email":"x@example.com"},"attrs":{"status":"Stopped"}}""").RecurringPayments["9"];

        Assert.Equal("PAUSED", rp.NormalizedStatus);
        Assert.Empty(rp.Fields);
    }

    [Fact]
    public void Compute_GiftStatusesOnly_NoRecurringPayment()
    {
        var account = Compute(
            """{"ts":"2024-06-03T10:00:00Z","customer":{"id":"9","email":"x@example.com"},"attrs":{"status":"Gift Purchaser","box":"Fruit"}}""",
            """{"ts":"2024-06-04T10:00:00Z","customer":{"id":"9","email":"x@example.com"},"attrs":{"status":"Gift Recipient"}}""");

        Assert.Empty(account.RecurringPayments);
    }

    [Fact]
    public void Compute_GiftStatusAfterDead_StaysExpiredAndSubscriber()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-04T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Dead"}}""",
            """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Gift Purchaser"}}""");

        var rp = account.RecurringPayments["48214"];
        Assert.Equal(("EXPIRED", "Dead"), (rp.NormalizedStatus, rp.StoreStatus));
    }

    [Fact]
    public void Compute_NullsLogged_SentAsNullAndEmptyList()
    {
        var rp = Compute(Signup, """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Cancelled","box":null,"schedule":null,"next_delivery":null,"cancelled_on":"2024-06-05"}}""")
            .RecurringPayments["48214"];

        Assert.Equal("CANCELLED", rp.NormalizedStatus);
        Assert.Null(rp.Fields["name"]);
        Assert.Empty((string[])rp.Fields["lineItemNames"]!);
        Assert.Null(rp.Fields["billingInterval"]);
        Assert.Null(rp.Fields["billingIntervalCount"]);
        Assert.Null(rp.Fields["nextPaymentDate"]);
        Assert.Equal("2024-06-05T00:00:00Z", rp.Fields["cancelledDate"]);
    }

    [Theory]
    [InlineData("every 6 weeks", "WEEKLY", 6)]
    [InlineData("  Every  3   MONTHS ", "MONTHLY", 3)]
    [InlineData("Monthly", "MONTHLY", 1)]
    [InlineData("weekly", "WEEKLY", 1)]
    public void Compute_ReadableSchedule_IntervalAndCount(string schedule, string interval, int count)
    {
        var rp = Compute($$$"""{"ts":"2024-06-03T10:00:00Z","customer":{"id":"9","email":"x@example.com"},"attrs":{"status":"Active","schedule":"{{{schedule}}}"}}""").RecurringPayments["9"];

        Assert.Equal(interval, rp.Fields["billingInterval"]);
        Assert.Equal(count, rp.Fields["billingIntervalCount"]);
        Assert.Null(rp.UnreadableSchedule);
    }

    [Theory]
    [InlineData("every 0 weeks")]
    [InlineData("every other week")]
    [InlineData("fortnightly")]
    [InlineData("every 2 week")]
    public void Compute_UnreadableSchedule_BothNullAndAnAnomaly(string schedule)
    {
        var rp = Compute($$$"""{"ts":"2024-06-03T10:00:00Z","customer":{"id":"9","email":"x@example.com"},"attrs":{"status":"Active","schedule":"{{{schedule}}}"}}""").RecurringPayments["9"];

        Assert.Null(rp.Fields["billingInterval"]);
        Assert.Null(rp.Fields["billingIntervalCount"]);
        Assert.Equal(schedule, rp.UnreadableSchedule);
    }

    [Fact]
    public void Compute_LatestOrderCompletedByTs_IsThePayment_GiftBoxIgnored()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-10T08:00:00Z","id":"o2","event":"Order Completed","customer":{"id":"48214","email":"bob@example.com"},"order":{"id":"o-2","total_cents":5000,"currency":"eur","items":[{"sku":"LVB","qty":1,"price_cents":5000}]}}""",
            """{"ts":"2024-06-11T08:00:00Z","id":"g1","event":"Gift Box Purchase","customer":{"id":"48214","email":"bob@example.com"},"order":{"id":"g-1","total_cents":9900,"currency":"USD","items":[{"sku":"GB","qty":1,"price_cents":9900}]}}""",
            Order); // older by ts, shipped last

        var rp = account.RecurringPayments["48214"];
        Assert.Equal(50m, rp.Fields["paymentAmount"]);
        Assert.Equal("EUR", rp.Fields["currency"]);
    }

    [Fact]
    public void Compute_EmailChange_CurrentEmail()
    {
        var rp = Compute(Signup, """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"robert@example.org"}}""").RecurringPayments["48214"];

        Assert.Equal("robert@example.org", rp.Email);
    }

    [Fact]
    public void Compute_LiveEntryChangingAValue_DoesNotSuppressAutomations()
    {
        var rp = Compute(Signup, Live("""{"next_delivery":"2024-06-28"}""")).RecurringPayments["48214"];

        Assert.False(rp.SuppressAutomations);
    }

    [Fact]
    public void Compute_LiveEntryLeavingEveryValue_StillSuppressesAutomations()
    {
        // Same box and next delivery, a schedule text that reads the same, a non-subscriber status: no value changes.
        var rp = Compute(Signup, Live("""{"box":"Large Veggie","next_delivery":"2024-06-07","schedule":"Bi-Weekly","status":"Gift Purchaser","marketing_opt_in":false}"""))
            .RecurringPayments["48214"];

        Assert.True(rp.SuppressAutomations);
    }

    [Fact]
    public void Compute_LiveEmailChange_DoesNotSuppressAutomations()
    {
        var rp = Compute(Signup, Live("{}", email: "new@example.com")).RecurringPayments["48214"];

        Assert.False(rp.SuppressAutomations);
    }
}
