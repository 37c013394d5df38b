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
}
