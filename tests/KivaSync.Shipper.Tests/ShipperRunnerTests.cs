using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KivaSync.Contracts.V1;
using Microsoft.Extensions.Options;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests;

public sealed class ShipperRunnerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Ship_FileFromStart_EveryLineArrivesOnceWithItsOffsets()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        // 230 lines, a blank line, a CRLF line and whitespace: batches of 50 split them in several.
        Append(log, Lines(0, 120) + "\n" + EntryLine(500) + "\r\n   \n" + Lines(120, 110));
        var options = Options(_dir, server.Url, log);
        options.ParseLines = true;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        var content = await File.ReadAllBytesAsync(log);
        AssertExactlyOnce(ExpectedLines(content), server.Service.AllLines());
        var batches = server.Service.Received.Select(r => r.Batch).ToList();
        Assert.All(batches, b => Assert.Equal(Tenant, b.Source.Tenant));
        Assert.All(batches, b => Assert.Equal(log, b.Source.Path));
        Assert.Equal(0UL, batches[0].StartOffset);
        Assert.Equal((ulong)content.Length, batches[^1].EndOffset);
        // Batches tile the file: each starts where the previous one ended.
        for (var i = 1; i < batches.Count; i++)
        {
            Assert.Equal(batches[i - 1].EndOffset, batches[i].StartOffset);
            Assert.Equal(batches[i - 1].Sequence + 1, batches[i].Sequence);
        }

        Assert.All(batches, b => Assert.True(b.Lines.Count <= 50));
        var first = batches[0].Lines[0].Parsed;
        Assert.Equal("e0", first.Id);
        Assert.Equal("0", first.CustomerId);
        Assert.Equal("Made a substitution", first.Event);
        Assert.Equal(Contracts.V1.RejectReason.Unspecified, first.RejectReason);
    }

    [Fact]
    public async Task Ship_FileGrows_NewLinesFollowAndPartialLineWaitsForItsNewline()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 10));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        await runner.StartAsync();
        await runner.WaitForFileShippedAsync(log, Guard());

        var half = EntryLine(10);
        Append(log, Lines(11, 5) + half[..20]);
        var withoutPartial = new FileInfo(log).Length - 20;
        await runner.WaitForCheckpointAsync(log, withoutPartial, Guard());
        Append(log, half[20..] + "\n" + Lines(16, 3));
        await runner.WaitForFileShippedAsync(log, Guard());

        var content = await File.ReadAllBytesAsync(log);
        AssertExactlyOnce(ExpectedLines(content), server.Service.AllLines());
    }

    [Fact]
    public async Task Checkpoint_BeforeAck_DoesNotAdvance()
    {
        var service = new FakeLogIngest { AckGate = new SemaphoreSlim(0) };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 100));
        var options = Options(_dir, server.Url, log);
        options.MaxInFlightBatches = 2;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await service.WaitForBatchesAsync(2, Guard());
        var file = Assert.Single(runner.GetStatus().Files);
        Assert.Equal(0, file.AckedOffset);
        Assert.Null(runner.GetCheckpoint(file.Fingerprint));

        service.AckGate.Release(1);
        var firstEnd = (long)service.Received[0].Batch.EndOffset;
        await runner.WaitForCheckpointAsync(log, firstEnd, Guard());
        Assert.Equal(firstEnd, runner.GetCheckpoint(file.Fingerprint)!.Offset);
        Assert.True(runner.GetCheckpoint(file.Fingerprint)!.Offset < new FileInfo(log).Length);

        service.AckGate.Release(100);
        await runner.WaitForFileShippedAsync(log, Guard());
        Assert.Equal(new FileInfo(log).Length, runner.GetCheckpoint(file.Fingerprint)!.Offset);
    }

    [Fact]
    public async Task Window_AcksHeld_NeverMoreBatchesOutstandingThanMaxInFlight()
    {
        var service = new FakeLogIngest { AckGate = new SemaphoreSlim(0) };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 300));
        var options = Options(_dir, server.Url, log);
        options.MaxInFlightBatches = 3;
        options.MaxLines = 10;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await service.WaitForBatchesAsync(3, Guard());
        Assert.Equal(3, runner.GetStatus().BatchesInFlight);
        // The reader stopped: it is at most one read buffer past the third batch.
        Assert.True(runner.GetStatus().Files[0].ReadOffset <= (long)service.Received[2].Batch.EndOffset + (64 * 1024));
        service.AckGate.Release(1000);
        await runner.WaitForFileShippedAsync(log, Guard());

        Assert.Equal(3, service.MaxOutstanding);
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), service.AllLines());
    }

    [Fact]
    public async Task Restart_AfterStop_ResumesFromCheckpointWithoutResending()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 80));
        var firstLength = new FileInfo(log).Length;
        await using (var runner = new ShipperRunner(Options(_dir, server.Url, log)))
        {
            await runner.StartAsync();
            await runner.WaitForFileShippedAsync(log, Guard());
            await runner.StopAsync();
        }

        var before = server.Service.Received.Count;
        Append(log, Lines(80, 40));
        await using (var runner = new ShipperRunner(Options(_dir, server.Url, log)))
        {
            await runner.StartAsync();
            await runner.WaitForFileShippedAsync(log, Guard());
        }

        Assert.Equal((ulong)firstLength, server.Service.Received[before].Batch.StartOffset);
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.AllLines());
    }

    [Fact]
    public async Task StreamFailure_MidFile_ResendsFromCheckpointAndLosesNothing()
    {
        // The first stream fails with UNAVAILABLE on its 3rd batch; the shipper reconnects and resends.
        var service = new FakeLogIngest { Behaviour = (stream, index, _) => stream == 1 && index == 3 ? Reaction.Fail : Reaction.Ack };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 400));
        var options = Options(_dir, server.Url, log);
        options.MaxInFlightBatches = 1;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        Assert.True(service.Streams >= 2);
        var expected = ExpectedLines(await File.ReadAllBytesAsync(log));
        var received = service.AllLines().ToList();
        // Nothing lost: every line arrived; any duplicate is a resend, never a line out of the file.
        Assert.Equal(expected.Select(e => e.Offset).ToHashSet(), received.Select(l => (long)l.Offset).ToHashSet());
        var secondStream = service.Received.First(r => r.Stream == 2).Batch;
        var lastAckedOnFirst = service.Received.Where(r => r.Stream == 1).Select(r => r.Batch).Last();
        Assert.Equal(lastAckedOnFirst.EndOffset, secondStream.StartOffset);
        Assert.Equal(1UL, secondStream.Sequence);
    }

    [Fact]
    public async Task StreamDropped_WithoutStatus_ReconnectsAndLosesNothing()
    {
        var service = new FakeLogIngest { Behaviour = (stream, index, _) => stream <= 2 && index == 2 ? Reaction.Drop : Reaction.Ack };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 300));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        Assert.True(service.Streams >= 3);
        var expected = ExpectedLines(await File.ReadAllBytesAsync(log));
        Assert.Equal(expected.Select(e => e.Offset).ToHashSet(), service.AllLines().Select(l => (long)l.Offset).ToHashSet());
    }

    [Fact]
    public async Task ServiceDown_ThenStarted_ShipsEverythingOnceItIsUp()
    {
        // Take a free port, close it, and start the shipper against nothing listening there.
        int port;
        await using (var probe = await FakeIngestServer.StartAsync())
        {
            port = probe.Url.Port;
        }

        var log = _dir.File("system.log");
        Append(log, Lines(0, 60));
        var options = Options(_dir, new Uri($"http://127.0.0.1:{port}"), log);
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();
        while (runner.GetStatus().LastError is null)
        {
            await Task.Delay(20, Guard());
        }

        Assert.False(runner.GetStatus().Connected);
        await using var server = await FakeIngestServer.StartAsync(port: port);
        await runner.WaitForFileShippedAsync(log, Guard());

        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.AllLines());
    }

    [Fact]
    public async Task OverLongLine_InTheMiddle_SentAsHashWithoutRawAndLinesAfterItArrive()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        var longLine = "{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"" + new string('x', 300 * 1024) + "\"}";
        Append(log, Lines(0, 5) + longLine + "\r\n" + Lines(5, 5));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        var lines = server.Service.AllLines().ToList();
        Assert.Equal(11, lines.Count);
        var skipped = lines[5];
        Assert.True(skipped.Raw.IsEmpty);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(longLine)), skipped.RawSha256.ToByteArray());
        Assert.Equal((uint)(Encoding.UTF8.GetByteCount(longLine) + 2), skipped.Length);
        Assert.Equal(Contracts.V1.RejectReason.TooLong, skipped.Parsed.RejectReason);
        var content = await File.ReadAllBytesAsync(log);
        var expected = ExpectedLines(content);
        Assert.Equal(expected.Select(e => (ulong)e.Offset), lines.Select(l => l.Offset));
        Assert.Equal(EntryLine(5), lines[6].Raw.ToStringUtf8());
    }

    [Fact]
    public async Task InvalidUtf8_InALine_ReplacedWithReplacementCharacter()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 3));
        var bad = Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"caf")
            .Concat(new byte[] { 0xC3, 0x28, 0xFF })
            .Concat(Encoding.UTF8.GetBytes("\"}\n")).ToArray();
        AppendBytes(log, bad);
        Append(log, Lines(3, 3));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        var lines = server.Service.AllLines().ToList();
        Assert.Equal(7, lines.Count);
        Assert.Equal("{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"caf\uFFFD(\uFFFD\"}", lines[3].Raw.ToStringUtf8());
        Assert.Equal((uint)bad.Length, lines[3].Length);
        Assert.Equal(Contracts.V1.RejectReason.Unspecified, lines[3].Parsed.RejectReason);
    }

    [Fact]
    public async Task ParseLinesOn_OverLongAndInvalidUtf8Lines_EachLineKeepsItsBytesAndItsOwnParse()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        var longLine = "{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"" + new string('x', 300 * 1024) + "\"}";
        Append(log, Lines(0, 70) + longLine + "\n");
        AppendBytes(log, [.. Encoding.UTF8.GetBytes("{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"caf"), 0xFF, .. Encoding.UTF8.GetBytes("\"}\n")]);
        Append(log, Lines(70, 70));
        var options = Options(_dir, server.Url, log);
        options.ParseLines = true;
        options.MaxLines = 200;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        var lines = server.Service.AllLines().ToList();
        Assert.Equal(ExpectedLines(await File.ReadAllBytesAsync(log)).Select(e => (ulong)e.Offset), lines.Select(l => l.Offset));
        Assert.Equal(Contracts.V1.RejectReason.TooLong, lines[70].Parsed.RejectReason);
        Assert.True(lines[70].Raw.IsEmpty);
        Assert.Equal("{\"ts\":\"2024-06-03T14:22:05Z\",\"msg\":\"caf\uFFFD\"}", lines[71].Raw.ToStringUtf8());
        Assert.Equal(Contracts.V1.RejectReason.Unspecified, lines[71].Parsed.RejectReason);
        // Parsed in parallel, yet each line's parse is its own: the ids follow the file's order.
        Assert.Equal(Enumerable.Range(0, 140).Select(i => "e" + i), lines.Where(l => l.Parsed.Id.Length > 0).Select(l => l.Parsed.Id));
    }

    [Fact]
    public async Task Rejections_InAck_WrittenToDeadLetterFile()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 2) + "not json\n" + "{\"ts\":\"yesterday\"}\n" + Lines(2, 2));
        var options = Options(_dir, server.Url, log);
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        var letters = (await File.ReadAllLinesAsync(options.DeadLetterPath)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, letters.Count);
        var notJsonOffset = Encoding.UTF8.GetByteCount(Lines(0, 2));
        Assert.Equal(log, letters[0].GetProperty("path").GetString());
        Assert.Equal(notJsonOffset, letters[0].GetProperty("offset").GetInt64());
        Assert.Equal("invalid_json", letters[0].GetProperty("reason").GetString());
        Assert.Equal(notJsonOffset + 9, letters[1].GetProperty("offset").GetInt64());
        Assert.Equal("invalid_ts", letters[1].GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(letters[1].GetProperty("detail").GetString()));
        // The rejected lines did not stop the ones after them.
        Assert.Equal(6, server.Service.AllLines().Count());
    }

    [Fact]
    public async Task BearerToken_Configured_SentAsAuthorizationHeader()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 3));
        var options = Options(_dir, server.Url, log);
        options.BearerToken = "s3cret-token";
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        Assert.All(server.Service.AuthorizationHeaders, h => Assert.Equal("Bearer s3cret-token", h));
    }

    [Fact]
    public async Task TraceContext_ListenerActive_EachBatchCarriesItsOwnTraceparent()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ShipperTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 120));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        var parents = server.Service.Received.Select(r => r.Batch.TraceContext["traceparent"]).ToList();
        Assert.True(parents.Count >= 3);
        Assert.All(parents, p => Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", p));
        // Each batch is the root of its own trace.
        Assert.Equal(parents.Count, parents.Select(p => p.Split('-')[1]).Distinct().Count());
    }

    [Fact]
    public async Task Drain_OnStop_WaitsForBatchesInFlightToBeAcknowledged()
    {
        var service = new FakeLogIngest { AckGate = new SemaphoreSlim(0) };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 40));
        var options = Options(_dir, server.Url, log);
        options.MaxLines = 10;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();
        await service.WaitForBatchesAsync(4, Guard());

        var stop = runner.StopAsync();
        service.AckGate.Release(4);
        await stop;

        var checkpoint = JsonDocument.Parse(await File.ReadAllTextAsync(runner.CheckpointFilePath)).RootElement.GetProperty("files");
        var entry = Assert.Single(checkpoint.EnumerateObject()).Value;
        Assert.Equal((long)service.Received[3].Batch.EndOffset, entry.GetProperty("offset").GetInt64());
    }

    [Fact]
    public void Constructor_BadOptions_ListsEveryProblem()
    {
        var options = new ShipperOptions { Sources = [new SourceOptions { Tenant = "Bad Tenant", Path = "" }], MaxLines = 0 };

        var ex = Assert.Throws<OptionsValidationException>(() => new ShipperRunner(options));

        Assert.Contains(ex.Failures, f => f.Contains("ServiceUrl", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Tenant", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Path", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("CheckpointDirectory", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("MaxLines", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ParseLinesOff_ByDefault_LinesCarryOnlyTheSourceTenant()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 100));
        var options = Options(_dir, server.Url, log);
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        var lines = server.Service.AllLines().ToList();
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), lines);
        Assert.All(lines, l => Assert.Equal(new ParsedEntry { Tenant = Tenant }, l.Parsed));
    }
}
