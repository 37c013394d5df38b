using KivaSync.Contracts.V1;
using KivaSync.SampleLog;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>Duplicate drop at scale: archives overlapping the live log, replays from the start (docs/dedup.md).</summary>
public sealed class IngestScaleTests : IAsyncLifetime
{
    // Two tenants fed the same bytes (the lines carry no tenant key): one gets the live log alone, the
    // other an archive of its first 60% and then the live log.
    private const string LiveOnly = "greenleaf";
    private const string WithArchive = "overlap";
    private const int Lines = 50_000;
    private const int BatchLines = 1000;
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(LiveOnly, extra: ServiceHarness.IngestOnlyTenant(WithArchive));

    public async Task DisposeAsync() => await service.DisposeAsync();

    [Fact]
    public async Task Ship_ArchiveOfFirst60PercentThenFullLiveLog_SameCountsAndStateAsLiveLogAlone()
    {
        var live = SampleLogGenerator.GenerateLines(new SampleLogOptions { Customers = 1000, Leads = 200, Weeks = 20, WriteTenantKey = false })
            .Take(Lines).ToArray();
        var archive = live[..(int)Math.Ceiling(live.Length * 0.6)];

        // The live log alone goes with every batch in flight at once: the service works on several while its
        // acknowledgements must still come back in order and its state match the one-batch-at-a-time shipments.
        var aloneAcks = await ShipAllInFlightAsync(LiveOnly, "live", live);
        Assert.Equal(Enumerable.Range(1, aloneAcks.Count).Select(i => (ulong)i), aloneAcks.Select(a => a.Sequence));
        var alone = Sum(aloneAcks);
        var fromArchive = Sum(await ShipFileAsync(WithArchive, "archive", archive));
        var thenLive = Sum(await ShipFileAsync(WithArchive, "live", live));
        // A replay of the whole archive from its start, after everything.
        var replay = Sum(await ShipFileAsync(WithArchive, "archive", archive));

        Assert.Equal(live.Length, alone.Accepted + alone.Duplicates + alone.Rejected);
        Assert.True(alone.Accepted > Lines * 9 / 10, $"accepted {alone.Accepted}");
        Assert.True(alone.Rejected > 0 && alone.Duplicates > 0, "the sample log has bad and repeated lines");
        Assert.Equal(alone.Accepted, fromArchive.Accepted + thenLive.Accepted);
        Assert.Equal(alone.Rejected, fromArchive.Rejected + thenLive.Rejected);
        Assert.Equal(alone.Duplicates + archive.Length, fromArchive.Duplicates + thenLive.Duplicates);
        Assert.Equal(new Counts(0, archive.Length, 0), replay);
        Assert.Equal(await DumpStateAsync(LiveOnly), await DumpStateAsync(WithArchive));
    }

    private async Task<List<BatchAck>> ShipFileAsync(string tenant, string fingerprint, string[] lines) =>
        await service.ShipAsync([.. Batches(tenant, fingerprint, lines)]);

    private async Task<List<BatchAck>> ShipAllInFlightAsync(string tenant, string fingerprint, string[] lines)
    {
        var batches = Batches(tenant, fingerprint, lines);
        return await service.ShipInFlightAsync(batches);
    }

    private static List<EntryBatch> Batches(string tenant, string fingerprint, string[] lines)
    {
        var batches = new List<EntryBatch>();
        long offset = 0;
        for (var start = 0; start < lines.Length; start += BatchLines)
        {
            var batch = ServiceHarness.Batch(tenant, fingerprint, offset, (ulong)batches.Count + 1, lines[start..Math.Min(lines.Length, start + BatchLines)]);
            offset = (long)batch.EndOffset;
            batches.Add(batch);
        }

        return batches;
    }

    private static Counts Sum(List<BatchAck> acks) =>
        new(acks.Sum(a => (long)a.Accepted), acks.Sum(a => (long)a.Duplicates), acks.Sum(a => (long)a.Rejections.Count));

    /// <summary>Every customer's and lead's folded state, the indexes, counters and queue, without the tenant prefix.</summary>
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
                // tp is the trace of the batch that last changed the contact: it differs by shipment.
                var fields = (await db.HashGetAllAsync(key)).Where(f => f.Name != "tp").Select(f => $"{f.Name}={f.Value}").Order(StringComparer.Ordinal);
                lines.Add($"{name} {string.Join(' ', fields)}");
            }
        }

        foreach (var hash in new[] { "email", "rejects" })
        {
            lines.AddRange((await db.HashGetAllAsync(prefix + hash)).Select(f => $"{hash} {f.Name}={f.Value}"));
        }

        lines.AddRange((await db.SetMembersAsync(prefix + "customers")).Select(m => $"customer {m}"));
        lines.AddRange((await db.SetMembersAsync(prefix + "leads")).Select(m => $"lead {m}"));
        lines.AddRange((await db.SortedSetRangeByRankAsync(prefix + "dirty")).Select(m => $"dirty {m}"));
        var meta = await db.HashGetAsync(prefix + "meta", ["accepted", "newest_ts", "week", "resync_all"]);
        lines.Add($"meta {string.Join(' ', meta.Select(v => v.ToString()))}");
        lines.Sort(StringComparer.Ordinal);
        Assert.True(lines.Count > 1000, $"state of {tenant} has {lines.Count} lines");
        return string.Join('\n', lines);
    }

    private sealed record Counts(long Accepted, long Duplicates, long Rejected);
}
