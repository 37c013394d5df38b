using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.Cli.Tests;

/// <summary>What needs no service: the command line, the CSV reader, exit codes and error text.</summary>
public sealed class CliParsingTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = new();

    private static readonly OptionSpec[] Specs =
    [
        new("tenant", "T", ""), new("customer", "ID", "", Many: true), new("all", null, ""), new("json", null, ""),
    ];

    [Fact]
    public void Parse_RepeatedAndListedValues_CollectsAllInOrder()
    {
        var args = ParsedArgs.Parse(["--tenant=greenleaf", "--customer", "1", "2", "--customer", "3", "--json", "file.log"], Specs);

        Assert.Equal("greenleaf", args.Get("tenant"));
        Assert.Equal(["1", "2", "3"], args.GetAll("customer"));
        Assert.True(args.Has("json"));
        Assert.False(args.Has("all"));
        Assert.Equal(["file.log"], args.Positionals);
    }

    [Fact]
    public void Parse_PositionalsAfterSingleValueOption_StayPositional()
    {
        var args = ParsedArgs.Parse(["--tenant", "t", "a.log", "b.log", "--", "--odd-name.log"], Specs);

        Assert.Equal(["a.log", "b.log", "--odd-name.log"], args.Positionals);
    }

    [Theory]
    [InlineData("--nope", "unknown option --nope")]
    [InlineData("--tenant", "--tenant needs a value")]
    [InlineData("--all=yes", "--all takes no value")]
    [InlineData("-x", "unknown option \"-x\"")]
    public void Parse_BadOption_UsageErrorSaysWhat(string arg, string message)
    {
        var error = Assert.Throws<UsageException>(() => ParsedArgs.Parse([arg], Specs));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SingleValueOptionTwice_UsageError()
    {
        Assert.Throws<UsageException>(() => ParsedArgs.Parse(["--tenant", "a", "--tenant", "b"], Specs));
    }

    [Fact]
    public void ContactCsv_QuotedFieldsAndBadRows_ImportsValidRowsAndReportsBadOnesByLine()
    {
        const string csv = "\uFEFFEmail,First_Name,last_name,phone,source\r\n" +
            "ann@example.org,Ann,\"Lee, Jr.\",555-0100,popup\r\n" +
            "\"bob@example.org\",\"Bob \"\"Bobby\"\"\",,,popup\r\n" +
            ",NoEmail,,,popup\r\n" +
            "not-an-email,X,,,popup\r\n" +
            "cy@example.org,\"Multi\nLine\",,,popup\r\n" +
            "ANN@example.org,Again,,,popup\r\n" +
            "dee@example.org,Dee\r\n" +
            "\r\n" +
            "eve@example.org,Eve,,,popup";

        var result = ContactCsv.Parse(csv);

        Assert.Equal(["ann@example.org", "bob@example.org", "cy@example.org", "eve@example.org"], result.Contacts.Select(c => c.Contact.Email));
        Assert.Equal([2, 3, 6, 11], result.Contacts.Select(c => c.Line));
        var ann = result.Contacts[0].Contact;
        Assert.Equal(("Ann", "Lee, Jr.", "555-0100"), (ann.FirstName, ann.LastName, ann.Phone));
        Assert.Equal("Bob \"Bobby\"", result.Contacts[1].Contact.FirstName);
        Assert.Equal("", result.Contacts[1].Contact.LastName);
        Assert.Equal("Multi\nLine", result.Contacts[2].Contact.FirstName);
        Assert.Equal(
            [(4, "no email"), (5, "not a valid email address"), (8, "the same email as line 2"), (9, "has 2 fields; the header has 5")],
            result.Problems.Select(p => (p.Line, p.Reason)));
    }

    [Fact]
    public void ContactCsv_UnclosedQuoteAndStrayQuote_ReportedAsBadRows()
    {
        var result = ContactCsv.Parse("email,first_name\na@example.org,Jo\"e\nb@example.org,\"open");

        Assert.Empty(result.Contacts);
        Assert.Equal([2, 3], result.Problems.Select(p => p.Line));
        Assert.Contains("quote", result.Problems[0].Reason, StringComparison.Ordinal);
        Assert.Contains("never closed", result.Problems[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ContactCsv_NoEmailColumn_UsageError()
    {
        var error = Assert.Throws<UsageException>(() => ContactCsv.Parse("name,phone\nAnn,1\n"));

        Assert.Contains("no email column", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StatusCode.OK, 0)]
    [InlineData(StatusCode.InvalidArgument, 2)]
    [InlineData(StatusCode.Unavailable, 3)]
    [InlineData(StatusCode.DeadlineExceeded, 3)]
    [InlineData(StatusCode.ResourceExhausted, 3)]
    [InlineData(StatusCode.Unimplemented, 3)]
    [InlineData(StatusCode.Internal, 3)]
    [InlineData(StatusCode.Unauthenticated, 4)]
    [InlineData(StatusCode.PermissionDenied, 4)]
    [InlineData(StatusCode.NotFound, 5)]
    [InlineData(StatusCode.FailedPrecondition, 1)]
    public void FromStatus_EachCode_DocumentedExitCode(StatusCode code, int exit)
    {
        Assert.Equal(exit, ExitCodes.FromStatus(code));
    }

    [Fact]
    public void Describe_StatusWithRetryInfo_MessageAndRetryDelay()
    {
        var error = new Google.Rpc.Status
        {
            Code = (int)Code.Unavailable,
            Message = "the sync service cannot reach Redis right now",
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(1500)) }) },
        }.ToRpcException();

        var text = CliApp.Describe(error, new Uri("http://sync:8080"), "status", out var retryAfter);

        Assert.Equal(1.5, retryAfter);
        Assert.Equal("the sync service cannot reach Redis right now (retry after 1.5 s)", text);
    }

    [Fact]
    public void Describe_Unimplemented_SaysTheServiceIsOlder()
    {
        var text = CliApp.Describe(new RpcException(new Grpc.Core.Status(StatusCode.Unimplemented, "Service is unimplemented.")),
            new Uri("http://sync:8080"), "provision", out _);

        Assert.Contains("does not implement \"provision\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_EveryCommand_PrintsUsageOptionsAndExitCodes()
    {
        foreach (var command in Commands.All)
        {
            var result = await CliRun.RunAsync(NoEnvironment, [.. command.Name.Split(' '), "--help"]);

            Assert.Equal(0, result.Code);
            Assert.StartsWith("Usage: kivasync " + command.Name, result.Out, StringComparison.Ordinal);
            Assert.Contains("--tenant T", result.Out, StringComparison.Ordinal);
            Assert.Contains("--json", result.Out, StringComparison.Ordinal);
            Assert.Contains("5  not found", result.Out, StringComparison.Ordinal);
        }

        var main = await CliRun.RunAsync(NoEnvironment, "--help");
        Assert.Equal(0, main.Code);
        Assert.All(Commands.All, c => Assert.Contains(c.Name, main.Out, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_UnknownCommand_UsageExit2()
    {
        var result = await CliRun.RunAsync(NoEnvironment, "frobnicate");

        Assert.Equal(2, result.Code);
        Assert.Contains("unknown command", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("resync --tenant t")]
    [InlineData("resync --tenant t --all --customer 1")]
    [InlineData("dead-letters retry --tenant t")]
    [InlineData("dead-letters list --tenant t --limit 0")]
    [InlineData("status --tenant t --customer 1 --email a@b.co")]
    [InlineData("status --tenant t --interval 2")]
    [InlineData("test-sync --tenant t")]
    [InlineData("test-sync --tenant t /no/such/file.log")]
    [InlineData("import-contacts --tenant t popup.csv")]
    [InlineData("status --tenant t --service ftp://x")]
    public async Task Run_BadArguments_UsageExit2WithoutCallingTheService(string commandLine)
    {
        // Port 9 (discard) has no gRPC server: a usage error must be found before any call.
        var environment = new Dictionary<string, string?> { ["KIVASYNC_SERVICE"] = "http://127.0.0.1:9" };

        var result = await CliRun.RunAsync(environment, commandLine.Split(' '));

        Assert.Equal(2, result.Code);
        Assert.Contains("usage: kivasync", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UsageErrorWithJson_OneJsonErrorDocument()
    {
        var result = await CliRun.RunAsync(NoEnvironment, "resync", "--json", "--tenant", "t");

        Assert.Equal(2, result.Code);
        using var json = result.Json();
        Assert.Equal("USAGE", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("error").GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public void TestSyncText_RejectionsAcrossFiles_NamedByFileAndLine()
    {
        var report = new TestSyncReport { Tenant = "t", Lines = 10, RejectedByReason = { ["invalid_json"] = 2 } };
        report.Rejections.Add(new TestSyncRejection { Reason = "invalid_json", Line = 3, Detail = "x" });
        report.Rejections.Add(new TestSyncRejection { Reason = "invalid_json", Line = 7, Detail = "y" });

        var text = Commands.TestSyncText(report, [("a.log", 1, 5), ("b.log", 6, 5)]);

        Assert.Contains("a.log:3", text, StringComparison.Ordinal);
        Assert.Contains("b.log:2", text, StringComparison.Ordinal);
    }
}
