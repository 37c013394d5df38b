using System.Globalization;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using KivaSync.SystemLog;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Subscriptions;

/// <summary>
/// Sends every pending recurring payment (a subscriber whose recurring payment value changed) through
/// bulkUpsertRecurringPayments, many customers fifty to a call. Coalesced like contacts: it reads the customer's
/// state when it sends, so only the latest version goes out. A recurring payment waits until AC knows its contact
/// under the current email (AC would make a second contact from another email); live changes go at once,
/// historical ones wait while history still arrives and fill their calls. AC's refusals are set aside as dead letters
/// with AC's reason (retryable), the rest of the call is sent again at once (the client does that).
/// </summary>
public sealed class RecurringPaymentsSender(
    TenantRegistry tenants,
    RecurringPaymentStore store,
    DeadLetterStore deadLetters,
    DeepDataSetup deepData,
    AcClientFactory clients,
    AcCircuitBreakers breakers,
    IOptions<KivaSyncOptions> options,
    TimeProvider time,
    ILogger<RecurringPaymentsSender> logger) : BackgroundService
{
    /// <summary>Recurring payments read and sent per round (a few calls of fifty).</summary>
    public const int RoundSize = 500;

    private readonly string owner = Guid.NewGuid().ToString("N");

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.Sync.Enabled
            ? Task.WhenAll(tenants.TenantIds.Select(tenant => RunTenantAsync(tenant, stoppingToken)))
            : Task.CompletedTask;

    private async Task RunTenantAsync(string tenant, CancellationToken ct)
    {
        var sync = options.Value.Sync;
        var backoff = sync.RecurringPaymentsPoll;
        DateTimeOffset? partialSince = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (breakers.IsOpen(tenant, out var open))
                {
                    await Task.Delay(open < sync.RecurringPaymentsPoll ? open : sync.RecurringPaymentsPoll, time, ct);
                    continue;
                }

                var (sent, partial) = await SendRoundAsync(tenant, partialSince, ct);
                partialSince = partial ? partialSince ?? time.GetUtcNow() : null;
                backoff = sync.RecurringPaymentsPoll;
                if (sent == 0)
                {
                    await Task.Delay(sync.RecurringPaymentsPoll, time, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // AC or Redis failing: nothing was recorded as sent, so the same versions go again later.
                Log.RecurringPaymentsFailed(logger, tenant, e.Message);
                await Task.Delay(backoff, time, ct);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, sync.MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>One round: sends what is ready. Returns how many were sent and whether a partial call is being held.</summary>
    internal async Task<(int Sent, bool Holding)> SendRoundAsync(string tenant, DateTimeOffset? partialSince, CancellationToken ct)
    {
        var ids = await store.PendingAsync(tenant);
        if (ids.Count == 0)
        {
            return (0, false);
        }

        var sync = options.Value.Sync;
        if (!await store.TryLockAsync(tenant, owner, sync.Lease))
        {
            return (0, false);
        }

        try
        {
            var now = time.GetUtcNow();
            var settling = now.ToUnixTimeMilliseconds() - await store.HistoryAtAsync(tenant) < sync.BackfillSettle.TotalMilliseconds;
            var ready = new List<(string Id, RecurringPayment Rp, bool Live, long Version, string Email)>();
            var waiting = 0;
            var snapshots = await store.ReadAsync(tenant, ids);
            for (var i = 0; i < ids.Count; i++)
            {
                var snapshot = snapshots[i];
                if (snapshot is null || SubscriberSnapshot.Map(snapshot) is not { } rp)
                {
                    await store.DropAsync(tenant, ids[i]);
                    continue;
                }

                var version = Long(snapshot.Get(ContactSnapshot.Fields.RpVersion));
                if (version <= Long(snapshot.Get(ContactSnapshot.Fields.RpSentVersion)))
                {
                    await store.RecordSentAsync(tenant, ids[i], version, SubscriberSnapshot.SuppressAutomations(snapshot));
                    continue;
                }

                var live = !SubscriberSnapshot.SuppressAutomations(snapshot);
                // AC makes a contact from the email of a recurring payment: only send once AC has ours under this email.
                if (snapshot.AcId is null || !string.Equals(snapshot.AcEmail, snapshot.Email, StringComparison.OrdinalIgnoreCase) || (settling && !live))
                {
                    waiting++;
                    continue;
                }

                ready.Add((ids[i], rp, live, version, snapshot.AcEmail!));
            }

            // A backfill fills its calls: a partial call waits (at most the batch window) while more are on their way.
            var hold = ready.Count is > 0 and < AcClient.GraphQlMaxItems && waiting > 0 && !ready.Any(r => r.Live)
                && (partialSince is null || now - partialSince < sync.RecurringPaymentsBatchWindow);
            if (ready.Count == 0 || hold)
            {
                return (0, hold);
            }

            ready = [.. ready.OrderByDescending(r => r.Live).Take(RoundSize)];
            var client = clients.For(tenant);
            var (connection, _) = await deepData.EnsureConnectionAsync(tenant, client, useStored: true, ct);
            var connectionId = long.Parse(connection, CultureInfo.InvariantCulture);
            var upserts = ready.Select(r => ToUpsert(connectionId, r.Rp, r.Email, suppressAutomations: !r.Live)).ToList();
            var result = await client.BulkUpsertRecurringPaymentsAsync(upserts, ct);
            var refused = result.Refused.ToDictionary(r => r.Index);
            var wasDead = (await deadLetters.AllIdsAsync(tenant)).Where(d => d.StartsWith(RecurringPaymentStore.DeadLetterPrefix, StringComparison.Ordinal))
                .Select(d => d[RecurringPaymentStore.DeadLetterPrefix.Length..]).ToHashSet(StringComparer.Ordinal);
            for (var i = 0; i < ready.Count; i++)
            {
                var (id, _, live, version, email) = ready[i];
                if (refused.TryGetValue(i, out var no))
                {
                    Log.RecurringPaymentRefused(logger, tenant, id, no.Reason);
                    await deadLetters.AddAsync(tenant, new DeadLetterRecord(
                        RecurringPaymentStore.DeadLetterPrefix + id, RecurringPaymentStore.DeadLetterKind, RedisKeys.CustomerMember(id), email,
                        no.Reason, 1, time.GetUtcNow().ToUnixTimeMilliseconds(), id));
                    await store.DropAsync(tenant, id);
                }
                else
                {
                    await store.RecordSentAsync(tenant, id, version, !live);
                    if (wasDead.Contains(id))
                    {
                        await deadLetters.ClearAsync(tenant, RecurringPaymentStore.DeadLetterPrefix + id);
                    }
                }
            }

            return (ready.Count - refused.Count, false);
        }
        finally
        {
            await store.UnlockAsync(tenant, owner);
        }
    }

    /// <summary>The upsert: a never-logged field is left out (AC keeps it), a logged null is sent as null (AC clears it).</summary>
    public static AcRecurringPaymentUpsert ToUpsert(long connectionId, RecurringPayment rp, string email, bool suppressAutomations)
    {
        var cleared = new List<string>();
        return new AcRecurringPaymentUpsert(
            connectionId,
            rp.StoreRecurringPaymentId,
            rp.StoreCustomerId,
            email,
            Value(rp.Name, "name"),
            rp.NormalizedStatus,
            rp.StoreStatus,
            Value(rp.BillingInterval, "billingInterval"),
            Value(rp.BillingIntervalCount, "billingIntervalCount"),
            Value(rp.NextPaymentDate, "nextPaymentDate"),
            Value(rp.CancelledDate, "cancelledDate"),
            Value(rp.PaymentAmount, "paymentAmount"),
            Value(rp.Currency, "currency"),
            rp.LineItemNames.IsLogged ? rp.LineItemNames.Value : null,
            suppressAutomations)
        {
            Cleared = cleared,
        };

        T? Value<T>(Logged<T> logged, string name)
        {
            if (logged is { IsLogged: true, Value: null })
            {
                cleared.Add(name);
            }

            return logged.Value;
        }
    }

    private static long Long(string? value) => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
}
