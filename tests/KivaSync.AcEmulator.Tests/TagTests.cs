using System.Net;

namespace KivaSync.AcEmulator.Tests;

public sealed class TagTests : EmulatorTest
{
    [Fact]
    public async Task CreateTag_DuplicateOtherCase_Answers422Duplicate()
    {
        await CreateTagAsync("Gift");

        var response = await Api.PostAsync("tags", """{"tag":{"tag":"GIFT","tagType":"contact","description":""}}""");

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal("duplicate", response.ErrorCode);
        Assert.Single(Account.Tags());
    }

    [Fact]
    public async Task GetTags_FilterSearchEqIsExactButPlainSearchIsSubstring()
    {
        var gift = await CreateTagAsync("Gift");
        await CreateTagAsync("Gift purchaser");

        var exact = await Api.GetAsync("tags?filters%5Bsearch%5D%5Beq%5D=gift");
        var substring = await Api.GetAsync("tags?search=gift");

        Assert.Equal(gift, (string)Assert.Single(exact.Json["tags"]!.AsArray())!["id"]!);
        Assert.Equal("2", (string)substring.Json["meta"]!["total"]!);
    }

    [Fact]
    public async Task AddContactTag_Twice_Answers201ThenSameAssociationWith200()
    {
        var tagId = await CreateTagAsync("Gift");
        var contactId = await CreateContactAsync("t@example.com");
        var body = $$$"""{"contactTag":{"contact":"{{{contactId}}}","tag":{{{tagId}}}}}""";

        var first = await Api.PostAsync("contactTags", body);
        var second = await Api.PostAsync("contactTags", body);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK), (first.Status, second.Status));
        Assert.Equal((string)first.Json["contactTag"]!["id"]!, (string)second.Json["contactTag"]!["id"]!);
        Assert.Single(Account.ContactTags());
    }

    [Fact]
    public async Task AddContactTag_UnknownTag_Answers422RelatedMissing()
    {
        var contactId = await CreateContactAsync("t@example.com");

        var response = await Api.PostAsync("contactTags", $$$"""{"contactTag":{"contact":"{{{contactId}}}","tag":"4040"}}""");

        Assert.Equal("related_missing", response.ErrorCode);
    }

    [Fact]
    public async Task DeleteContactTag_ByAssociationId_RemovesOnlyThatTag()
    {
        var gift = await CreateTagAsync("Gift");
        var promo = await CreateTagAsync("Promo");
        var contactId = await CreateContactAsync("t@example.com");
        await Api.PostAsync("contactTags", $$$"""{"contactTag":{"contact":"{{{contactId}}}","tag":"{{{gift}}}"}}""");
        await Api.PostAsync("contactTags", $$$"""{"contactTag":{"contact":"{{{contactId}}}","tag":"{{{promo}}}"}}""");

        var associations = (await Api.GetAsync($"contacts/{contactId}/contactTags")).Json["contactTags"]!.AsArray();
        var giftAssociation = (string)associations.Single(a => (string)a!["tag"]! == gift)!["id"]!;
        Assert.NotEqual(gift, giftAssociation);

        var byTagId = await Api.DeleteAsync("contactTags/" + gift);
        Assert.Equal(HttpStatusCode.NotFound, byTagId.Status);
        Assert.Equal(2, Account.ContactTags().Count);

        var deleted = await Api.DeleteAsync("contactTags/" + giftAssociation);

        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Equal(promo, Assert.Single(Account.ContactTags()).TagId);
        var left = (await Api.GetAsync($"contacts/{contactId}/contactTags")).Json["contactTags"]!.AsArray();
        Assert.Equal(promo, (string)Assert.Single(left)!["tag"]!);
    }
}
