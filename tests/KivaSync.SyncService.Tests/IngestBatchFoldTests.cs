using KivaSync.Contracts.V1;
using KivaSync.SampleLog;
using KivaSync.Testing.Oracle;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>The ingest script folds each contact once per batch: that must give exactly the state of
/// folding the same entries one batch each (email changes, leads turning customers, events and orders included).</summary>
public sealed class IngestBatchFoldTests : IAsyncLifetime
{
    private const string Batched = "greenleaf";
    private const string OneByOne = "single";
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Batched, extra: ServiceHarness.IngestOnlyTenant(OneByOne));

    public async Task DisposeAsync() => await service.DisposeAsync();

    [Fact]
    public async Task Ship_SameLinesInBigBatchesOrOneByOne_SameStateEventsAndOrders()
    {
        // Few customers and many weeks: each batch names most contacts several times.
        var lines = SampleLogGenerator.GenerateLines(new SampleLogOptions { Customers = 60, Leads = 40, Weeks = 40, WriteTenantKey = false })
            .Take(4000).ToArray();

        var batched = await ShipAsync(Batched, lines, 1000);
        var oneByOne = await ShipAsync(OneByOne, lines, 1);

        Assert.Equal(batched.Sum(a => (long)a.Accepted), oneByOne.Sum(a => (long)a.Accepted));
        var expected = await DumpStateAsync(OneByOne);
        Assert.Contains("\nev ", expected, StringComparison.Ordinal);
        Assert.Contains("\norder ", expected, StringComparison.Ordinal);
        Assert.Equal(expected, await DumpStateAsync(Batched));
    }

    [Fact]
    public async Task Ship_ArchiveAfterLiveFileWithALeadThatTurnedCustomer_LeadMergesIntoTheCustomer()
    {
        // The live file holds the customer's later email change; the archive, shipped after it, holds the lead's
        // contact form and the signup with the lead's email. In ts order the lead became customer 7 at the signup.
        string[] live = ["""{"ts":"2024-06-10T10:00:00Z","customer":{"id":"7","email":"ann.lee@example.com"}}"""];
        string[] archive =
        [
            """{"ts":"2024-06-01T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ann@example.org","first_name":"Ann","phone":"555-0100"},"data":{"subject":"hi"}}""",
            """{"ts":"2024-06-03T10:00:00Z","event":"New Customer Signup","customer":{"id":"7","email":"ann@example.org","last_name":"Lee"},"attrs":{"status":"Active"}}""",
        ];

        var (expected, diff) = await ShipFilesInTurnAsync(eventOrder: false, live, archive);

        var contact = Assert.Single(expected.Contacts);
        Assert.Equal(("7", "Ann", "555-0100", 2), (contact.CustomerId, contact.FirstName, contact.Phone, contact.Events.Count));
        Assert.Empty(diff);
    }

    [Fact]
    public async Task Ship_LeadsFormInArchiveShippedAfterItTurnedCustomerAndLeftTheEmail_FormIsTheCustomers()
    {
        // The live file: the lead's signup as customer 7, then an email change. The archive, shipped after it: the
        // lead's contact form from before the signup. In ts order that lead became customer 7.
        string[] live =
        [
            """{"ts":"2024-06-03T10:00:00Z","event":"New Customer Signup","customer":{"id":"7","email":"ann@example.org","last_name":"Lee"},"attrs":{"status":"Active"}}""",
            """{"ts":"2024-06-10T10:00:00Z","customer":{"id":"7","email":"ann.lee@example.com"}}""",
        ];
        string[] archive =
        [
            """{"ts":"2024-06-01T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ann@example.org","first_name":"Ann","phone":"555-0100"},"data":{"subject":"hi"}}""",
        ];

        var (expected, diff) = await ShipFilesInTurnAsync(eventOrder: false, live, archive);

        var contact = Assert.Single(expected.Contacts);
        Assert.Equal(("7", "Ann", "555-0100", 2), (contact.CustomerId, contact.FirstName, contact.Phone, contact.Events.Count));
        Assert.Empty(diff);
    }

    [Fact]
    public async Task Ship_FormWithTheOldEmailInArchiveShippedAfterTheEmailChange_IsTheCustomers()
    {
        // The form was sent after the customer's last entry with its old email but before it changed it: in ts order
        // the old email was still the customer's current one.
        string[] live =
        [
            """{"ts":"2024-06-03T10:00:00Z","customer":{"id":"7","email":"ann@example.org","first_name":"Ann"}}""",
            """{"ts":"2024-06-10T10:00:00Z","customer":{"id":"7","email":"ann.lee@example.com"}}""",
        ];
        string[] archive = ["""{"ts":"2024-06-05T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ann@example.org","phone":"555-0100"}}"""];

        var (expected, diff) = await ShipFilesInTurnAsync(eventOrder: true, live, archive);

        Assert.Equal(("7", "555-0100"), (Assert.Single(expected.Contacts).CustomerId, expected.Contacts[0].Phone));
        Assert.Empty(diff);
    }

    [Fact]
    public async Task Ship_FormWithAFormerEmailInOrder_IsANewLead()
    {
        // In one file, a form with the email customer 7 left is a lead's, even at the very ms of the change.
        string[] lines =
        [
            """{"ts":"2024-06-03T10:00:00Z","customer":{"id":"7","email":"ann@example.org","first_name":"Ann"}}""",
            """{"ts":"2024-06-10T10:00:00Z","customer":{"id":"7","email":"ann.lee@example.com"}}""",
            """{"ts":"2024-06-10T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ann@example.org","first_name":"Annie"}}""",
        ];

        var (expected, diff) = await ShipFilesInTurnAsync(eventOrder: true, lines);

        Assert.Equal(2, expected.Contacts.Count);
        Assert.Empty(diff);
    }

    /// <summary>Ships each file whole, in turn (the first as the live file, the rest as archives shipped after it),
    /// and returns what the contract says of all their lines together and how the folded state differs from it.</summary>
    private async Task<(ExpectedAccount Expected, List<string> Diff)> ShipFilesInTurnAsync(bool eventOrder, params string[][] files)
    {
        for (var f = 0; f < files.Length; f++)
        {
            await service.ShipAsync(ServiceHarness.Batch(Batched, f == 0 ? "live" : "archive", 0, 1, files[f]));
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString);
        var expected = ContractOracle.Compute([.. files.SelectMany(static f => f)], Batched, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        return (expected, await FoldOracleCheck.DiffAsync(redis.GetDatabase(), Batched, expected, eventOrder));
    }

    private async Task<List<BatchAck>> ShipAsync(string tenant, string[] lines, int size)
    {
        var batches = new List<EntryBatch>();
        long offset = 0;
        for (var start = 0; start < lines.Length; start += size)
        {
            var batch = ServiceHarness.Batch(tenant, "fp", offset, (ulong)batches.Count + 1, lines[start..Math.Min(lines.Length, start + size)]);
            offset = (long)batch.EndOffset;
            batches.Add(batch);
        }

        return await service.ShipInFlightAsync(batches);
    }

    /// <summary>Contacts (without the version, which counts batches, and the trace), indexes, queues, events, orders.</summary>
    private async Task<string> DumpStateAsync(string tenant)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString);
        var db = redis.GetDatabase();
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var prefix = $"ks:{{{tenant}}}:";
        var lines = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
        {
            var name = key.ToString()[prefix.Length..];
            if (name.StartsWith("c:", StringComparison.Ordinal) || name.StartsWith("l:", StringComparison.Ordinal))
            {
                var fields = (await db.HashGetAllAsync(key)).Where(f => f.Name != "tp" && f.Name != "ver" && f.Name != "rpv" && f.Name != "rplv").Select(f => $"{f.Name}={f.Value}").Order(StringComparer.Ordinal);
                lines.Add($"{name} {string.Join(' ', fields)}");
            }
            else if (name.StartsWith("ev:", StringComparison.Ordinal))
            {
                lines.AddRange((await db.ListRangeAsync(key)).Select((e, i) => $"ev {name} {i} {e}"));
            }
            else if (name.StartsWith("o:", StringComparison.Ordinal))
            {
                lines.AddRange((await db.HashGetAllAsync(key)).Select(f => $"order {name} {f.Name}={f.Value}"));
            }
            else if (name.StartsWith("op:", StringComparison.Ordinal))
            {
                lines.AddRange((await db.SetMembersAsync(key)).Select(m => $"pending {name} {m}"));
            }
        }

        foreach (var hash in new[] { "email", "rejects", "unknown_events" })
        {
            lines.AddRange((await db.HashGetAllAsync(prefix + hash)).Select(f => $"{hash} {f.Name}={f.Value}"));
        }

        lines.AddRange((await db.SetMembersAsync(prefix + "customers")).Select(m => $"customer {m}"));
        lines.AddRange((await db.SetMembersAsync(prefix + "leads")).Select(m => $"lead {m}"));
        lines.AddRange((await db.SortedSetRangeByRankAsync(prefix + "dirty")).Select(m => $"dirty {m}"));
        var meta = await db.HashGetAsync(prefix + "meta", ["accepted", "newest_ts", "week", "resync_all", "ev_queued", "ev_historical_not_sent", "ev_without_contact"]);
        lines.Add($"meta {string.Join(' ', meta.Select(v => v.ToString()))}");
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }
}
