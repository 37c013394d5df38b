using System.IO.Compression;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests.Parts;

/// <summary>File tracking alone: a temp directory, the fake clock, no gRPC.</summary>
public sealed class FileTrackerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Discover_NewFile_TrackedFromZeroUnderItsFingerprint()
    {
        var log = _dir.File("system.log");
        Append(log, Lines(0, 5));
        using var tracker = Tracker(log);

        tracker.Discover();

        var file = Assert.Single(tracker.Snapshot);
        Assert.Equal(log, file.Path);
        Assert.Equal(Fingerprint.TryCompute(log, 64), file.Fingerprint);
        Assert.Equal(0, file.SentOffset);
    }

    [Fact]
    public void Discover_StartAtEnd_FirstScanStartsAtTheLengthLaterFilesAtZero()
    {
        var log = _dir.File("a.log");
        Append(log, Lines(0, 5));
        using var tracker = Tracker(_dir.File("*.log"), StartPosition.End);

        tracker.Discover();
        var later = _dir.File("b.log");
        Append(later, Lines(5, 5));
        tracker.Discover();

        Assert.Equal(new FileInfo(log).Length, tracker.Snapshot.Single(f => f.Path == log).SentOffset);
        Assert.Equal(0, tracker.Snapshot.Single(f => f.Path == later).SentOffset);
    }

    [Fact]
    public void Discover_TruncatedWithoutCopy_DetachedThenLetGoAfterRotatedFileWait()
    {
        var log = _dir.File("system.log");
        Append(log, Lines(0, 5, "a"));
        using var tracker = Tracker(log);
        tracker.Discover();
        var old = tracker.Snapshot.Single().Fingerprint;

        TruncateInPlace(log);
        tracker.Discover();
        Assert.Null(tracker.Snapshot.Single(f => f.Fingerprint == old).Bytes);

        _time.Advance(TimeSpan.FromSeconds(9));
        tracker.Discover();
        Assert.Contains(tracker.Snapshot, f => f.Fingerprint == old);

        _time.Advance(TimeSpan.FromSeconds(1));
        tracker.Discover();
        Assert.DoesNotContain(tracker.Snapshot, f => f.Fingerprint == old);
    }

    [Fact]
    public void Discover_CopyOfATruncatedFile_ReadOnFromTheCopyAtTheSameOffsets()
    {
        var log = _dir.File("system.log");
        var copy = _dir.File("system.log.1");
        Append(log, Lines(0, 5, "a"));
        using var tracker = Tracker(_dir.File("system.log*"));
        tracker.Discover();
        var file = tracker.Snapshot.Single();
        var batch = file.TryBuildBatch(new BatchLimits(2, 64 * 1024, TimeSpan.Zero), _time.GetUtcNow(), new ShipperMetrics());
        batch!.Release();
        var sent = file.SentOffset;

        Append(log, Lines(5, 5, "a"));
        File.Copy(log, copy);
        TruncateInPlace(log);
        tracker.Discover();

        Assert.Same(file, tracker.Snapshot.Single(f => f.Fingerprint == file.Fingerprint));
        Assert.Equal(copy, file.Path);
        Assert.NotNull(file.Bytes);
        Assert.Equal(sent, file.SentOffset);
    }

    [Fact]
    public void Discover_ArchiveStillBeingWritten_WaitsUntilItIsQuietForRotatedFileWait()
    {
        var archive = _dir.File("system.log.1.gz");
        using (var gzip = new GZipStream(File.Create(archive), CompressionLevel.Fastest))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(Lines(0, 5)));
        }

        // Written "now" on the fake clock (the file system's own clock is coarser than the fake one's start).
        var written = _time.GetUtcNow().AddMinutes(1);
        File.SetLastWriteTimeUtc(archive, written.UtcDateTime);
        _time.SetUtcNow(written);
        using var tracker = Tracker(_dir.File("system.log*"));

        tracker.Discover();
        Assert.Empty(tracker.Snapshot);

        _time.Advance(TimeSpan.FromSeconds(10));
        tracker.Discover();
        Assert.True(Assert.Single(tracker.Snapshot).IsArchive);
    }

    [Fact]
    public void Discover_CompleteCheckpoint_FileNotTrackedAgain()
    {
        var log = _dir.File("system.log");
        Append(log, Lines(0, 5));
        var checkpoints = new CheckpointStore(_dir.File("state"), _time);
        checkpoints.MarkComplete(Fingerprint.TryCompute(log, 64)!, log, Tenant, new FileInfo(log).Length);
        using var tracker = Tracker(log, checkpoints: checkpoints);

        tracker.Discover();

        Assert.Empty(tracker.Snapshot);
    }

    private FileTracker Tracker(string pattern, StartPosition startAt = StartPosition.Beginning, CheckpointStore? checkpoints = null)
    {
        var options = Options(_dir, new Uri("http://127.0.0.1:1"), pattern, startAt);
        options.RotatedFileWait = TimeSpan.FromSeconds(10);
        return new FileTracker(options, checkpoints ?? new CheckpointStore(options.CheckpointDirectory, _time), new PhysicalFileSystem(), _time, NullLogger<FileTracker>.Instance);
    }
}
