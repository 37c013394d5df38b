using System.Text;

namespace KivaSync.SystemLog.Tests;

/// <summary>Each rule at its limits, repeated keys, and the exact reject details the contract says can be
/// listed (reason and position: the detail is what a person reads to fix the line).</summary>
public sealed class BoundaryTests
{
    private const string Cust = "\"customer\":{\"id\":\"48214\",\"email\":\"bob@example.com\"}";

    // ts

    [Theory]
    [InlineData("2024-06-03T14:22:05+05:59", (5 * 60) + 59)]
    [InlineData("2024-06-03T14:22:05-05:00", -5 * 60)]
    [InlineData("2024-06-03T14:22:05+14:00", 14 * 60)]
    [InlineData("2024-06-03T14:22:05-14:00", -14 * 60)]
    public void Parse_OffsetUpTo14Hours_AcceptedWithTheOffsetKept(string ts, int offsetMinutes)
    {
        var entry = Lines.Accept("{\"ts\":\"" + ts + "\"}");

        Assert.Equal(TimeSpan.FromMinutes(offsetMinutes), entry.Ts.Offset);
        Assert.Equal(new DateTime(2024, 6, 3, 14, 22, 5), entry.Ts.DateTime);
    }

    [Theory]
    [InlineData("2024-06-03T14:22:05.5+23:00", "2024-06-02T15:22:05.5Z")]
    [InlineData("2024-06-03T14:22:05-23:59", "2024-06-04T14:21:05Z")]
    [InlineData("2024-06-03T14:22:05+14:01", "2024-06-03T00:21:05Z")]
    [InlineData("0001-01-02T00:00:00+23:59", "0001-01-01T00:01:00Z")]
    public void Parse_OffsetBeyond14HoursUpTo23_59_AcceptedAsTheSameInstantInUtc(string ts, string utc)
    {
        // RFC 3339 allows these; a DateTimeOffset cannot carry them, so the instant is kept in UTC.
        var entry = Lines.Accept("{\"ts\":\"" + ts + "\"}");

        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), entry.Ts);
        Assert.Equal(TimeSpan.Zero, entry.Ts.Offset);
        Assert.Equal(ts, entry.TsText);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00+23:00")]
    [InlineData("9999-12-31T23:59:59-23:00")]
    public void Parse_OffsetBeyond14HoursOutsideTheRepresentableRange_InvalidTs(string ts) =>
        Assert.Equal(RejectReason.InvalidTs, SystemLogParser.Parse(Encoding.UTF8.GetBytes("{\"ts\":\"" + ts + "\"}"), Lines.DefaultTenant, DateTimeOffset.MaxValue).Reason);

    [Theory]
    [InlineData("2024-06-03T23:59:59Z")]
    [InlineData("2024-06-03T00:00:00Z")]
    [InlineData("2024-06-03T14:22:05.0Z")]
    public void Parse_TimeOfDayAtItsLimits_Accepted(string ts) => Lines.Accept("{\"ts\":\"" + ts + "\"}");

    [Theory]
    [InlineData("2024-06-03T24:00:00Z")]
    [InlineData("2024-06-03T23:60:00Z")]
    [InlineData("2024-06-03T23:59:61Z")]
    [InlineData("2024-06-03T14:22:05.Z")]
    [InlineData("2024-06-03T14:22:05.")]
    [InlineData("2024-06-03T14:22:05+02:000")]
    [InlineData("2024-06-03T14:22:05+2:00")]
    [InlineData("2024-06-03T14:22:05+02-00")]
    [InlineData("2024-06-03T14:22:05")]
    [InlineData("2024-06-03X14:22:05Z")]
    [InlineData("2024-06-03T14-22:05Z")]
    [InlineData("2024-06-03T14:22-05Z")]
    [InlineData("2024-06-03T1a:22:05Z")]
    [InlineData("2024-06-03T14:2a:05Z")]
    [InlineData("2024-06-03T14:22:0aZ")]
    [InlineData("2024-06-03T14:22:05+0a:00")]
    [InlineData("2024-06-03T14:22:05+02:0a")]
    public void Parse_TimeOrOffsetOutOfShape_InvalidTsWithTheValueInTheDetail(string ts)
    {
        var outcome = Lines.Parse("{\"ts\":\"" + ts + "\"}");

        Assert.Equal(RejectReason.InvalidTs, outcome.Reason);
        Assert.Equal("\"ts\" is not RFC 3339 with Z or an offset: \"" + ts + "\"", outcome.Detail);
    }

    [Theory]
    [InlineData("2024-06-03t14:22:05.5+02:00")]
    [InlineData("2024-06-03T14:22:05.123456789Z")]
    [InlineData("2024-06-03T14:22:05z")]
    [InlineData("2016-12-31T23:59:60Z")]
    public void Parse_AcceptedTs_TextKeptExactlyAsLogged(string ts) =>
        Assert.Equal(ts, Lines.Accept("{\"ts\":\"" + ts + "\"}").TsText);

    [Fact]
    public void Parse_TsLongerThanTheStackBuffer_ParsedAndTextKept()
    {
        var ts = "2024-06-03T14:22:05.5" + new string('0', 200) + "Z";

        var entry = Lines.Accept("{\"ts\":\"" + ts + "\"}");

        Assert.Equal(ts, entry.TsText);
        Assert.Equal(new DateTimeOffset(2024, 6, 3, 14, 22, 5, 500, TimeSpan.Zero), entry.Ts);
    }

    [Fact]
    public void Parse_EscapedTs_TextKeptUnescaped() =>
        Assert.Equal("2024-06-03T14:22:05.1Z", Lines.Accept("{\"ts\":\"2024-06-03T14:22:05\\u002e1Z\"}").TsText);

    [Theory]
    [InlineData("{\"ts\":\"yesterday\",\"ts\":\"2024-06-03T14:22:05Z\"}", RejectReason.None)]
    [InlineData("{\"ts\":5,\"ts\":\"2024-06-03T14:22:05Z\"}", RejectReason.None)]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"ts\":\"yesterday\"}", RejectReason.InvalidTs)]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"ts\":null}", RejectReason.InvalidTs)]
    public void Parse_RepeatedTs_TheLastOneCounts(string line, RejectReason expected) =>
        Assert.Equal(expected, Lines.Parse(line).Reason);

    [Fact]
    public void Parse_RepeatedTs_LastValueAndTextKept()
    {
        var entry = Lines.Accept("{\"ts\":\"2024-06-03T14:22:05Z\",\"ts\":\"2024-06-04T10:00:00+02:00\"}");

        Assert.Equal(new DateTimeOffset(2024, 6, 4, 10, 0, 0, TimeSpan.FromHours(2)), entry.Ts);
        Assert.Equal("2024-06-04T10:00:00+02:00", entry.TsText);
    }

    // tenant

    [Theory]
    [InlineData("\"tenant\":\"BAD!\",\"tenant\":null", RejectReason.None, Lines.DefaultTenant)]
    [InlineData("\"tenant\":\"BAD!\",\"tenant\":\"acme\"", RejectReason.None, "acme")]
    [InlineData("\"tenant\":\"acme\",\"tenant\":\"BAD!\"", RejectReason.InvalidEntry, Lines.DefaultTenant)]
    [InlineData("\"tenant\":\"acme\",\"tenant\":null", RejectReason.None, Lines.DefaultTenant)]
    public void Parse_RepeatedTenant_TheLastOneCounts(string tenants, RejectReason reason, string tenant)
    {
        var outcome = Lines.Parse("{" + Lines.Ts + "," + tenants + "}");

        Assert.Equal(reason, outcome.Reason);
        Assert.Equal(tenant, outcome.Tenant);
    }

    [Fact]
    public void Parse_TenantEqualToTheDefault_AcceptedAsThatTenant()
    {
        var outcome = Lines.Parse("{" + Lines.Ts + ",\"tenant\":\"greenleaf\"}");

        Assert.True(outcome.IsAccepted);
        // The configured tenant's own string instance: no allocation for the usual case.
        Assert.Same(Lines.DefaultTenant, outcome.Tenant);
        Assert.Same(Lines.DefaultTenant, outcome.Entry!.Tenant);
    }

    [Fact]
    public void Parse_LongTenantOverTheStackBuffer_InvalidEntry()
    {
        var outcome = Lines.Parse("{" + Lines.Ts + ",\"tenant\":\"" + new string('a', 200) + "\"}");

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal(Lines.DefaultTenant, outcome.Tenant);
    }

    // email

    [Theory]
    [InlineData("a.b@localhost")]
    [InlineData("@example.com")]
    [InlineData("@a.b")]
    [InlineData("a@b@c.d")]
    [InlineData("@a@b.c")]
    [InlineData("a.@localhost")]
    public void Parse_EmailWithoutADottedDomainOrLocalPart_InvalidEmailWithTheAddress(string email)
    {
        var outcome = Lines.Parse(Lines.CustomerWithEmail("\"" + email + "\""));

        Assert.Equal(RejectReason.InvalidEmail, outcome.Reason);
        Assert.Equal("customer.email is not a valid address: \"" + email + "\"", outcome.Detail);
    }

    [Fact]
    public void Parse_ContactEmailInvalid_DetailNamesTheContact()
    {
        var outcome = Lines.Parse("{" + Lines.Ts + ",\"contact\":{\"email\":\"ann@localhost\"}}");

        Assert.Equal(RejectReason.InvalidEmail, outcome.Reason);
        Assert.Equal("contact.email is not a valid address: \"ann@localhost\"", outcome.Detail);
    }

    [Theory]
    [InlineData("a@b.c")]
    [InlineData("x@.")]
    [InlineData("a@localhost.")]
    public void Parse_EmailWithALocalPartAndADotAfterTheAt_Accepted(string email) =>
        Assert.Equal(email, Lines.Accept(Lines.CustomerWithEmail("\"" + email + "\"")).Customer!.Email);

    // amounts

    [Theory]
    [InlineData("4599", 4599L)]
    [InlineData("4599.0", 4599L)]
    [InlineData("4.599e3", 4599L)]
    [InlineData("1E2", 100L)]
    [InlineData("-5", -5L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("9223372036854775807.0", long.MaxValue)]
    [InlineData("-9223372036854775808.0", long.MinValue)]
    [InlineData("0", 0L)]
    public void Parse_WholeAmount_ReadAsAnInteger(string amount, long expected)
    {
        var entry = Lines.Accept(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":" + amount + ",\"currency\":\"USD\",\"items\":[{\"sku\":\"A\",\"price_cents\":" + amount + "}]}"));

        Assert.Equal(expected, entry.Order!.TotalCents);
        Assert.Equal(expected, Assert.Single(entry.Order.Items).PriceCents);
    }

    [Theory]
    [InlineData("1e20")]
    [InlineData("9223372036854775808")]
    [InlineData("9223372036854775808.0")]
    [InlineData("-9223372036854775809")]
    [InlineData("45.5")]
    [InlineData("1e400")]
    [InlineData("\"4599\"")]
    [InlineData("true")]
    public void Parse_AmountNotAWholeNumberInRange_InvalidEntry(string amount)
    {
        var outcome = Lines.Parse(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":" + amount + ",\"currency\":\"USD\",\"items\":[{\"sku\":\"A\"}]}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("order.total_cents must be a whole number", outcome.Detail);
    }

    [Theory]
    [InlineData("shipping_cents")]
    [InlineData("tax_cents")]
    [InlineData("discount_cents")]
    public void Parse_OptionalAmountNotWhole_InvalidEntryNamingIt(string key)
    {
        var outcome = Lines.Parse(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":100,\"" + key + "\":1e20,\"currency\":\"USD\",\"items\":[{\"sku\":\"A\"}]}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal($"order.{key} must be a whole number", outcome.Detail);
    }

    [Fact]
    public void Parse_OptionalAmountsNull_ReadAsZero()
    {
        var order = Lines.Accept(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":100,\"shipping_cents\":null,\"tax_cents\":null,\"discount_cents\":null,\"currency\":\"USD\",\"items\":[{\"sku\":\"A\",\"qty\":null,\"price_cents\":null}]}")).Order!;

        Assert.Equal((0L, 0L, 0L), (order.ShippingCents, order.TaxCents, order.DiscountCents));
        Assert.Equal(new OrderItem("A", null, 1, 0, null), Assert.Single(order.Items));
    }

    [Fact]
    public void Parse_OptionalAmounts_Carried()
    {
        var order = Lines.Accept(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":100,\"shipping_cents\":7,\"tax_cents\":8,\"discount_cents\":9,\"currency\":\"USD\",\"items\":[{\"sku\":\"A\"}]}")).Order!;

        Assert.Equal((7L, 8L, 9L), (order.ShippingCents, order.TaxCents, order.DiscountCents));
    }

    [Fact]
    public void Parse_TotalNull_OrderNeedsATotal()
    {
        var outcome = Lines.Parse(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":null,\"currency\":\"USD\",\"items\":[{\"sku\":\"A\"}]}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("\"order\" needs \"id\", \"total_cents\", \"currency\" and at least one item", outcome.Detail);
    }

    [Theory]
    [InlineData("\"id\":\"\"")]
    [InlineData("\"currency\":\"\"")]
    public void Parse_OrderIdOrCurrencyEmpty_OrderNeedsThem(string empty)
    {
        var key = empty[1..empty.IndexOf('"', 1)];
        var parts = new[] { "\"id\":\"o-1\"", "\"total_cents\":100", "\"currency\":\"USD\"", "\"items\":[{\"sku\":\"A\"}]" }
            .Where(p => !p.StartsWith("\"" + key + "\"", StringComparison.Ordinal)).Append(empty);

        var outcome = Lines.Parse(Lines.CustomerWithOrder("{" + string.Join(",", parts) + "}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
    }

    [Theory]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("-2147483648", int.MinValue)]
    [InlineData("3.0", 3)]
    public void Parse_ItemQtyInIntRange_Carried(string qty, int expected) =>
        Assert.Equal(expected, Assert.Single(Lines.Accept(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":100,\"currency\":\"USD\",\"items\":[{\"sku\":\"A\",\"qty\":" + qty + "}]}")).Order!.Items).Qty);

    [Theory]
    [InlineData("2147483648")]
    [InlineData("-2147483649")]
    public void Parse_ItemQtyOutOfIntRange_InvalidEntry(string qty)
    {
        var outcome = Lines.Parse(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"total_cents\":100,\"currency\":\"USD\",\"items\":[{\"sku\":\"A\",\"qty\":" + qty + "}]}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("order.items.qty is out of range", outcome.Detail);
    }

    // weeks

    [Theory]
    [InlineData("2024-W1:")]
    [InlineData("2024-W:1")]
    [InlineData("2024-W1")]
    [InlineData("2024-W/1")]
    [InlineData("2024-W0/")]
    [InlineData("2024:W01")]
    [InlineData("2024-X01")]
    [InlineData("/024-W01")]
    [InlineData("2:24-W01")]
    [InlineData("20/4-W01")]
    [InlineData("202:-W01")]
    public void IsValidLabel_NonDigitOrMisplacedCharacter_False(string label) => Assert.False(IsoWeek.IsValidLabel(label));

    [Theory]
    [InlineData("{" + Lines.Ts + ",\"event\":\"Weekly cycle completed\",\"week\":\"2024-W1:\"}", "\"week\" is not YYYY-Www (01-53): \"2024-W1:\"")]
    [InlineData("{" + Lines.Ts + "," + Cust + ",\"attrs\":{\"order\":{\"week\":\"2024-W54\",\"state\":\"open\"}}}", "attrs.order.week is not YYYY-Www (01-53): \"2024-W54\"")]
    [InlineData("{" + Lines.Ts + ",\"event\":\"Order Completed\"," + Cust + ",\"order\":{\"id\":\"o-1\",\"week\":\"2024-W00\",\"total_cents\":1,\"currency\":\"USD\",\"items\":[{}]}}", "order.week is not YYYY-Www (01-53): \"2024-W00\"")]
    [InlineData("{" + Lines.Ts + "," + Cust + ",\"attrs\":{\"next_delivery\":\"2024-02-30\"}}", "attrs.next_delivery is not a real YYYY-MM-DD day: \"2024-02-30\"")]
    [InlineData("{" + Lines.Ts + "," + Cust + ",\"attrs\":{\"cancelled_on\":\"2024-13-01\"}}", "attrs.cancelled_on is not a real YYYY-MM-DD day: \"2024-13-01\"")]
    public void Parse_MalformedWeekOrDate_DetailNamesTheKeyAndValue(string line, string detail)
    {
        var outcome = Lines.Parse(line);

        Assert.Equal(RejectReason.MalformedDate, outcome.Reason);
        Assert.Equal(detail, outcome.Detail);
    }

    [Fact]
    public void Parse_OrderWeekNull_NoWeek() =>
        Assert.Null(Lines.Accept(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"week\":null,\"total_cents\":1,\"currency\":\"USD\",\"items\":[{}]}")).Order!.Week);

    [Fact]
    public void Parse_OrderWeekNotAString_InvalidEntry()
    {
        var outcome = Lines.Parse(Lines.CustomerWithOrder("{\"id\":\"o-1\",\"week\":24,\"total_cents\":1,\"currency\":\"USD\",\"items\":[{}]}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("\"order.week\" must be a string", outcome.Detail);
    }

    // reject details

    [Fact]
    public void Parse_TooLong_DetailGivesTheLengthAndTheLimit()
    {
        var outcome = Lines.Parse(Lines.NoiseLineOfLength(SystemLogParser.MaxLineBytes + 5));

        Assert.Equal("line is 262149 bytes; the limit is 262144", outcome.Detail);
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("5")]
    [InlineData("\"text\"")]
    public void Parse_JsonButNotAnObject_DetailSaysSo(string line) =>
        Assert.Equal("the line is not a JSON object", Lines.Parse(line).Detail);

    [Theory]
    [InlineData("{\"ts\":")]
    [InlineData("{" + Lines.Ts + "} x")]
    [InlineData("{" + Lines.Ts + "}{}")]
    [InlineData("{'ts':1}")]
    public void Parse_MalformedJson_DetailIsTheFirstSentenceWithoutPosition(string line)
    {
        var outcome = Lines.Parse(line);

        Assert.Equal(RejectReason.InvalidJson, outcome.Reason);
        Assert.StartsWith("malformed JSON: ", outcome.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", outcome.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Path:", outcome.Detail, StringComparison.Ordinal);
        Assert.False(outcome.Detail!.EndsWith(' '));
        Assert.True(outcome.Detail.Length > "malformed JSON: ".Length + 5);
    }

    [Fact]
    public void Parse_NoTs_DetailSaysSo() =>
        Assert.Equal("the line has no \"ts\"", Lines.Parse("{\"msg\":\"x\"}").Detail);

    [Fact]
    public void Parse_TsNotAString_DetailSaysSo() =>
        Assert.Equal("\"ts\" must be an RFC 3339 string", Lines.Parse("{\"ts\":1717424525}").Detail);

    [Theory]
    [InlineData(64, "")]
    [InlineData(65, "…")]
    public void Parse_LongValueInADetail_CutAt64Characters(int length, string tail)
    {
        var status = new string('S', length);

        var outcome = Lines.Parse(Lines.CustomerWithAttrs("{\"status\":\"" + status + "\"}"));

        Assert.Equal(RejectReason.UnknownStatus, outcome.Reason);
        Assert.Equal("attrs.status \"" + new string('S', 64) + tail + "\" is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient", outcome.Detail);
    }

    [Theory]
    [InlineData("null", "attrs.status null is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient")]
    [InlineData("5", "attrs.status number is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient")]
    [InlineData("\"active\"", "attrs.status \"active\" is not one of Active, Stopped, Cancelled, Dead, Gift Purchaser, Gift Recipient")]
    public void Parse_StatusOutsideTheSix_DetailShowsWhatWasLogged(string status, string detail) =>
        Assert.Equal(detail, Lines.Parse(Lines.CustomerWithAttrs("{\"status\":" + status + "}")).Detail);

    [Fact]
    public void Parse_BothCustomerAndContact_DetailSaysSo() =>
        Assert.Equal("an entry has at most one of \"customer\" and \"contact\"",
            Lines.Parse("{" + Lines.Ts + "," + Cust + ",\"contact\":{\"email\":\"ann@example.org\"}}").Detail);

    [Fact]
    public void Parse_ContactWithoutEmail_DetailNamesTheContact() =>
        Assert.Equal("\"contact\" needs a string \"email\"", Lines.Parse("{" + Lines.Ts + ",\"contact\":{\"first_name\":\"Ann\"}}").Detail);

    [Theory]
    [InlineData("first_name")]
    [InlineData("last_name")]
    [InlineData("phone")]
    public void Parse_NameOrPhoneNotAString_DetailNamesTheKey(string key) =>
        Assert.Equal($"\"customer.{key}\" must be a string",
            Lines.Parse("{" + Lines.Ts + ",\"customer\":{\"id\":\"1\",\"email\":\"bob@example.com\",\"" + key + "\":{\"x\":1}}}").Detail);

    [Fact]
    public void Parse_SeveralErrorsOfOneReason_TheFirstFoundIsReported()
    {
        var outcome = Lines.Parse(Lines.CustomerWithAttrs("{\"box\":1,\"schedule\":2}"));

        Assert.Equal("attrs.box must be a string or null", outcome.Detail);
    }

    [Fact]
    public void Parse_LaterErrorOfAnEarlierReason_ReplacesTheDetail()
    {
        // unknown_status is found first, invalid_entry later: the earlier reason in the contract's order wins.
        var outcome = Lines.Parse(Lines.CustomerWithAttrs("{\"status\":\"Paused\",\"box\":1}"));

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("attrs.box must be a string or null", outcome.Detail);
    }

    // blank lines and line endings

    [Theory]
    [InlineData(" \n ")]
    [InlineData("\n")]
    [InlineData("\t\r\n")]
    public void Parse_WhitespaceWithNewlines_Blank(string line) => Assert.True(Lines.Parse(line).IsBlank);

    [Fact]
    public void Parse_LineWithOnlyAByteOrderMark_InvalidJson() =>
        Assert.Equal(RejectReason.InvalidJson, Lines.Parse(Encoding.UTF8.GetBytes("\uFEFF")).Reason);
}
