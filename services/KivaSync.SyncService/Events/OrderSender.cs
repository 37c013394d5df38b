using System.Net;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Telemetry;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace KivaSync.SyncService.Events;

/// <summary>
/// Writes each tenant's queued orders through AC's Ecommerce GraphQL API (bulkUpsertOrdersAsync), many customers'
/// orders fifty to a call. Live orders go once they waited <see cref="SyncWorkerOptions.OrderBatchWindow"/>; historical
/// ones (a backfill) wait to fill a call of fifty, and go short only once no customer was queued for
/// <see cref="SyncWorkerOptions.BackfillSettle"/> (or the oldest waited <see cref="SyncWorkerOptions.BackfillMaxHold"/>).
/// One replica sends a tenant's orders at a time (a lease in Redis). An order AC refuses is set aside with AC's
/// reason as a dead letter (retryable); the rest of its call is sent again at once.
/// </summary>
public sealed class OrderSender(
    TenantRegistry tenants,
    FollowUpStore store,
    StateStore state,
    DeepDataSetup setup,
    AcClientFactory clients,
    AcCircuitBreakers breakers,
    DeadLetterStore deadLetters,
    SyncTelemetry telemetry,
    IOptions<KivaSyncOptions> options,
    TimeProvider time,
    ILogger<OrderSender> logger) : BackgroundService
{
    /// <summary>Dead-letter kind of an order AC refused.</summary>
    public const string DeadLetterKind = DeadLetterStore.OrderKind;

    private static readonly TimeSpan SenderLease = TimeSpan.FromSeconds(30);
    private readonly string replica = Guid.NewGuid().ToString("N");

    /// <summary>The dead-letter id of a customer's order.</summary>
    public static string DeadLetterId(string customerId, string orderId) => $"order:{customerId}:{orderId}";

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.Sync.Enabled
            ? Task.WhenAll(tenants.TenantIds.Select(tenant => RunTenantAsync(tenant, stoppingToken)))
            : Task.CompletedTask;

    private async Task RunTenantAsync(string tenant, CancellationToken ct)
    {
        var sync = options.Value.Sync;
        var failures = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    if (breakers.IsOpen(tenant, out var open))
                    {
                        await Task.Delay(open < sync.IdlePoll ? open : sync.IdlePoll, time, ct);
                        continue;
                    }

                    if (!await store.HoldOrderSenderAsync(tenant, replica, SenderLease))
                    {
                        await Task.Delay(sync.IdlePoll * 5, time, ct);
                        continue;
                    }

                    var batch = await NextBatchAsync(tenant, sync);
                    if (batch.Count == 0)
                    {
                        await Task.Delay(sync.IdlePoll, time, ct);
                        continue;
                    }

                    var error = await SendAsync(tenant, batch, failures + 1 >= sync.MaxAttempts, ct);
                    if (error is null)
                    {
                        failures = 0;
                        continue;
                    }

                    failures++;
                    var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(failures, 20)), sync.MaxRetryDelay.TotalSeconds));
                    Log.OrdersSendFailed(logger, batch.Count, tenant, failures, delay, error);
                    await Task.Delay(delay, time, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.OrderSenderError(logger, e, tenant);
                    await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            try
            {
                await store.ReleaseOrderSenderAsync(tenant, replica);
            }
            catch (RedisException)
            {
                // The lease runs out by itself.
            }
        }
    }

    /// <summary>The next call's orders (at most fifty, live customers first), or none while it is not time to send.</summary>
    private async Task<List<(string CustomerId, StoredOrder Order)>> NextBatchAsync(string tenant, SyncWorkerOptions sync)
    {
        var head = await store.ReadOrderQueueAsync(tenant, 4 * AcClient.GraphQlMaxItems);
        if (head.Customers.Count == 0)
        {
            return [];
        }

        var batch = new List<(string, StoredOrder)>(AcClient.GraphQlMaxItems);
        foreach (var customer in head.Customers)
        {
            if (await state.IsPendingAsync(tenant, RedisKeys.CustomerMember(customer.CustomerId)))
            {
                // Its sync comes first (it may change the email AC knows it by); it stays queued.
                continue;
            }

            var orders = await store.ReadPendingOrdersAsync(tenant, customer.CustomerId);
            if (orders.Count == 0)
            {
                // Sent meanwhile (or set aside): nothing waits any more.
                await store.DequeueOrdersIfDoneAsync(tenant, customer.CustomerId);
                continue;
            }

            foreach (var order in orders)
            {
                if (batch.Count == AcClient.GraphQlMaxItems)
                {
                    return batch;
                }

                batch.Add((customer.CustomerId, order));
            }
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var liveDue = head.OldestLiveMs is { } live && now - live >= (long)sync.OrderBatchWindow.TotalMilliseconds;
        var quiet = head.NewestMs is { } newest && now - newest >= (long)sync.BackfillSettle.TotalMilliseconds;
        var held = head.Customers.Min(c => c.QueuedAtMs) is var oldest && now - oldest >= (long)sync.BackfillMaxHold.TotalMilliseconds;
        return batch.Count == AcClient.GraphQlMaxItems || liveDue || quiet || held ? batch : [];
    }

    /// <summary>One call's worth of orders. Returns null when AC took every order (or set some aside), else the error;
    /// <paramref name="lastAttempt"/> sets them all aside with that error instead of keeping them queued.</summary>
    private async Task<string?> SendAsync(string tenant, List<(string CustomerId, StoredOrder Order)> batch, bool lastAttempt, CancellationToken ct)
    {
        var client = clients.For(tenant);
        var emails = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var customerId in batch.Select(b => b.CustomerId).Distinct())
        {
            // The email AC knows the contact by: an order with a newer one would make a second contact.
            var snapshot = await state.ReadAsync(tenant, RedisKeys.CustomerMember(customerId));
            if (snapshot is not null)
            {
                emails[customerId] = snapshot.AcEmail ?? snapshot.Email;
            }
        }

        batch = [.. batch.Where(b => emails.ContainsKey(b.CustomerId))];
        string? error;
        try
        {
            var (connectionId, _) = await setup.EnsureConnectionAsync(tenant, client, useStored: true, ct);
            var connection = long.Parse(connectionId, System.Globalization.CultureInfo.InvariantCulture);
            var inputs = batch.Select(b => OrderMapping.ToUpsert(b.Order, connection, b.CustomerId, emails[b.CustomerId])).ToList();
            var result = await client.BulkUpsertOrdersAsync(inputs, ct);
            if (result.Refused.Any(r => r.Reason.Contains("legacyConnectionId", StringComparison.Ordinal)))
            {
                // The connection we stored is gone from AC: find or make it again, then send the whole call again.
                await store.ForgetEcomAsync(tenant);
            }

            var refused = result.Refused.ToDictionary(r => r.Index);
            var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            for (var i = 0; i < batch.Count; i++)
            {
                var (customerId, order) = batch[i];
                if (refused.TryGetValue(i, out var r))
                {
                    if (!r.Reason.Contains("legacyConnectionId", StringComparison.Ordinal))
                    {
                        await SetAsideAsync(tenant, customerId, order, emails[customerId], r.Reason, 1, nowMs);
                    }

                    continue;
                }

                await store.RecordOrderAcceptedAsync(tenant, customerId, order, nowMs.ToString(System.Globalization.CultureInfo.InvariantCulture), order.SourceToSend);
            }

            foreach (var customerId in batch.Select(b => b.CustomerId).Distinct())
            {
                await store.DequeueOrdersIfDoneAsync(tenant, customerId);
            }

            return null;
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.Forbidden)
        {
            error = $"AC refused the tenant's API key (403); check KivaSync:Tenants:{tenant}:ApiKey";
        }
        catch (AcRequestException e)
        {
            error = e.Message;
        }
        catch (BrokenCircuitException e)
        {
            // The tenant's AC keeps failing: not the orders' fault, never set aside for it.
            return e.Message;
        }
        catch (Exception e) when (e is AcTransientException or HttpRequestException or TimeoutRejectedException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            error = e.Message;
        }

        if (lastAttempt)
        {
            var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var (customerId, order) in batch)
            {
                await SetAsideAsync(tenant, customerId, order, emails[customerId], error, options.Value.Sync.MaxAttempts, nowMs);
                await store.DequeueOrdersIfDoneAsync(tenant, customerId);
            }
        }

        return error;
    }

    private async Task SetAsideAsync(string tenant, string customerId, StoredOrder order, string email, string reason, long attempts, long nowMs)
    {
        if (!await store.SetOrderAsideAsync(tenant, customerId, order, reason))
        {
            // A newer entry replaced the order meanwhile: that version is sent instead.
            return;
        }

        await deadLetters.AddAsync(tenant, new DeadLetterRecord(
            DeadLetterId(customerId, order.OrderId), DeadLetterKind, RedisKeys.CustomerMember(customerId), email, reason, attempts, nowMs, order.OrderId));
        telemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>(SyncTelemetry.Tags.Kind, DeadLetterKind));
        Log.OrderSetAside(logger, order.OrderId, customerId, tenant, reason);
    }
}
