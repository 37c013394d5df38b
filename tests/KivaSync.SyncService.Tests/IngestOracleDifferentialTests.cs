using KivaSync.Contracts.V1;
using KivaSync.SampleLog;
using KivaSync.Testing.Oracle;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>
/// Differential check of the ingest fold against the contract oracle: logs go through the real ingest path on a
/// real redis-server in different batch sizes, with replays and archives shipped late, and the folded state (contacts,
/// fields, order tags, queued events, orders, counters) must be what the oracle computes on its own from the lines.
/// </summary>
public sealed class IngestOracleDifferentialTests : IAsyncLifetime
{
    private const int Slots = 16;
    private static readonly DateTimeOffset Start = new(2024, 3, 4, 0, 0, 0, TimeSpan.Zero);
    private ServiceHarness service = null!;
    private ConnectionMultiplexer redis = null!;
    private int nextTenant;

    public async Task InitializeAsync()
    {
        var extra = new Dictionary<string, string?>();
        for (var i = 0; i < Slots; i++)
        {
            foreach (var (key, value) in ServiceHarness.IngestOnlyTenant(Tenant(i)))
            {
                extra[key] = value;
            }
        }

        service = await ServiceHarness.StartAsync(extra: extra);
        redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await redis.DisposeAsync();
        await service.DisposeAsync();
    }

    [Fact]
    public async Task Ship_AdversarialLogsInBatchesOf1To1000ThenReplayed_FoldMatchesTheOracle()
    {
        var failures = new List<string>();
        int leads = 0, emailChanges = 0;
        foreach (var (seed, size) in new[] { (1, 1), (2, 7), (3, 1000), (4, 3), (5, 1), (6, 1000), (7, 7), (8, 1000) })
        {
            var tenant = Tenant(nextTenant++);
            var lines = AdversarialLog.Generate(seed, 150, Start, tenantKey: seed % 2 == 0, tenant);
            // The whole file, then a stretch of it again (a shipper restart) and its first half as an archive.
            await ShipFileAsync(tenant, "live", lines, size);
            await ShipFileAsync(tenant, "replay", lines[(lines.Count / 3)..(2 * lines.Count / 3)], 7);
            await ShipFileAsync(tenant, "archive", lines[..(lines.Count / 2)], 1000);

            var expected = ContractOracle.Compute(lines, tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
            leads += expected.Contacts.Count(c => c.IsLead);
            emailChanges += expected.Contacts.Sum(c => c.FormerEmails.Count);
            // A lead merged into a customer that already had queued events puts its events first (docs/architecture.md):
            // the events are compared per contact, not in order.
            failures.AddRange((await FoldOracleCheck.DiffAsync(redis.GetDatabase(), tenant, expected, eventOrder: false)).Select(d => $"seed {seed} size {size}: {d}"));
        }

        Assert.Empty(failures);
        Assert.True(leads > 0 && emailChanges > 0, "the logs must hold leads and email changes");
    }

    [Fact]
    public async Task Ship_SampleLogSplitIntoTwoFilesOlderDaysShippedLast_FoldMatchesTheOracle()
    {
        // Seeds whose leads turn customer and change email later: the older days' file arriving last must still fold
        // each lead into its customer.
        var failures = new List<string>();
        foreach (var (seed, days) in new[] { (130, 2), (172, 3) })
        {
            var tenant = Tenant(nextTenant++);
            var options = new SampleLogOptions { Seed = seed, Tenant = tenant, Customers = 44, Leads = 20, Weeks = 6, Start = Start.AddDays(seed), WriteTenantKey = false };
            var lines = SampleLogGenerator.GenerateLines(options).ToArray();
            var older = lines.Where(l => DayOf(l) % days == 0).ToArray();
            var newer = lines.Where(l => DayOf(l) % days != 0).ToArray();
            await ShipFileAsync(tenant, "newer", newer, 100);
            await ShipFileAsync(tenant, "older", older, 100);

            var expected = ContractOracle.Compute([.. newer, .. older], tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
            Assert.Empty(expected.Ambiguities);
            failures.AddRange((await FoldOracleCheck.DiffAsync(redis.GetDatabase(), tenant, expected, eventOrder: false)).Select(d => $"seed {seed}: {d}"));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string Tenant(int i) => $"diff{i}";

    /// <summary>The day number of a line's ts (lines without one: day 1).</summary>
    private static long DayOf(string line)
    {
        var at = line.IndexOf("\"ts\":\"", StringComparison.Ordinal);
        return at >= 0 && DateTimeOffset.TryParse(line.AsSpan(at + 6, 10), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var day)
            ? day.UtcTicks / TimeSpan.TicksPerDay
            : 1;
    }

    private async Task ShipFileAsync(string tenant, string fingerprint, IReadOnlyList<string> lines, int size)
    {
        var batches = new List<EntryBatch>();
        long offset = 0;
        for (var start = 0; start < lines.Count; start += size)
        {
            var batch = ServiceHarness.Batch(tenant, fingerprint, offset, (ulong)batches.Count + 1, [.. lines.Skip(start).Take(size)]);
            offset = (long)batch.EndOffset;
            batches.Add(batch);
        }

        await service.ShipInFlightAsync(batches);
    }
}
