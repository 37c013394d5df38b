using System.Net;

namespace KivaSync.AcEmulator.Tests;

public sealed class FieldTests : EmulatorTest
{
    [Fact]
    public async Task CreateField_New_Answers201WithPerstag()
    {
        var response = await Api.PostAsync("fields", """{"field":{"title":"Next box date","type":"date","perstag":"NEXT_BOX"}}""");

        Assert.Equal(HttpStatusCode.Created, response.Status);
        var field = Assert.Single(Account.Fields());
        Assert.Equal(((string)response.Json["field"]!["id"]!, "Next box date", "date", "NEXT_BOX"), (field.Id, field.Title, field.Type, field.Perstag));
    }

    [Fact]
    public async Task CreateField_DuplicateTitleOtherCase_Answers422Duplicate()
    {
        await CreateFieldAsync("Plan");

        var response = await Api.PostAsync("fields", """{"field":{"title":"PLAN","type":"text"}}""");

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal("duplicate", response.ErrorCode);
        Assert.Single(Account.Fields());
    }

    [Theory]
    [InlineData("""{"field":{"type":"text"}}""", "field_missing")]
    [InlineData("""{"field":{"title":"X","type":"colour"}}""", "field_invalid")]
    public async Task CreateField_MissingTitleOrUnknownType_Answers422(string body, string code)
    {
        var response = await Api.PostAsync("fields", body);

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal(code, response.ErrorCode);
    }

    [Theory]
    [InlineData("2026-11-26")]
    [InlineData("")]
    public async Task DateField_IsoDateOrEmpty_IsStored(string value)
    {
        var fieldId = await CreateFieldAsync("Renewal", "date");

        var response = await Api.PostAsync("contact/sync", AcTestClient.Json(new { contact = new { email = "d@example.com", fieldValues = new[] { new { field = fieldId, value } } } }));

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal(value, Account.FieldValue("d@example.com", "Renewal"));
    }

    [Theory]
    [InlineData("11/26/2026")]
    [InlineData("2026-13-01")]
    [InlineData("2026-11-26T00:00:00Z")]
    [InlineData("26 Nov 2026")]
    public async Task DateField_OtherFormats_Answers422FieldInvalid(string value)
    {
        var fieldId = await CreateFieldAsync("Renewal", "date");
        var contactId = await CreateContactAsync("d@example.com");

        var viaSync = await Api.PostAsync("contact/sync", AcTestClient.Json(new { contact = new { email = "d@example.com", fieldValues = new[] { new { field = fieldId, value } } } }));
        var viaFieldValues = await Api.PostAsync("fieldValues", AcTestClient.Json(new { fieldValue = new { contact = contactId, field = fieldId, value } }));

        Assert.Equal(("field_invalid", "field_invalid"), (viaSync.ErrorCode, viaFieldValues.ErrorCode));
        Assert.Equal(((HttpStatusCode)422, (HttpStatusCode)422), (viaSync.Status, viaFieldValues.Status));
        Assert.Null(Account.FieldValue("d@example.com", "Renewal"));
    }

    [Fact]
    public async Task GetFields_PagedToTheEnd_ReturnsEveryFieldOnceWithStringTotal()
    {
        for (var i = 0; i < 105; i++)
        {
            await CreateFieldAsync($"Field {i:D3}");
        }

        var seen = new List<string>();
        for (var offset = 0; ; offset += 100)
        {
            var page = await Api.GetAsync($"fields?limit=100&offset={offset}");
            Assert.Equal("105", (string)page.Json["meta"]!["total"]!);
            var titles = page.Json["fields"]!.AsArray().Select(f => (string)f!["title"]!).ToList();
            if (titles.Count == 0)
            {
                break;
            }

            seen.AddRange(titles);
        }

        Assert.Equal(Enumerable.Range(0, 105).Select(i => $"Field {i:D3}"), seen);
        Assert.Equal(20, (await Api.GetAsync("fields")).Json["fields"]!.AsArray().Count);
        Assert.Equal(100, (await Api.GetAsync("fields?limit=500")).Json["fields"]!.AsArray().Count);
    }

    [Fact]
    public async Task CreateFieldRel_AllLists_RecordsRelationZero()
    {
        var fieldId = await CreateFieldAsync("Plan");

        var response = await Api.PostAsync("fieldRels", $$$"""{"fieldRel":{"field":{{{fieldId}}},"relid":0}}""");

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal("0", (string)response.Json["fieldRel"]!["relid"]!);
        Assert.Equal(["0"], Assert.Single(Account.Fields()).Relations);
    }

    [Fact]
    public async Task CreateFieldRel_UnknownFieldOrList_Answers422RelatedMissing()
    {
        var fieldId = await CreateFieldAsync("Plan");

        var unknownField = await Api.PostAsync("fieldRels", """{"fieldRel":{"field":"777","relid":"0"}}""");
        var unknownList = await Api.PostAsync("fieldRels", $$$"""{"fieldRel":{"field":"{{{fieldId}}}","relid":"778"}}""");

        Assert.Equal(("related_missing", "related_missing"), (unknownField.ErrorCode, unknownList.ErrorCode));
        Assert.Empty(Assert.Single(Account.Fields()).Relations);
    }

    [Fact]
    public async Task CreateFieldValue_KnownContactAndField_SetsValue()
    {
        var fieldId = await CreateFieldAsync("Plan");
        var contactId = await CreateContactAsync("v@example.com");

        var response = await Api.PostAsync("fieldValues", $$$"""{"fieldValue":{"contact":"{{{contactId}}}","field":"{{{fieldId}}}","value":"Silver"}}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Silver", Account.FieldValue("V@EXAMPLE.COM", "plan"));
    }

    [Fact]
    public async Task CreateFieldValue_UnknownContact_Answers422RelatedMissing()
    {
        var fieldId = await CreateFieldAsync("Plan");

        var response = await Api.PostAsync("fieldValues", $$$"""{"fieldValue":{"contact":"555","field":"{{{fieldId}}}","value":"x"}}""");

        Assert.Equal((HttpStatusCode)422, response.Status);
        Assert.Equal("related_missing", response.ErrorCode);
    }
}
