using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.TestSync;

/// <summary>Bounds the TestSync calls one replica runs at once (each holds a log's entries in memory while it runs).</summary>
public sealed class TestSyncAdmission(IOptions<KivaSyncOptions> options) : IDisposable
{
    private readonly SemaphoreSlim slots = new(options.Value.Api.MaxConcurrentTestSyncs, options.Value.Api.MaxConcurrentTestSyncs);

    /// <summary>A slot to dispose when the call ends, or null when every slot is taken (refuse at once, never queue).</summary>
    public IDisposable? TryEnter() => slots.Wait(0) ? new Slot(slots) : null;

    /// <inheritdoc />
    public void Dispose() => slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
