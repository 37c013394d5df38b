namespace KivaSync.Shipper.Tests;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Flush_ThenReload_RestoresOffsetsAndLeavesNoTempFile()
    {
        var store = new CheckpointStore(_dir.Path, TimeProvider.System);
        store.Advance("aa", "/log/a", "greenleaf", 100);
        store.MarkComplete("bb", "/log/b.gz", "greenleaf", 2048);

        store.Flush();

        var reloaded = new CheckpointStore(_dir.Path, TimeProvider.System);
        Assert.Equal(100, reloaded.Get("aa")!.Offset);
        Assert.False(reloaded.Get("aa")!.Complete);
        Assert.True(reloaded.Get("bb")!.Complete);
        Assert.Equal(2048, reloaded.GetPersisted("bb")!.Offset);
        Assert.False(File.Exists(store.FilePath + ".tmp"));
    }

    [Fact]
    public void Advance_ToALowerOffset_NeverMovesBack()
    {
        var store = new CheckpointStore(_dir.Path, TimeProvider.System);
        store.Advance("aa", "/log/a", "greenleaf", 500);

        store.Advance("aa", "/log/a", "greenleaf", 200);

        Assert.Equal(500, store.Get("aa")!.Offset);
    }

    [Fact]
    public void Advance_UnderTheGenerationARestartReplaced_Ignored()
    {
        var store = new CheckpointStore(_dir.Path, TimeProvider.System);
        var old = store.Generation("aa");
        store.Advance("aa", "/log/a", "greenleaf", 100, old);

        // Rewritten with the same first bytes: the new content starts at 0, and the old reader's late acks do not count.
        store.Restart("aa", "/log/a", "greenleaf");
        store.Advance("aa", "/log/a", "greenleaf", 900, old);
        Assert.Equal(0, store.Get("aa")!.Offset);

        store.Advance("aa", "/log/a", "greenleaf", 40, store.Generation("aa"));
        Assert.Equal(40, store.Get("aa")!.Offset);
    }

    [Fact]
    public void GetPersisted_BeforeFlush_IsTheOldValue()
    {
        var store = new CheckpointStore(_dir.Path, TimeProvider.System);
        store.Advance("aa", "/log/a", "greenleaf", 10);
        store.Flush();
        var changed = store.PersistedChanged;

        store.Advance("aa", "/log/a", "greenleaf", 20);

        Assert.Equal(10, store.GetPersisted("aa")!.Offset);
        Assert.False(changed.IsCompleted);
        store.Flush();
        Assert.Equal(20, store.GetPersisted("aa")!.Offset);
        Assert.True(changed.IsCompleted);
    }

    [Fact]
    public void Flush_CompleteEntryOlderThanRetention_IsDroppedButLiveEntryKept()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new CheckpointStore(_dir.Path, time, TimeSpan.FromDays(7));
        store.MarkComplete("old", "/log/a.1", "greenleaf", 100);
        store.Advance("live", "/log/a", "greenleaf", 50);
        store.Flush();
        time.Now += TimeSpan.FromDays(8);

        store.Advance("live", "/log/a", "greenleaf", 60);
        store.Flush();

        var reloaded = new CheckpointStore(_dir.Path, time);
        Assert.Null(reloaded.Get("old"));
        Assert.Equal(60, reloaded.Get("live")!.Offset);
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
