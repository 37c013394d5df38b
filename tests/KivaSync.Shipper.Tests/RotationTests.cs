using System.IO.Compression;
using System.Text;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests;

public sealed class RotationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Starts the shipper on its one file, waits until all of it is shipped and returns that file's fingerprint.</summary>
    private static async Task<string> StartAndShipAsync(ShipperRunner runner, string log)
    {
        await runner.StartAsync();
        await runner.WaitForFileShippedAsync(log, Guard());
        return Assert.Single(runner.GetStatus().Files).Fingerprint;
    }

    [Fact]
    public async Task RenameRotation_WriterFinishesOldFile_BothFilesShippedExactlyOnce()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        var rotated = _dir.File("system.log.1");
        Append(log, Lines(0, 100, "a"));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, _dir.File("system.log*")));
        var oldFingerprint = await StartAndShipAsync(runner, log);

        File.Move(log, rotated);
        // The writer still holds the renamed file for a moment, then opens a new one.
        Append(rotated, Lines(100, 20, "a"));
        Append(log, Lines(0, 50, "b"));
        await runner.WaitForFileShippedAsync(rotated, Guard());
        await runner.WaitForFileShippedAsync(log, Guard());

        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(rotated)), server.Service.LinesOf(oldFingerprint));
        var newFingerprint = runner.GetStatus().Files.Single(f => f.Path == log).Fingerprint;
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.LinesOf(newFingerprint));
        Assert.Contains(server.Service.Received, r => r.Batch.Source.Fingerprint == oldFingerprint && r.Batch.Source.Path == rotated);
    }

    [Fact]
    public async Task RenameRotation_OutsideThePattern_OldFileReadToItsEndThenLetGo()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        var rotated = _dir.File("system.log.1");
        Append(log, Lines(0, 60, "a"));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        var oldFingerprint = await StartAndShipAsync(runner, log);

        File.Move(log, rotated);
        // The last line has no "\n": it is sent once the file is let go.
        Append(rotated, Lines(60, 10, "a") + EntryLine(70, "a"));
        Append(log, Lines(0, 30, "b"));
        while (runner.GetCheckpoint(oldFingerprint) is not { Complete: true })
        {
            await Task.Delay(20, Guard());
        }

        await runner.WaitForFileShippedAsync(log, Guard());

        var rotatedContent = await File.ReadAllBytesAsync(rotated);
        Assert.Equal(rotatedContent.Length, runner.GetCheckpoint(oldFingerprint)!.Offset);
        var expected = ExpectedLines(rotatedContent);
        var lastStart = expected[^1].Offset + expected[^1].Length;
        expected.Add(new ExpectedLine(lastStart, (int)(rotatedContent.Length - lastStart), rotatedContent[(int)lastStart..]));
        AssertExactlyOnce(expected, server.Service.LinesOf(oldFingerprint));
        Assert.DoesNotContain(runner.GetStatus().Files, f => f.Fingerprint == oldFingerprint);
    }

    [Fact]
    public async Task CopyTruncate_LinesAppendedBeforeTheCopy_ComeFromTheCopyExactlyOnce()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        var copy = _dir.File("system.log.1");
        Append(log, Lines(0, 100, "a"));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, _dir.File("system.log*")));
        var oldFingerprint = await StartAndShipAsync(runner, log);

        Append(log, Lines(100, 200, "a"));
        File.Copy(log, copy);
        TruncateInPlace(log);

        Append(log, Lines(0, 30, "b"));
        await runner.WaitForFileShippedAsync(copy, Guard());
        await runner.WaitForFileShippedAsync(log, Guard());

        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(copy)), server.Service.LinesOf(oldFingerprint));
        var newFingerprint = runner.GetStatus().Files.Single(f => f.Path == log).Fingerprint;
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.LinesOf(newFingerprint));
    }

    [Fact]
    public async Task CopyTruncate_TruncatedAndRegrownBetweenTheIdentityCheckAndTheRead_RestComesFromTheCopyExactlyOnce()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        var copy = _dir.File("system.log.1");
        Append(log, Lines(0, 50, "a"));
        WriterOnNextRead? original = null;
        // The first handle of system.log (the file that gets copied and truncated) lets the test act as the writer.
        await using var runner = new ShipperRunner(
            Options(_dir, server.Url, _dir.File("system.log*")),
            new OpeningFileSystem(path => original is null && path == log
                ? original = new WriterOnNextRead(PlainFileSource.Open(path))
                : PlainFileSource.Open(path)));
        var oldFingerprint = await StartAndShipAsync(runner, log);

        // A slow scheduler: the shipper has checked the file's first bytes and is about to read at its offset when
        // the writer finishes the old file, logrotate copies and truncates it, and new lines grow past that offset.
        var acted = original!.ArmForNextRead(() =>
        {
            Append(log, Lines(50, 250, "a"));
            File.Copy(log, copy);
            TruncateInPlace(log);

            Append(log, Lines(0, 200, "b"));
        });
        await acted.WaitAsync(Guard());
        await runner.WaitForFileShippedAsync(copy, Guard());
        await runner.WaitForFileShippedAsync(log, Guard());

        // Under the old identity: exactly the copy's lines, none of the new content read at the old offsets.
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(copy)), server.Service.LinesOf(oldFingerprint));
        var newFingerprint = runner.GetStatus().Files.Single(f => f.Path == log).Fingerprint;
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.LinesOf(newFingerprint));
    }

    [Fact]
    public async Task TruncationInPlace_NewContent_ShippedAsANewFileFromZero()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 50, "a"));
        var original = await File.ReadAllBytesAsync(log);
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        var oldFingerprint = await StartAndShipAsync(runner, log);

        TruncateInPlace(log);

        Append(log, Lines(0, 10, "b"));
        await runner.WaitForFileShippedAsync(log, Guard());

        AssertExactlyOnce(ExpectedLines(original), server.Service.LinesOf(oldFingerprint));
        // The old identity may still be waiting for a rotated copy; the new content is another file.
        var newFingerprint = runner.GetStatus().Files.Single(f => f.Path == log && f.Fingerprint != oldFingerprint).Fingerprint;
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.LinesOf(newFingerprint));
    }

    [Fact]
    public async Task TruncatedAndRegrownPastTheOffsetBeforeTheShipperLooks_NewContentIsANewFileNeverAContinuation()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 50, "a"));
        var original = await File.ReadAllBytesAsync(log);
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        var oldFingerprint = await StartAndShipAsync(runner, log);

        // Rewritten from its start with longer, different content in one write: the length never drops below
        // the shipper's offset, so only the first bytes show that this is no longer the file it was reading.
        var rewritten = Encoding.UTF8.GetBytes(Lines(0, 80, "b"));
        Assert.True(rewritten.Length > original.Length);
        using (var overwrite = new FileStream(log, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            overwrite.Write(rewritten);
        }

        await runner.WaitForFileShippedAsync(log, Guard());

        // Nothing of the new content went out under the old file's identity, and the new file was shipped whole.
        AssertExactlyOnce(ExpectedLines(original), server.Service.LinesOf(oldFingerprint));
        var newFingerprint = runner.GetStatus().Files.Single(f => f.Path == log && f.Fingerprint != oldFingerprint).Fingerprint;
        AssertExactlyOnce(ExpectedLines(rewritten), server.Service.LinesOf(newFingerprint));
    }

    [Fact]
    public async Task Deletion_WhileLinesAreUnsent_DeletedFileStillReadToItsEnd()
    {
        var service = new FakeLogIngest { AckGate = new SemaphoreSlim(0) };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 200, "a"));
        var content = await File.ReadAllBytesAsync(log);
        var options = Options(_dir, server.Url, log);
        options.MaxInFlightBatches = 1;
        options.MaxLines = 10;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();
        await service.WaitForBatchesAsync(1, Guard());
        var fingerprint = Assert.Single(runner.GetStatus().Files).Fingerprint;

        File.Delete(log);
        service.AckGate.Release(1000);
        while (runner.GetCheckpoint(fingerprint) is not { Complete: true })
        {
            await Task.Delay(20, Guard());
        }

        Assert.Equal(content.Length, runner.GetCheckpoint(fingerprint)!.Offset);
        AssertExactlyOnce(ExpectedLines(content), service.LinesOf(fingerprint));
    }

    [Fact]
    public async Task GzipArchive_WithOverlappingLiveFile_ReadOnceAndNotAgainAfterRestart()
    {
        await using var server = await FakeIngestServer.StartAsync();
        Directory.CreateDirectory(_dir.File("archive"));
        var archive = _dir.File("archive/system.log.3.gz");
        // The archive's last line has no "\n": an archive is final, so it is still a line.
        var archived = Lines(0, 150, "a") + "\n" + EntryLine(150, "a");
        await using (var gz = new GZipStream(File.Create(archive), CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes(archived));
        }

        var log = _dir.File("system.log");
        Append(log, Lines(100, 80, "a"));
        var options = Options(_dir, server.Url, log);
        options.Sources.Add(new SourceOptions { Tenant = Tenant, Path = _dir.File("archive/*.gz") });
        await using (var runner = new ShipperRunner(options))
        {
            await runner.StartAsync();
            await runner.WaitForFileShippedAsync(archive, Guard());
            await runner.WaitForFileShippedAsync(log, Guard());
            Assert.DoesNotContain(runner.GetStatus().Files, f => f.Path == archive);
        }

        var bytes = Encoding.UTF8.GetBytes(archived);
        var expected = ExpectedLines(bytes);
        var lastStart = bytes.Length - Encoding.UTF8.GetByteCount(EntryLine(150, "a"));
        expected.Add(new ExpectedLine(lastStart, bytes.Length - lastStart, bytes[lastStart..]));
        var archiveFingerprint = server.Service.Received.First(r => r.Batch.Source.Path == archive).Batch.Source.Fingerprint;
        AssertExactlyOnce(expected, server.Service.LinesOf(archiveFingerprint));

        var before = server.Service.Received.Count;
        Append(log, Lines(180, 5, "a"));
        await using (var runner = new ShipperRunner(options))
        {
            await runner.StartAsync();
            await runner.WaitForFileShippedAsync(log, Guard());
            Assert.DoesNotContain(runner.GetStatus().Files, f => f.Path == archive);
        }

        Assert.DoesNotContain(server.Service.Received.Skip(before), r => r.Batch.Source.Path == archive);
    }

    [Fact]
    public async Task RotatedThenCompressed_AlreadyShippedFile_NotShippedAgainFromItsGz()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 80, "a"));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, _dir.File("system.log*")));
        await runner.StartAsync();
        await runner.WaitForFileShippedAsync(log, Guard());
        var fingerprint = Assert.Single(runner.GetStatus().Files).Fingerprint;

        var content = await File.ReadAllBytesAsync(log);
        await using (var gz = new GZipStream(File.Create(_dir.File("system.log.1.gz")), CompressionLevel.Fastest))
        {
            gz.Write(content);
        }

        File.Delete(log);
        while (runner.GetCheckpoint(fingerprint) is not { Complete: true })
        {
            await Task.Delay(20, Guard());
        }

        Append(log, Lines(0, 20, "b"));
        await runner.WaitForFileShippedAsync(log, Guard());

        Assert.DoesNotContain(runner.GetStatus().Files, f => f.Path.EndsWith(".gz", StringComparison.Ordinal));
        AssertExactlyOnce(ExpectedLines(content), server.Service.LinesOf(fingerprint));
    }

    [Fact]
    public async Task StartAtEnd_ExistingFile_OnlyLinesWrittenAfterStartAreShipped()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 50));
        var startLength = new FileInfo(log).Length;
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log, StartPosition.End));
        await runner.StartAsync();
        while (runner.GetStatus().Files.Count == 0)
        {
            await Task.Delay(20, Guard());
        }

        Append(log, Lines(50, 10));
        await runner.WaitForFileShippedAsync(log, Guard());

        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log), startLength), server.Service.AllLines());
    }

    [Fact]
    public async Task ShortFile_BelowFingerprintSize_WaitsThenShipsFromItsStart()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var shortLog = _dir.File("a.log");
        var longLog = _dir.File("b.log");
        Append(shortLog, "{\"ts\":\"2024-06-03T14:22:05Z\"}\n");
        Append(longLog, Lines(0, 20, "b"));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, _dir.File("*.log")));
        await runner.StartAsync();
        await runner.WaitForFileShippedAsync(longLog, Guard());
        Assert.Single(runner.GetStatus().Files);

        Append(shortLog, Lines(0, 5, "a"));
        await runner.WaitForFileShippedAsync(shortLog, Guard());

        var fingerprint = runner.GetStatus().Files.Single(f => f.Path == shortLog).Fingerprint;
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(shortLog)), server.Service.LinesOf(fingerprint));
    }

    [Fact]
    public async Task Sources_TwoTenants_EachBatchCarriesItsSourcesTenant()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var first = _dir.File("greenleaf.log");
        var second = _dir.File("harvest.log");
        Append(first, Lines(0, 10, "g"));
        Append(second, Lines(0, 10, "h"));
        var options = Options(_dir, server.Url, first);
        options.Sources.Add(new SourceOptions { Tenant = "harvest", Path = second });
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(first, Guard());
        await runner.WaitForFileShippedAsync(second, Guard());

        Assert.All(server.Service.Received, r => Assert.Equal(r.Batch.Source.Path == first ? Tenant : "harvest", r.Batch.Source.Tenant));
        Assert.All(server.Service.Received.Where(r => r.Batch.Source.Path == second).SelectMany(r => r.Batch.Lines), l => Assert.Equal("harvest", l.Parsed.Tenant));
    }

    [Fact]
    public async Task GzipArchive_StillBeingWritten_NotReadUntilSettledThenReadWhole()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var archived = Encoding.UTF8.GetBytes(Lines(0, 3000, "a"));
        using var compressed = new MemoryStream();
        await using (var gz = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(archived);
        }

        var archive = _dir.File("system.log.2.gz");
        var whole = compressed.ToArray();
        // Half of it, as logrotate leaves it mid-compression: it decompresses to a clean, early end.
        await File.WriteAllBytesAsync(archive, whole[..(whole.Length / 2)]);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 10, "b"));
        var options = Options(_dir, server.Url, _dir.File("system.log*"));
        options.RotatedFileWait = TimeSpan.FromHours(1);
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();
        await runner.WaitForFileShippedAsync(log, Guard());
        Assert.DoesNotContain(runner.GetStatus().Files, f => f.Path == archive);

        await File.WriteAllBytesAsync(archive, whole);
        File.SetLastWriteTimeUtc(archive, DateTime.UtcNow - TimeSpan.FromHours(2));
        await runner.WaitForFileShippedAsync(archive, Guard());

        var fingerprint = server.Service.Received.First(r => r.Batch.Source.Path == archive).Batch.Source.Fingerprint;
        AssertExactlyOnce(ExpectedLines(archived), server.Service.LinesOf(fingerprint));
    }

    [Fact]
    public async Task TruncationInPlace_RewrittenWithTheSameFirstBytes_NewContentShippedFromZero()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        // Every file of this writer starts with the same line, longer than the fingerprint.
        var banner = "{\"ts\":\"2024-06-03T00:00:00Z\",\"msg\":\"log opened by the Kiva web tier, version 1\"}\n";
        Append(log, banner + Lines(0, 50, "a"));
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log));
        await runner.StartAsync();
        await runner.WaitForFileShippedAsync(log, Guard());

        TruncateInPlace(log);

        Append(log, banner + Lines(0, 5, "b"));
        var before = server.Service.Received.Count;
        var fingerprint = Assert.Single(runner.GetStatus().Files).Fingerprint;
        while (server.Service.Received.Skip(before).SelectMany(r => r.Batch.Lines).Count() < 6)
        {
            await Task.Delay(20, Guard());
        }

        var content = await File.ReadAllBytesAsync(log);
        AssertExactlyOnce(ExpectedLines(content), server.Service.Received.Skip(before).SelectMany(r => r.Batch.Lines));
        // The checkpoint went back to the new content's end, so a restart resumes there, not past it.
        while (runner.GetCheckpoint(fingerprint)?.Offset != content.Length)
        {
            await Task.Delay(20, Guard());
        }
    }
    [Fact]
    public async Task TruncationInPlace_RewrittenWithTheSameFirstBytesWhileBatchesAreUnacknowledged_CheckpointIsTheNewContents()
    {
        var service = new FakeLogIngest { AckGate = new SemaphoreSlim(0) };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        var banner = "{\"ts\":\"2024-06-03T00:00:00Z\",\"msg\":\"log opened by the Kiva web tier, version 1\"}\n";
        Append(log, banner + Lines(0, 50, "a"));
        var options = Options(_dir, server.Url, log);
        options.MaxLines = 10;
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();
        // The window is full of batches of the old content, none acknowledged yet.
        await service.WaitForBatchesAsync(options.MaxInFlightBatches, Guard());
        var fingerprint = Assert.Single(runner.GetStatus().Files).Fingerprint;

        TruncateInPlace(log);

        Append(log, banner + Lines(0, 5, "b"));
        var content = await File.ReadAllBytesAsync(log);
        // The new content is a new file from 0 under the same fingerprint; only then are the old batches acknowledged.
        while (runner.GetStatus().Files is not [{ ReadOffset: 0 }])
        {
            await Task.Delay(20, Guard());
        }

        var before = service.Received.Count;
        service.AckGate.Release(1000);
        while (runner.GetStatus().Files is not [{ AckedOffset: var acked }] || acked != content.Length)
        {
            await Task.Delay(20, Guard());
        }

        await runner.StopAsync();

        // The old file's late acknowledgements did not move the checkpoint past the new content's end (a restart would
        // skip lines of the next content up to there); the new content went out exactly once.
        Assert.Equal(content.Length, runner.GetCheckpoint(fingerprint)!.Offset);
        AssertExactlyOnce(ExpectedLines(content), service.Received.Skip(before).SelectMany(r => r.Batch.Lines));
    }

    /// <summary>
    /// A real file handle through which the test acts as the file's writer at one exact moment: just before the
    /// shipper's next read, after it has checked the file's identity.
    /// </summary>
    /// <summary>The real file system, plain files opened by <paramref name="openPlain"/>.</summary>
    private sealed class OpeningFileSystem(Func<string, IByteSource> openPlain) : IShipperFileSystem
    {
        private readonly PhysicalFileSystem _real = new();

        public IReadOnlyList<string> Expand(string pattern) => _real.Expand(pattern);

        public FileStat? Stat(string path) => _real.Stat(path);

        public string? Fingerprint(string path, int bytes) => _real.Fingerprint(path, bytes);

        public IByteSource OpenPlain(string path) => openPlain(path);

        public IByteSource OpenArchive(string path) => _real.OpenArchive(path);
    }

    private sealed class WriterOnNextRead(PlainFileSource inner) : IByteSource
    {
        private readonly TaskCompletionSource _acted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Action? _writer;

        public bool IsArchive => false;

        public long? Length => inner.Length;

        public Task ArmForNextRead(Action writer)
        {
            Volatile.Write(ref _writer, writer);
            return _acted.Task;
        }

        public int Read(Span<byte> buffer, long offset)
        {
            if (Interlocked.Exchange(ref _writer, null) is { } writer)
            {
                writer();
                _acted.TrySetResult();
            }

            return inner.Read(buffer, offset);
        }

        public string? CurrentFingerprint(int bytes) => inner.CurrentFingerprint(bytes);

        public void Dispose() => inner.Dispose();
    }
}

