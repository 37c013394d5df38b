using System.Net;

namespace KivaSync.AcEmulator.Tests;

public sealed class ContactTests : EmulatorTest
{
    [Fact]
    public async Task ContactSync_NewEmail_Answers201WithStringId()
    {
        var response = await Api.PostAsync("contact/sync", """{"contact":{"email":"ann@example.com","firstName":"Ann","lastName":"Lee","phone":"555"}}""");

        Assert.Equal(HttpStatusCode.Created, response.Status);
        var id = (string)response.Json["contact"]!["id"]!;
        var contact = Assert.Single(Account.Contacts());
        Assert.Equal((id, "ann@example.com", "Ann", "Lee", "555"), (contact.Id, contact.Email, contact.FirstName, contact.LastName, contact.Phone));
    }

    [Fact]
    public async Task ContactSync_SameEmailOtherCaseAndSpaces_Answers200AndUpdatesSameContact()
    {
        var id = await CreateContactAsync("ann@example.com", "Ann");

        var response = await Api.PostAsync("contact/sync", """{"contact":{"email":"  ANN@Example.COM ","firstName":"Anna"}}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(id, (string)response.Json["contact"]!["id"]!);
        var contact = Assert.Single(Account.Contacts());
        Assert.Equal("Anna", contact.FirstName);
    }

    [Fact]
    public async Task ContactSync_EmptyString_OverwritesAndAbsentKeyKeeps()
    {
        var fieldId = await CreateFieldAsync("Plan");
        await Api.PostAsync("contact/sync", $$$"""{"contact":{"email":"b@example.com","firstName":"Bo","lastName":"Ek","fieldValues":[{"field":"{{{fieldId}}}","value":"Gold"}]}}""");

        var response = await Api.PostAsync("contact/sync", $$$"""{"contact":{"email":"b@example.com","firstName":"","fieldValues":[{"field":"{{{fieldId}}}","value":""}]}}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var contact = Assert.Single(Account.Contacts());
        Assert.Equal("", contact.FirstName);
        Assert.Equal("Ek", contact.LastName);
        Assert.Equal("", contact.FieldValues[fieldId]);
        Assert.Equal("", Account.FieldValue("B@example.com", "plan"));
    }

    [Fact]
    public async Task ContactSync_FieldIdAsNumber_IsAccepted()
    {
        var fieldId = await CreateFieldAsync("Plan");

        var response = await Api.PostAsync("contact/sync", $$$"""{"contact":{"email":"n@example.com","fieldValues":[{"field":{{{fieldId}}},"value":"Gold"}]}}""");

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal("Gold", Account.FieldValue("n@example.com", "Plan"));
    }

    [Fact]
    public async Task ContactSync_UnknownFieldId_Answers422RelatedMissingAndChangesNothing()
    {
        var response = await Api.PostAsync("contact/sync", """{"contact":{"email":"u@example.com","fieldValues":[{"field":"999","value":"x"}]}}""");

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal("related_missing", response.ErrorCode);
        Assert.NotNull((string?)response.Json["errors"]![0]!["source"]!["pointer"]);
        Assert.Empty(Account.Contacts());
    }

    [Theory]
    [InlineData("""{"contact":{"firstName":"No"}}""", "field_missing")]
    [InlineData("""{"contact":{"email":"not-an-email"}}""", "field_invalid")]
    public async Task ContactSync_BadEmail_Answers422(string body, string code)
    {
        var response = await Api.PostAsync("contact/sync", body);

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal(code, response.ErrorCode);
        Assert.Empty(Account.Contacts());
    }

    [Fact]
    public async Task GetContacts_ByEmail_FindsOnlyThatContactCaseInsensitively()
    {
        await CreateContactAsync("a@example.com");
        var id = await CreateContactAsync("b@example.com");

        var response = await Api.GetAsync("contacts?email=B%40EXAMPLE.com");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("1", (string)response.Json["meta"]!["total"]!);
        Assert.Equal(id, (string)response.Json["contacts"]![0]!["id"]!);
    }

    [Fact]
    public async Task GetContacts_UnknownQueryParameter_IsIgnored()
    {
        await CreateContactAsync("a@example.com");
        await CreateContactAsync("b@example.com");

        var response = await Api.GetAsync("contacts?mail=a%40example.com");

        Assert.Equal("2", (string)response.Json["meta"]!["total"]!);
    }

    [Fact]
    public async Task PutContact_NewEmail_ChangesEmailWithoutSecondContact()
    {
        var id = await CreateContactAsync("old@example.com", "Ann");

        var response = await Api.PutAsync("contacts/" + id, """{"contact":{"email":"new@example.com"}}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var contact = Assert.Single(Account.Contacts());
        Assert.Equal(("new@example.com", "Ann"), (contact.Email, contact.FirstName));
        var found = await Api.GetAsync("contacts?email=new%40example.com");
        Assert.Equal(id, (string)found.Json["contacts"]![0]!["id"]!);
        Assert.Equal("0", (string)(await Api.GetAsync("contacts?email=old%40example.com")).Json["meta"]!["total"]!);
    }

    [Fact]
    public async Task PutContact_EmailOfAnotherContact_Answers422Duplicate()
    {
        await CreateContactAsync("taken@example.com");
        var id = await CreateContactAsync("mine@example.com");

        var response = await Api.PutAsync("contacts/" + id, """{"contact":{"email":"TAKEN@example.com"}}""");

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal("duplicate", response.ErrorCode);
        Assert.NotNull(Account.FindContact("mine@example.com"));
    }

    [Fact]
    public async Task GetContact_UnknownId_Answers404Message()
    {
        var response = await Api.GetAsync("contacts/4242");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.False(string.IsNullOrEmpty((string?)response.Json["message"]));
    }

    [Fact]
    public async Task GetContact_KnownId_ReturnsContactWithFieldValues()
    {
        var fieldId = await CreateFieldAsync("Plan");
        var id = await CreateContactAsync("g@example.com");
        await Api.PostAsync("fieldValues", $$$"""{"fieldValue":{"contact":{{{id}}},"field":"{{{fieldId}}}","value":"Gold"}}""");

        var response = await Api.GetAsync("contacts/" + id);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("g@example.com", (string)response.Json["contact"]!["email"]!);
        Assert.Equal("Gold", (string)response.Json["fieldValues"]![0]!["value"]!);
    }
}
