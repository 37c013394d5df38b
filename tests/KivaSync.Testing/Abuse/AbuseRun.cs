using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.Testing.Abuse;

/// <summary>What one abuse step did and cost.</summary>
/// <param name="Name">The step.</param>
/// <param name="Outcome">What the service answered (status codes and counts), as text.</param>
/// <param name="RedisBefore">Redis used_memory before the step, bytes.</param>
/// <param name="RedisAfter">Redis used_memory after the step, bytes.</param>
/// <param name="RssPeak">The service's highest sampled VmRSS during the step, bytes.</param>
/// <param name="Elapsed">How long the step took.</param>
public sealed record AbuseStepResult(string Name, string Outcome, long RedisBefore, long RedisAfter, long RssPeak, TimeSpan Elapsed);

/// <summary>The whole run: every step, then the checks the issue asks for.</summary>
public sealed record AbuseReport(
    IReadOnlyList<AbuseStepResult> Steps,
    long RedisStart,
    long RedisEnd,
    long RssStart,
    long RssPeak,
    long RssIdle,
    bool ReadyAfter,
    int TenantBBatches,
    int TenantBAccepted,
    int TenantBRefusedBusy,
    int TenantBRefusedUnavailable,
    string TenantBFailure)
{
    public long RedisGrowth => RedisEnd - RedisStart;
}

/// <summary>Sizes of the run; <see cref="Issue"/> is the issue's (#11), used by the CI test and the bench alike.</summary>
public sealed record AbuseSizes(int BatchLines, int ConcurrentStreams, int ResyncIds, long TestSyncBytes, int TestSyncStreams, TimeSpan Idle)
{
    public static AbuseSizes Issue { get; } = new(100_000, 200, 1_000_000, 600L * 1024 * 1024, 3, TimeSpan.FromSeconds(30));
}

/// <summary>
/// The abuse steps of issue #11 against a running <see cref="AbuseEnvironment"/>: one home for the bench
/// (bench/KivaSync.Bench.Abuse, prints figures) and the CI test (asserts the issue's outcome). Every step measures
/// whatever the service does (status codes, counts) instead of expecting one answer, so old builds can be measured.
/// </summary>
public sealed class AbuseRun(AbuseEnvironment env, AbuseSizes sizes, Action<string> log)
{
    /// <summary>The server's largest message (MaxReceiveMessageSize).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>The contract's longest line.</summary>
    public const int MaxLineBytes = 262_144;

    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);
    private long sequence;

    public async Task<AbuseReport> RunAsync(CancellationToken ct = default)
    {
        var steps = new List<AbuseStepResult>();
        var redisStart = await env.RedisUsedMemoryAsync();
        var rssStart = env.Rss.Current;
        log($"start: Redis used_memory {Mib(redisStart)}, service RSS {Mib(rssStart)}");
        env.Rss.TakeWindowPeak();
        steps.Add(await StepAsync("oversized fields", OversizedFieldsAsync, ct));
        steps.Add(await StepAsync($"{sizes.BatchLines:N0}-line batch", HugeBatchAsync, ct));
        steps.Add(await StepAsync("max-size messages", MaxSizeMessagesAsync, ct));
        steps.Add(await StepAsync("deep JSON", DeepJsonAsync, ct));
        var b = new TenantBShipper(env, log);
        AbuseStepResult concurrent;
        using (var stopB = new CancellationTokenSource())
        {
            var shipping = b.RunAsync(stopB.Token);
            concurrent = await StepAsync($"{sizes.ConcurrentStreams} concurrent streams (A) while B ships", ConcurrentStreamsAsync, ct);
            await stopB.CancelAsync();
            await shipping;
        }

        steps.Add(concurrent with { Outcome = concurrent.Outcome + $"; B: {b.Accepted}/{b.Batches} batches accepted, refused {b.RefusedBusy}× RESOURCE_EXHAUSTED, {b.RefusedUnavailable}× UNAVAILABLE{(b.Failure.Length > 0 ? " (" + b.Failure + ")" : "")}" });
        steps.Add(await StepAsync($"{sizes.ResyncIds:N0}-id resync", HugeResyncAsync, ct));
        steps.Add(await StepAsync($"{sizes.TestSyncStreams} concurrent {sizes.TestSyncBytes / (1024 * 1024)} MiB TestSync streams", TestSyncFloodAsync, ct));

        log($"idle {sizes.Idle.TotalSeconds:0} s ...");
        var idleUntil = DateTime.UtcNow + sizes.Idle;
        while (DateTime.UtcNow < idleUntil)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, Math.Max(0.1, (idleUntil - DateTime.UtcNow).TotalSeconds))), ct);
            log($"  idle: RSS {Mib(env.Rss.Current)}");
        }

        var report = new AbuseReport(
            steps, redisStart, await env.RedisUsedMemoryAsync(), rssStart, env.Rss.PeakSinceStart, env.Rss.Current,
            await env.ReadyAsync(), b.Batches, b.Accepted, b.RefusedBusy, b.RefusedUnavailable, b.Failure);
        log($"end: ready {report.ReadyAfter}; Redis used_memory {Mib(report.RedisEnd)} (+{Mib(report.RedisGrowth)}); " +
            $"service RSS start {Mib(rssStart)}, peak (VmHWM) {Mib(report.RssPeak)}, after idle {Mib(report.RssIdle)}; " +
            $"B {b.Accepted}/{b.Batches} accepted, refused {b.RefusedBusy}× RESOURCE_EXHAUSTED and {b.RefusedUnavailable}× UNAVAILABLE before");
        return report;
    }

    public static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    private async Task<AbuseStepResult> StepAsync(string name, Func<CancellationToken, Task<string>> step, CancellationToken ct)
    {
        var before = await env.RedisUsedMemoryAsync();
        env.Rss.TakeWindowPeak();
        var watch = Stopwatch.StartNew();
        string outcome;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(StepTimeout);
            try
            {
                outcome = await step(timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                outcome = $"did not finish within {StepTimeout.TotalMinutes:0} min (cancelled)";
            }
            catch (RpcException e)
            {
                outcome = Describe(e);
            }
        }

        var result = new AbuseStepResult(name, outcome, before, await env.RedisUsedMemoryAsync(), env.Rss.TakeWindowPeak(), watch.Elapsed);
        log($"{name}: {outcome} | {result.Elapsed.TotalSeconds:0.0} s, Redis {Mib(result.RedisBefore)} -> {Mib(result.RedisAfter)}, RSS peak {Mib(result.RssPeak)}");
        return result;
    }

    private async Task<string> OversizedFieldsAsync(CancellationToken ct)
    {
        var huge = new string('x', 200_000);
        var answers = new List<string>
        {
            "line over the limit: " + await ShipOneAsync(Batch(AbuseEnvironment.TenantA, "fp-over", 0, [new string('y', 1024 * 1024)]), ct),
            "200 KB customer id: " + await ShipOneAsync(Batch(AbuseEnvironment.TenantA, "fp-id", 0, [Customer(huge, "big-id@example.com")]), ct),
            "200 KB email: " + await ShipOneAsync(Batch(AbuseEnvironment.TenantA, "fp-email", 0, [Customer("big-email", huge + "@example.com")]), ct),
            "200 KB attribute: " + await ShipOneAsync(Batch(AbuseEnvironment.TenantA, "fp-attr", 0,
                [$$$"""{"ts":"2024-06-03T14:22:00Z","customer":{"id":"big-attr","email":"attr@example.com"},"attrs":{"box":"{{{huge}}}"}}"""]), ct),
        };
        var badSource = Batch(AbuseEnvironment.TenantA, new string('f', 4 * 1024 * 1024), 0, [Customer("src", "src@example.com")]);
        badSource.Source.Path = "/" + new string('p', 4 * 1024 * 1024);
        answers.Add("4 MiB path and fingerprint: " + await ShipOneAsync(badSource, ct));
        var farOffset = Batch(AbuseEnvironment.TenantA, "fp-offset", 0, [Customer("offset", "offset@example.com")]);
        farOffset.StartOffset = ulong.MaxValue - 1;
        farOffset.EndOffset = ulong.MaxValue;
        farOffset.Lines[0].Offset = ulong.MaxValue - 1;
        answers.Add("offsets near 2^64: " + await ShipOneAsync(farOffset, ct));
        return string.Join("; ", answers);
    }

    private async Task<string> HugeBatchAsync(CancellationToken ct)
    {
        var lines = new string[sizes.BatchLines];
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = $$$"""{"ts":"2024-06-03T{{{i / 3600 % 24:D2}}}:{{{i / 60 % 60:D2}}}:{{{i % 60:D2}}}.{{{i % 1000:D3}}}Z","customer":{"id":"bulk-{{{i % 1000}}}","email":"bulk-{{{i % 1000}}}@example.com"},"attrs":{"status":"Active","box":"b{{{i}}}"}}""";
        }

        var batch = Batch(AbuseEnvironment.TenantA, "fp-bulk", 0, lines);
        return $"{batch.CalculateSize() / (1024 * 1024.0):0.0} MiB message: " + await ShipOneAsync(batch, ct);
    }

    private async Task<string> MaxSizeMessagesAsync(CancellationToken ct)
    {
        // Lines just under the contract's limit until the message is just under the server's: valid JSON, mostly padding.
        var pad = new string('m', MaxLineBytes - 200);
        var lines = new List<string>();
        var size = 0;
        for (var i = 0; size + MaxLineBytes + 64 < MaxMessageBytes - 4096; i++)
        {
            var line = $$$"""{"ts":"2024-06-03T14:22:00Z","customer":{"id":"max-{{{i}}}","email":"max-{{{i}}}@example.com"},"attrs":{"box":"{{{pad}}}"}}""";
            lines.Add(line);
            size += line.Length + 64;
        }

        var under = Batch(AbuseEnvironment.TenantA, "fp-max", 0, [.. lines]);
        var overLines = new List<string>(lines) { lines[0], lines[1] };
        var over = Batch(AbuseEnvironment.TenantA, "fp-max-over", 0, [.. overLines]);
        var answers = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add($"{under.CalculateSize() / (1024 * 1024.0):0.00} MiB: " + await ShipOneAsync(under.Clone(), ct));
        }

        answers.Add($"{over.CalculateSize() / (1024 * 1024.0):0.00} MiB (over the limit): " + await ShipOneAsync(over, ct));
        return string.Join("; ", answers);
    }

    private async Task<string> DeepJsonAsync(CancellationToken ct)
    {
        // As deep as a line allows: {"a":{"a":...}} and [[[...]]] inside attrs, and a bare deep array.
        var depth = (MaxLineBytes - 200) / 6;
        var objects = new StringBuilder().Insert(0, "{\"a\":", depth).Append('1').Append('}', depth).ToString();
        var arrays = new string('[', MaxLineBytes / 2 - 100) + new string(']', MaxLineBytes / 2 - 100);
        var lines = new[]
        {
            $$"""{"ts":"2024-06-03T14:22:00Z","customer":{"id":"deep","email":"deep@example.com"},"attrs":{{objects}}}""",
            $$"""{"ts":"2024-06-03T14:22:00Z","event":"x","data":{{arrays}}}""",
            arrays,
        };
        return await ShipOneAsync(Batch(AbuseEnvironment.TenantA, "fp-deep", 0, lines), ct);
    }

    private async Task<string> ConcurrentStreamsAsync(CancellationToken ct)
    {
        using var channel = env.Channel();
        var client = new LogIngest.LogIngestClient(channel);
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var tasks = Enumerable.Range(0, sizes.ConcurrentStreams).Select(async s =>
        {
            // Each stream keeps sending 2,000-line batches until the service refuses or 10 batches are acknowledged.
            var key = "ok";
            try
            {
                using var call = client.Ship(AbuseEnvironment.Auth(AbuseEnvironment.TokenA), cancellationToken: ct);
                var offset = 0L;
                for (var n = 0; n < 10; n++)
                {
                    var lines = Enumerable.Range(0, 2000).Select(i => Customer($"s{s}-{i % 50}", $"s{s}-{i % 50}@example.com", i)).ToArray();
                    var batch = Batch(AbuseEnvironment.TenantA, $"fp-stream-{s}", offset, lines);
                    offset = (long)batch.EndOffset;
                    await call.RequestStream.WriteAsync(batch, ct);
                    if (!await call.ResponseStream.MoveNext(ct))
                    {
                        key = "ended early";
                        break;
                    }
                }

                await call.RequestStream.CompleteAsync();
                while (await call.ResponseStream.MoveNext(ct))
                {
                }
            }
            catch (RpcException e)
            {
                key = e.StatusCode.ToString();
            }

            outcomes.AddOrUpdate(key, 1, (_, c) => c + 1);
        });
        await Task.WhenAll(tasks);
        return "A's streams: " + string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Value} {o.Key}"));
    }

    private async Task<string> HugeResyncAsync(CancellationToken ct)
    {
        using var channel = env.Channel();
        var request = new ForceResyncRequest { Tenant = AbuseEnvironment.TenantA };
        for (var i = 0; i < sizes.ResyncIds; i++)
        {
            request.CustomerIds.Add("resync-" + i.ToString(CultureInfo.InvariantCulture));
        }

        try
        {
            var response = await new SyncApi.SyncApiClient(channel).ForceResyncAsync(request, AbuseEnvironment.Auth(AbuseEnvironment.TokenA), cancellationToken: ct);
            return $"{request.CalculateSize() / (1024 * 1024.0):0.0} MiB request: OK, queued {response.Queued}, not_found {response.NotFound.Count} ({response.CalculateSize() / 1024} KiB answer)";
        }
        catch (RpcException e)
        {
            return $"{request.CalculateSize() / (1024 * 1024.0):0.0} MiB request: " + Describe(e);
        }
    }

    private async Task<string> TestSyncFloodAsync(CancellationToken ct)
    {
        using var channel = env.Channel();
        var client = new SyncApi.SyncApiClient(channel);
        var tasks = Enumerable.Range(0, sizes.TestSyncStreams).Select(async s =>
        {
            // Generated on the fly, never stored: one line that never ends (the worst case for a line buffer).
            var chunk = ByteString.CopyFrom(Encoding.ASCII.GetBytes(new string('z', 64 * 1024)));
            var sent = 0L;
            try
            {
                using var call = client.TestSync(AbuseEnvironment.Auth(AbuseEnvironment.TokenA), cancellationToken: ct);
                var first = true;
                while (sent < sizes.TestSyncBytes)
                {
                    await call.RequestStream.WriteAsync(new TestSyncChunk { Tenant = first ? AbuseEnvironment.TenantA : "", Data = chunk }, ct);
                    first = false;
                    sent += chunk.Length;
                }

                await call.RequestStream.CompleteAsync();
                var report = await call.ResponseAsync;
                return $"OK after {Mib(sent)} ({report.Lines} lines, rejected {string.Join(",", report.RejectedByReason.Select(r => r.Key + "=" + r.Value))})";
            }
            catch (RpcException e)
            {
                return $"{e.StatusCode} after {Mib(sent)} sent";
            }
            catch (InvalidOperationException e)
            {
                // Writing after the server ended the call.
                return $"ended by the server after {Mib(sent)} sent ({e.Message})";
            }
        });
        return string.Join("; ", await Task.WhenAll(tasks));
    }

    private async Task<string> ShipOneAsync(EntryBatch batch, CancellationToken ct)
    {
        using var channel = env.Channel();
        try
        {
            using var call = new LogIngest.LogIngestClient(channel).Ship(AbuseEnvironment.Auth(AbuseEnvironment.TokenA), cancellationToken: ct);
            await call.RequestStream.WriteAsync(batch, ct);
            await call.RequestStream.CompleteAsync();
            if (!await call.ResponseStream.MoveNext(ct))
            {
                return "no ack";
            }

            var ack = call.ResponseStream.Current;
            var reasons = ack.Rejections.GroupBy(r => r.Reason).Select(g => $"{g.Key}={g.Count()}");
            return $"ack: {ack.Accepted} accepted, {ack.Duplicates} duplicates, {ack.Rejections.Count} rejected ({string.Join(",", reasons)})";
        }
        catch (RpcException e)
        {
            return Describe(e);
        }
    }

    private static string Describe(RpcException e)
    {
        var detail = e.Status.Detail;
        return $"{e.StatusCode} \"{(detail.Length > 120 ? detail[..120] + "..." : detail)}\" ({detail.Length} chars)";
    }

    private EntryBatch Batch(string tenant, string fingerprint, long startOffset, IReadOnlyList<string> lines) =>
        BuildBatch(tenant, fingerprint, startOffset, (ulong)Interlocked.Increment(ref sequence), lines);

    /// <summary>A batch of lines as a file would hold them (each followed by '\n').</summary>
    public static EntryBatch BuildBatch(string tenant, string fingerprint, long startOffset, ulong sequence, IReadOnlyList<string> lines)
    {
        var batch = new EntryBatch
        {
            Sequence = sequence,
            Source = new Source { Tenant = tenant, Path = "/var/log/kiva/system.log", Fingerprint = fingerprint },
            StartOffset = (ulong)startOffset,
        };
        var offset = (ulong)startOffset;
        foreach (var line in lines)
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            batch.Lines.Add(new LogLine { Offset = offset, Length = (uint)bytes.Length + 1, Raw = ByteString.CopyFrom(bytes) });
            offset += (ulong)bytes.Length + 1;
        }

        batch.EndOffset = offset;
        return batch;
    }

    public static string Customer(string id, string email, int second = 0) =>
        $$$"""{"ts":"2024-06-03T14:{{{second / 60 % 60:D2}}}:{{{second % 60:D2}}}Z","customer":{"id":"{{{id}}}","email":"{{{email}}}"},"attrs":{"status":"Active"}}""";
}

/// <summary>Tenant B's honest shipper during the concurrent-streams step: 100-line batches on one stream each, in order.
/// Like the real shipper it resends a batch refused with RESOURCE_EXHAUSTED or UNAVAILABLE after a short delay (for
/// up to a minute, also past the step's end: a batch once started is finished), counting every refusal by status.</summary>
internal sealed class TenantBShipper(AbuseEnvironment env, Action<string> log)
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(1);

    public int Batches { get; private set; }

    public int Accepted { get; private set; }

    /// <summary>Refusals with RESOURCE_EXHAUSTED: the service's ingest slots were taken (by A).</summary>
    public int RefusedBusy { get; private set; }

    /// <summary>Refusals with UNAVAILABLE: Redis did not answer in time (queued behind A's scripts).</summary>
    public int RefusedUnavailable { get; private set; }

    public string Failure { get; private set; } = "";

    public async Task RunAsync(CancellationToken stop)
    {
        using var channel = env.Channel();
        var client = new LogIngest.LogIngestClient(channel);
        var offset = 0L;
        ulong sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            var lines = Enumerable.Range(0, 100).Select(i => AbuseRun.Customer($"b-{(Batches * 100) + i}", $"b-{(Batches * 100) + i}@example.com", i)).ToArray();
            var batch = AbuseRun.BuildBatch(AbuseEnvironment.TenantB, "fp-b", offset, ++sequence, lines);
            Batches++;
            var started = DateTime.UtcNow;
            while (true)
            {
                try
                {
                    using var call = client.Ship(AbuseEnvironment.Auth(AbuseEnvironment.TokenB), deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: CancellationToken.None);
                    await call.RequestStream.WriteAsync(batch, CancellationToken.None);
                    await call.RequestStream.CompleteAsync();
                    if (await call.ResponseStream.MoveNext(CancellationToken.None) && call.ResponseStream.Current.Accepted == lines.Length)
                    {
                        Accepted++;
                    }

                    break;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable && DateTime.UtcNow - started < GiveUpAfter)
                {
                    if (e.StatusCode == StatusCode.ResourceExhausted)
                    {
                        RefusedBusy++;
                    }
                    else
                    {
                        RefusedUnavailable++;
                    }

                    Failure = e.StatusCode + ": " + e.Status.Detail;
                    await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None);
                }
                catch (RpcException e)
                {
                    Failure = e.StatusCode + ": " + e.Status.Detail;
                    log("B: batch refused for good: " + Failure);
                    return;
                }
            }

            offset = (long)batch.EndOffset;
        }
    }
}
