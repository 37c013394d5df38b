using KivaSync.SyncService.State;
using StackExchange.Redis;

namespace KivaSync.SyncService.Sync;

/// <summary>
/// Keeps the leases of contacts a worker claimed while it works on them: renews them every third of the lease, so a
/// sync slower than the lease (AC's Retry-After, retries, a long queue of events, a bulk import AC takes minutes on)
/// is never taken over by another replica while this one is alive. When a lease is lost anyway (this replica could
/// not reach Redis for a whole lease, or its clock ran behind), <see cref="Token"/> is cancelled so the work stops
/// before it sends more. Dispose it before the writes that end the claim, and pass them <see cref="UntilMs"/>.
/// </summary>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly StateStore store;
    private readonly TimeProvider time;
    private readonly string tenant;
    private readonly IReadOnlyList<string> members;
    private readonly TimeSpan lease;
    private readonly CancellationTokenSource work;
    private readonly CancellationTokenSource stop = new();
    private readonly Task renewing;
    private long until;
    private int lost;
    private int disposed;

    /// <param name="untilMs">The deadline the contacts were claimed with (<see cref="StateStore.LeaseUntil"/>).</param>
    /// <param name="ct">The worker's own token (shutdown): <see cref="Token"/> is cancelled with it too.</param>
    public LeaseKeeper(StateStore store, TimeProvider time, string tenant, IReadOnlyList<string> members, long untilMs, TimeSpan lease, CancellationToken ct)
    {
        this.store = store;
        this.time = time;
        this.tenant = tenant;
        this.members = members;
        this.lease = lease;
        until = untilMs;
        work = CancellationTokenSource.CreateLinkedTokenSource(ct);
        renewing = RenewAsync();
    }

    /// <summary>The lease deadline the contacts are held with now: the fencing token of the writes that end the claim.</summary>
    public long UntilMs => Interlocked.Read(ref until);

    /// <summary>Cancelled when the worker stops or a lease was lost.</summary>
    public CancellationToken Token => work.Token;

    /// <summary>True once a lease was found lost (another replica may hold the contacts now).</summary>
    public bool Lost => Volatile.Read(ref lost) == 1;

    /// <summary>Stops renewing (and waits for a renewal under way, so <see cref="UntilMs"/> is what Redis has). Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await stop.CancelAsync();
        await renewing;
        stop.Dispose();
        work.Dispose();
    }

    private async Task RenewAsync()
    {
        // A third of the lease (at least 100 ms, whatever the configuration says): two renewals may fail before it runs out.
        var every = TimeSpan.FromMilliseconds(Math.Max(lease.TotalMilliseconds / 3, 100));
        while (true)
        {
            try
            {
                await Task.Delay(every, time, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // Never earlier than the deadline held: a renewal only ever extends.
            var next = Math.Max(StateStore.LeaseUntil(time.GetUtcNow().ToUnixTimeMilliseconds(), lease), UntilMs);
            try
            {
                if (!await store.RenewAsync(tenant, members, UntilMs, next))
                {
                    await LoseAsync();
                    return;
                }

                Interlocked.Exchange(ref until, next);
            }
            catch (Exception e) when (e is RedisException or RedisTimeoutException)
            {
                // Redis unreachable: keep trying while the lease lasts; past it, another replica may hold the contacts.
                if (time.GetUtcNow().ToUnixTimeMilliseconds() >= UntilMs)
                {
                    await LoseAsync();
                    return;
                }
            }
        }
    }

    private async Task LoseAsync()
    {
        Volatile.Write(ref lost, 1);
        await work.CancelAsync();
    }
}
