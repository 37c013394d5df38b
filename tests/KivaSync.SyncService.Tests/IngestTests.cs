using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Tests;

public sealed class IngestTests : IAsyncLifetime
{
    private const string Tenant = "greenleaf";
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Tenant);

    public async Task DisposeAsync() => await service.DisposeAsync();

    private static string Signup(string id, string email, string ts = "2024-06-03T14:22:05.123Z", string status = "Active") =>
        $$$"""{"ts":"{{{ts}}}","tenant":"greenleaf","event":"New Customer Signup","customer":{"id":"{{{id}}}","email":"{{{email}}}","first_name":"Bob","last_name":"Lee"},"attrs":{"status":"{{{status}}}","schedule":"weekly","box":"Large Veggie","next_delivery":"2024-06-07","marketing_opt_in":true}}""";

    [Fact]
    public async Task Ship_NewLines_AcknowledgesEveryLineWithTheBatchEndAsCheckpoint()
    {
        var batch = ServiceHarness.Batch(Tenant, "fp1", 0, 7, Signup("1", "a@example.com"), Signup("2", "b@example.com"),
            """{"ts":"2024-06-03T14:22:06.001Z","tenant":"greenleaf","level":"info","msg":"cron: cleanup finished in 3.2s"}""");

        var ack = (await service.ShipAsync(batch)).Single();

        Assert.Equal(7ul, ack.Sequence);
        Assert.Equal("fp1", ack.Fingerprint);
        Assert.Equal(batch.EndOffset, ack.CheckpointOffset);
        Assert.Equal(3u, ack.Accepted);
        Assert.Equal(0u, ack.Duplicates);
        Assert.Empty(ack.Rejections);
    }

    [Fact]
    public async Task Ship_SameLinesAgain_AllDroppedAsDuplicates()
    {
        var lines = new[] { Signup("1", "a@example.com"), Signup("2", "b@example.com") };
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp1", 0, 1, lines));

        // A replay from an old checkpoint, and the same lines inside an archive file.
        var acks = await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp1", 0, 1, lines), ServiceHarness.Batch(Tenant, "archive", 500, 2, lines));

        Assert.All(acks, ack => Assert.Equal(0u, ack.Accepted));
        Assert.All(acks, ack => Assert.Equal(2u, ack.Duplicates));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Ship_SameIdLessLineEndingCrLfInOneFileAndLfInAnother_SecondIsDuplicate(bool crlfFirst)
    {
        // The identity is the line's bytes without its ending: a "\r" left by "\r\n" is part of the ending.
        var line = Signup("1", "a@example.com");
        var crlf = ServiceHarness.Batch(Tenant, "windows-file", 0, 1, line + "\r");
        var lf = ServiceHarness.Batch(Tenant, "unix-file", 0, 1, line);

        var acks = await service.ShipAsync(crlfFirst ? [crlf, lf] : [lf, crlf]);

        Assert.Equal((1u, 0u), (acks[0].Accepted, acks[0].Duplicates));
        Assert.Equal((0u, 1u), (acks[1].Accepted, acks[1].Duplicates));
        Assert.All(acks, ack => Assert.Empty(ack.Rejections));
    }

    [Fact]
    public async Task Ship_SameIdDifferentBytes_SecondIsDuplicate()
    {
        var first = """{"ts":"2024-06-03T14:22:05Z","id":"e-1","customer":{"id":"1","email":"a@example.com"}}""";
        var second = """{"id":"e-1","ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"}}""";

        var acks = await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp1", 0, 1, first, second));

        Assert.Equal(1u, acks[0].Accepted);
        Assert.Equal(1u, acks[0].Duplicates);
    }

    [Fact]
    public async Task Ship_BadLinesAmongGood_RejectedOnceWithReasonAndTheRestAccepted()
    {
        var lines = new[]
        {
            "not json",
            Signup("1", "a@example.com"),
            """{"ts":"yesterday","customer":{"id":"1","email":"a@example.com"}}""",
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"2","email":"no-at-sign"}}""",
            Signup("3", "c@example.com", status: "Paused"),
            Signup("4", "d@example.com"),
        };
        var batch = ServiceHarness.Batch(Tenant, "fp1", 0, 1, lines);

        var first = (await service.ShipAsync(batch)).Single();
        var again = (await service.ShipAsync(batch)).Single();

        Assert.Equal(2u, first.Accepted);
        Assert.Equal(
            [RejectReason.InvalidJson, RejectReason.InvalidTs, RejectReason.InvalidEmail, RejectReason.UnknownStatus],
            first.Rejections.Select(r => r.Reason));
        Assert.Equal(batch.Lines[2].Offset, first.Rejections[1].Offset);
        Assert.Contains("Paused", first.Rejections[3].Detail, StringComparison.Ordinal);
        // Counted once: the replay rejects nothing new.
        Assert.Empty(again.Rejections);
        Assert.Equal(6u, again.Duplicates);
    }

    [Fact]
    public async Task Ship_UnconfiguredSourceTenant_FailsWithFailedPreconditionNamingTheTenant()
    {
        var batch = ServiceHarness.Batch("someone-else", "fp1", 0, 1, Signup("1", "a@example.com"));

        var error = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(batch));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("someone-else", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ship_LineNamingAnUnconfiguredTenant_RejectedAloneLaterLinesAccepted()
    {
        var foreign = """{"ts":"2024-06-03T14:22:05Z","tenant":"other","customer":{"id":"9","email":"x@example.com"}}""";

        var ack = (await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp1", 0, 1, foreign, Signup("1", "a@example.com")))).Single();

        Assert.Equal(1u, ack.Accepted);
        Assert.Equal(RejectReason.InvalidEntry, Assert.Single(ack.Rejections).Reason);
    }

    [Fact]
    public async Task Ship_BatchWithLineOutsideItsRange_InvalidArgument()
    {
        var batch = ServiceHarness.Batch(Tenant, "fp1", 0, 1, Signup("1", "a@example.com"));
        batch.EndOffset = 3;

        var error = await Assert.ThrowsAsync<RpcException>(() => service.ShipAsync(batch));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Ship_OlderArchiveAfterLiveLines_FoldKeepsTheNewestValues()
    {
        var live = """{"ts":"2024-06-10T10:00:00Z","customer":{"id":"1","email":"new@example.com"},"attrs":{"status":"Cancelled","cancelled_on":"2024-06-10","box":null}}""";
        var archive = Signup("1", "old@example.com", ts: "2024-06-01T10:00:00Z");

        await service.ShipAsync(ServiceHarness.Batch(Tenant, "live", 0, 1, live));
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "archive", 0, 1, archive));
        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" });

        Assert.Equal("new@example.com", status.Email);
        Assert.Equal("Cancelled", status.Fields.Status);
        Assert.Equal("2024-06-10", status.Fields.CancelledOn);
        // box was cleared by the newer entry; schedule only ever came from the archive.
        Assert.Equal("", status.Fields.Box);
        Assert.Equal("weekly", status.Fields.Schedule);
        Assert.Equal("Bob", status.Fields.FirstName);
    }

    [Fact]
    public async Task Ship_FieldFirstCarriedByALaterEntryOfTheBatch_FoldedAgainstItsStoredTimestamp()
    {
        // The fold reads a contact's fields when an entry of the batch first carries them: box and schedule are
        // first named by the second and third entries here, after the contact was already read for status.
        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp1", 0, 1, Signup("1", "a@example.com", ts: "2024-06-05T10:00:00Z")));
        var batch = ServiceHarness.Batch(
            Tenant,
            "fp2",
            0,
            1,
            """{"ts":"2024-06-06T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Stopped"}}""",
            // Older than the stored box (2024-06-05): loses.
            """{"ts":"2024-06-04T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"box":"Small Veggie"}}""",
            // Newer than the stored schedule: wins; then an older one in the same batch loses to it.
            """{"ts":"2024-06-07T10:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"schedule":"fortnightly"}}""",
            """{"ts":"2024-06-06T12:00:00Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"schedule":"monthly"}}""");

        var ack = (await service.ShipAsync(batch)).Single();
        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" });

        Assert.Equal(4u, ack.Accepted);
        Assert.Equal("Stopped", status.Fields.Status);
        Assert.Equal("Large Veggie", status.Fields.Box);
        Assert.Equal("fortnightly", status.Fields.Schedule);
    }

    [Fact]
    public async Task Ship_EmailChange_SameCustomerFoundByNewEmailOnlyAndFormerEmailBecomesALead()
    {
        var change = """{"ts":"2024-06-04T10:00:00Z","customer":{"id":"1","email":"Bob.New@Example.com"}}""";
        var formForOldEmail = """{"ts":"2024-06-05T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"a@example.com","first_name":"Ann"}}""";

        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp1", 0, 1, Signup("1", "a@example.com"), change, formForOldEmail));
        var byNew = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, Email = "bob.new@example.com" });
        var byOld = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, Email = "A@example.com" });

        Assert.Equal("1", byNew.CustomerId);
        Assert.Equal("Bob.New@Example.com", byNew.Email);
        Assert.True(byOld.IsLead);
        Assert.Equal("Ann", byOld.Fields.FirstName);
    }

    [Fact]
    public async Task Ship_LeadThenCustomerWithSameEmail_LeadMergesIntoTheCustomer()
    {
        var lead = """{"ts":"2024-06-01T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ANN@example.org","first_name":"Ann","phone":"555-0100"}}""";
        var signup = """{"ts":"2024-06-02T10:00:00Z","event":"New Customer Signup","customer":{"id":"77","email":"ann@example.org","last_name":"Smith"},"attrs":{"status":"Active"}}""";
        var laterForm = """{"ts":"2024-06-03T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"Ann@Example.org","first_name":"Annie"}}""";

        await service.ShipAsync(ServiceHarness.Batch(Tenant, "fp1", 0, 1, lead, signup, laterForm));
        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, Email = "ann@example.org" });

        Assert.False(status.IsLead);
        Assert.Equal("77", status.CustomerId);
        Assert.Equal("ann@example.org", status.Email);
        Assert.Equal("Annie", status.Fields.FirstName);
        Assert.Equal("Smith", status.Fields.LastName);
        Assert.Equal("555-0100", status.Fields.Phone);
    }

    [Fact]
    public async Task Ship_AfterServiceRestart_StateAndDuplicateMemorySurvive()
    {
        var batch = ServiceHarness.Batch(Tenant, "fp1", 0, 1, Signup("1", "a@example.com"));
        await service.ShipAsync(batch);

        await service.RestartServiceAsync();
        var ack = (await service.ShipAsync(batch)).Single();
        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Tenant, CustomerId = "1" });

        Assert.Equal(1u, ack.Duplicates);
        Assert.Equal("Active", status.Fields.Status);
    }
}
