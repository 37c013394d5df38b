namespace KivaSync.SystemLog.Tests;

/// <summary>Values the parser must step over whole: unknown keys and mistyped known keys whose value is an
/// object or an array, at every level. Each line puts such a value before the keys that matter, so a value
/// read as if it were part of its parent would change the entry (a mutation run found these untested).</summary>
public sealed class SkippedValueTests
{
    private const string Nested = "{\"id\":\"evil\",\"email\":\"evil@example.com\",\"status\":\"Dead\",\"week\":\"2099-W01\",\"state\":\"closed\",\"qty\":9}";
    private const string NestedArray = "[{\"email\":\"evil@example.com\"},[\"Dead\"],{\"id\":\"o-evil\"}]";

    [Fact]
    public void Parse_ObjectAndArrayValuedUnknownKeysInCustomer_SkippedWhole()
    {
        var entry = Lines.Accept("{" + Lines.Ts + ",\"customer\":{\"x\":" + Nested + ",\"y\":" + NestedArray +
            ",\"id\":\"48214\",\"email\":\"bob@example.com\",\"first_name\":\"Bob\"},\"msg\":\"after\"}");

        Assert.Equal(new Person("48214", "bob@example.com", "Bob", null, null), entry.Customer);
    }

    [Fact]
    public void Parse_ObjectAndArrayValuedUnknownKeysInContact_SkippedWhole()
    {
        var entry = Lines.Accept("{" + Lines.Ts + ",\"contact\":{\"x\":" + Nested + ",\"y\":" + NestedArray +
            ",\"email\":\"ann@example.org\",\"last_name\":\"Lee\"},\"event\":\"Submitted Contact Form\"}");

        Assert.Equal(new Person(null, "ann@example.org", null, "Lee", null), entry.Contact);
        Assert.Equal("Submitted Contact Form", entry.Event);
    }

    [Theory]
    [InlineData("{\"k\":\"v\"}")]
    [InlineData("[\"48214\"]")]
    public void Parse_ContactIdOfAnyShape_IgnoredAndTheRestRead(string id)
    {
        var entry = Lines.Accept("{" + Lines.Ts + ",\"contact\":{\"id\":" + id + ",\"email\":\"ann@example.org\",\"first_name\":\"Ann\"},\"event\":\"Logged in\"}");

        Assert.Equal(new Person(null, "ann@example.org", "Ann", null, null), entry.Contact);
        Assert.Equal("Logged in", entry.Event);
    }

    [Theory]
    [InlineData("{\"id\":" + Nested + ",\"email\":\"bob@example.com\"}", "\"customer\" needs a non-empty string \"id\"")]
    [InlineData("{\"id\":[\"48214\"],\"email\":\"bob@example.com\"}", "\"customer\" needs a non-empty string \"id\"")]
    [InlineData("{\"id\":\"48214\",\"email\":{\"address\":\"bob@example.com\"}}", "\"customer\" needs a string \"email\"")]
    [InlineData("{\"id\":\"48214\",\"email\":[\"bob@example.com\"]}", "\"customer\" needs a string \"email\"")]
    public void Parse_CustomerIdOrEmailNotAString_InvalidEntryWithTheReason(string customer, string detail)
    {
        var outcome = Lines.Parse("{" + Lines.Ts + ",\"customer\":" + customer + ",\"msg\":\"after\"}");

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal(detail, outcome.Detail);
    }

    [Fact]
    public void Parse_ObjectAndArrayValuedUnknownKeysInAttrs_SkippedWhole()
    {
        var entry = Lines.Accept(Lines.CustomerWithAttrs("{\"x\":" + Nested + ",\"y\":" + NestedArray +
            ",\"status\":\"Active\",\"box\":\"Large Veggie\",\"order\":{\"x\":" + Nested + ",\"y\":" + NestedArray +
            ",\"week\":\"2024-W24\",\"state\":\"open\"}}"));

        Assert.Equal(CustomerStatuses.Active, entry.Attrs!.Status.Value);
        Assert.Equal("Large Veggie", entry.Attrs.Box.Value);
        Assert.Equal(new OrderAttr("2024-W24", OrderState.Open), entry.Attrs.Order.Value);
    }

    [Theory]
    [InlineData("{\"week\":" + Nested + ",\"state\":\"open\"}", "attrs.order needs a string \"week\"")]
    [InlineData("{\"week\":\"2024-W24\",\"state\":[\"open\"]}", "attrs.order.state must be open, closed or cancelled, not missing")]
    [InlineData("{\"week\":\"2024-W24\"}", "attrs.order.state must be open, closed or cancelled, not missing")]
    [InlineData("{\"week\":\"2024-W24\",\"state\":\"shipped\"}", "attrs.order.state must be open, closed or cancelled, not \"shipped\"")]
    [InlineData("[\"2024-W24\",\"open\"]", "attrs.order must be an object or null")]
    public void Parse_OrderAttrWithMistypedParts_InvalidEntryWithTheReason(string order, string detail)
    {
        var outcome = Lines.Parse(Lines.CustomerWithAttrs("{\"order\":" + order + ",\"status\":\"Active\"}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal(detail, outcome.Detail);
    }

    [Theory]
    [InlineData("{\"status\":" + Nested + ",\"box\":\"B\"}", RejectReason.UnknownStatus, "attrs.status startobject is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient")]
    [InlineData("{\"status\":[\"Active\"],\"box\":\"B\"}", RejectReason.UnknownStatus, "attrs.status startarray is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient")]
    [InlineData("{\"box\":" + Nested + ",\"status\":\"Active\"}", RejectReason.InvalidEntry, "attrs.box must be a string or null")]
    [InlineData("{\"schedule\":[\"weekly\"],\"status\":\"Active\"}", RejectReason.InvalidEntry, "attrs.schedule must be a string or null")]
    [InlineData("{\"marketing_opt_in\":{\"value\":true},\"status\":\"Active\"}", RejectReason.InvalidEntry, "attrs.marketing_opt_in must be true or false")]
    [InlineData("{\"next_delivery\":[\"2024-06-07\"],\"status\":\"Active\"}", RejectReason.InvalidEntry, "attrs.next_delivery must be a string or null")]
    public void Parse_AttrWithAnObjectOrArrayValue_RejectedForThatAttrNotMisread(string attrs, RejectReason reason, string detail)
    {
        var outcome = Lines.Parse(Lines.CustomerWithAttrs(attrs));

        Assert.Equal(reason, outcome.Reason);
        Assert.Equal(detail, outcome.Detail);
    }

    [Fact]
    public void Parse_ObjectAndArrayValuedUnknownKeysInOrderAndItems_SkippedWhole()
    {
        var entry = Lines.Accept(Lines.CustomerWithOrder("{\"x\":" + Nested + ",\"y\":" + NestedArray +
            ",\"id\":\"o-1\",\"total_cents\":100,\"currency\":\"USD\",\"items\":[{\"x\":" + Nested + ",\"y\":" + NestedArray +
            ",\"sku\":\"LVB\",\"qty\":2,\"price_cents\":50}]}"));

        var order = entry.Order!;
        Assert.Equal(("o-1", 100L, "USD"), (order.Id, order.TotalCents, order.Currency));
        var item = Assert.Single(order.Items);
        Assert.Equal(new OrderItem("LVB", null, 2, 50, null), item);
    }

    [Theory]
    [InlineData("\"id\":" + Nested)]
    [InlineData("\"id\":[\"o-1\"]")]
    [InlineData("\"currency\":{\"code\":\"USD\"}")]
    [InlineData("\"items\":{\"sku\":\"LVB\"}")]
    public void Parse_OrderRequiredPartNotOfItsType_InvalidEntry(string mistyped)
    {
        var parts = new Dictionary<string, string>
        {
            ["id"] = "\"id\":\"o-1\"",
            ["total_cents"] = "\"total_cents\":100",
            ["currency"] = "\"currency\":\"USD\"",
            ["items"] = "\"items\":[{\"sku\":\"LVB\"}]",
        };
        var key = mistyped[1..mistyped.IndexOf('"', 1)];
        // The mistyped value first, so a value read as the order's own keys would supply the rest.
        var order = "{" + mistyped + "," + string.Join(",", parts.Where(p => p.Key != key).Select(p => p.Value)) + "}";

        var outcome = Lines.Parse(Lines.CustomerWithOrder(order));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("\"order\" needs \"id\", \"total_cents\", \"currency\" and at least one item", outcome.Detail);
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("[\"LVB\"]")]
    [InlineData("[null]")]
    [InlineData("[true]")]
    [InlineData("[[{\"sku\":\"LVB\"}]]")]
    [InlineData("[{\"sku\":\"LVB\"},[{\"sku\":\"LVB\"}]]")]
    public void Parse_OrderItemNotAnObject_InvalidEntry(string items)
    {
        var outcome = Lines.Parse(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":100,\"currency\":\"USD\",\"items\":" + items + "}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("order.items must be objects", outcome.Detail);
    }

    [Theory]
    [InlineData("\"sku\":{\"code\":\"LVB\"}", "\"order.items.sku\" must be a string")]
    [InlineData("\"name\":[\"Box\"]", "\"order.items.name\" must be a string")]
    [InlineData("\"category\":{\"k\":1}", "\"order.items.category\" must be a string")]
    [InlineData("\"qty\":{\"n\":1}", "order.items.qty must be a whole number")]
    [InlineData("\"price_cents\":[50]", "order.items.price_cents must be a whole number")]
    public void Parse_OrderItemFieldMistyped_InvalidEntryWithTheReason(string field, string detail)
    {
        var outcome = Lines.Parse(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":100,\"currency\":\"USD\",\"items\":[{" + field + ",\"sku\":\"LVB\"}]}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal(detail, outcome.Detail);
    }

    [Theory]
    [InlineData("\"tenant\":{\"name\":\"acme\"}")]
    [InlineData("\"tenant\":[\"acme\"]")]
    public void Parse_TenantNotAString_InvalidEntryUnderTheDefaultTenant(string tenant)
    {
        var outcome = Lines.Parse("{" + Lines.Ts + "," + tenant + ",\"id\":\"e-1\",\"msg\":\"after\"}");

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("\"tenant\" must match [a-z0-9][a-z0-9-]{0,62}", outcome.Detail);
        Assert.Equal(Lines.DefaultTenant, outcome.Tenant);
        Assert.Equal("e-1", outcome.Id);
    }

    [Theory]
    [InlineData("\"id\":{\"k\":\"v\"}", "\"id\" must be a string")]
    [InlineData("\"event\":[\"Logged in\"]", "\"event\" must be a string")]
    [InlineData("\"week\":{\"w\":\"2024-W24\"}", "\"week\" must be a string")]
    [InlineData("\"customer\":[\"48214\"]", "\"customer\" must be an object")]
    [InlineData("\"contact\":\"ann@example.org\"", "\"contact\" must be an object")]
    [InlineData("\"attrs\":[{\"status\":\"Active\"}]", "\"attrs\" must be an object")]
    [InlineData("\"order\":[{\"id\":\"o-1\"}]", "\"order\" must be an object")]
    public void Parse_TopLevelKnownKeyOfTheWrongType_InvalidEntryWithTheReason(string pair, string detail)
    {
        var outcome = Lines.Parse("{" + Lines.Ts + "," + pair + ",\"msg\":\"after\"}");

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal(detail, outcome.Detail);
    }
}
