using System.IO.Compression;
using System.Text;
using System.Text.Json;
using KivaSync.SystemLog;
using KivaSync.Testing.Oracle;

namespace KivaSync.SampleLog.Tests;

/// <summary>The generator: determinism, coverage of the contract, and agreement with the parser and the oracle.</summary>
public sealed class SampleLogGeneratorTests
{
    private static readonly SampleLogOptions Defaults = new();
    private static readonly Lazy<(List<string> Lines, SampleLogSummary Summary)> DefaultLog = new(() => Generate(Defaults with { IncludeTooLongLine = true }));

    /// <summary>When the parser and the oracle see the lines: after every log these tests write (none is in the future).</summary>
    private static readonly DateTimeOffset ProcessedAt = new(9001, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Processed just after the log's last day.</summary>
    private static DateTimeOffset LogEnd(SampleLogOptions o) => o.Start.AddDays((7 * o.Weeks) + 1);

    /// <summary>A live threshold that makes every entry of the log live when it is processed at <see cref="LogEnd"/>.</summary>
    private static TimeSpan EverythingLive(SampleLogOptions o) => TimeSpan.FromDays((7 * o.Weeks) + 2);

    private static (List<string> Lines, SampleLogSummary Summary) Generate(SampleLogOptions o)
    {
        var summary = new SampleLogSummary();
        var lines = SampleLogGenerator.GenerateLines(o, summary).ToList();
        return (lines, summary);
    }

    private static IEnumerable<LogEntry> Accepted(IEnumerable<string> lines, string tenant = "greenleaf") =>
        lines.Select(l => SystemLogParser.Parse(Encoding.UTF8.GetBytes(l), tenant, ProcessedAt)).Where(p => p.IsAccepted).Select(p => p.Entry!);

    [Fact]
    public void GenerateLines_SameOptions_GiveIdenticalBytes()
    {
        var o = Defaults with { Customers = 60, Leads = 20, Weeks = 10, Seed = 42 };

        Assert.Equal(SampleLogGenerator.GenerateLines(o), SampleLogGenerator.GenerateLines(o));
    }

    [Fact]
    public void GenerateLines_DifferentSeed_GivesADifferentLog()
    {
        var o = Defaults with { Customers = 60, Leads = 20, Weeks = 10 };

        Assert.NotEqual(SampleLogGenerator.GenerateLines(o with { Seed = 1 }), SampleLogGenerator.GenerateLines(o with { Seed = 2 }));
    }

    [Fact]
    public void GenerateLines_ChangingNoiseOrBadRate_KeepsTheCustomersStory()
    {
        var o = Defaults with { Customers = 60, Leads = 20, Weeks = 10 };
        static IEnumerable<string> Story(IEnumerable<string> lines) =>
            Accepted(lines).Where(e => e.Subject is not null || e.Event is not null).Select(e => $"{e.Ts:O}|{e.Event}|{e.Subject?.Email}").Distinct();

        Assert.Equal(Story(SampleLogGenerator.GenerateLines(o)), Story(SampleLogGenerator.GenerateLines(o with { NoiseRate = 0.3, BadLineRate = 0.1, IncludeTooLongLine = true })));
    }

    [Fact]
    public void GenerateLines_Defaults_EveryCatalogueEventAppearsInAValidLine()
    {
        var events = Accepted(DefaultLog.Value.Lines).Select(e => e.Event).OfType<string>().ToHashSet(StringComparer.Ordinal);

        Assert.All(EventCatalog.All, e => Assert.Contains(e.LogName, events));
        Assert.Contains(EventCatalog.WeeklyCycleCompleted, events);
    }

    [Fact]
    public void GenerateLines_WithTooLong_EveryRejectReasonAppearsAndOnlyTheCountedBadLinesAreRejected()
    {
        var (lines, summary) = DefaultLog.Value;
        var rejected = lines.Distinct(StringComparer.Ordinal)
            .Select(l => SystemLogParser.Parse(Encoding.UTF8.GetBytes(l), "greenleaf", ProcessedAt))
            .Where(p => !p.IsAccepted && !p.IsBlank)
            .GroupBy(p => p.Reason.ToContractName())
            .ToDictionary(g => g.Key, g => (long)g.Count());

        Assert.Equal(ContractOracle.RejectReasons.Order(), rejected.Keys.Order());
        Assert.Equal(summary.BadLinesByReason.OrderBy(p => p.Key), rejected.OrderBy(p => p.Key));
        Assert.Equal(1, rejected["too_long"]);
    }

    [Fact]
    public void GenerateLines_WithoutTooLongFlag_HasNoLineOverTheLimit()
    {
        var o = Defaults with { Customers = 60, Leads = 20, Weeks = 10, BadLineRate = 0.05 };

        Assert.All(SampleLogGenerator.GenerateLines(o), l => Assert.True(Encoding.UTF8.GetByteCount(l) <= SystemLogParser.MaxLineBytes));
    }

    [Fact]
    public void GenerateLines_Defaults_HaveAtLeast200CustomersAndTheLeads()
    {
        var entries = Accepted(DefaultLog.Value.Lines).ToList();

        Assert.True(entries.Select(e => e.Customer?.CustomerId).OfType<string>().Distinct().Count() >= 200);
        Assert.Equal(200, DefaultLog.Value.Summary.Customers);
        Assert.Equal(60, DefaultLog.Value.Summary.Leads);
        Assert.Contains(entries, e => e.Contact is not null);
    }

    [Fact]
    public void GenerateLines_Defaults_AreTimeOrderedUtcWithSignupsInBusinessHours()
    {
        var entries = Accepted(DefaultLog.Value.Lines).ToList();

        Assert.All(entries, e => Assert.Equal(TimeSpan.Zero, e.Ts.Offset));
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.Ts <= p.Second.Ts), "entries are not in time order");
        Assert.All(entries.Where(e => e.Event is "New Customer Signup" or "Submitted Contact Form" or "Logged in"),
            e => Assert.InRange(e.Ts.Hour, 8, 21));
        Assert.InRange(entries.Min(e => e.Ts), Defaults.Start, Defaults.Start.AddDays(1));
        Assert.True(entries.Max(e => e.Ts) < Defaults.Start.AddDays(7 * Defaults.Weeks));
    }

    [Fact]
    public void GenerateLines_Defaults_ContainTheContractsSituations()
    {
        var (lines, summary) = DefaultLog.Value;
        var entries = Accepted(lines).ToList();

        // Entries with and without id, noise, exact duplicates.
        Assert.Contains(entries, e => e.Id is not null);
        Assert.Contains(entries, e => e.Id is null && e.Subject is not null);
        Assert.Contains(entries, e => e.Subject is null && e.Event is null);
        Assert.True(lines.Count - lines.Distinct(StringComparer.Ordinal).Count() >= 1);
        Assert.True(summary.DuplicateLines > 0 && summary.NoiseLines > 0);
        // Signups with full attrs, a full paid order, Gift Box Purchase with and without an order.
        Assert.Contains(entries, e => e.Event == "New Customer Signup" && e.Attrs is { Status.IsPresent: true, Schedule.IsPresent: true, Box.IsPresent: true, NextDelivery.IsPresent: true, MarketingOptIn: not null });
        Assert.Contains(entries, e => e.Event == "Order Completed" && e.Order is { Items.Count: > 0, Currency: "USD" });
        Assert.Contains(entries, e => e.Event == "Gift Box Purchase" && e.Order is not null);
        Assert.Contains(entries, e => e.Event == "Gift Box Purchase" && e.Order is null);
        // Weekly cycles with a week label, then state changes opening that week's orders.
        var cycle = entries.First(e => e.Event == EventCatalog.WeeklyCycleCompleted);
        Assert.NotNull(cycle.Week);
        Assert.Contains(entries, e => e.Event is null && e.Ts > cycle.Ts && e.Attrs?.Order.Value is { State: OrderState.Open } o && o.Week == cycle.Week);
        // Opt-outs and re-subscriptions, every status, nulls that clear.
        Assert.Contains(entries, e => e.Attrs?.MarketingOptIn == false);
        Assert.Contains(entries, e => e.Event == "Re-subscribed to emails" && e.Attrs?.MarketingOptIn == true);
        Assert.All(CustomerStatuses.All, s => Assert.Contains(entries, e => e.Attrs?.Status.Value == s));
        Assert.Contains(entries, e => e.Attrs is { CancelledOn: { IsPresent: true, Value: null } });
        Assert.Contains(entries, e => e.Attrs is { NextDelivery: { IsPresent: true, Value: null } });
        Assert.Contains(entries, e => e.Attrs is { Order: { IsPresent: true, Value: null } });
    }

    [Fact]
    public void GenerateLines_Defaults_ChangeEmailsAndTheLaterEntriesUseTheNewOne()
    {
        var byCustomer = Accepted(DefaultLog.Value.Lines).Where(e => e.Customer is not null).GroupBy(e => e.Customer!.CustomerId!);
        var changes = 0;
        var caseOnly = 0;
        foreach (var entries in byCustomer)
        {
            var emails = entries.Select(e => e.Customer!.Email).ToList();
            for (var i = 1; i < emails.Count; i++)
            {
                if (emails[i] != emails[i - 1])
                {
                    changes++;
                    caseOnly += string.Equals(emails[i], emails[i - 1], StringComparison.OrdinalIgnoreCase) ? 1 : 0;
                    // Once changed, the old spelling never comes back.
                    Assert.DoesNotContain(emails[i - 1], emails.Skip(i));
                }
            }
        }

        Assert.True(changes > 0);
        Assert.True(caseOnly > 0);
    }

    [Fact]
    public void GeneratedLog_OracleAndParser_AgreeOnEveryLine()
    {
        foreach (var line in DefaultLog.Value.Lines.Distinct(StringComparer.Ordinal))
        {
            var parsed = SystemLogParser.Parse(Encoding.UTF8.GetBytes(line), "greenleaf", ProcessedAt);
            var verdict = ContractOracle.Classify(line, "greenleaf", ProcessedAt);
            Assert.Equal(parsed.IsAccepted ? null : parsed.Reason.ToContractName(), verdict.Reason);
            Assert.Equal(parsed.Tenant, verdict.Tenant);
            Assert.Equal(parsed.Id, verdict.Id);
        }
    }

    [Fact]
    public void GeneratedLog_Oracle_GivesAPlausibleAccount()
    {
        var (lines, summary) = DefaultLog.Value;
        // Everything live: processed at the log's end with a threshold longer than the log.
        var account = ContractOracle.Compute(lines, "greenleaf", LogEnd(Defaults), EverythingLive(Defaults));

        Assert.Equal(summary.Customers + summary.Leads - summary.LeadsConverted, account.Contacts.Count);
        Assert.Equal(summary.Customers, account.Contacts.Count(c => !c.IsLead));
        Assert.Empty(account.Ambiguities);
        Assert.Equal(summary.BadLinesByReason.OrderBy(p => p.Key), account.RejectedByReason.Select(p => KeyValuePair.Create(p.Key, (long)p.Value)).OrderBy(p => p.Key));
        Assert.All(ContractOracle.Catalogue.Values, v => Assert.Contains(v.AcName, account.EventCounts.Keys));
        Assert.Equal(summary.Events, (long)account.EventCounts.Values.Sum() + account.EventsWithoutContact);
        Assert.Empty(account.UnknownEvents);
        Assert.All(account.Orders.Values, o => Assert.Equal(1, o.Source));
        Assert.Equal(account.Orders.Count, account.Orders.Keys.Distinct().Count());

        var customers = account.Contacts.Where(c => !c.IsLead).ToList();
        Assert.Contains(customers, c => c.FormerEmails.Count > 0);
        Assert.Contains(customers, c => c.Lists.Count == 0);
        Assert.Contains(customers, c => c.Lists.Contains(ContractOracle.ListActive));
        Assert.Contains(customers, c => c.Lists.Contains(ContractOracle.ListCancelled));
        Assert.Contains(customers, c => c.Fields.TryGetValue(ContractOracle.FieldCancelledOn, out var v) && v == "");
        Assert.Contains(customers, c => c.Phone is null);
        Assert.Contains(customers, c => c.Phone is not null);
        Assert.Contains(customers, c => c.OrderTag == ContractOracle.OpenOrder);
        Assert.Contains(customers, c => c.OrderTag == ContractOracle.NoOrder);
        Assert.All(account.Contacts.Where(c => c.IsLead), l => Assert.Contains(ContractOracle.ListLeads, l.Lists));
        Assert.DoesNotContain(customers, c => c.Lists.Contains(ContractOracle.ListLeads));
    }

    [Fact]
    public void GeneratedLog_ProcessedLater_DropsLiveOnlyEventsAndSendsOrdersAsHistorical()
    {
        var (lines, summary) = DefaultLog.Value;
        var end = Defaults.Start.AddDays(7 * Defaults.Weeks + 1);

        var account = ContractOracle.Compute(lines, "greenleaf", end, TimeSpan.FromMinutes(10));

        Assert.DoesNotContain("Delivery reminder email sent", account.EventCounts.Keys);
        Assert.Equal(summary.EventsByName["Delivery Today Reminder Email Sent"], (long)account.HistoricalEventsNotSent);
        Assert.All(account.Orders.Values, o => Assert.Equal(0, o.Source));
    }

    [Fact]
    public void WriteArchive_GzipPrefixPlusFullLog_GivesTheSameAccountAsTheFullLog()
    {
        var o = Defaults with { Customers = 80, Leads = 20, Weeks = 12 };
        var dir = Directory.CreateTempSubdirectory("samplelog-");
        try
        {
            var full = Path.Combine(dir.FullName, "system.log");
            var archive = Path.Combine(dir.FullName, "system.log.3.gz");
            var fullCount = SampleLogGenerator.WriteTo(full, o);
            var archiveCount = SampleLogGenerator.WriteArchive(archive, o, 0.6, gzip: true);

            var fullLines = File.ReadAllText(full).Split('\n')[..^1];
            using var gz = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
            using var reader = new StreamReader(gz, Encoding.UTF8);
            var archiveLines = reader.ReadToEnd().Split('\n')[..^1];
            Assert.Equal(fullCount, fullLines.Length);
            Assert.Equal((long)Math.Ceiling(fullCount * 0.6), archiveCount);
            Assert.Equal(fullLines[..archiveLines.Length], archiveLines);
            Assert.Equal(SampleLogGenerator.GenerateLines(o), fullLines);

            var now = o.Start.AddYears(1);
            var once = ContractOracle.Compute(fullLines, "greenleaf", now, TimeSpan.FromMinutes(10));
            var overlapped = ContractOracle.Compute(archiveLines.Concat(fullLines), "greenleaf", now, TimeSpan.FromMinutes(10));
            Assert.Equal(JsonSerializer.Serialize(once.Contacts), JsonSerializer.Serialize(overlapped.Contacts));
            Assert.Equal(once.RejectedByReason, overlapped.RejectedByReason);
            Assert.Equal(once.Orders.Count, overlapped.Orders.Count);
            Assert.Equal(once.DuplicateLines + archiveLines.Length, overlapped.DuplicateLines);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void WriteTenantKeyFalse_LinesCarryNoTenantAndBelongToTheFilesTenant()
    {
        var o = Defaults with { Customers = 30, Leads = 5, Weeks = 4, WriteTenantKey = false, Tenant = "bluebarn" };
        var lines = SampleLogGenerator.GenerateLines(o).ToList();

        Assert.DoesNotContain(lines, l => l.Contains("\"tenant\"", StringComparison.Ordinal));
        var account = ContractOracle.Compute(lines, "bluebarn", LogEnd(o), EverythingLive(o));
        Assert.Equal(30, account.Contacts.Count(c => !c.IsLead));
    }

    [Theory]
    [InlineData(0, 0, 1, "2024-01-01")]
    [InlineData(5, 3, 2, "2024-03-15")]
    [InlineData(40, 30, 5, "2020-12-20")]
    public void GenerateLines_SmallOrOddOptions_GiveAValidLogTheOracleReads(int customers, int leads, int weeks, string start)
    {
        var o = Defaults with { Customers = customers, Leads = leads, Weeks = weeks, Start = DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), BadLineRate = 0.05 };
        var summary = new SampleLogSummary();
        var lines = SampleLogGenerator.GenerateLines(o, summary).ToList();

        var rejected = lines.Distinct(StringComparer.Ordinal).Count(l => !SystemLogParser.Parse(Encoding.UTF8.GetBytes(l), "greenleaf", ProcessedAt).IsAccepted);
        Assert.Equal(summary.BadLines, rejected);
        var account = ContractOracle.Compute(lines, "greenleaf", LogEnd(o), EverythingLive(o));
        Assert.Equal(customers, summary.Customers);
        Assert.Equal(customers + leads - summary.LeadsConverted, account.Contacts.Count);
        Assert.Equal(summary.Lines, lines.Count);
    }

    [Theory]
    [InlineData("Bad_Tenant")]
    [InlineData("")]
    public void GenerateLines_InvalidTenant_Throws(string tenant)
    {
        Assert.Throws<ArgumentException>(() => SampleLogGenerator.GenerateLines(Defaults with { Tenant = tenant }));
    }

    [Theory]
    [InlineData("--weeks", "x")]
    [InlineData("--customers", "-5")]
    [InlineData("--bad-rate", "2")]
    [InlineData("--frobnicate", "1")]
    [InlineData("--seed", null)]
    public void Command_BadFlag_ExitsWith2AndSaysWhy(string flag, string? value)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = SampleLogCommand.Run(value is null ? [flag] : [flag, value], stdout, stderr);

        Assert.Equal(2, code);
        Assert.Contains("kivasync-samplelog: ", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public void Command_Out_WritesTheLogAndASummaryLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"samplelog-{Guid.NewGuid():N}.log");
        try
        {
            var stderr = new StringWriter();
            var code = SampleLogCommand.Run(["--seed", "7", "--customers", "25", "--leads", "5", "--weeks", "3", "--out", path], new StringWriter(), stderr);

            Assert.Equal(0, code);
            var expected = SampleLogGenerator.GenerateLines(Defaults with { Seed = 7, Customers = 25, Leads = 5, Weeks = 3 }).ToList();
            Assert.Equal(string.Concat(expected.Select(l => l + "\n")), File.ReadAllText(path));
            Assert.Contains($"lines={expected.Count} customers=25 leads=5", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Command_Help_PrintsUsageAndExits0()
    {
        var stdout = new StringWriter();

        Assert.Equal(0, SampleLogCommand.Run(["--help"], stdout, new StringWriter()));
        Assert.Contains("--too-long", stdout.ToString(), StringComparison.Ordinal);
    }
}
