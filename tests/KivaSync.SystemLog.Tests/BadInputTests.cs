using System.Text;

namespace KivaSync.SystemLog.Tests;

/// <summary>The contract's "Bad input" table, rule by rule.</summary>
public sealed class BadInputTests
{
    private const string Cust = "\"customer\":{\"id\":\"48214\",\"email\":\"bob@example.com\"}";

    private static void AssertRejected(string line, RejectReason expected)
    {
        var outcome = Lines.Parse(line);
        Assert.False(outcome.IsAccepted);
        Assert.False(outcome.IsBlank);
        Assert.Null(outcome.Entry);
        Assert.Equal(expected, outcome.Reason);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Detail));
    }

    // too_long

    [Fact]
    public void Parse_LineOfExactly262144Bytes_IsAccepted()
    {
        var line = Lines.NoiseLineOfLength(SystemLogParser.MaxLineBytes);
        Assert.Equal(262_144, line.Length);

        var outcome = Lines.Parse(line);

        Assert.True(outcome.IsAccepted, outcome.Detail);
    }

    [Fact]
    public void Parse_LineOf262145Bytes_IsTooLong()
    {
        var line = Lines.NoiseLineOfLength(SystemLogParser.MaxLineBytes + 1);

        var outcome = Lines.Parse(line);

        Assert.Equal(RejectReason.TooLong, outcome.Reason);
        Assert.Equal("too_long", outcome.Reason.ToContractName());
    }

    [Fact]
    public void Parse_MaxLengthLineWithCarriageReturn_CarriageReturnNotCounted()
    {
        var line = Lines.NoiseLineOfLength(SystemLogParser.MaxLineBytes).Append((byte)'\r').ToArray();

        var outcome = Lines.Parse(line);

        Assert.True(outcome.IsAccepted, outcome.Detail);
    }

    [Fact]
    public void Parse_TooLongLineThatIsAlsoNotJson_IsTooLongFirst()
    {
        var line = Encoding.UTF8.GetBytes(new string('{', SystemLogParser.MaxLineBytes + 1));

        Assert.Equal(RejectReason.TooLong, Lines.Parse(line).Reason);
    }

    [Fact]
    public void Parse_LineUnderLimitWhoseInvalidBytesGrowWhenRepaired_IsNotTooLong()
    {
        // 100,000 invalid bytes become 300,000 bytes of U+FFFD: the limit is on the line as shipped.
        var head = Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:06Z\",\"msg\":\"");
        var line = head.Concat(Enumerable.Repeat((byte)0xFF, 100_000)).Concat("\"}"u8.ToArray()).ToArray();
        Assert.True(line.Length < SystemLogParser.MaxLineBytes);

        var outcome = Lines.Parse(line);

        Assert.True(outcome.IsAccepted, outcome.Detail);
    }

    // invalid_json

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("[{\"ts\":\"2024-06-03T14:22:05Z\"}]")]
    [InlineData("42")]
    [InlineData("\"a string\"")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\"} x")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\"}{\"ts\":\"2024-06-03T14:22:06Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\"},")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"customer\":{\"id\":\"1\",\"email\":\"bob@exa")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\"")]
    [InlineData("{")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",}")]
    [InlineData("{'ts':'2024-06-03T14:22:05Z'}")]
    [InlineData("{ts:\"2024-06-03T14:22:05Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\" /* c */}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"bad \\x escape\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z\",\"n\":NaN}")]
    [InlineData("not json at all")]
    public void Parse_NotOneJsonObject_IsInvalidJson(string line) => AssertRejected(line, RejectReason.InvalidJson);

    [Fact]
    public void Parse_RawControlCharacterInString_IsInvalidJson() =>
        AssertRejected("{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"a\tb\"}", RejectReason.InvalidJson);

    [Fact]
    public void Parse_InvalidJson_CountedUnderDefaultTenantWithoutId()
    {
        var outcome = Lines.Parse("{\"tenant\":\"other\",\"id\":\"e-1\",\"ts\":", "greenleaf");

        Assert.Equal(RejectReason.InvalidJson, outcome.Reason);
        Assert.Equal("greenleaf", outcome.Tenant);
        Assert.Null(outcome.Id);
    }

    // invalid_ts

    [Theory]
    [InlineData("{\"level\":\"info\",\"msg\":\"no ts\"}")]
    [InlineData("{}")]
    [InlineData("{\"ts\":null}")]
    [InlineData("{\"ts\":1717424525}")]
    [InlineData("{\"ts\":\"\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05.123\"}")]
    [InlineData("{\"ts\":\"2024-06-03 14:22:05Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03\"}")]
    [InlineData("{\"ts\":\"2024-02-30T10:00:00Z\"}")]
    [InlineData("{\"ts\":\"2023-02-29T10:00:00Z\"}")]
    [InlineData("{\"ts\":\"2024-13-01T10:00:00Z\"}")]
    [InlineData("{\"ts\":\"2024-00-10T10:00:00Z\"}")]
    [InlineData("{\"ts\":\"2024-06-00T10:00:00Z\"}")]
    [InlineData("{\"ts\":\"2024-06-31T10:00:00Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T24:00:00Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:60:00Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:61Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05.Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05+0200\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05+02\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05+24:00\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05+02:60\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05ZZ\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05Z \"}")]
    [InlineData("{\"ts\":\" 2024-06-03T14:22:05Z\"}")]
    [InlineData("{\"ts\":\"2024-6-3T14:22:05Z\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22Z\"}")]
    [InlineData("{\"ts\":\"20240603T142205Z\"}")]
    [InlineData("{\"ts\":\"0000-01-01T00:00:00Z\"}")]
    [InlineData("{\"ts\":\"0001-01-01T00:00:00+01:00\"}")]
    [InlineData("{\"ts\":\"9999-12-31T23:59:59-01:00\"}")]
    [InlineData("{\"ts\":\"Mon, 03 Jun 2024 14:22:05 GMT\"}")]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05.123UTC\"}")]
    [InlineData("{\"ts\":\"２０２４-06-03T14:22:05Z\"}")]
    public void Parse_MissingOrNonRfc3339Ts_IsInvalidTs(string line) => AssertRejected(line, RejectReason.InvalidTs);

    [Fact]
    public void Parse_InvalidTs_KeepsTenantAndIdForIdentity()
    {
        var outcome = Lines.Parse("{\"ts\":\"yesterday\",\"tenant\":\"acme\",\"id\":\"e-77\"}", "greenleaf");

        Assert.Equal(RejectReason.InvalidTs, outcome.Reason);
        Assert.Equal("acme", outcome.Tenant);
        Assert.Equal("e-77", outcome.Id);
    }

    // invalid_ts: more than 24 hours after the time the line is processed

    private static readonly DateTimeOffset ProcessedAt = new(2024, 6, 20, 12, 0, 0, TimeSpan.Zero);

    private static ParseOutcome ParseAt(string line, DateTimeOffset now) =>
        SystemLogParser.Parse(Encoding.UTF8.GetBytes(line), Lines.DefaultTenant, now);

    [Theory]
    [InlineData("2024-06-21T12:00:00Z")]
    [InlineData("2024-06-21T12:00:00.000Z")]
    [InlineData("2024-06-21T14:00:00+02:00")]
    [InlineData("2024-06-21T06:01:00-05:59")]
    [InlineData("2024-06-21T11:59:59.9999999Z")]
    [InlineData("2024-06-20T12:00:00Z")]
    [InlineData("2001-01-01T00:00:00Z")]
    public void Parse_TsAtMost24HoursAfterProcessing_IsAccepted(string ts)
    {
        var outcome = ParseAt("{\"ts\":\"" + ts + "\",\"msg\":\"noise\"}", ProcessedAt);

        Assert.True(outcome.IsAccepted, outcome.Detail);
        Assert.Equal(ts, outcome.Entry!.TsText);
    }

    [Theory]
    [InlineData("2024-06-21T12:00:00.001Z")]
    [InlineData("2024-06-21T12:00:00.0000001Z")]
    [InlineData("2024-06-21T14:00:00.001+02:00")]
    [InlineData("2024-06-21T06:01:00.001-05:59")]
    [InlineData("2024-06-21T11:00:01-01:00")]
    [InlineData("2099-01-01T00:00:00Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    public void Parse_TsMoreThan24HoursAfterProcessing_IsInvalidTs(string ts)
    {
        var outcome = ParseAt("{\"ts\":\"" + ts + "\",\"tenant\":\"acme\",\"id\":\"e-9\",\"msg\":\"noise\"}", ProcessedAt);

        Assert.Equal(RejectReason.InvalidTs, outcome.Reason);
        Assert.Null(outcome.Entry);
        Assert.Equal("acme", outcome.Tenant);
        Assert.Equal("e-9", outcome.Id);
        Assert.Equal($"\"ts\" {ts} is more than 24 hours after the time the line was processed (2024-06-20T12:00:00.000Z): a clock error", outcome.Detail);
    }

    [Fact]
    public void Parse_FutureTsOnALineWithAnInvalidShape_IsInvalidTsFirst()
    {
        var outcome = ParseAt("{\"ts\":\"2099-01-01T00:00:00Z\"," + Cust + ",\"contact\":{\"email\":\"not-an-email\"}}", ProcessedAt);

        Assert.Equal(RejectReason.InvalidTs, outcome.Reason);
    }

    [Fact]
    public void Parse_ProcessedAtTheEndOfTime_LatestTsIsAccepted()
    {
        // "now + 24 h" would overflow here: the comparison must not.
        var outcome = ParseAt("{\"ts\":\"9999-12-31T23:59:59Z\"}", DateTimeOffset.MaxValue);

        Assert.True(outcome.IsAccepted, outcome.Detail);
    }

    [Fact]
    public void Parse_SameLineProcessedLater_IsAccepted()
    {
        const string line = "{\"ts\":\"2024-06-22T00:00:00Z\",\"msg\":\"noise\"}";

        Assert.Equal(RejectReason.InvalidTs, ParseAt(line, ProcessedAt).Reason);
        Assert.True(ParseAt(line, ProcessedAt.AddHours(12)).IsAccepted);
    }

    // invalid_entry

    [Theory]
    [InlineData("{" + Lines.Ts + "," + Cust + ",\"contact\":{\"email\":\"ann@example.org\"}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"email\":\"bob@example.com\"}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":48214,\"email\":\"bob@example.com\"}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":null,\"email\":\"bob@example.com\"}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":\"\",\"email\":\"bob@example.com\"}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":[\"1\"],\"email\":\"bob@example.com\"}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":\"48214\"}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":\"48214\",\"email\":null}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":\"48214\",\"email\":42}}")]
    [InlineData("{" + Lines.Ts + ",\"contact\":{\"first_name\":\"Ann\"}}")]
    [InlineData("{" + Lines.Ts + ",\"contact\":{}}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":\"48214\"}")]
    [InlineData("{" + Lines.Ts + ",\"contact\":[\"ann@example.org\"]}")]
    [InlineData("{" + Lines.Ts + ",\"tenant\":\"Greenleaf\"}")]
    [InlineData("{" + Lines.Ts + ",\"tenant\":\"\"}")]
    [InlineData("{" + Lines.Ts + ",\"tenant\":\"-greenleaf\"}")]
    [InlineData("{" + Lines.Ts + ",\"tenant\":\"green_leaf\"}")]
    [InlineData("{" + Lines.Ts + ",\"tenant\":\"a234567890123456789012345678901234567890123456789012345678901234\"}")]
    [InlineData("{" + Lines.Ts + ",\"tenant\":42}")]
    [InlineData("{" + Lines.Ts + ",\"event\":42}")]
    [InlineData("{" + Lines.Ts + ",\"id\":42}")]
    [InlineData("{" + Lines.Ts + ",\"attrs\":\"Active\"," + Cust + "}")]
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"marketing_opt_in\":null}," + Cust + "}")]
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"marketing_opt_in\":\"yes\"}," + Cust + "}")]
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"schedule\":7}," + Cust + "}")]
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"next_delivery\":20240607}," + Cust + "}")]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":\"48214\",\"email\":\"bob@example.com\",\"first_name\":7}}")]
    public void Parse_BrokenShape_IsInvalidEntry(string line) => AssertRejected(line, RejectReason.InvalidEntry);

    [Theory]
    [InlineData("{\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\",\"qty\":1,\"price_cents\":3999}]}")]
    [InlineData("{\"id\":\"\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":99812,\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":null,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":\"4599\",\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":45.99,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\"}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":null}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":{\"sku\":\"LVB\"}}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[\"LVB\"]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"shipping_cents\":\"5\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"week\":202423,\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\",\"qty\":2.5}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\",\"qty\":\"2\"}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\",\"qty\":3000000000}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\",\"price_cents\":39.99}]}")]
    [InlineData("{\"id\":\"o-99812\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":42}]}")]
    [InlineData("\"o-99812\"")]
    public void Parse_PaidOrderMissingRequiredParts_IsInvalidEntry(string order) =>
        AssertRejected(Lines.CustomerWithOrder(order), RejectReason.InvalidEntry);

    [Theory]
    [InlineData("{\"order\":{\"week\":\"2024-W24\",\"state\":\"shipped\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W24\",\"state\":\"Open\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W24\",\"state\":\"OPEN\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W24\",\"state\":\"\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W24\",\"state\":null}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W24\"}}")]
    [InlineData("{\"order\":{\"state\":\"open\"}}")]
    [InlineData("{\"order\":\"open\"}")]
    public void Parse_OrderAttrStateOrShapeWrong_IsInvalidEntry(string attrs) =>
        AssertRejected(Lines.CustomerWithAttrs(attrs), RejectReason.InvalidEntry);

    [Fact]
    public void Parse_BadTenant_CountedUnderDefaultTenant()
    {
        var outcome = Lines.Parse("{" + Lines.Ts + ",\"tenant\":\"Bad Tenant\",\"id\":\"e-5\"}", "greenleaf");

        Assert.Equal(RejectReason.InvalidEntry, outcome.Reason);
        Assert.Equal("greenleaf", outcome.Tenant);
        Assert.Equal("e-5", outcome.Id);
    }

    // invalid_email

    [Theory]
    [InlineData("\"bob.example.com\"")]
    [InlineData("\"bob@@example.com\"")]
    [InlineData("\"bob@ex@ample.com\"")]
    [InlineData("\"@example.com\"")]
    [InlineData("\"bob@\"")]
    [InlineData("\"bob@localhost\"")]
    [InlineData("\"bob smith@example.com\"")]
    [InlineData("\"bob@exam ple.com\"")]
    [InlineData("\" bob@example.com\"")]
    [InlineData("\"bob@example.com \"")]
    [InlineData("\"bob@example.com\\t\"")]
    [InlineData("\"bob@example.com\\n\"")]
    [InlineData("\"\"")]
    [InlineData("\" \"")]
    public void Parse_EmailBreaksTheRule_IsInvalidEmail(string emailJson) =>
        AssertRejected(Lines.CustomerWithEmail(emailJson), RejectReason.InvalidEmail);

    [Fact]
    public void Parse_ContactWithInvalidEmail_IsInvalidEmail() =>
        AssertRejected("{" + Lines.Ts + ",\"contact\":{\"email\":\"ann at example.org\"}}", RejectReason.InvalidEmail);

    [Fact]
    public void Parse_Email255Characters_IsInvalidEmail()
    {
        var email = new string('a', 255 - "@example.com".Length) + "@example.com";
        Assert.Equal(255, email.Length);

        AssertRejected(Lines.CustomerWithEmail("\"" + email + "\""), RejectReason.InvalidEmail);
    }

    [Fact]
    public void Parse_Email254Characters_IsAccepted()
    {
        var email = new string('a', 254 - "@example.com".Length) + "@example.com";

        var entry = Lines.Accept(Lines.CustomerWithEmail("\"" + email + "\""));

        Assert.Equal(email, entry.Customer!.Email);
    }

    // unknown_status

    [Theory]
    [InlineData("{\"status\":\"active\"}")]
    [InlineData("{\"status\":\"ACTIVE\"}")]
    [InlineData("{\"status\":\"gift purchaser\"}")]
    [InlineData("{\"status\":\"GiftPurchaser\"}")]
    [InlineData("{\"status\":\"Active \"}")]
    [InlineData("{\"status\":\"Paused\"}")]
    [InlineData("{\"status\":\"\"}")]
    [InlineData("{\"status\":null}")]
    [InlineData("{\"status\":1}")]
    [InlineData("{\"status\":true}")]
    [InlineData("{\"status\":[\"Active\"]}")]
    public void Parse_StatusOutsideTheSix_IsUnknownStatus(string attrs) =>
        AssertRejected(Lines.CustomerWithAttrs(attrs), RejectReason.UnknownStatus);

    // malformed_date

    [Theory]
    [InlineData("{\"next_delivery\":\"2024-02-30\"}")]
    [InlineData("{\"next_delivery\":\"2023-02-29\"}")]
    [InlineData("{\"next_delivery\":\"2024-04-31\"}")]
    [InlineData("{\"next_delivery\":\"2024-13-01\"}")]
    [InlineData("{\"next_delivery\":\"2024-00-01\"}")]
    [InlineData("{\"next_delivery\":\"2024-06-00\"}")]
    [InlineData("{\"next_delivery\":\"2024-6-7\"}")]
    [InlineData("{\"next_delivery\":\"06/07/2024\"}")]
    [InlineData("{\"next_delivery\":\"2024-06-07T00:00:00Z\"}")]
    [InlineData("{\"next_delivery\":\"\"}")]
    [InlineData("{\"next_delivery\":\"0000-01-01\"}")]
    [InlineData("{\"next_delivery\":\" 2024-06-07\"}")]
    [InlineData("{\"next_delivery\":\"2024/06/07\"}")]
    [InlineData("{\"cancelled_on\":\"2024-02-30\"}")]
    [InlineData("{\"cancelled_on\":\"1969-12-31x\"}")]
    [InlineData("{\"cancelled_on\":\"yesterday\"}")]
    [InlineData("{\"order\":{\"week\":\"2024-W54\",\"state\":\"open\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W00\",\"state\":\"open\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-w24\",\"state\":\"open\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024W24\",\"state\":\"open\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W4\",\"state\":\"open\"}}")]
    [InlineData("{\"order\":{\"week\":\"24-W24\",\"state\":\"open\"}}")]
    [InlineData("{\"order\":{\"week\":\"2024-W24-1\",\"state\":\"open\"}}")]
    [InlineData("{\"order\":{\"week\":\"\",\"state\":\"open\"}}")]
    public void Parse_AttrDateOrWeekNotReal_IsMalformedDate(string attrs) =>
        AssertRejected(Lines.CustomerWithAttrs(attrs), RejectReason.MalformedDate);

    [Theory]
    [InlineData("2024-W54")]
    [InlineData("2024-W00")]
    [InlineData("2024-w24")]
    [InlineData("2024-24")]
    [InlineData("W24")]
    [InlineData("2024-W2a")]
    public void Parse_WeeklyCycleWeekNotIsoLabel_IsMalformedDate(string week) =>
        AssertRejected("{" + Lines.Ts + ",\"event\":\"Weekly cycle completed\",\"week\":\"" + week + "\"}", RejectReason.MalformedDate);

    [Fact]
    public void Parse_PaidOrderWeekNotIsoLabel_IsMalformedDate() =>
        AssertRejected(
            Lines.CustomerWithOrder("{\"id\":\"o-1\",\"week\":\"2024-23\",\"total_cents\":4599,\"currency\":\"USD\",\"items\":[{\"sku\":\"LVB\"}]}"),
            RejectReason.MalformedDate);

    // The order of checks: a line that breaks two rules gets the earlier reason.

    [Theory]
    // too_long beats everything is covered above; invalid_json beats the rest:
    [InlineData("{\"ts\":\"bad\",\"customer\":{\"email\":\"x\"},\"attrs\":{\"status\":\"nope\"}", RejectReason.InvalidJson)]
    // invalid_ts beats invalid_entry, invalid_email, unknown_status, malformed_date:
    [InlineData("{\"ts\":\"bad\",\"customer\":{\"email\":\"bob@example.com\"}}", RejectReason.InvalidTs)]
    [InlineData("{\"tenant\":\"BAD\",\"customer\":{\"id\":\"1\",\"email\":\"bob@example.com\"}}", RejectReason.InvalidTs)]
    [InlineData("{\"customer\":{\"id\":\"1\",\"email\":\"nope\"}}", RejectReason.InvalidTs)]
    [InlineData("{\"ts\":\"2024-06-03T14:22:05\",\"customer\":{\"id\":\"1\",\"email\":\"bob@example.com\"},\"attrs\":{\"status\":\"x\"}}", RejectReason.InvalidTs)]
    [InlineData("{\"week\":\"2024-W99\"}", RejectReason.InvalidTs)]
    // invalid_entry beats invalid_email, unknown_status, malformed_date, wherever it sits in the line:
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":\"1\",\"email\":\"nope\"},\"contact\":{\"email\":\"ann@example.org\"}}", RejectReason.InvalidEntry)]
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"status\":\"x\",\"next_delivery\":\"2024-02-30\"},\"customer\":{\"email\":\"bob@example.com\"}}", RejectReason.InvalidEntry)]
    [InlineData("{" + Lines.Ts + ",\"week\":\"bad\",\"customer\":{\"id\":\"1\",\"email\":\"bad\"},\"tenant\":\"BAD\"}", RejectReason.InvalidEntry)]
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"order\":{\"week\":\"2024-W99\",\"state\":\"gone\"}}," + Cust + "}", RejectReason.InvalidEntry)]
    [InlineData("{" + Lines.Ts + ",\"customer\":{\"id\":\"1\",\"email\":\"bad\"},\"order\":{\"id\":\"o-1\"}}", RejectReason.InvalidEntry)]
    // invalid_email beats unknown_status and malformed_date:
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"next_delivery\":\"2024-02-30\",\"status\":\"x\"},\"customer\":{\"id\":\"1\",\"email\":\"bad\"}}", RejectReason.InvalidEmail)]
    // unknown_status beats malformed_date:
    [InlineData("{" + Lines.Ts + ",\"week\":\"2024-W99\",\"attrs\":{\"next_delivery\":\"2024-02-30\",\"status\":\"x\"}," + Cust + "}", RejectReason.UnknownStatus)]
    [InlineData("{" + Lines.Ts + ",\"attrs\":{\"cancelled_on\":\"2024-02-30\",\"status\":null}," + Cust + "}", RejectReason.UnknownStatus)]
    public void Parse_LineBreakingSeveralRules_GetsEarliestReason(string line, RejectReason expected) =>
        AssertRejected(line, expected);

    [Fact]
    public void Parse_RejectedLineWithTenantAndId_ReportsThemForCountingAndIdentity()
    {
        var outcome = Lines.Parse("{" + Lines.Ts + ",\"tenant\":\"acme\",\"id\":\"e-9\",\"customer\":{\"id\":\"1\",\"email\":\"bad\"}}", "greenleaf");

        Assert.Equal(RejectReason.InvalidEmail, outcome.Reason);
        Assert.Equal("acme", outcome.Tenant);
        Assert.Equal("e-9", outcome.Id);
    }

    [Theory]
    [InlineData(RejectReason.TooLong, "too_long")]
    [InlineData(RejectReason.InvalidJson, "invalid_json")]
    [InlineData(RejectReason.InvalidTs, "invalid_ts")]
    [InlineData(RejectReason.InvalidEntry, "invalid_entry")]
    [InlineData(RejectReason.InvalidEmail, "invalid_email")]
    [InlineData(RejectReason.UnknownStatus, "unknown_status")]
    [InlineData(RejectReason.MalformedDate, "malformed_date")]
    public void ToContractName_EachReason_IsTheContractSpelling(RejectReason reason, string expected) =>
        Assert.Equal(expected, reason.ToContractName());

    [Fact]
    public void RejectReason_EnumOrder_IsTheContractCheckOrder()
    {
        RejectReason[] contractOrder =
        [
            RejectReason.TooLong, RejectReason.InvalidJson, RejectReason.InvalidTs, RejectReason.InvalidEntry,
            RejectReason.InvalidEmail, RejectReason.UnknownStatus, RejectReason.MalformedDate,
        ];

        Assert.Equal(contractOrder, contractOrder.Order());
    }
}
