using System.Text;

namespace KivaSync.SystemLog.Tests;

/// <summary>What an accepted line becomes: the typed entry the sync acts on.</summary>
public sealed class AcceptedLineTests
{
    // Blank lines

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t \t")]
    [InlineData("\r")]
    [InlineData("   \r")]
    public void Parse_BlankLine_IsBlankNotRejected(string line)
    {
        var outcome = Lines.Parse(line);

        Assert.True(outcome.IsBlank);
        Assert.False(outcome.IsAccepted);
        Assert.Equal(RejectReason.None, outcome.Reason);
        Assert.Equal(Lines.DefaultTenant, outcome.Tenant);
    }

    [Fact]
    public void Parse_WhitespaceLineOverLengthLimit_IsBlankNotTooLong()
    {
        var outcome = Lines.Parse(new string(' ', SystemLogParser.MaxLineBytes + 10));

        Assert.True(outcome.IsBlank);
        Assert.Equal(RejectReason.None, outcome.Reason);
    }

    [Fact]
    public void Parse_NonBlankLine_IsNotBlank()
    {
        Assert.False(Lines.Parse("x").IsBlank);
        Assert.False(Lines.Parse("{}").IsBlank);
    }

    // Line endings

    [Fact]
    public void Parse_TrailingCarriageReturn_IsTolerated()
    {
        const string line = "{\"ts\":\"2024-06-03T14:22:05Z\",\"event\":\"Logged in\",\"customer\":{\"id\":\"7\",\"email\":\"bob@example.com\"}}";

        var withCr = Lines.Accept(line + "\r");
        var without = Lines.Accept(line);

        Assert.Equal(without, withCr);
    }

    [Fact]
    public void Parse_TrailingCarriageReturnInsideData_IsNotPartOfData()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"data\":{\"a\":1}}\r");

        Assert.Equal("{\"a\":1}", entry.DataJson);
    }

    [Fact]
    public void Parse_Utf8ByteOrderMarkBeforeObject_IsSkipped()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:05Z\",\"event\":\"Logged out\"}")).ToArray();

        var outcome = Lines.Parse(bytes);

        Assert.True(outcome.IsAccepted, outcome.Detail);
        Assert.Equal("Logged out", outcome.Entry!.Event);
    }

    // Invalid UTF-8

    [Fact]
    public void Parse_InvalidUtf8InName_ReadAsReplacementCharAndProcessed()
    {
        var head = Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:05Z\",\"customer\":{\"id\":\"48214\",\"email\":\"bob@example.com\",\"first_name\":\"Bo");
        var tail = Encoding.UTF8.GetBytes("b\"},\"attrs\":{\"status\":\"Active\"}}");
        var line = head.Concat(new byte[] { 0xC3, 0x28 }).Concat(tail).ToArray(); // 0xC3 0x28: a lead byte without its continuation

        var outcome = Lines.Parse(line);

        Assert.True(outcome.IsAccepted, outcome.Detail);
        Assert.Equal("Bo\uFFFD(b", outcome.Entry!.Customer!.FirstName);
        Assert.Equal(CustomerStatuses.Active, outcome.Entry.Attrs!.Status.Value);
    }

    [Fact]
    public void Parse_InvalidUtf8InData_CarriedAsReplacementChar()
    {
        var line = Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:05Z\",\"event\":\"Made a substitution\",\"data\":{\"from\":\"K")
            .Concat(new byte[] { 0xFF })
            .Concat(Encoding.UTF8.GetBytes("le\"}}"))
            .ToArray();

        var entry = Lines.Parse(line).Entry;

        Assert.NotNull(entry);
        Assert.Equal("{\"from\":\"K\uFFFDle\"}", entry.DataJson);
    }

    [Fact]
    public void Parse_InvalidUtf8InEmail_ReadAsReplacementCharThenValidated()
    {
        // U+FFFD is not whitespace, so the repaired address still passes the contract's rule.
        var line = Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:05Z\",\"contact\":{\"email\":\"an")
            .Concat(new byte[] { 0xE2, 0x82 })
            .Concat(Encoding.UTF8.GetBytes("n@example.org\"}}"))
            .ToArray();

        var entry = Lines.Parse(line).Entry;

        Assert.NotNull(entry);
        Assert.Equal("an\uFFFDn@example.org", entry.Contact!.Email);
    }

    [Fact]
    public void Parse_InvalidUtf8BreakingJsonSyntax_StillInvalidJson()
    {
        var line = Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:05Z\",").Concat(new byte[] { 0xFF }).Concat("}"u8.ToArray()).ToArray();

        Assert.Equal(RejectReason.InvalidJson, Lines.Parse(line).Reason);
    }

    [Fact]
    public void Parse_LoneSurrogateEscape_ReadAsReplacementCharNotThrown()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"contact\":{\"email\":\"ann@example.org\",\"first_name\":\"A\\udc80nn \\ud83d\\ude00\"}}");

        Assert.Equal("A\uFFFDnn \U0001F600", entry.Contact!.FirstName);
    }

    [Fact]
    public void Parse_LoneSurrogateEscapeInKey_KeyIgnoredLineAccepted()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"x\\ud800\":1,\"event\":\"Logged in\"}");

        Assert.Equal("Logged in", entry.Event);
    }

    [Fact]
    public void Parse_EscapedKeyName_MatchesTheKey()
    {
        var entry = Lines.Accept("{\"\\u0074s\":\"2024-06-03T14:22:05Z\",\"ev\\u0065nt\":\"Logged in\"}");

        Assert.Equal("Logged in", entry.Event);
    }

    // Unknown keys, tenant, id

    [Fact]
    public void Parse_UnknownKeysAtEveryLevel_Ignored()
    {
        var entry = Lines.Accept(
            "{\"ts\":\"2024-06-03T14:22:05Z\",\"v\":2,\"extra\":{\"deep\":[1,{\"x\":null}]},\"level\":\"info\",\"msg\":\"hi\"," +
            "\"customer\":{\"id\":\"1\",\"email\":\"bob@example.com\",\"nickname\":\"B\",\"tags\":[\"a\"]}," +
            "\"attrs\":{\"status\":\"Dead\",\"loyalty\":5}}");

        Assert.Equal(new Person("1", "bob@example.com", null, null, null), entry.Customer);
        Assert.Equal(CustomerStatuses.Dead, entry.Attrs!.Status.Value);
    }

    [Fact]
    public void Parse_DeeplyNestedUnknownKey_Ignored()
    {
        var deep = new string('[', 5000) + new string(']', 5000);

        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"blob\":" + deep + ",\"event\":\"Logged in\"}");

        Assert.Equal("Logged in", entry.Event);
    }

    [Fact]
    public void Parse_NoTenantKey_BelongsToDefaultTenant()
    {
        var outcome = Lines.Parse("{\"ts\":\"2024-06-03T14:22:05Z\"}", "acme");

        Assert.Equal("acme", outcome.Tenant);
        Assert.Equal("acme", outcome.Entry!.Tenant);
    }

    [Fact]
    public void Parse_TenantKey_OverridesDefaultTenant()
    {
        var outcome = Lines.Parse("{\"ts\":\"2024-06-03T14:22:05Z\",\"tenant\":\"green-leaf-2\"}", "acme");

        Assert.Equal("green-leaf-2", outcome.Tenant);
        Assert.Equal("green-leaf-2", outcome.Entry!.Tenant);
    }

    [Fact]
    public void Parse_NullTenant_TreatedAsAbsent()
    {
        Assert.Equal("acme", Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"tenant\":null}", "acme").Tenant);
    }

    [Fact]
    public void Parse_Id_CarriedOnEntryAndOutcome()
    {
        var outcome = Lines.Parse("{\"ts\":\"2024-06-03T14:22:05Z\",\"id\":\"evt-1\"}");

        Assert.Equal("evt-1", outcome.Id);
        Assert.Equal("evt-1", outcome.Entry!.Id);
    }

    [Theory]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"id\":null}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"id\":\"\"}")]
    public void Parse_NoUsableId_IdIsNull(string line)
    {
        var outcome = Lines.Parse(line);

        Assert.True(outcome.IsAccepted);
        Assert.Null(outcome.Id);
        Assert.Null(outcome.Entry!.Id);
    }

    // ts

    [Theory]
    [InlineData("2024-06-03T14:22:05Z", 2024, 6, 3, 14, 22, 5, 0, 0)]
    [InlineData("2024-06-03t14:22:05z", 2024, 6, 3, 14, 22, 5, 0, 0)]
    [InlineData("2024-06-03T14:22:05.123Z", 2024, 6, 3, 14, 22, 5, 1_230_000, 0)]
    [InlineData("2024-06-03T14:22:05.1Z", 2024, 6, 3, 14, 22, 5, 1_000_000, 0)]
    [InlineData("2024-06-03T14:22:05.123456789Z", 2024, 6, 3, 14, 22, 5, 1_234_567, 0)]
    [InlineData("2024-06-03T16:22:05+02:00", 2024, 6, 3, 16, 22, 5, 0, 120)]
    [InlineData("2024-06-03T09:52:05.5-04:30", 2024, 6, 3, 9, 52, 5, 5_000_000, -270)]
    [InlineData("2024-06-03T14:22:05-00:00", 2024, 6, 3, 14, 22, 5, 0, 0)]
    [InlineData("2024-02-29T00:00:00Z", 2024, 2, 29, 0, 0, 0, 0, 0)]
    [InlineData("2016-12-31T23:59:60Z", 2016, 12, 31, 23, 59, 59, 9_999_999, 0)]
    public void Parse_Rfc3339Ts_ParsedWithOffsetKept(string ts, int y, int mo, int d, int h, int mi, int s, long fractionTicks, int offsetMinutes)
    {
        var entry = Lines.Accept("{\"ts\":\"" + ts + "\"}");

        var expected = new DateTimeOffset(y, mo, d, h, mi, s, TimeSpan.FromMinutes(offsetMinutes)).AddTicks(fractionTicks);
        Assert.Equal(expected, entry.Ts);
        Assert.Equal(expected.Offset, entry.Ts.Offset);
    }

    [Fact]
    public void Parse_EscapedTsEventTenantAndStatus_ReadUnescaped()
    {
        var entry = Lines.Accept(
            "{\"ts\":\"2024-06-03T14:22:05\\u005A\",\"tenant\":\"\\u0061cme\",\"event\":\"Logged\\u0020in\"," +
            "\"customer\":{\"id\":\"1\",\"email\":\"bob\\u0040example.com\"},\"attrs\":{\"status\":\"Gift\\u0020Recipient\"}}");

        Assert.Equal(new DateTimeOffset(2024, 6, 3, 14, 22, 5, TimeSpan.Zero), entry.Ts);
        Assert.Equal("acme", entry.Tenant);
        Assert.Equal("Logged in", entry.Event);
        Assert.Equal("bob@example.com", entry.Customer!.Email);
        Assert.Equal(CustomerStatuses.GiftRecipient, entry.Attrs!.Status.Value);
    }

    [Fact]
    public void Parse_LongEventNameOutsideCatalogue_CarriedWhole()
    {
        var name = "Custom tenant event " + new string('z', 300);

        Assert.Equal(name, Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"event\":\"" + name + "\"}").Event);
    }

    [Fact]
    public void Parse_VeryLongTs_InvalidTsWithShortDetail()
    {
        var outcome = Lines.Parse("{\"ts\":\"2024-06-03T14:22:05.1" + new string('0', 400) + "Zx\"}");

        Assert.Equal(RejectReason.InvalidTs, outcome.Reason);
        Assert.True(outcome.Detail!.Length < 200);
    }

    [Fact]
    public void Parse_TsWithOffset_SameInstantAsUtc()
    {
        var a = Lines.Accept("{\"ts\":\"2024-06-03T16:22:05+02:00\"}");
        var b = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\"}");

        Assert.Equal(b.Ts.UtcDateTime, a.Ts.UtcDateTime);
    }

    // customer / contact

    [Fact]
    public void Parse_CustomerWithAllFields_AllCarried()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"customer\":{\"id\":\"48214\",\"email\":\"Bob@Example.com\",\"first_name\":\"Bob\",\"last_name\":\"Lee\",\"phone\":\"+1 555 0100\"}}");

        Assert.Equal(new Person("48214", "Bob@Example.com", "Bob", "Lee", "+1 555 0100"), entry.Customer);
        Assert.Null(entry.Contact);
        Assert.Same(entry.Customer, entry.Subject);
    }

    [Fact]
    public void Parse_ContactEntry_IsLeadWithoutCustomerId()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"contact\":{\"id\":\"ignored\",\"email\":\"ann@example.org\",\"first_name\":\"Ann\"}}");

        Assert.Null(entry.Customer);
        Assert.Equal(new Person(null, "ann@example.org", "Ann", null, null), entry.Contact);
        Assert.Same(entry.Contact, entry.Subject);
    }

    [Fact]
    public void Parse_NullNameAndPhone_NotCarried()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"customer\":{\"id\":\"1\",\"email\":\"bob@example.com\",\"first_name\":null,\"last_name\":null,\"phone\":null}}");

        Assert.Null(entry.Customer!.FirstName);
        Assert.Null(entry.Customer.LastName);
        Assert.Null(entry.Customer.Phone);
    }

    [Fact]
    public void Parse_EmptyStringName_CarriedAsLogged()
    {
        // Only absent/null mean "not carried"; an empty string is a value the platform logged.
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"customer\":{\"id\":\"1\",\"email\":\"bob@example.com\",\"last_name\":\"\"}}");

        Assert.Equal("", entry.Customer!.LastName);
    }

    [Theory]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"customer\":null,\"contact\":{\"email\":\"ann@example.org\"}}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"customer\":{\"id\":\"1\",\"email\":\"ann@example.org\"},\"contact\":null}")]
    public void Parse_OneSubjectAndTheOtherNull_Accepted(string line)
    {
        var entry = Lines.Accept(line);

        Assert.Equal("ann@example.org", entry.Subject!.Email);
    }

    [Fact]
    public void Parse_NoSubject_NoiseEntry()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:06.001Z\",\"tenant\":\"greenleaf\",\"level\":\"info\",\"msg\":\"cron: cleanup finished in 3.2s\"}");

        Assert.Null(entry.Subject);
        Assert.Null(entry.Event);
        Assert.Null(entry.Attrs);
        Assert.Null(entry.DataJson);
    }

    // attrs

    [Fact]
    public void Parse_AttrsAbsentKeys_AreNotPresent()
    {
        var attrs = Lines.Accept(Lines.CustomerWithAttrs("{}")).Attrs!;

        Assert.False(attrs.Status.IsPresent);
        Assert.False(attrs.NextDelivery.IsPresent);
        Assert.False(attrs.CancelledOn.IsPresent);
        Assert.False(attrs.Schedule.IsPresent);
        Assert.False(attrs.Box.IsPresent);
        Assert.False(attrs.Order.IsPresent);
        Assert.Null(attrs.MarketingOptIn);
    }

    [Fact]
    public void Parse_AttrsNullKeys_ArePresentAndCleared()
    {
        var attrs = Lines.Accept(Lines.CustomerWithAttrs("{\"next_delivery\":null,\"cancelled_on\":null,\"schedule\":null,\"box\":null,\"order\":null}")).Attrs!;

        Assert.Equal(Change<string>.To(null), attrs.NextDelivery);
        Assert.Equal(Change<string>.To(null), attrs.CancelledOn);
        Assert.Equal(Change<string>.To(null), attrs.Schedule);
        Assert.Equal(Change<string>.To(null), attrs.Box);
        Assert.Equal(Change<OrderAttr>.To(null), attrs.Order);
        Assert.True(attrs.NextDelivery.IsPresent);
        Assert.True(attrs.Order.IsPresent);
        Assert.False(attrs.Status.IsPresent);
    }

    [Fact]
    public void Parse_AttrsWithValues_AllCarried()
    {
        var attrs = Lines.Accept(Lines.CustomerWithAttrs(
            "{\"status\":\"Cancelled\",\"next_delivery\":\"2024-02-29\",\"cancelled_on\":\"2024-06-01\",\"schedule\":\"every 6 weeks\",\"box\":\"Large Veggie\"," +
            "\"order\":{\"week\":\"2020-W53\",\"state\":\"cancelled\"},\"marketing_opt_in\":false}")).Attrs!;

        Assert.Equal(Change<string>.To("Cancelled"), attrs.Status);
        Assert.Equal(Change<string>.To("2024-02-29"), attrs.NextDelivery);
        Assert.Equal(Change<string>.To("2024-06-01"), attrs.CancelledOn);
        Assert.Equal(Change<string>.To("every 6 weeks"), attrs.Schedule);
        Assert.Equal(Change<string>.To("Large Veggie"), attrs.Box);
        Assert.Equal(Change<OrderAttr>.To(new OrderAttr("2020-W53", OrderState.Cancelled)), attrs.Order);
        Assert.False(attrs.MarketingOptIn);
    }

    [Theory]
    [InlineData("Active")]
    [InlineData("Stopped")]
    [InlineData("Cancelled")]
    [InlineData("Dead")]
    [InlineData("Gift Purchaser")]
    [InlineData("Gift Recipient")]
    public void Parse_EachOfTheSixStatuses_Accepted(string status)
    {
        var attrs = Lines.Accept(Lines.CustomerWithAttrs("{\"status\":\"" + status + "\"}")).Attrs!;

        Assert.Equal(status, attrs.Status.Value);
    }

    [Theory]
    [InlineData("open", OrderState.Open)]
    [InlineData("closed", OrderState.Closed)]
    [InlineData("cancelled", OrderState.Cancelled)]
    public void Parse_EachOrderState_Accepted(string state, OrderState expected)
    {
        var attrs = Lines.Accept(Lines.CustomerWithAttrs("{\"order\":{\"week\":\"2024-W01\",\"state\":\"" + state + "\"}}")).Attrs!;

        Assert.Equal(new OrderAttr("2024-W01", expected), attrs.Order.Value);
    }

    [Fact]
    public void Parse_MarketingOptInTrue_Carried()
    {
        Assert.True(Lines.Accept(Lines.CustomerWithAttrs("{\"marketing_opt_in\":true}")).Attrs!.MarketingOptIn);
    }

    [Fact]
    public void Parse_AttrsNull_NoChanges()
    {
        Assert.Null(Lines.Accept(Lines.CustomerWithAttrs("null")).Attrs);
    }

    [Fact]
    public void Parse_AttrsOnContactEntry_Ignored()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"contact\":{\"email\":\"ann@example.org\"},\"attrs\":{\"status\":\"Active\"}}");

        Assert.Null(entry.Attrs);
    }

    [Fact]
    public void Parse_InvalidAttrsOnContactEntry_StillRejected()
    {
        // The Bad-input rules are about the line: an unknown status is one wherever it appears.
        var outcome = Lines.Parse("{\"ts\":\"2024-06-03T14:22:05Z\",\"contact\":{\"email\":\"ann@example.org\"},\"attrs\":{\"status\":\"Lead\"}}");

        Assert.Equal(RejectReason.UnknownStatus, outcome.Reason);
    }

    // data

    [Theory]
    [InlineData("{\"from\":\"Kale\",\"to\":\"Chard\"}", "{\"from\":\"Kale\",\"to\":\"Chard\"}")]
    [InlineData("{ \"from\" : \"Kale\" ,\n \"to\":\t\"Chard\" }", "{\"from\":\"Kale\",\"to\":\"Chard\"}")]
    [InlineData("{\"subject\":\"Do you deliver to 94110?\"}", "{\"subject\":\"Do you deliver to 94110?\"}")]
    [InlineData("{\"text\":\"a  b { } , : \\\" \\\\ \"}", "{\"text\":\"a  b { } , : \\\" \\\\ \"}")]
    [InlineData("{ \"text\" : \"keep \\\"  inner  \\\" spaces\" }", "{\"text\":\"keep \\\"  inner  \\\" spaces\"}")]
    [InlineData("{\"n\": [1, 2.50, -3e2, true, false, null], \"o\": {}}", "{\"n\":[1,2.50,-3e2,true,false,null],\"o\":{}}")]
    [InlineData("{\"u\":\"caf\\u00e9 \\/ é <&>\"}", "{\"u\":\"caf\\u00e9 \\/ é <&>\"}")]
    [InlineData("{}", "{}")]
    [InlineData("[1, 2]", "[1,2]")]
    [InlineData("\"text\"", "\"text\"")]
    [InlineData("\"te\\\"xt\"", "\"te\\\"xt\"")]
    [InlineData("42", "42")]
    [InlineData("true", "true")]
    public void Parse_Data_CarriedAsCompactJson(string data, string expected)
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-04T09:10:44.350Z\",\"event\":\"Made a substitution\",\"data\":" + data + ",\"after\":1}");

        Assert.Equal(expected, entry.DataJson);
    }

    [Fact]
    public void Parse_DataAbsentOrNull_NoData()
    {
        Assert.Null(Lines.Accept("{\"ts\":\"2024-06-04T09:10:44Z\",\"event\":\"Logged in\"}").DataJson);
        Assert.Null(Lines.Accept("{\"ts\":\"2024-06-04T09:10:44Z\",\"event\":\"Logged in\",\"data\":null}").DataJson);
    }

    // event, week, order

    [Fact]
    public void Parse_UnknownEvent_AcceptedAndCarriedAsLogged()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-04T09:10:44Z\",\"event\":\"logged in\",\"customer\":{\"id\":\"1\",\"email\":\"bob@example.com\"}}");

        Assert.Equal("logged in", entry.Event);
        Assert.False(EventCatalog.TryGet(entry.Event!, out _));
    }

    [Fact]
    public void Parse_WeeklyCycle_WeekCarried()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-06T23:00:00Z\",\"event\":\"Weekly cycle completed\",\"week\":\"2024-W53\"}");

        Assert.Equal("2024-W53", entry.Week);
    }

    [Fact]
    public void Parse_PaidOrder_AllFieldsCarried()
    {
        var entry = Lines.Accept(Lines.CustomerWithOrder(
            "{\"id\":\"o-99812\",\"week\":\"2024-W23\",\"total_cents\":4599,\"currency\":\"USD\",\"shipping_cents\":500,\"tax_cents\":0,\"discount_cents\":100," +
            "\"items\":[{\"sku\":\"LVB\",\"name\":\"Large Veggie Box\",\"qty\":1,\"price_cents\":3999,\"category\":\"box\"},{\"sku\":\"EGG\",\"qty\":2,\"price_cents\":350}]}"));

        var order = entry.Order!;
        Assert.Equal("o-99812", order.Id);
        Assert.Equal("2024-W23", order.Week);
        Assert.Equal(4599, order.TotalCents);
        Assert.Equal("USD", order.Currency);
        Assert.Equal(500, order.ShippingCents);
        Assert.Equal(0, order.TaxCents);
        Assert.Equal(100, order.DiscountCents);
        Assert.Equal(
            [new OrderItem("LVB", "Large Veggie Box", 1, 3999, "box"), new OrderItem("EGG", null, 2, 350, null)],
            order.Items);
    }

    [Fact]
    public void Parse_PaidOrderWithOnlyRequiredParts_OptionalAmountsZero()
    {
        var order = Lines.Accept(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":0,\"currency\":\"EUR\",\"items\":[{}]}")).Order!;

        Assert.Null(order.Week);
        Assert.Equal(0, order.ShippingCents);
        Assert.Equal(0, order.TaxCents);
        Assert.Equal(0, order.DiscountCents);
        Assert.Equal([new OrderItem(null, null, 1, 0, null)], order.Items);
    }

    [Fact]
    public void Parse_PaidOrderWholeNumbersWrittenAsDecimals_ReadAsIntegers()
    {
        var order = Lines.Accept(Lines.CustomerWithOrder(
            "{\"id\":\"o-1\",\"total_cents\":4599.0,\"currency\":\"USD\",\"shipping_cents\":5e2,\"items\":[{\"sku\":null,\"qty\":2.0,\"price_cents\":1999.00}]}")).Order!;

        Assert.Equal(4599, order.TotalCents);
        Assert.Equal(500, order.ShippingCents);
        Assert.Equal([new OrderItem(null, null, 2, 1999, null)], order.Items);
    }
}
