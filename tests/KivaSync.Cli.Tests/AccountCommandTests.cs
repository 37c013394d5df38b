using Google.Protobuf;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using KivaSync.Demo;

namespace KivaSync.Cli.Tests;

/// <summary>
/// provision, dead-letters and import-contacts against the real service, Redis and the emulator: each test has its
/// own account, since they change it. Their RPCs (Provision, ListDeadLetters, RetryDeadLetters, ImportContacts) are
/// served once the AC-side work lands; until then these tests see UNIMPLEMENTED (exit 3).
/// </summary>
public sealed class AccountCommandTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private readonly string work = Directory.CreateTempSubdirectory("kivasync-cli-account-").FullName;
    private DemoEnvironment environment = null!;

    private IReadOnlyDictionary<string, string?> Cli => new Dictionary<string, string?>
    {
        ["KIVASYNC_SERVICE"] = environment.ServiceAddress.ToString(),
        ["KIVASYNC_TOKEN"] = environment.CallerToken,
    };

    public async Task InitializeAsync() =>
        environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, RequestsPerSecond: 200),
            [
                // A contact AC keeps refusing is dead-lettered after 3 quick attempts; the breaker stays out of the way.
                new("KivaSync:Sync:MaxAttempts", "3"),
                new("KivaSync:Sync:AcRetries", "0"),
                new("KivaSync:Sync:MaxRetryDelay", "00:00:00.500"),
                new("KivaSync:Sync:CircuitBreaker:MinimumThroughput", "1000"),
            ]);

    public async Task DisposeAsync()
    {
        await environment.DisposeAsync();
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public async Task Provision_Twice_SecondRunCreatesNothing()
    {
        var first = await CliRun.RunAsync(Cli, "provision", "--tenant", Tenant, "--json");
        var second = await CliRun.RunAsync(Cli, "provision", "--tenant", Tenant);

        Assert.Equal(0, first.Code);
        using var json = first.Json();
        Assert.True(json.RootElement.GetProperty("created").GetInt32() > 0);
        var kinds = json.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("kind").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "field", "field_rel", "list", "tag" }, kinds);
        Assert.Equal(0, second.Code);
        Assert.Contains("created 0 of", second.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(" created\n", second.Out.Replace("\r", "", StringComparison.Ordinal), StringComparison.Ordinal);
        // One of each list, however often provisioning ran.
        Assert.Equal(["Active", "All", "Cancelled", "Leads"],
            environment.Account!.Lists().Select(l => l.Name).Where(n => n is "All" or "Active" or "Cancelled" or "Leads").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DeadLetters_ContactAcKeepsRefusing_ListedExit1ThenRetriedAndGone()
    {
        var empty = await CliRun.RunAsync(Cli, "dead-letters", "list", "--tenant", Tenant);
        Assert.Equal(0, empty.Code);
        Assert.Contains("no dead letters", empty.Out, StringComparison.Ordinal);

        environment.Account!.FailureRate = 1.0;
        await ShipAsync("""{"ts":"2024-06-03T14:22:05Z","customer":{"id":"77","email":"failing@example.com"},"attrs":{"status":"Active"}}""");
        var listed = await PollAsync(async () => await CliRun.RunAsync(Cli, "dead-letters", "list", "--tenant", Tenant, "--json"), r => r.Code == 1);

        using (var json = listed.Json())
        {
            var letter = json.RootElement.GetProperty("deadLetters").EnumerateArray().Single();
            Assert.Equal("failing@example.com", letter.GetProperty("email").GetString());
            Assert.Equal("77", letter.GetProperty("customerId").GetString());
            Assert.NotEmpty(letter.GetProperty("reason").GetString()!);
        }

        var text = await CliRun.RunAsync(Cli, "dead-letters", "list", "--tenant", Tenant);
        Assert.Contains("customer 77 <failing@example.com>", text.Out, StringComparison.Ordinal);

        environment.Account.FailureRate = 0;
        var retried = await CliRun.RunAsync(Cli, "dead-letters", "retry", "--tenant", Tenant, "--all");
        Assert.Equal(0, retried.Code);
        Assert.Contains("Queued 1 dead letter(s)", retried.Out, StringComparison.Ordinal);
        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(2));
        var after = await CliRun.RunAsync(Cli, "dead-letters", "list", "--tenant", Tenant);
        Assert.Equal(0, after.Code);
        var status = await CliRun.RunAsync(Cli, "status", "--tenant", Tenant, "--customer", "77");
        Assert.Contains("Synced", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLettersRetry_UnknownId_Exit1NamesIt()
    {
        var result = await CliRun.RunAsync(Cli, "dead-letters", "retry", "--tenant", Tenant, "--id", "no-such-letter");

        Assert.Equal(1, result.Code);
        Assert.Contains("no-such-letter", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportContacts_CsvWithBadRows_MakesTheListImportsValidRowsReportsBadOnes()
    {
        var csv = Path.Combine(work, "popup.csv");
        await File.WriteAllTextAsync(csv,
            "email,first_name,last_name,phone\n" +
            "ann@example.org,Ann,\"Lee, Jr.\",555-0100\n" +
            "bob@example.org,Bob,,\n" +
            "broken-email,X,,\n" +
            "bob@example.org,Again,,\n");

        var result = await CliRun.RunAsync(Cli, "import-contacts", "--tenant", Tenant, "--list", "Popup sign-ups", csv, "--json");

        Assert.Equal(1, result.Code);
        using var json = result.Json();
        var root = json.RootElement;
        Assert.True(root.GetProperty("listCreated").GetBoolean());
        Assert.Equal(2, root.GetProperty("imported").GetInt32());
        Assert.Equal([4, 5], root.GetProperty("badRows").EnumerateArray().Select(r => r.GetProperty("line").GetInt32()));
        var list = Assert.Single(environment.Account!.Lists(), l => l.Name == "Popup sign-ups");
        Assert.Equal(root.GetProperty("listId").GetString(), list.Id);
        var ann = Assert.Single(environment.Account.Contacts(), c => c.Email == "ann@example.org");
        Assert.Equal("Ann", ann.FirstName);
    }

    /// <summary>Ships lines on one Ship stream, as a shipper would, and waits for the acknowledgement.</summary>
    private async Task ShipAsync(params string[] lines)
    {
        using var channel = GrpcChannel.ForAddress(environment.ServiceAddress);
        using var call = new LogIngest.LogIngestClient(channel).Ship(environment.CallerHeaders);
        var batch = new EntryBatch { Sequence = 1, Source = new Source { Tenant = Tenant, Path = "system.log", Fingerprint = "cli-test" } };
        ulong offset = 0;
        foreach (var line in lines)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(line);
            batch.Lines.Add(new LogLine { Offset = offset, Length = (uint)bytes.Length + 1, Raw = ByteString.CopyFrom(bytes) });
            offset += (ulong)bytes.Length + 1;
        }

        batch.EndOffset = offset;
        await call.RequestStream.WriteAsync(batch);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal((uint)lines.Length, call.ResponseStream.Current.Accepted);
        await call.RequestStream.CompleteAsync();
    }

    /// <summary>Runs <paramref name="run"/> until <paramref name="done"/> holds (bounded: the service gives up on a contact after its retries).</summary>
    private static async Task<CliResult> PollAsync(Func<Task<CliResult>> run, Func<CliResult, bool> done)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var result = await run();
            if (done(result) || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(250);
        }
    }
}
