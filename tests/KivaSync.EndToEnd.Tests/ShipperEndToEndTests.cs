using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Text;
using KivaSync.Demo;
using KivaSync.SampleLog;
using KivaSync.Shipper;
using KivaSync.SyncService.State;
using KivaSync.Testing.Oracle;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.EndToEnd.Tests;

/// <summary>
/// The shipper on real files against the real sync service on real Redis, through rotation, truncation,
/// crashes and outages. Each test ends with the service's counts of accepted entries and rejected lines,
/// which must equal the contract oracle's for the whole log: nothing lost, nothing applied twice.
/// </summary>
public sealed class ShipperEndToEndTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private static readonly TimeSpan ShipTimeout = TimeSpan.FromSeconds(60);
    private readonly string workDir = Path.Combine(Path.GetTempPath(), "kivasync-shipper-e2e-" + Guid.NewGuid().ToString("N")[..10]);

    private string LogPath => Path.Combine(workDir, "logs", "system.log");

    private string StateDir => Path.Combine(workDir, "state");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(workDir, "logs"));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(workDir, recursive: true);
        return Task.CompletedTask;
    }

    // Ingest only: these tests check what reached the service, so contacts are not sent to AC.
    private static Task<DemoEnvironment> StartIngestOnlyAsync() =>
        DemoEnvironment.StartAsync(new DemoSettings(Tenant, RedisUrl: null, RealAccount: null, RequestsPerSecond: 60),
            [KeyValuePair.Create<string, string?>("KivaSync:Sync:Enabled", "false")]);

    private static List<byte[]> GenerateLines(int seed, int customers = 60, int weeks = 12) =>
        SampleLogGenerator.GenerateLines(new SampleLogOptions { Seed = seed, Customers = customers, Leads = 20, Weeks = weeks })
            .Select(Encoding.UTF8.GetBytes).ToList();

    /// <summary>What the service must hold after every line was shipped, as the shipper sends them (invalid UTF-8 replaced).</summary>
    private static ExpectedAccount Expect(IEnumerable<byte[]> lines) =>
        ContractOracle.Compute(lines.Select(l => Encoding.UTF8.GetString(l)), Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));

    private static void Append(string path, IEnumerable<byte[]> lines)
    {
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        foreach (var line in lines)
        {
            file.Write(line);
            file.WriteByte((byte)'\n');
        }
    }

    /// <summary>Appends the lines in <paramref name="chunks"/> pieces, a little apart, as a live log grows.</summary>
    private static async Task AppendProgressivelyAsync(string path, IReadOnlyList<byte[]> lines, int chunks, int delayMs = 40)
    {
        var size = Math.Max(1, (lines.Count + chunks - 1) / chunks);
        for (var i = 0; i < lines.Count; i += size)
        {
            Append(path, lines.Skip(i).Take(size));
            await Task.Delay(delayMs);
        }
    }

    private ShipperRunner CreateShipper(DemoEnvironment environment, string sourcePath, IMeterFactory? meterFactory = null)
    {
        var options = environment.ShipperOptionsFor(sourcePath, StateDir);
        options.MaxLines = 300;
        options.PollInterval = TimeSpan.FromMilliseconds(100);
        options.ReconnectMaxDelay = TimeSpan.FromSeconds(1);
        options.DrainTimeout = TimeSpan.FromSeconds(2);
        return new ShipperRunner(options, meterFactory: meterFactory);
    }

    private static async Task AssertServiceMatchesAsync(DemoEnvironment environment, ExpectedAccount expected)
    {
        var store = environment.Service.Services.GetRequiredService<StateStore>();
        Assert.Equal(expected.AcceptedEntries, (await store.ReadMetaAsync(Tenant)).Accepted);
        var rejects = await store.ReadRejectCountsAsync(Tenant);
        Assert.Equal(expected.RejectedByReason.Where(r => r.Value > 0).OrderBy(r => r.Key, StringComparer.Ordinal),
            rejects.Where(r => r.Value > 0).Select(r => KeyValuePair.Create(r.Key, (int)r.Value)).OrderBy(r => r.Key, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Ship_RenameRotationWhileShipping_EveryLineOnceFromBothFiles(bool globCoversRotated)
    {
        var lines = GenerateLines(seed: 21);
        var expected = Expect(lines);
        var rotated = LogPath + ".1";
        var half = lines.Count / 2;
        await using var environment = await StartIngestOnlyAsync();
        await using var shipper = CreateShipper(environment, globCoversRotated ? LogPath + "*" : LogPath);
        Append(LogPath, lines.Take(50));
        await shipper.StartAsync();
        await shipper.WaitForCheckpointAsync(LogPath, 1).WaitAsync(ShipTimeout);

        // The rest of the first half is written in a burst and renamed away before it can all be read.
        Append(LogPath, lines.Skip(50).Take(half - 50));
        File.Move(LogPath, rotated);
        await AppendProgressivelyAsync(LogPath, lines.Skip(half).ToList(), chunks: 10);

        await shipper.WaitForFileShippedAsync(rotated).WaitAsync(ShipTimeout);
        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);
        await AssertServiceMatchesAsync(environment, expected);
    }

    [Fact]
    public async Task Ship_CopyAndTruncateWhileShipping_RestReadFromTheCopyEveryLineOnce()
    {
        var lines = GenerateLines(seed: 22);
        var expected = Expect(lines);
        var copy = LogPath + ".1";
        var half = lines.Count / 2;
        await using var environment = await StartIngestOnlyAsync();
        await using var shipper = CreateShipper(environment, LogPath + "*");
        Append(LogPath, lines.Take(50));
        await shipper.StartAsync();
        await shipper.WaitForCheckpointAsync(LogPath, 1).WaitAsync(ShipTimeout);

        // logrotate's copytruncate, with no line written between the copy and the truncation.
        Append(LogPath, lines.Skip(50).Take(half - 50));
        File.Copy(LogPath, copy);
        using (var truncate = new FileStream(LogPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            truncate.SetLength(0);
        }

        await AppendProgressivelyAsync(LogPath, lines.Skip(half).ToList(), chunks: 10);

        await shipper.WaitForFileShippedAsync(copy).WaitAsync(ShipTimeout);
        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);
        await AssertServiceMatchesAsync(environment, expected);
    }

    [Fact]
    public async Task Ship_FileTruncatedInPlaceAndRewritten_NewContentShippedFromItsStart()
    {
        var first = GenerateLines(seed: 23);
        var second = GenerateLines(seed: 24);
        var expected = Expect(first.Concat(second));
        await using var environment = await StartIngestOnlyAsync();
        await using var shipper = CreateShipper(environment, LogPath);
        await shipper.StartAsync();
        await AppendProgressivelyAsync(LogPath, first, chunks: 5);
        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);

        // Truncated in place (not rotated); whatever is written next is a new file at the same path.
        using (var truncate = new FileStream(LogPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            truncate.SetLength(0);
        }

        await AppendProgressivelyAsync(LogPath, second, chunks: 10);
        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);
        await AssertServiceMatchesAsync(environment, expected);
    }

    [Fact]
    public async Task Ship_ShipperProcessKilledTenTimesWhileTheLogGrows_NothingLostNothingAppliedTwice()
    {
        var lines = GenerateLines(seed: 25, customers: 120, weeks: 20);
        var expected = Expect(lines);
        await using var environment = await StartIngestOnlyAsync();
        var random = new Random(25);
        Append(LogPath, lines.Take(200));
        var parts = lines.Skip(200).Chunk((lines.Count - 200 + 10) / 11).ToList();

        var checkpoints = new List<long> { 0 };
        for (var kill = 0; kill < 10; kill++)
        {
            await using var shipper = ShipperProcess.Start(environment.ServiceAddress, Tenant, LogPath, StateDir, environment.CallerToken);
            // The log grows while this run ships; it is killed (SIGKILL) at a random point once it has made progress.
            var growing = AppendProgressivelyAsync(LogPath, kill < parts.Count ? parts[kill] : [], chunks: 5, delayMs: 100);
            var before = checkpoints[^1];
            // Killed at a seeded point of progress, not after a wall-clock delay: once the checkpoint passed a
            // seeded offset up to 64 KiB further (or caught up with the file, whichever comes first).
            var target = before + 1 + random.Next(0, 64 * 1024);
            await WaitUntilAsync(() => ShipperProcess.CheckpointOffset(StateDir) is var at && at > before && (at >= target || at == new FileInfo(LogPath).Length), ShipTimeout);
            await shipper.KillAsync();
            await growing;
            checkpoints.Add(ShipperProcess.CheckpointOffset(StateDir));
        }

        // The last part arrives after the tenth kill, for the run that is let finish.
        Append(LogPath, parts.Skip(10).SelectMany(p => p));
        var length = new FileInfo(LogPath).Length;
        await using (var last = ShipperProcess.Start(environment.ServiceAddress, Tenant, LogPath, StateDir, environment.CallerToken))
        {
            await WaitUntilAsync(() => ShipperProcess.CheckpointOffset(StateDir) == length, ShipTimeout);
        }

        await AssertServiceMatchesAsync(environment, expected);
    }

    [Fact]
    public async Task Ship_ServiceStoppedAndRestartedWhileTheLogGrows_ShipperResumesFromItsCheckpoint()
    {
        var lines = GenerateLines(seed: 26);
        var expected = Expect(lines);
        var half = lines.Count / 2;
        await using var environment = await StartIngestOnlyAsync();
        // This shipper's own meters: its reconnect attempts are the event the outage check waits for.
        await using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = meters.GetRequiredService<IMeterFactory>();
        long retries = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Name == ShipperTelemetry.Retries)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref retries, value));
        listener.Start();
        await using var shipper = CreateShipper(environment, LogPath, meterFactory);
        Append(LogPath, lines.Take(half));
        await shipper.StartAsync();
        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);
        var shippedBeforeOutage = new FileInfo(LogPath).Length;

        await environment.StopServiceAsync();
        await AppendProgressivelyAsync(LogPath, lines.Skip(half).ToList(), chunks: 10, delayMs: 200);
        // Two more failed reconnects after the last append: the shipper has tried again with every new line there.
        var retriesAfterAppend = Interlocked.Read(ref retries);
        await WaitUntilAsync(() => Interlocked.Read(ref retries) >= retriesAfterAppend + 2, ShipTimeout);
        // Nothing can be acknowledged while the service is down, so the checkpoint has not moved.
        Assert.Equal(shippedBeforeOutage, shipper.GetStatus().Files.Single().AckedOffset);
        Assert.False(shipper.GetStatus().Connected);

        await environment.StartServiceAtSameAddressAsync();
        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);
        await AssertServiceMatchesAsync(environment, expected);
    }

    [Fact]
    public async Task Ship_ConnectionsReachTheirMaximumAge_StreamsEndCleanlyAndTheShipperReconnectsLosingNothing()
    {
        var lines = GenerateLines(seed: 27);
        var expected = Expect(lines);
        await using var environment = await DemoEnvironment.StartAsync(
            new DemoSettings(Tenant, RedisUrl: null, RealAccount: null, RequestsPerSecond: 60),
            [
                KeyValuePair.Create<string, string?>("KivaSync:Sync:Enabled", "false"),
                KeyValuePair.Create<string, string?>("KivaSync:Ingest:MaxConnectionAge", "00:00:00.300"),
            ]);
        await using var shipper = CreateShipper(environment, LogPath);
        await shipper.StartAsync();
        // The log grows for a few seconds: many connections reach their age while batches are in flight.
        await AppendProgressivelyAsync(LogPath, lines, chunks: 30, delayMs: 100);
        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);

        var aged = environment.Service.Services.GetRequiredService<KivaSync.SyncService.Ingest.ConnectionAgeLimiter>().Closed;
        Assert.True(aged >= 3, $"expected connections to be closed at their age, saw {aged}");
        // A clean end at the connection's age is not a failure: no backoff, no retry counted.
        Assert.Null(shipper.GetStatus().LastError);
        await AssertServiceMatchesAsync(environment, expected);
    }

    [Fact]
    public async Task Ship_300KiBLineAndInvalidUtf8MidFile_BothCountedAndEveryLineAfterThemShipped()
    {
        var lines = GenerateLines(seed: 27);
        var middle = lines.Count / 2;
        // A valid entry made 300 KiB long by a notes member: rejected as too_long, not the file.
        var longLine = Encoding.UTF8.GetBytes("{\"notes\":\"" + new string('n', 300 * 1024) + "\"," + Encoding.UTF8.GetString(lines[middle])[1..]);
        // An entry with bytes that are not UTF-8 in a member the contract does not read: repaired, still accepted.
        var invalid = Encoding.UTF8.GetBytes("{\"note\":\"").Concat(new byte[] { 0xFF, 0xFE, 0xC3 }).Concat(Encoding.UTF8.GetBytes("\"," + Encoding.UTF8.GetString(lines[middle + 1])[1..])).ToArray();
        lines[middle] = longLine;
        lines[middle + 1] = invalid;
        var expected = Expect(lines);
        Assert.Equal(1, expected.RejectedByReason.GetValueOrDefault("too_long"));
        await using var environment = await StartIngestOnlyAsync();
        await using var shipper = CreateShipper(environment, LogPath);
        await shipper.StartAsync();
        await AppendProgressivelyAsync(LogPath, lines, chunks: 6);

        await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);
        await AssertServiceMatchesAsync(environment, expected);
    }

    [Fact]
    public async Task Ship_GzipArchivePlusOverlappingLiveFile_EveryEntryAcceptedOnce()
    {
        var lines = SampleLogGenerator.GenerateLines(new SampleLogOptions { Seed = 28, Customers = 60, Leads = 20, Weeks = 12 }).ToList();
        var expected = ContractOracle.Compute(lines, Tenant, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
        var archive = LogPath + ".1.gz";
        // The archive holds the first 60 % of the log, the live file from 40 % on: a fifth of the entries are in both.
        using (var gzip = new GZipStream(File.Create(archive), CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(string.Concat(lines.Take(lines.Count * 6 / 10).Select(l => l + "\n"))));
        }

        File.WriteAllLines(LogPath, lines.Skip(lines.Count * 4 / 10));
        await using var environment = await StartIngestOnlyAsync();
        var options = environment.ShipperOptionsFor(LogPath + "*", StateDir);
        // An archive is read once it has not been written to for this long.
        options.RotatedFileWait = TimeSpan.FromSeconds(1);
        await using (var shipper = new ShipperRunner(options))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(archive).WaitAsync(ShipTimeout);
            await shipper.WaitForFileShippedAsync(LogPath).WaitAsync(ShipTimeout);
        }

        await AssertServiceMatchesAsync(environment, expected);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"condition not met within {timeout}");
            }

            await Task.Delay(50);
        }
    }
}
