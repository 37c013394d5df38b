using Grpc.Core;
using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Tests;

/// <summary>ImportContacts: validation, the list found or made once, bulk import in requests of at most 250.</summary>
public sealed class ImportContactsTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
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
    public async Task ImportContacts_300Contacts_TwoBulkRequestsIntoANewListAndTheSecondCallReusesIt()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50);
        var request = new ImportContactsRequest { Tenant = Tenant, ListName = "Pop-up sign-ups" };
        request.Contacts.AddRange(Enumerable.Range(0, 300).Select(i => new ImportContact { Email = $"p{i}@example.com", FirstName = i % 2 == 0 ? $"P{i}" : "" }));
        request.Contacts.Add(new ImportContact { Email = "not-an-email" });
        request.Contacts.Add(new ImportContact { Email = "P7@Example.com" });

        var first = await service.Api.ImportContactsAsync(request);

        Assert.True(first.ListCreated);
        Assert.Equal(300u, first.Imported);
        Assert.Equal(2, first.BatchIds.Count);
        Assert.Equal([(301u, "invalid email"), (302u, "duplicate of contact 8 in this request")], first.Rejected.Select(r => (r.Index, r.Reason)));
        var list = Assert.Single(account.Lists());
        Assert.Equal(("Pop-up sign-ups", first.ListId), (list.Name, list.Id));
        Assert.Equal(300, account.ContactLists().Count(m => m.ListId == list.Id && m.Status == 1));
        Assert.Equal(2, account.Requests().Count(r => r.Path.EndsWith("/import/bulk_import", StringComparison.Ordinal)));
        Assert.Equal("P0", account.Contacts().Single(c => c.Email == "p0@example.com").FirstName);
        Assert.Null(account.Contacts().Single(c => c.Email == "p1@example.com").FirstName);

        var second = await service.Api.ImportContactsAsync(new ImportContactsRequest
        {
            Tenant = Tenant,
            ListName = "pop-up SIGN-UPS",
            Contacts = { new ImportContact { Email = "late@example.com" } },
        });

        Assert.False(second.ListCreated);
        Assert.Equal(first.ListId, second.ListId);
        Assert.Equal(1u, second.Imported);
        Assert.Single(account.Lists());
        Assert.Equal(301, account.Contacts().Count);
    }

    [Fact]
    public async Task ImportContacts_ContactsOverAcsByteLimit_SplitIntoRequestsUnder400000Bytes()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50);
        var request = new ImportContactsRequest { Tenant = Tenant, ListName = "Long names" };
        // 200 contacts of about 3 KB each: under 250 contacts, over 400,000 bytes.
        request.Contacts.AddRange(Enumerable.Range(0, 200).Select(i => new ImportContact { Email = $"l{i}@example.com", LastName = new string('x', 3000) }));

        var response = await service.Api.ImportContactsAsync(request);

        Assert.Equal(200u, response.Imported);
        Assert.Empty(response.Rejected);
        var bulk = account.Requests().Where(r => r.Path.EndsWith("/import/bulk_import", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, bulk.Count);
        Assert.All(bulk, r => Assert.True(System.Text.Encoding.UTF8.GetByteCount(r.Body!) <= 400_000));
        Assert.All(bulk, r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public async Task ImportContacts_NoListNameOrNoContacts_InvalidArgument()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50);

        var noList = await Assert.ThrowsAsync<RpcException>(async () => await service.Api.ImportContactsAsync(
            new ImportContactsRequest { Tenant = Tenant, ListName = " ", Contacts = { new ImportContact { Email = "a@example.com" } } }));
        var noContacts = await Assert.ThrowsAsync<RpcException>(async () => await service.Api.ImportContactsAsync(
            new ImportContactsRequest { Tenant = Tenant, ListName = "Pop-up" }));

        Assert.Equal(StatusCode.InvalidArgument, noList.StatusCode);
        Assert.Contains("list_name", noList.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, noContacts.StatusCode);
        Assert.Empty(account.Lists());
        Assert.Empty(account.Requests());
    }

    [Fact]
    public async Task ImportContacts_OversizedRowAndFormulaCells_RefusedWithTheirIndexTheOthersImported()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50);
        var request = new ImportContactsRequest
        {
            Tenant = Tenant,
            ListName = "Pop-up",
            Contacts =
            {
                new ImportContact { Email = "ann@example.com", FirstName = "Ann", Phone = "+64 21 555 0100" },
                new ImportContact { Email = "big@example.com", LastName = new string('x', 1024 * 1024) },
                new ImportContact { Email = "eve@example.com", FirstName = "=HYPERLINK(\"http://evil.example\",\"click\")" },
                new ImportContact { Email = "mal@example.com", LastName = "@SUM(1+1)" },
                new ImportContact { Email = "neg@example.com", FirstName = "-2+3" },
                new ImportContact { Email = "ph@example.com", Phone = "+1+cmd|' /C calc'!A0" },
                new ImportContact { Email = "bob@example.com", LastName = "Lee-Smith" },
            },
        };

        var response = await service.Api.ImportContactsAsync(request);

        Assert.Equal(2u, response.Imported);
        Assert.Equal([2u, 3u, 4u, 5u, 6u], response.Rejected.Select(r => r.Index));
        Assert.Contains("bytes", response.Rejected[0].Reason, StringComparison.Ordinal);
        Assert.Contains("first_name", response.Rejected[1].Reason, StringComparison.Ordinal);
        Assert.Contains("formula", response.Rejected[1].Reason, StringComparison.Ordinal);
        Assert.Contains("last_name", response.Rejected[2].Reason, StringComparison.Ordinal);
        Assert.Contains("phone", response.Rejected[4].Reason, StringComparison.Ordinal);
        Assert.Equal(["ann@example.com", "bob@example.com"], account.Contacts().Select(c => c.Email).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(account.Requests(), r => r.Body is { } body && (body.Contains("HYPERLINK", StringComparison.Ordinal) || body.Contains("xxxxxxxx", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ImportContacts_EveryRowRefused_NothingMadeInAc()
    {
        await using var service = await ServiceHarness.StartAsync(Tenant, emulator.ApiUrl(Tenant).ToString(), ApiKey, 50);
        var request = new ImportContactsRequest
        {
            Tenant = Tenant,
            ListName = "Pop-up",
            Contacts = { new ImportContact { Email = "big@example.com", LastName = new string('x', 1024 * 1024) }, new ImportContact { Email = "nope" } },
        };

        var response = await service.Api.ImportContactsAsync(request);

        Assert.Equal(0u, response.Imported);
        Assert.Equal([1u, 2u], response.Rejected.Select(r => r.Index));
        Assert.Empty(account.Lists());
        Assert.Empty(account.Requests());
    }
}
