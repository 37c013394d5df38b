using System.Net;
using System.Text.Json.Nodes;

namespace KivaSync.AcEmulator.Tests;

public sealed class BulkImportTests : EmulatorTest
{
    private static string Body(IEnumerable<object> contacts) => AcTestClient.Json(new { contacts, exclude_automations = true });

    private static object[] Contacts(int count, string prefix = "bulk") =>
        [.. Enumerable.Range(0, count).Select(i => new { email = $"{prefix}{i}@example.com", first_name = "N" + i })];

    private async Task<JsonNode> WaitForCompletionAsync(string batchId)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var info = await Api.GetAsync("import/info?batchId=" + batchId);
            Assert.Equal(HttpStatusCode.OK, info.Status);
            if ((string?)info.Json["status"] == "completed")
            {
                return info.Json;
            }

            await Task.Delay(20, guard.Token);
        }
    }

    [Fact]
    public async Task BulkImport_Queued_StatusGoesFromWaitingToCompletedWithContactIds()
    {
        Account.BulkImportsPaused = true;

        var queued = await Api.PostAsync("import/bulk_import", Body(Contacts(3)));

        Assert.Equal(HttpStatusCode.OK, queued.Status);
        Assert.Equal((1, 3), ((int)queued.Json["success"]!, (int)queued.Json["queued_contacts"]!));
        var batchId = (string)queued.Json["batchId"]!;
        Assert.True(Guid.TryParse(batchId, out _));
        Assert.Equal("waiting", (string)(await Api.GetAsync("import/info?batchId=" + batchId)).Json["status"]!);
        Assert.Empty(Account.Contacts());

        Account.BulkImportsPaused = false;
        var done = await WaitForCompletionAsync(batchId);

        var contacts = Account.Contacts();
        Assert.Equal(3, contacts.Count);
        Assert.Equal(contacts.Select(c => c.Id), done["success"]!.AsArray().Select(s => (string)s!));
        Assert.Empty(done["failure"]!.AsArray());
        Assert.Equal("N1", Account.FindContact("bulk1@example.com")!.FirstName);
    }

    [Fact]
    public async Task BulkImport_Over250Contacts_Answers400AndQueuesNothing()
    {
        var response = await Api.PostAsync("import/bulk_import", Body(Contacts(251)));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(0, (int)response.Json["success"]!);
        Assert.Empty(Account.BulkImports());
    }

    [Fact]
    public async Task BulkImport_Over400000Bytes_Answers400AndQueuesNothing()
    {
        var padding = new string('x', 2_000);
        var contacts = Enumerable.Range(0, 200).Select(i => new { email = $"big{i}@example.com", first_name = padding }).ToArray();

        var response = await Api.PostAsync("import/bulk_import", Body(contacts));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(0, (int)response.Json["success"]!);
        Assert.Empty(Account.BulkImports());
    }

    [Theory]
    [InlineData(1, EmulatedAccount.BulkSinglePerMinute)]
    [InlineData(2, EmulatedAccount.BulkMultiPerMinute)]
    public async Task BulkImport_OverPerMinuteLimit_Answers400RateLimitExceededUntilMinutePasses(int contactsPerRequest, int perMinute)
    {
        Account.BulkImportsPaused = true;
        for (var i = 0; i < perMinute; i++)
        {
            var accepted = await Api.PostAsync("import/bulk_import", Body(Contacts(contactsPerRequest, $"r{i}-")));
            Assert.Equal(HttpStatusCode.OK, accepted.Status);
        }

        var refused = await Api.PostAsync("import/bulk_import", Body(Contacts(contactsPerRequest, "over-")));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal((0, "Rate limit exceeded."), ((int)refused.Json["success"]!, (string)refused.Json["message"]!));
        Assert.Equal(perMinute, Account.BulkImports().Count);

        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync("import/bulk_import", Body(Contacts(contactsPerRequest, "later-")))).Status);
    }

    [Fact]
    public async Task BulkImport_UnsubscribedContact_IsNotResubscribed()
    {
        var listId = await CreateListAsync("Active");
        var contactId = await CreateContactAsync("gone@example.com");
        await SetListStatusAsync(contactId, listId, 1);
        Account.UnsubscribeInAc(contactId, listId);

        var queued = await Api.PostAsync("import/bulk_import", AcTestClient.Json(new
        {
            contacts = new[]
            {
                new { email = "gone@example.com", subscribe = new[] { new { listid = listId } } },
                new { email = "fresh@example.com", subscribe = new[] { new { listid = listId } } },
            },
        }));
        await WaitForCompletionAsync((string)queued.Json["batchId"]!);

        var memberships = Account.ContactLists();
        var gone = memberships.Single(m => m.ContactId == contactId);
        Assert.Equal((2, 1, 0), (gone.Status, gone.RefusedResubscribeCount, gone.ResubscribeCount));
        Assert.Equal(1, memberships.Single(m => m.ContactId == Account.FindContact("fresh@example.com")!.Id).Status);
    }

    [Fact]
    public async Task BulkImport_TagsByName_CreatesMissingAndReusesExisting()
    {
        var giftId = await CreateTagAsync("Gift");

        var queued = await Api.PostAsync("import/bulk_import", AcTestClient.Json(new
        {
            contacts = new[] { new { email = "tag@example.com", tags = new[] { "gift", "Promo" } } },
        }));
        await WaitForCompletionAsync((string)queued.Json["batchId"]!);

        var tags = Account.Tags();
        Assert.Equal(["Gift", "Promo"], tags.Select(t => t.Name));
        var contactId = Account.FindContact("tag@example.com")!.Id;
        Assert.Equal(
            new[] { giftId, tags[1].Id },
            Account.ContactTags().Where(a => a.ContactId == contactId).Select(a => a.TagId));
    }

    [Fact]
    public async Task BulkImport_InvalidFieldValue_ReportsEmailAsFailure()
    {
        var dateField = await CreateFieldAsync("Renewal", "date");

        var queued = await Api.PostAsync("import/bulk_import", AcTestClient.Json(new
        {
            contacts = new object[]
            {
                new { email = "ok@example.com", fields = new[] { new { id = int.Parse(dateField, System.Globalization.CultureInfo.InvariantCulture), value = "2026-12-01" } } },
                new { email = "bad@example.com", fields = new[] { new { id = int.Parse(dateField, System.Globalization.CultureInfo.InvariantCulture), value = "12/01/2026" } } },
            },
        }));
        var done = await WaitForCompletionAsync((string)queued.Json["batchId"]!);

        Assert.Equal(["bad@example.com"], done["failure"]!.AsArray().Select(f => (string)f!));
        Assert.Equal("2026-12-01", Account.FieldValue("ok@example.com", "Renewal"));
        Assert.Null(Account.FindContact("bad@example.com"));
    }

    [Fact]
    public async Task ImportInfo_UnknownBatch_Answers404AndMissingBatchIdAnswersBare400()
    {
        var unknown = await Api.GetAsync("import/info?batchId=" + Guid.NewGuid());
        var missing = await Api.GetAsync("import/info");

        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal((HttpStatusCode.BadRequest, "{}"), (missing.Status, missing.Json.ToJsonString()));
    }
}
