using System.Globalization;
using Grpc.Core;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Ingest;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace KivaSync.SyncService.Tests;

/// <summary>Batches at the service's limits (lines, bytes, source identity, offsets) and what a hostile batch can make Redis hold.</summary>
public sealed class IngestLimitsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    // The server's gRPC message limit (Hosting/KivaSyncHostingExtensions.cs) and the defaults of Ingest options.
    private const int MaxMessageBytes = 16 * 1024 * 1024;
    private const int MaxLines = 10_000;
    private const int MaxPathBytes = 1024;
    private const int MaxRejectedEntries = 10_000;
    private const long MaxRejectedBytes = 4 * 1024 * 1024;
    private ServiceHarness service = null!;
    private ConnectionMultiplexer redis = null!;

    public async Task InitializeAsync()
    {
        service = await ServiceHarness.StartAsync(Tenant);
        redis = await ConnectionMultiplexer.ConnectAsync(service.Redis.ConnectionString + ",allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        await redis.DisposeAsync();
        await service.DisposeAsync();
    }

    private static string Noise(int i, string pad = "") =>
        $$$"""{"ts":"2024-06-03T14:22:05Z","level":"info","msg":"tick {{{i}}} {{{pad}}}"}""";

    private static string Signup(int i) =>
        $$$"""{"ts":"2024-06-03T14:22:05Z","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"Active"}}""";

    /// <summary>A line rejected as invalid_ts, distinct per <paramref name="i"/> (its identity is its bytes).</summary>
    private static string BadTs(int i, string pad = "") => $$$"""{"ts":"yesterday {{{i}}}","msg":"{{{pad}}}"}""";

    private static EntryBatch WithPath(EntryBatch batch, string path)
    {
        batch.Source.Path = path;
        return batch;
    }

    /// <summary>A batch of the maximum number of lines from the longest allowed path, its lines padded so the
    /// message is just under the server's limit; line i is made by <paramref name="line"/>(i)(i, pad).</summary>
    private static EntryBatch FullMessage(string fingerprint, int first, Func<int, Func<int, string, string>> line)
    {
        EntryBatch Make(int padBytes)
        {
            var pad = new string('x', padBytes);
            var lines = Enumerable.Range(first, MaxLines).Select(i => line(i)(i, pad)).ToArray();
            return WithPath(ServiceHarness.Batch(Tenant, fingerprint, 0, 1, lines), "/" + new string('p', MaxPathBytes - 1));
        }

        // Twice: varint lengths and offsets grow with the padding.
        const int Target = MaxMessageBytes - (32 * 1024);
        var pad = (Target - Make(0).CalculateSize()) / MaxLines;
        pad += (Target - Make(pad).CalculateSize()) / MaxLines;
        var batch = Make(pad);
        Assert.InRange(batch.CalculateSize(), MaxMessageBytes - (64 * 1024), MaxMessageBytes);
        return batch;
    }

    private async Task<long> UsedMemoryAsync()
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var info = await server.InfoAsync("memory");
        return long.Parse(info.SelectMany(g => g).Single(p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Ship_MaxLinesAllRejected_EveryRejectionReportedOnceAndTheResendAllDuplicates()
    {
        var batch = ServiceHarness.Batch(Tenant, "fp-rej", 0, 1, Enumerable.Range(0, MaxLines).Select(i => BadTs(i)).ToArray());

        var first = (await service.ShipAsync(batch)).Single();
        var again = (await service.ShipAsync(batch)).Single();

        Assert.Equal(0u, first.Accepted);
        Assert.Equal(0u, first.Duplicates);
        Assert.Equal(MaxLines, first.Rejections.Count);
        Assert.All(first.Rejections, r => Assert.Equal(RejectReason.InvalidTs, r.Reason));
        Assert.Equal(batch.Lines.Select(l => l.Offset), first.Rejections.Select(r => r.Offset));
        Assert.Empty(again.Rejections);
        Assert.Equal((uint)MaxLines, again.Duplicates);
        Assert.Equal(MaxLines, (long)await redis.GetDatabase().HashGetAsync($"ks:{{{Tenant}}}:rejects", "invalid_ts"));
    }

    [Fact]
    public async Task Ship_MaxLinesMixingValidAndRejected_CountsRightAndTheResendAllDuplicates()
    {
        // One line in ten is valid: the rest (9,000) are more rejections than one Lua unpack can take.
        var lines = Enumerable.Range(0, MaxLines).Select(i => i % 10 == 0 ? Signup(i) : BadTs(i)).ToArray();
        var batch = ServiceHarness.Batch(Tenant, "fp-mix", 0, 1, lines);

        var first = (await service.ShipAsync(batch)).Single();
        var again = (await service.ShipAsync(batch)).Single();

        Assert.Equal((uint)(MaxLines / 10), first.Accepted);
        Assert.Equal(MaxLines / 10 * 9, first.Rejections.Count);
        Assert.Equal(batch.Lines.Where((_, i) => i % 10 != 0).Select(l => l.Offset), first.Rejections.Select(r => r.Offset));
        Assert.Equal(0u, again.Accepted);
        Assert.Empty(again.Rejections);
        Assert.Equal((uint)MaxLines, again.Duplicates);
        Assert.Equal(MaxLines / 10, await redis.GetDatabase().SetLengthAsync($"ks:{{{Tenant}}}:customers"));
    }

    [Fact]
    public async Task Ship_MessageAtTheServersMaximumBytes_AcknowledgedWithRightCountsAndTheResendAllDuplicates()
    {
        // As many lines as allowed, padded so the message is just under the server's 16 MiB limit.
        var batch = FullMessage("fp-big", 0, i => i % 4 == 0 ? Noise : BadTs);

        var first = (await service.ShipAsync(batch)).Single();
        var again = (await service.ShipAsync(batch)).Single();

        Assert.Equal((uint)(MaxLines / 4), first.Accepted);
        Assert.Equal(MaxLines * 3 / 4, first.Rejections.Count);
        Assert.Equal((uint)MaxLines, again.Duplicates);
        Assert.Empty(again.Rejections);
    }

    [Fact]
    public async Task Ship_MoreLinesThanTheMaximum_InvalidArgumentNamingTheLimitAndNothingStored()
    {
        var batch = ServiceHarness.Batch(Tenant, "fp-over", 0, 1, Enumerable.Range(0, MaxLines + 1).Select(i => Noise(i)).ToArray());

        var error = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(batch));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("10000", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("MaxLinesPerBatch", error.Status.Detail, StringComparison.Ordinal);
        Assert.False(await redis.GetDatabase().KeyExistsAsync($"ks:{{{Tenant}}}:meta"));
    }

    [Fact]
    public async Task Ship_MegabyteSourcePath_InvalidArgumentNamingTheLimitAndRedisUnchanged()
    {
        var before = await UsedMemoryAsync();
        var batch = WithPath(
            ServiceHarness.Batch(Tenant, "fp-path", 0, 1, Enumerable.Range(0, 200).Select(i => BadTs(i)).ToArray()),
            "/" + new string('p', (1024 * 1024) - 1));

        var error = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(batch));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("source.path", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("MaxSourcePathBytes", error.Status.Detail, StringComparison.Ordinal);
        Assert.InRange(await UsedMemoryAsync() - before, long.MinValue, 256 * 1024);
    }

    [Fact]
    public async Task Ship_LongFingerprint_InvalidArgumentNamingTheLimit()
    {
        var batch = ServiceHarness.Batch(Tenant, new string('f', 4096), 0, 1, Noise(1));

        var error = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(batch));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("source.fingerprint", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("MaxFingerprintBytes", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ship_HostileBatchesAtEveryLimit_RejectedLinesListStaysUnderItsCountAndByteBounds()
    {
        var db = redis.GetDatabase();
        var before = await UsedMemoryAsync();
        // The longest allowed path and full messages of rejected lines.
        const int Batches = 3;
        for (var b = 0; b < Batches; b++)
        {
            var ack = (await service.ShipAsync(FullMessage("fp-hostile-" + b, b * MaxLines, _ => BadTs))).Single();
            Assert.Equal(MaxLines, ack.Rejections.Count);
        }

        var key = $"ks:{{{Tenant}}}:rejected";
        var stored = await db.ListRangeAsync(key);
        var storedBytes = stored.Sum(r => (long)((byte[])r!).Length);
        Assert.InRange(stored.Length, 1, MaxRejectedEntries);
        Assert.InRange(storedBytes, 1, MaxRejectedBytes);
        Assert.Equal(storedBytes, (long)await db.HashGetAsync($"ks:{{{Tenant}}}:meta", "rej_bytes"));
        // Newest first, each record cut to its bound with a marker; the path is cut, not copied whole.
        Assert.All(stored, r => Assert.InRange(((byte[])r!).Length, 1, 1024));
        using (var newest = System.Text.Json.JsonDocument.Parse((string)stored[0]!))
        {
            var source = newest.RootElement.GetProperty("source").GetString()!;
            Assert.EndsWith("…", source, StringComparison.Ordinal);
            Assert.StartsWith("/ppp", source, StringComparison.Ordinal);
            Assert.Equal("invalid_ts", newest.RootElement.GetProperty("reason").GetString());
            // The newest record is the last line of the last batch.
            Assert.Contains($"yesterday {(Batches * MaxLines) - 1}", newest.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var memoryUsage = (long)await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
        Assert.InRange(memoryUsage, 1, MaxRejectedBytes + (MaxRejectedBytes / 10));
        // Everything the three batches left in Redis: the capped list plus each rejection's identity (kept for good,
        // docs/dedup.md): about 100 bytes an identity while its dedup bucket is new (measured 7.3 MB for all three).
        var growth = await UsedMemoryAsync() - before;
        output.WriteLine($"{Batches} hostile batches: {stored.Length} records kept, {storedBytes} bytes, MEMORY USAGE {memoryUsage}, used_memory growth {growth}");
        Assert.InRange(growth, 1, MaxRejectedBytes + (MaxRejectedBytes / 10) + (Batches * MaxLines * 150L));
    }

    [Fact]
    public async Task Ship_RejectionsOverTheByteBound_OldestDroppedAndAListFromBeforeTheByteCountMeasuredOnce()
    {
        await using var small = await ServiceHarness.StartAsync(Tenant, extra: new Dictionary<string, string?>
        {
            ["KivaSync:Ingest:MaxRejectedBytes"] = "65536",
            ["KivaSync:Ingest:MaxRejectedEntries"] = "100000",
        });
        await using var smallRedis = await ConnectionMultiplexer.ConnectAsync(small.Redis.ConnectionString);
        var db = smallRedis.GetDatabase();
        var key = $"ks:{{{Tenant}}}:rejected";
        // Records a version without the byte count left (no rej_bytes in meta).
        await db.ListLeftPushAsync(key, ["{\"legacy\":1}", "{\"legacy\":2}"]);

        var first = (await small.ShipAsync(ServiceHarness.Batch(Tenant, "fp-1", 0, 1, Enumerable.Range(0, 100).Select(i => BadTs(i)).ToArray()))).Single();
        var afterFirst = await db.ListRangeAsync(key);
        var second = (await small.ShipAsync(ServiceHarness.Batch(Tenant, "fp-2", 0, 1, Enumerable.Range(100, 1000).Select(i => BadTs(i)).ToArray()))).Single();
        var afterSecond = await db.ListRangeAsync(key);

        Assert.Equal(100, first.Rejections.Count);
        Assert.Equal(1000, second.Rejections.Count);
        // The first batch fits whole with the legacy records, which were counted.
        Assert.Equal(102, afterFirst.Length);
        Assert.Equal("{\"legacy\":1}", (string)afterFirst[^1]!);
        // The second does not: the oldest go, the newest stay, and the count matches the list.
        var bytes = afterSecond.Sum(r => (long)((byte[])r!).Length);
        Assert.InRange(bytes, 65536 - StoredText.MaxRecordBytes(256), 65536);
        Assert.Equal(bytes, (long)await db.HashGetAsync($"ks:{{{Tenant}}}:meta", "rej_bytes"));
        Assert.Contains("yesterday 1099", (string)afterSecond[0]!, StringComparison.Ordinal);
        Assert.DoesNotContain(afterSecond, r => ((string)r!).Contains("legacy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ship_UnknownEventWithAHugeName_CountedUnderItsNameCutToTheBound()
    {
        var name = new string('e', 200_000);
        var line = $$$"""{"ts":"2024-06-03T14:22:05Z","event":"{{{name}}}","customer":{"id":"1","email":"a@example.com"}}""";

        var ack = (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp-ev", 0, 1, line))).Single();

        Assert.Equal(1u, ack.Accepted);
        var counted = Assert.Single(await redis.GetDatabase().HashGetAllAsync($"ks:{{{Tenant}}}:unknown_events"));
        Assert.Equal(new string('e', 256 - 6) + "…", (string)counted.Name!);
        Assert.Equal(1, (int)counted.Value);
    }

    [Fact]
    public async Task Ship_LineOffsetThatWrapsPastUInt64Max_InvalidArgument()
    {
        var batch = ServiceHarness.Batch(Tenant, "fp-wrap", 0, 1, Noise(1));
        batch.Lines[0].Offset = ulong.MaxValue - 3;
        batch.Lines[0].Length = 10;

        var error = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(batch));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("lines.offset", error.Status.Detail, StringComparison.Ordinal);
    }
}
