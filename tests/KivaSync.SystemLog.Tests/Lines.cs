using System.Text;

namespace KivaSync.SystemLog.Tests;

/// <summary>Parses test lines the way the shipper hands them over: UTF-8 bytes without the line ending.</summary>
internal static class Lines
{
    public const string DefaultTenant = "greenleaf";

    /// <summary>A valid "ts" prefix shared by most test lines.</summary>
    public const string Ts = "\"ts\":\"2024-06-03T14:22:05.123Z\"";

    /// <summary>When test lines are processed: after every ts the tests log (2024), so none is in the future.</summary>
    public static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static ParseOutcome Parse(string line, string tenant = DefaultTenant) =>
        SystemLogParser.Parse(Encoding.UTF8.GetBytes(line), tenant, Now);

    public static ParseOutcome Parse(byte[] line, string tenant = DefaultTenant) =>
        SystemLogParser.Parse(line, tenant, Now);

    /// <summary>Parses and asserts acceptance, returning the entry (with the reason in the failure message).</summary>
    public static LogEntry Accept(string line, string tenant = DefaultTenant)
    {
        var outcome = Parse(line, tenant);
        Assert.True(outcome.IsAccepted, $"expected accepted, got {outcome.Reason.ToContractName()}: {outcome.Detail}");
        Assert.Equal(RejectReason.None, outcome.Reason);
        Assert.False(outcome.IsBlank);
        return outcome.Entry!;
    }

    /// <summary>A customer entry with the given attrs JSON object text.</summary>
    public static string CustomerWithAttrs(string attrs) =>
        "{" + Ts + ",\"customer\":{\"id\":\"48214\",\"email\":\"bob@example.com\"},\"attrs\":" + attrs + "}";

    /// <summary>An Order Completed entry with the given order JSON object text.</summary>
    public static string CustomerWithOrder(string order) =>
        "{" + Ts + ",\"event\":\"Order Completed\",\"customer\":{\"id\":\"48214\",\"email\":\"bob@example.com\"},\"order\":" + order + "}";

    /// <summary>A customer entry with the given email JSON value text.</summary>
    public static string CustomerWithEmail(string emailJson) =>
        "{" + Ts + ",\"customer\":{\"id\":\"48214\",\"email\":" + emailJson + "}}";

    /// <summary>A line of exactly <paramref name="length"/> bytes: a valid noise entry padded inside "msg".</summary>
    public static byte[] NoiseLineOfLength(int length)
    {
        const string head = "{\"ts\":\"2024-06-03T14:22:06.001Z\",\"level\":\"info\",\"msg\":\"";
        const string tail = "\"}";
        var pad = length - head.Length - tail.Length;
        return Encoding.UTF8.GetBytes(head + new string('x', pad) + tail);
    }
}
