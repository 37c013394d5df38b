using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.ActiveCampaign;
using Microsoft.Extensions.DependencyInjection;
using static KivaSync.SyncService.Tests.AcSideHelpers;

namespace KivaSync.SyncService.Tests;

/// <summary>Bounded retries end in a dead letter that can be retried; a tenant whose AC keeps failing is left alone for a break.</summary>
public sealed class DeadLetterAndCircuitTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private const string Other = "orchard";
    private const string ApiKey = "ac-test-key";
    private AcEmulatorHost emulator = null!;
    private EmulatedAccount account = null!;

    public async Task InitializeAsync()
    {
        emulator = await AcEmulatorHost.StartAsync();
        account = emulator.AddAccount(Tenant, ApiKey, "1000", "event-key", requestsPerSecond: 50);
    }

    public async Task DisposeAsync() => await emulator.DisposeAsync();

    [Fact]
    public async Task Sync_AcFailsEveryAttempt_DeadLetteredWithReasonAndRetryBringsItBack()
    {
        account.FailureRate = 1;
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50, new Dictionary<string, string?>
        {
            ["KivaSync:Sync:MaxAttempts"] = "3",
            ["KivaSync:Sync:AcRetries"] = "0",
            ["KivaSync:Sync:MaxRetryDelay"] = "00:00:00.500",
            ["KivaSync:Sync:CircuitBreaker:MinimumThroughput"] = "1000",
        });
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active"}}"""));

        CustomerSyncStatus status = null!;
        await WaitUntilAsync(async () =>
        {
            status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" });
            return status.Error.StartsWith("dead-lettered", StringComparison.Ordinal);
        }, "the dead letter");
        var letters = await service.Api.ListDeadLettersAsync(new ListDeadLettersRequest { Tenant = Tenant });

        Assert.Equal(SyncState.Failed, status.State);
        Assert.Contains("503", status.Error, StringComparison.Ordinal);
        Assert.Equal(1u, letters.Total);
        var letter = Assert.Single(letters.DeadLetters);
        Assert.Equal(("contact", "1", "a@example.com", 3u), (letter.Kind, letter.CustomerId, letter.Email, letter.Attempts));
        Assert.Contains("503", letter.Reason, StringComparison.Ordinal);
        // Dead: no longer retried on its own.
        Assert.Equal(0u, (await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant })).ContactsPending);

        account.FailureRate = 0;
        var retry = await service.Api.RetryDeadLettersAsync(new RetryDeadLettersRequest { Tenant = Tenant, Ids = { letter.Id, "c:nope" } });
        Assert.Equal(1u, retry.Queued);
        Assert.Equal(["c:nope"], retry.NotFound);
        await WaitForSyncedAsync(service, Tenant, "1");

        Assert.Equal(0u, (await service.Api.ListDeadLettersAsync(new ListDeadLettersRequest { Tenant = Tenant })).Total);
        Assert.Equal("Active", account.FieldValue("a@example.com", "Customer Status"));
        Assert.Equal(["Active", "All"], SubscribedLists(account, "a@example.com"));
    }

    [Fact]
    public async Task Sync_OneTenantsAcKeepsFailing_CircuitOpensThatTenantOnlyAndClosesByItself()
    {
        var other = emulator.AddAccount(Other, ApiKey, "2000", "event-key-2", requestsPerSecond: 50);
        account.FailureRate = 1;
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50, new Dictionary<string, string?>
        {
            [$"KivaSync:Tenants:{Other}:ApiUrl"] = emulator.ApiUrl(Other).ToString(),
            [$"KivaSync:Tenants:{Other}:ApiKey"] = ApiKey,
            [$"KivaSync:Tenants:{Other}:RequestsPerSecond"] = "50",
            ["KivaSync:Sync:AcRetries"] = "1",
            ["KivaSync:Sync:MaxRetryDelay"] = "00:00:00.500",
            ["KivaSync:Sync:CircuitBreaker:MinimumThroughput"] = "4",
            ["KivaSync:Sync:CircuitBreaker:SamplingDuration"] = "00:00:30",
            ["KivaSync:Sync:CircuitBreaker:BreakDuration"] = "00:00:04",
        });
        var breakers = service.App.Services.GetRequiredService<AcCircuitBreakers>();
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            [.. Enumerable.Range(1, 3).Select(i => $$$"""{"ts":"2024-06-03T10:00:0{{{i}}}Z","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"attrs":{"status":"Active"}}""")]));

        await WaitUntilAsync(() => Task.FromResult(breakers.IsOpen(Tenant, out _)), "the circuit to open");
        var openedAt = DateTimeOffset.UtcNow;
        // AC is healthy again, but the breaker holds the tenant off for the break.
        account.FailureRate = 0;
        await service.ShipAsync(ServiceHarness.Batch(Other, "fp", 0, 1,
            [.. Enumerable.Range(1, 3).Select(i => $$$"""{"ts":"2024-06-03T10:00:0{{{i}}}Z","customer":{"id":"{{{i}}}","email":"o{{{i}}}@example.com"},"attrs":{"status":"Active"}}""")]));
        for (var i = 1; i <= 3; i++)
        {
            await WaitForSyncedAsync(service, Other, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.False(breakers.IsOpen(Other, out _));
        await WaitUntilAsync(() => Task.FromResult(!breakers.IsOpen(Tenant, out _)), "the break to end");
        var breakEnded = DateTimeOffset.UtcNow;
        for (var i = 1; i <= 3; i++)
        {
            await WaitForSyncedAsync(service, Tenant, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Nothing reached the failing tenant's AC during the break (a request already in flight may land just after it opened).
        Assert.DoesNotContain(account.Requests(), r => r.At > openedAt.AddMilliseconds(500) && r.At < breakEnded.AddMilliseconds(-200));
        Assert.Equal(3, account.Contacts().Count);
        Assert.Equal(3, other.Contacts().Count);
        Assert.DoesNotContain(other.Requests(), r => r.Status == 503);
    }
}
