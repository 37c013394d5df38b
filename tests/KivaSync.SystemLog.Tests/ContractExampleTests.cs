namespace KivaSync.SystemLog.Tests;

/// <summary>The six lines of the contract's "Example" section, parsed as the contract means them.</summary>
public sealed class ContractExampleTests
{
    private const string Signup = """{"ts":"2024-06-03T14:22:05.123Z","tenant":"greenleaf","event":"New Customer Signup","customer":{"id":"48214","email":"bob@example.com","first_name":"Bob","last_name":"Lee"},"attrs":{"status":"Active","schedule":"weekly","box":"Large Veggie","next_delivery":"2024-06-07","marketing_opt_in":true}}""";
    private const string Noise = """{"ts":"2024-06-03T14:22:06.001Z","tenant":"greenleaf","level":"info","msg":"cron: cleanup finished in 3.2s"}""";
    private const string Substitution = """{"ts":"2024-06-04T09:10:44.350Z","tenant":"greenleaf","event":"Made a substitution","customer":{"id":"48214","email":"bob@example.com"},"data":{"from":"Kale","to":"Chard"}}""";
    private const string WeeklyCycle = """{"ts":"2024-06-06T23:00:00Z","tenant":"greenleaf","event":"Weekly cycle completed","week":"2024-W24"}""";
    private const string OpenOrder = """{"ts":"2024-06-06T23:00:01Z","tenant":"greenleaf","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"order":{"week":"2024-W24","state":"open"},"next_delivery":"2024-06-14"}}""";
    private const string ContactForm = """{"ts":"2024-06-08T10:00:00Z","tenant":"greenleaf","event":"Submitted Contact Form","contact":{"email":"ann@example.org","first_name":"Ann"},"data":{"subject":"Do you deliver to 94110?"}}""";

    [Fact]
    public void Parse_ExampleSignup_CustomerWithStateAndEvent()
    {
        var entry = Lines.Accept(Signup, "other-tenant");

        Assert.Equal("greenleaf", entry.Tenant);
        Assert.Equal(new DateTimeOffset(2024, 6, 3, 14, 22, 5, 123, TimeSpan.Zero), entry.Ts);
        Assert.Null(entry.Id);
        Assert.Equal("New Customer Signup", entry.Event);
        Assert.True(EventCatalog.TryGet(entry.Event!, out var def));
        Assert.Equal("New Customer Signup", def.AcName);
        Assert.Equal(new Person("48214", "bob@example.com", "Bob", "Lee", null), entry.Customer);
        Assert.Null(entry.Contact);
        var attrs = entry.Attrs!;
        Assert.Equal(Change<string>.To("Active"), attrs.Status);
        Assert.Equal(Change<string>.To("weekly"), attrs.Schedule);
        Assert.Equal(Change<string>.To("Large Veggie"), attrs.Box);
        Assert.Equal(Change<string>.To("2024-06-07"), attrs.NextDelivery);
        Assert.True(attrs.MarketingOptIn);
        Assert.False(attrs.CancelledOn.IsPresent);
        Assert.False(attrs.Order.IsPresent);
        Assert.Null(entry.Order);
        Assert.Null(entry.DataJson);
        Assert.Null(entry.Week);
    }

    [Fact]
    public void Parse_ExampleNoise_AcceptedAndActsOnNothing()
    {
        var entry = Lines.Accept(Noise);

        Assert.Equal("greenleaf", entry.Tenant);
        Assert.Equal(new DateTimeOffset(2024, 6, 3, 14, 22, 6, 1, TimeSpan.Zero), entry.Ts);
        Assert.Null(entry.Event);
        Assert.Null(entry.Subject);
        Assert.Null(entry.Attrs);
        Assert.Null(entry.Order);
        Assert.Null(entry.DataJson);
        Assert.Null(entry.Week);
    }

    [Fact]
    public void Parse_ExampleSubstitution_EventWithCompactData()
    {
        var entry = Lines.Accept(Substitution);

        Assert.Equal("Made a substitution", entry.Event);
        Assert.Equal(new Person("48214", "bob@example.com", null, null, null), entry.Customer);
        Assert.Null(entry.Attrs);
        Assert.Equal("""{"from":"Kale","to":"Chard"}""", entry.DataJson);
    }

    [Fact]
    public void Parse_ExampleWeeklyCycle_SystemEntryWithWeek()
    {
        var entry = Lines.Accept(WeeklyCycle);

        Assert.Equal(EventCatalog.WeeklyCycleCompleted, entry.Event);
        Assert.Equal("2024-W24", entry.Week);
        Assert.Null(entry.Subject);
        Assert.False(EventCatalog.TryGet(entry.Event!, out _));
    }

    [Fact]
    public void Parse_ExampleOpenOrder_StateChangeOnly()
    {
        var entry = Lines.Accept(OpenOrder);

        Assert.Null(entry.Event);
        Assert.Equal("48214", entry.Customer!.CustomerId);
        Assert.Equal(Change<OrderAttr>.To(new OrderAttr("2024-W24", OrderState.Open)), entry.Attrs!.Order);
        Assert.Equal(Change<string>.To("2024-06-14"), entry.Attrs.NextDelivery);
        Assert.False(entry.Attrs.Status.IsPresent);
        Assert.Null(entry.Attrs.MarketingOptIn);
    }

    [Fact]
    public void Parse_ExampleContactForm_LeadWithEventAndData()
    {
        var entry = Lines.Accept(ContactForm);

        Assert.Equal("Submitted Contact Form", entry.Event);
        Assert.Null(entry.Customer);
        Assert.Equal(new Person(null, "ann@example.org", "Ann", null, null), entry.Contact);
        Assert.Equal("""{"subject":"Do you deliver to 94110?"}""", entry.DataJson);
    }
}
