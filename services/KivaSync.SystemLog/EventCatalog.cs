using System.Collections.Frozen;

namespace KivaSync.SystemLog;

/// <summary>The contract's event catalogue: log name → AC event name, and which are live-only.</summary>
public static class EventCatalog
{
    /// <summary>The system entry that starts a new week; never sent to AC.</summary>
    public const string WeeklyCycleCompleted = "Weekly cycle completed";

    /// <summary>Order Completed: also a Deep Data order.</summary>
    public const string OrderCompleted = "Order Completed";

    /// <summary>Gift Box Purchase: a Deep Data order when it carries an order.</summary>
    public const string GiftBoxPurchase = "Gift Box Purchase";

    /// <summary>One catalogue row.</summary>
    public sealed record EventDefinition(string LogName, string AcName, bool LiveOnly);

    /// <summary>Every sendable event, in the contract's order (the weekly cycle is not one).</summary>
    public static IReadOnlyList<EventDefinition> All { get; } =
    [
        new("Delivery Today Reminder Email Sent", "Delivery reminder email sent", LiveOnly: true),
        new("New Customer Signup", "New Customer Signup", false),
        new("Login via expired magic link failed", "Expired magic link login failed", false),
        new("Logged in", "Logged in", false),
        new("Logged in via cookie", "Logged in via cookie", false),
        new("Logged in via magic link", "Logged in via magic link", false),
        new("Logged out", "Logged out", false),
        new("Made a substitution", "Made a substitution", false),
        new("Made an un-substition", "Made an un-substition", false),
        new("Added add-on to order", "Added add-on to order", false),
        new("Deleted item from order", "Deleted item from order", false),
        new("New Promo Customer Signup", "New Promo Customer Signup", false),
        new("Customer created order from welcome page", "Order created from welcome page", false),
        new("Customer changed box", "Customer changed box", false),
        new("Order skipped", "Order skipped", false),
        new("Customer cancelled", "Customer cancelled", false),
        new("Customer thinking of skipping order", "Thinking of skipping order", false),
        new("Gift certificate used", "Gift certificate used", false),
        new("Discount code used", "Discount code used", false),
        new("Submitted Contact Form", "Submitted Contact Form", false),
        new("Gift purchaser account activation", "Gift purchaser activation", false),
        new("Promo account activation", "Promo account activation", false),
        new("Updated Payment Info", "Updated Payment Info", false),
        new("Re-subscribed to emails", "Re-subscribed to emails", false),
        new("Unsubscribed email", "Unsubscribed email", false),
        new("Updated Shipping Notes", "Updated Shipping Notes", false),
        new("Added Delivery to Schedule", "Added Delivery to Schedule", false),
        new("Shared with Friends", "Shared with Friends", false),
        new("Skipped Delivery on Schedule", "Skipped Delivery on Schedule", false),
        new("Updated Address", "Updated Address", false),
        new("Reset Password", "Reset Password", false),
        new("Cancelled Order", "Cancelled Order", false),
        new("Added Birthday", "Added Birthday", false),
        new("Changed Schedule", "Changed Schedule", false),
        new("Removed recurring product setting", "Removed recurring product", false),
        new("Updated recurring product setting", "Updated recurring product", false),
        new("Added recurring product setting", "Added recurring product setting", false),
        new("Changed Box Subscription", "Changed Box Subscription", false),
        new(GiftBoxPurchase, GiftBoxPurchase, false),
        new(OrderCompleted, OrderCompleted, false),
        new("Reset Schedule", "Reset Schedule", false),
    ];

    private static readonly FrozenDictionary<string, EventDefinition> ByLogName =
        All.ToFrozenDictionary(e => e.LogName, StringComparer.Ordinal);

    /// <summary>Finds a catalogue event by its exact, case-sensitive log name.</summary>
    public static bool TryGet(string logName, out EventDefinition definition) =>
        ByLogName.TryGetValue(logName, out definition!);
}
