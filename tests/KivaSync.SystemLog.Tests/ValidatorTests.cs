namespace KivaSync.SystemLog.Tests;

/// <summary>The public rule checks others call directly (the sample generator, the service's admin API).</summary>
public sealed class ValidatorTests
{
    [Theory]
    [InlineData("bob@example.com")]
    [InlineData("b@e.c")]
    [InlineData("Bob.Lee+box@mail.example.co.uk")]
    [InlineData("\"odd\"@example.com")]
    [InlineData("ann@example.")]
    [InlineData("ann@.example")]
    [InlineData("ann@exa..mple")]
    [InlineData("josé@exämple.com")]
    public void IsValidEmail_OneAtNonEmptyLocalDomainWithDot_True(string email) => Assert.True(SystemLogParser.IsValidEmail(email));

    [Theory]
    [InlineData("")]
    [InlineData("bob")]
    [InlineData("bob.example.com")]
    [InlineData("@example.com")]
    [InlineData("bob@")]
    [InlineData("bob@example")]
    [InlineData("bob.lee@example")]
    [InlineData("bob@@example.com")]
    [InlineData("a@b@example.com")]
    [InlineData("bob lee@example.com")]
    [InlineData(" bob@example.com")]
    [InlineData("bob@example.com ")]
    [InlineData("bob@exa\tmple.com")]
    [InlineData("bob@example.com\n")]
    [InlineData("bob@example\u00A0.com")]
    public void IsValidEmail_BreaksTheRule_False(string email) => Assert.False(SystemLogParser.IsValidEmail(email));

    [Fact]
    public void IsValidEmail_LengthLimit_254Inclusive()
    {
        const string domain = "@example.com";

        Assert.True(SystemLogParser.IsValidEmail(new string('a', 254 - domain.Length) + domain));
        Assert.False(SystemLogParser.IsValidEmail(new string('a', 255 - domain.Length) + domain));
    }

    [Theory]
    [InlineData("2024-06-07")]
    [InlineData("2024-02-29")]
    [InlineData("2000-02-29")]
    [InlineData("0001-01-01")]
    [InlineData("9999-12-31")]
    [InlineData("2024-12-31")]
    public void IsValidDate_RealDay_True(string s) => Assert.True(SystemLogParser.IsValidDate(s));

    [Theory]
    [InlineData("2024-02-30")]
    [InlineData("2023-02-29")]
    [InlineData("1900-02-29")]
    [InlineData("2024-04-31")]
    [InlineData("2024-13-01")]
    [InlineData("2024-00-01")]
    [InlineData("2024-01-00")]
    [InlineData("2024-01-32")]
    [InlineData("0000-01-01")]
    [InlineData("2024-1-01")]
    [InlineData("2024-01-1")]
    [InlineData("24-01-01")]
    [InlineData("2024/01/01")]
    [InlineData("20240101")]
    [InlineData("2024-01-01 ")]
    [InlineData("+2024-01-01")]
    [InlineData("2024-01-01T00:00:00Z")]
    [InlineData("２０２４-01-01")]
    [InlineData("")]
    public void IsValidDate_NotARealYyyyMmDdDay_False(string s) => Assert.False(SystemLogParser.IsValidDate(s));

    [Theory]
    [InlineData("greenleaf")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("green-leaf-2")]
    [InlineData("a-")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")]
    public void IsValidTenant_MatchesPattern_True(string s) => Assert.True(SystemLogParser.IsValidTenant(s));

    [Theory]
    [InlineData("")]
    [InlineData("-a")]
    [InlineData("Greenleaf")]
    [InlineData("green_leaf")]
    [InlineData("green leaf")]
    [InlineData("green.leaf")]
    [InlineData("grëenleaf")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void IsValidTenant_BreaksPattern_False(string s) => Assert.False(SystemLogParser.IsValidTenant(s));

    [Fact]
    public void TryParseRfc3339_Fraction_KeptTo100Nanoseconds()
    {
        Assert.True(SystemLogParser.TryParseRfc3339("2024-06-03T14:22:05.1234567Z", out var value));

        Assert.Equal(new DateTimeOffset(2024, 6, 3, 14, 22, 5, TimeSpan.Zero).AddTicks(1_234_567), value);
    }

    [Fact]
    public void TryParseRfc3339_NegativeOffset_KeptOnValue()
    {
        Assert.True(SystemLogParser.TryParseRfc3339("2024-06-03T09:22:05-05:00", out var value));

        Assert.Equal(TimeSpan.FromHours(-5), value.Offset);
        Assert.Equal(new DateTime(2024, 6, 3, 14, 22, 5, DateTimeKind.Utc), value.UtcDateTime);
    }

    [Theory]
    [InlineData("2024-06-03T14:22:05")]
    [InlineData("2024-06-03T14:22:05+02")]
    [InlineData("2024-06-03T14:22:05 Z")]
    [InlineData("2024-02-30T14:22:05Z")]
    [InlineData("")]
    public void TryParseRfc3339_NotRfc3339WithZoneOrOffset_False(string s) => Assert.False(SystemLogParser.TryParseRfc3339(s, out _));

    [Theory]
    [InlineData("2024-W01", true)]
    [InlineData("2024-W24", true)]
    [InlineData("2021-W53", true)] // the contract's rule is 01–53, whatever the year
    [InlineData("2024-W00", false)]
    [InlineData("2024-W54", false)]
    [InlineData("2024-W99", false)]
    [InlineData("2024-w24", false)]
    [InlineData("2024W24", false)]
    [InlineData("2024-W2", false)]
    [InlineData("2024-W240", false)]
    [InlineData("202a-W24", false)]
    [InlineData("", false)]
    public void IsValidLabel_YyyyWwwWith01To53_OnlyThoseTrue(string s, bool expected) => Assert.Equal(expected, IsoWeek.IsValidLabel(s));

    [Theory]
    [InlineData(2024, 6, 3, "2024-W23")]
    [InlineData(2024, 6, 10, "2024-W24")]
    [InlineData(2021, 1, 3, "2020-W53")]
    [InlineData(2024, 12, 30, "2025-W01")]
    public void LabelOf_UtcInstant_IsoWeekLabel(int y, int m, int d, string expected) =>
        Assert.Equal(expected, IsoWeek.LabelOf(new DateTimeOffset(y, m, d, 12, 0, 0, TimeSpan.Zero)));

    [Fact]
    public void LabelOf_OffsetInstant_UsesUtcWeek()
    {
        // Monday 2024-06-10 01:00 at +02:00 is still Sunday 2024-06-09 in UTC: week 23.
        Assert.Equal("2024-W23", IsoWeek.LabelOf(new DateTimeOffset(2024, 6, 10, 1, 0, 0, TimeSpan.FromHours(2))));
    }
}
