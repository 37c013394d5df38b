using System.Net;

namespace KivaSync.AcEmulator.Tests;

public sealed class ListTests : EmulatorTest
{
    [Fact]
    public async Task CreateList_AllFourFields_Answers201()
    {
        var id = await CreateListAsync("Active");

        var list = Assert.Single(Account.Lists());
        Assert.Equal((id, "Active", "active"), (list.Id, list.Name, list.StringId));
    }

    [Fact]
    public async Task CreateList_OnlyName_Answers422FieldMissingForEachMissingField()
    {
        var response = await Api.PostAsync("lists", """{"list":{"name":"Leads"}}""");

        Assert.Equal((HttpStatusCode)422, response.Status);
        var errors = response.Json["errors"]!.AsArray();
        Assert.All(errors, e => Assert.Equal("field_missing", (string)e!["code"]!));
        Assert.Equal(
            ["/data/attributes/stringid", "/data/attributes/sender_url", "/data/attributes/sender_reminder"],
            errors.Select(e => (string)e!["source"]!["pointer"]!));
        Assert.Empty(Account.Lists());
    }

    [Fact]
    public async Task ContactList_SubscribeThenUnsubscribe_ContactListsShowStatus()
    {
        var listId = await CreateListAsync("Active");
        var contactId = await CreateContactAsync("c@example.com");

        var subscribed = await SetListStatusAsync(contactId, listId, 1);
        var unsubscribed = await SetListStatusAsync(contactId, listId, 2);

        Assert.Equal(HttpStatusCode.Created, subscribed.Status);
        Assert.Equal(HttpStatusCode.OK, unsubscribed.Status);
        var lists = await Api.GetAsync($"contacts/{contactId}/contactLists");
        var membership = Assert.Single(lists.Json["contactLists"]!.AsArray());
        Assert.Equal((listId, "2"), ((string)membership!["list"]!, (string)membership["status"]!));
        Assert.Equal(0, Assert.Single(Account.ContactLists()).ResubscribeCount);
    }

    [Fact]
    public async Task ContactList_Status1AfterUnsubscribeInAc_ResubscribesAndRecordsIt()
    {
        var listId = await CreateListAsync("Active");
        var contactId = await CreateContactAsync("c@example.com");
        await SetListStatusAsync(contactId, listId, 1);
        Account.UnsubscribeInAc(contactId, listId);

        var shown = await Api.GetAsync($"contacts/{contactId}/contactLists");
        Assert.Equal("2", (string)shown.Json["contactLists"]![0]!["status"]!);

        var response = await SetListStatusAsync(contactId, listId, 1);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var membership = Assert.Single(Account.ContactLists());
        Assert.Equal((1, true, 1), (membership.Status, membership.UnsubscribedInAc, membership.ResubscribeCount));
    }

    [Theory]
    [InlineData("999", 1, "related_missing")]
    [InlineData(null, 3, "field_invalid")]
    public async Task ContactList_UnknownListOrBadStatus_Answers422(string? listOverride, int status, string code)
    {
        var listId = await CreateListAsync("Active");
        var contactId = await CreateContactAsync("c@example.com");

        var response = await SetListStatusAsync(contactId, listOverride ?? listId, status);

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal(code, response.ErrorCode);
        Assert.Empty(Account.ContactLists());
    }

    [Fact]
    public async Task GetLists_FilterByName_FindsIt()
    {
        await CreateListAsync("All");
        var id = await CreateListAsync("Cancelled");

        var response = await Api.GetAsync("lists?filters[name]=cancelled");

        Assert.Equal(id, (string)Assert.Single(response.Json["lists"]!.AsArray())!["id"]!);
    }
}
