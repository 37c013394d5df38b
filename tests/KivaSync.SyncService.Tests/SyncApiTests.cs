using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Tests;

public sealed class SyncApiTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Tenant);

    public async Task DisposeAsync() => await service.DisposeAsync();

    [Fact]
    public async Task GetSyncStatus_UnknownCustomer_NotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "nobody" }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task GetSyncStatus_NoCustomerKey_InvalidArgumentWithReason()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("customer_id", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetSyncStatus_UnknownTenant_NotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = "nope", CustomerId = "1" }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task GetSyncStatus_NewlyShippedCustomer_PendingWithNoContactYet()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"5","email":"e@example.com"},"attrs":{"status":"Active"}}"""));

        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "5" });

        Assert.Equal(SyncState.Pending, status.State);
        Assert.Equal(1u, status.PendingWork);
        Assert.Equal("", status.AcContactId);
        Assert.Equal(new DateTimeOffset(2024, 6, 3, 14, 22, 5, TimeSpan.Zero), status.LastEntryTs.ToDateTimeOffset());
    }

    [Fact]
    public async Task ForceResync_NamedAndUnknown_QueuesKnownReportsUnknown()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"5","email":"e@example.com"}}""",
            """{"ts":"2024-06-03T14:22:06Z","contact":{"email":"lead@example.com"}}"""));

        var named = await service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = Tenant, CustomerIds = { "5", "404" }, Emails = { "LEAD@example.com" } });
        var all = await service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = Tenant, All = true });

        Assert.Equal(2u, named.Queued);
        Assert.Equal(["404"], named.NotFound);
        Assert.Equal(2u, all.Queued);
    }

    [Fact]
    public async Task ForceResync_NothingNamed_InvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = Tenant }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task GetTenantStatus_AfterIngest_CountsEntriesRejectionsQueueAndWeek()
    {
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"5","email":"e@example.com"}}""",
            """{"ts":"2024-06-03T14:22:06Z","contact":{"email":"lead@example.com"}}""",
            """{"ts":"2024-06-06T23:00:00Z","event":"Weekly cycle completed","week":"2024-W24"}""",
            "{broken",
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"6","email":"e@example.com"},"attrs":{"status":"Paused"}}"""));

        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Tenant });

        Assert.Equal(3ul, status.EntriesAccepted);
        Assert.Equal(1ul, status.RejectedByReason["invalid_json"]);
        Assert.Equal(1ul, status.RejectedByReason["unknown_status"]);
        Assert.Equal(1ul, status.Customers);
        Assert.Equal(1ul, status.Leads);
        Assert.Equal(2ul, status.ContactsPending);
        Assert.Equal("2024-W24", status.CurrentWeek);
        Assert.Equal(new DateTimeOffset(2024, 6, 6, 23, 0, 0, TimeSpan.Zero), status.NewestEntryTs.ToDateTimeOffset());
        Assert.Equal(5, status.RateLimitPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(2 / 5.0), status.EstimatedCatchUp.ToTimeSpan());
    }
}
