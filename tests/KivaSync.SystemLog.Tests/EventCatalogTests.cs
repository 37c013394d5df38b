namespace KivaSync.SystemLog.Tests;

/// <summary>The contract's event catalogue, row by row.</summary>
public sealed class EventCatalogTests
{
    /// <summary>The contract's table: log name, AC name, live-only. Kept literal so a typo in either fails.</summary>
    public static TheoryData<string, string, bool> ContractRows => new()
    {
        { "Delivery Today Reminder Email Sent", "Delivery reminder email sent", true },
        { "New Customer Signup", "New Customer Signup", false },
        { "Login via expired magic link failed", "Expired magic link login failed", false },
        { "Logged in", "Logged in", false },
        { "Logged in via cookie", "Logged in via cookie", false },
        { "Logged in via magic link", "Logged in via magic link", false },
        { "Logged out", "Logged out", false },
        { "Made a substitution", "Made a substitution", false },
        { "Made an un-substition", "Made an un-substition", false },
        { "Added add-on to order", "Added add-on to order", false },
        { "Deleted item from order", "Deleted item from order", false },
        { "New Promo Customer Signup", "New Promo Customer Signup", false },
        { "Customer created order from welcome page", "Order created from welcome page", false },
        { "Customer changed box", "Customer changed box", false },
        { "Order skipped", "Order skipped", false },
        { "Customer cancelled", "Customer cancelled", false },
        { "Customer thinking of skipping order", "Thinking of skipping order", false },
        { "Gift certificate used", "Gift certificate used", false },
        { "Discount code used", "Discount code used", false },
        { "Submitted Contact Form", "Submitted Contact Form", false },
        { "Gift purchaser account activation", "Gift purchaser activation", false },
        { "Promo account activation", "Promo account activation", false },
        { "Updated Payment Info", "Updated Payment Info", false },
        { "Re-subscribed to emails", "Re-subscribed to emails", false },
        { "Unsubscribed email", "Unsubscribed email", false },
        { "Updated Shipping Notes", "Updated Shipping Notes", false },
        { "Added Delivery to Schedule", "Added Delivery to Schedule", false },
        { "Shared with Friends", "Shared with Friends", false },
        { "Skipped Delivery on Schedule", "Skipped Delivery on Schedule", false },
        { "Updated Address", "Updated Address", false },
        { "Reset Password", "Reset Password", false },
        { "Cancelled Order", "Cancelled Order", false },
        { "Added Birthday", "Added Birthday", false },
        { "Changed Schedule", "Changed Schedule", false },
        { "Removed recurring product setting", "Removed recurring product", false },
        { "Updated recurring product setting", "Updated recurring product", false },
        { "Added recurring product setting", "Added recurring product setting", false },
        { "Changed Box Subscription", "Changed Box Subscription", false },
        { "Gift Box Purchase", "Gift Box Purchase", false },
        { "Order Completed", "Order Completed", false },
        { "Reset Schedule", "Reset Schedule", false },
    };

    [Theory]
    [MemberData(nameof(ContractRows))]
    public void TryGet_EachContractRow_MapsToAcNameAndLiveOnlyFlag(string logName, string acName, bool liveOnly)
    {
        Assert.True(EventCatalog.TryGet(logName, out var definition));

        Assert.Equal(logName, definition.LogName);
        Assert.Equal(acName, definition.AcName);
        Assert.Equal(liveOnly, definition.LiveOnly);
    }

    [Fact]
    public void All_SameRowsAsContractInContractOrder()
    {
        var expected = ContractRows.Select(r => new EventCatalog.EventDefinition((string)r[0], (string)r[1], (bool)r[2]));

        Assert.Equal(expected, EventCatalog.All);
    }

    [Fact]
    public void All_AcNames_AtMost32Characters()
    {
        Assert.All(EventCatalog.All, e => Assert.InRange(e.AcName.Length, 1, 32));
    }

    [Fact]
    public void All_LogNames_Unique()
    {
        Assert.Equal(EventCatalog.All.Count, EventCatalog.All.Select(e => e.LogName).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void All_OnlyDeliveryReminderIsLiveOnly()
    {
        var liveOnly = Assert.Single(EventCatalog.All, e => e.LiveOnly);

        Assert.Equal("Delivery Today Reminder Email Sent", liveOnly.LogName);
    }

    [Fact]
    public void TryGet_WeeklyCycleCompleted_NotSendable()
    {
        Assert.False(EventCatalog.TryGet(EventCatalog.WeeklyCycleCompleted, out _));
        Assert.DoesNotContain(EventCatalog.All, e => e.LogName == EventCatalog.WeeklyCycleCompleted);
        Assert.Equal("Weekly cycle completed", EventCatalog.WeeklyCycleCompleted);
    }

    [Theory]
    [InlineData("logged in")]
    [InlineData("LOGGED IN")]
    [InlineData("Logged in ")]
    [InlineData(" Logged in")]
    [InlineData("Made an un-substitution")]
    [InlineData("Delivery reminder email sent")]
    [InlineData("Order created from welcome page")]
    [InlineData("")]
    public void TryGet_NotExactLogName_NotFound(string name) => Assert.False(EventCatalog.TryGet(name, out _));

    [Fact]
    public void Constants_OrderEvents_MatchCatalogue()
    {
        Assert.True(EventCatalog.TryGet(EventCatalog.OrderCompleted, out _));
        Assert.True(EventCatalog.TryGet(EventCatalog.GiftBoxPurchase, out _));
        Assert.Equal("Order Completed", EventCatalog.OrderCompleted);
        Assert.Equal("Gift Box Purchase", EventCatalog.GiftBoxPurchase);
    }
}
