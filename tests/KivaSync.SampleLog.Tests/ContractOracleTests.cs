using KivaSync.SystemLog;
using KivaSync.Testing.Oracle;

namespace KivaSync.SampleLog.Tests;

/// <summary>The oracle on small hand-written logs: one contract rule per test.</summary>
public sealed class ContractOracleTests
{
    private const string Tenant = "greenleaf";
    private static readonly DateTimeOffset Now = new(2024, 6, 20, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Threshold = TimeSpan.FromMinutes(10);

    private static ExpectedAccount Compute(params string[] lines) => ContractOracle.Compute(lines, Tenant, Now, Threshold);

    private const string Signup =
        """{"ts":"2024-06-03T14:22:05.123Z","tenant":"greenleaf","id":"a1","event":"New Customer Signup","customer":{"id":"48214","email":"bob@example.com","first_name":"Bob","last_name":"Lee"},"attrs":{"status":"Active","schedule":"weekly","box":"Large Veggie","next_delivery":"2024-06-07","marketing_opt_in":true}}""";

    [Fact]
    public void Compute_EmailChange_KeepsOneContactWithTheLatestEmail()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-04T09:00:00Z","customer":{"id":"48214","email":"robert.lee@example.org"}}""",
            """{"ts":"2024-06-04T09:10:44Z","event":"Logged in","customer":{"id":"48214","email":"robert.lee@example.org"}}""");

        var contact = Assert.Single(account.Contacts);
        Assert.Equal("robert.lee@example.org", contact.Email);
        Assert.Equal(["bob@example.com"], contact.FormerEmails);
        Assert.Equal("Bob", contact.FirstName);
        Assert.Equal(2, contact.Events.Count);
        Assert.Null(account.FindByEmail("bob@example.com"));
    }

    [Fact]
    public void Compute_CaseOnlyEmailChange_KeepsOneContactWithNoFormerEmail()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-04T09:00:00Z","customer":{"id":"48214","email":"Bob@Example.com"}}""");

        var contact = Assert.Single(account.Contacts);
        Assert.Equal("Bob@Example.com", contact.Email);
        Assert.Empty(contact.FormerEmails);
    }

    [Fact]
    public void Compute_LeadThenCustomerWithSameEmailInOtherCase_MergesIntoOneCustomerOffTheLeadsList()
    {
        var account = Compute(
            """{"ts":"2024-06-01T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ann@example.org","first_name":"Ann","phone":"+1-415-555-0100"},"data":{"subject":"Do you deliver to 94110?"}}""",
            """{"ts":"2024-06-08T10:00:00Z","event":"New Customer Signup","customer":{"id":"7","email":"Ann@Example.org","last_name":"Park"},"attrs":{"status":"Active"}}""");

        var contact = Assert.Single(account.Contacts);
        Assert.Equal("7", contact.CustomerId);
        Assert.Equal("Ann@Example.org", contact.Email);
        Assert.Equal("Ann", contact.FirstName);
        Assert.Equal("Park", contact.LastName);
        Assert.Equal("+1-415-555-0100", contact.Phone);
        Assert.DoesNotContain(ContractOracle.ListLeads, contact.Lists);
        Assert.Equal(new[] { ContractOracle.ListAll, ContractOracle.ListActive }.Order(), contact.Lists.Order());
        Assert.Equal(["Submitted Contact Form", "New Customer Signup"], contact.Events.Select(e => e.AcName));
    }

    [Fact]
    public void Compute_LeadOnly_IsOnAllAndLeadsWithNoTagOrFields()
    {
        var account = Compute(
            """{"ts":"2024-06-01T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"ann@example.org"}}""");

        var lead = Assert.Single(account.Contacts);
        Assert.True(lead.IsLead);
        Assert.Equal(new[] { ContractOracle.ListAll, ContractOracle.ListLeads }.Order(), lead.Lists.Order());
        Assert.Null(lead.OrderTag);
        Assert.Empty(lead.Fields);
        Assert.Null(lead.FirstName);
    }

    [Fact]
    public void Compute_ContactEntryWithACustomersEmail_IsAboutThatCustomer()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-05T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"BOB@example.com","phone":"+1-510-555-0199"}}""");

        var contact = Assert.Single(account.Contacts);
        Assert.Equal("48214", contact.CustomerId);
        Assert.Equal("+1-510-555-0199", contact.Phone);
        Assert.Equal(2, contact.Events.Count);
    }

    [Fact]
    public void Compute_ContactEntryWithAFormerEmail_IsALead()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-04T09:00:00Z","customer":{"id":"48214","email":"robert@example.org"}}""",
            """{"ts":"2024-06-05T10:00:00Z","event":"Submitted Contact Form","contact":{"email":"bob@example.com"}}""");

        Assert.Equal(2, account.Contacts.Count);
        Assert.True(account.FindByEmail("bob@example.com")!.IsLead);
        Assert.Equal("48214", account.FindByEmail("robert@example.org")!.CustomerId);
    }

    [Fact]
    public void Compute_NullAttr_ClearsTheFieldToEmpty()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-05T10:00:00Z","event":"Customer cancelled","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Cancelled","cancelled_on":"2024-06-05","next_delivery":null}}""",
            """{"ts":"2024-06-06T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Active","cancelled_on":null,"box":null}}""");

        var fields = Assert.Single(account.Contacts).Fields;
        Assert.Equal("", fields[ContractOracle.FieldNextDelivery]);
        Assert.Equal("", fields[ContractOracle.FieldCancelledOn]);
        Assert.Equal("", fields[ContractOracle.FieldBox]);
        Assert.Equal("weekly", fields[ContractOracle.FieldSchedule]);
        Assert.Equal("Active", fields[ContractOracle.FieldStatus]);
    }

    [Fact]
    public void Compute_FieldAndNameNeverLogged_AreAbsentNotEmpty()
    {
        var account = Compute(
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"c@example.com","first_name":"Cy","last_name":null},"attrs":{"status":"Active"}}""");

        var contact = Assert.Single(account.Contacts);
        Assert.Equal(["Customer Status"], contact.Fields.Keys);
        Assert.Null(contact.LastName);
        Assert.Null(contact.Phone);
        Assert.Equal("Cy", contact.FirstName);
    }

    [Fact]
    public void Compute_NameArrivingLaterOrChanging_TakesTheLatestObjectThatCarriedIt()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-04T09:00:00Z","customer":{"id":"48214","email":"bob@example.com","phone":"+1-415-555-0001"}}""",
            """{"ts":"2024-06-05T09:00:00Z","customer":{"id":"48214","email":"bob@example.com","last_name":"Lee-Park"}}""",
            """{"ts":"2024-06-06T09:00:00Z","event":"Logged in","customer":{"id":"48214","email":"bob@example.com"}}""");

        var contact = Assert.Single(account.Contacts);
        Assert.Equal("Bob", contact.FirstName);
        Assert.Equal("Lee-Park", contact.LastName);
        Assert.Equal("+1-415-555-0001", contact.Phone);
    }

    [Fact]
    public void Compute_OptOut_SubscribesToNoListUntilOptInReturns()
    {
        var optOut = """{"ts":"2024-06-05T10:00:00Z","event":"Unsubscribed email","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"marketing_opt_in":false}}""";
        var optIn = """{"ts":"2024-06-06T10:00:00Z","event":"Re-subscribed to emails","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"marketing_opt_in":true}}""";

        Assert.Empty(Assert.Single(Compute(Signup, optOut).Contacts).Lists);
        var back = Assert.Single(Compute(Signup, optOut, optIn).Contacts);
        Assert.Equal(new[] { ContractOracle.ListAll, ContractOracle.ListActive }.Order(), back.Lists.Order());
    }

    [Theory]
    [InlineData("Active", new[] { "All", "Active" })]
    [InlineData("Stopped", new[] { "All", "Cancelled" })]
    [InlineData("Cancelled", new[] { "All", "Cancelled" })]
    [InlineData("Dead", new[] { "All", "Cancelled" })]
    [InlineData("Gift Purchaser", new[] { "All" })]
    [InlineData("Gift Recipient", new[] { "All" })]
    public void Compute_Status_DecidesTheLists(string status, string[] lists)
    {
        var account = Compute(
            Signup,
            $$$"""{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"{{{status}}}"}}""");

        Assert.Equal(lists.Order(), Assert.Single(account.Contacts).Lists.Order());
    }

    [Fact]
    public void Compute_OrderTag_FollowsTheCurrentWeek()
    {
        var cycle24 = """{"ts":"2024-06-06T23:00:00Z","event":"Weekly cycle completed","week":"2024-W24"}""";
        var open24 = """{"ts":"2024-06-06T23:00:01Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"order":{"week":"2024-W24","state":"open"}}}""";
        var closed24 = """{"ts":"2024-06-12T05:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"order":{"week":"2024-W24","state":"closed"}}}""";
        var cycle25 = """{"ts":"2024-06-13T23:00:00Z","event":"Weekly cycle completed","week":"2024-W25"}""";

        var open = Compute(Signup, cycle24, open24);
        Assert.Equal("2024-W24", open.CurrentWeek);
        Assert.Equal(ContractOracle.OpenOrder, Assert.Single(open.Contacts).OrderTag);
        Assert.Equal(ContractOracle.ClosedOrder, Assert.Single(Compute(Signup, cycle24, open24, closed24).Contacts).OrderTag);
        var next = Compute(Signup, cycle24, open24, closed24, cycle25);
        Assert.Equal("2024-W25", next.CurrentWeek);
        Assert.Equal(ContractOracle.NoOrder, Assert.Single(next.Contacts).OrderTag);
    }

    [Fact]
    public void Compute_BeforeAnyWeeklyCycle_CurrentWeekIsTheIsoWeekOfTheNewestEntry()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-11T08:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"order":{"week":"2024-W24","state":"cancelled"}}}""");

        Assert.Equal("2024-W24", account.CurrentWeek);
        Assert.Equal(ContractOracle.CancelledOrder, Assert.Single(account.Contacts).OrderTag);
    }

    [Theory]
    [InlineData("2024-06-21T12:00:00.001Z")]
    [InlineData("2099-01-01T00:00:00Z")]
    public void Compute_NoiseMoreThan24HoursAfterNow_IsInvalidTsAndLeavesTheCurrentWeek(string ts)
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-11T08:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"order":{"week":"2024-W24","state":"open"}}}""",
            """{"ts":"%TS%","level":"info","msg":"clock error"}""".Replace("%TS%", ts, StringComparison.Ordinal));

        Assert.Equal(1, account.RejectedByReason["invalid_ts"]);
        Assert.Equal("2024-W24", account.CurrentWeek);
        Assert.Equal(ContractOracle.OpenOrder, Assert.Single(account.Contacts).OrderTag);
    }

    [Fact]
    public void Compute_NoiseExactly24HoursAfterNow_IsAcceptedAndMovesTheCurrentWeek()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-11T08:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"order":{"week":"2024-W24","state":"open"}}}""",
            """{"ts":"2024-06-21T12:00:00Z","level":"info","msg":"a day ahead"}""");

        Assert.Equal(0, account.RejectedLines);
        Assert.Equal("2024-W25", account.CurrentWeek);
        Assert.Equal(ContractOracle.NoOrder, Assert.Single(account.Contacts).OrderTag);
    }

    [Fact]
    public void Compute_TsWithAnOffsetBeyond14Hours_AcceptedAtItsInstant()
    {
        // RFC 3339 allows offsets up to 23:59; 2024-06-17T20:00+23:00 is 2024-06-16T21:00Z, still week 24.
        var account = Compute(
            Signup,
            """{"ts":"2024-06-17T20:00:00+23:00","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"order":{"week":"2024-W24","state":"open"}}}""");

        Assert.Equal(0, account.RejectedLines);
        Assert.Equal("2024-W24", account.CurrentWeek);
        Assert.Equal(ContractOracle.OpenOrder, Assert.Single(account.Contacts).OrderTag);
    }

    [Fact]
    public void Compute_CustomerWithoutOrderAttr_HasNoOrderTag()
    {
        Assert.Equal(ContractOracle.NoOrder, Assert.Single(Compute(Signup).Contacts).OrderTag);
    }

    [Fact]
    public void Compute_DuplicateLines_CountOnceWithinAndAcrossFiles()
    {
        var noId = """{"ts":"2024-06-04T09:10:44Z","event":"Logged in","customer":{"id":"48214","email":"bob@example.com"}}""";
        var withId = """{"ts":"2024-06-04T10:00:00Z","id":"x9","event":"Logged out","customer":{"id":"48214","email":"bob@example.com"}}""";
        // Same id, other bytes (a replay that re-serialised the line): still the same entry.
        var sameIdOtherBytes = """{"id":"x9","ts":"2024-06-04T10:00:00Z","event":"Logged out","customer":{"id":"48214","email":"bob@example.com"}}""";
        var bad = """{"ts":"2024-06-04T11:00:00Z","customer":{"id":"48214","email":"bob@example"}}""";
        string[] archive = [Signup, noId, bad];
        string[] live = [Signup, noId, withId, sameIdOtherBytes, bad, noId + "\r"];

        var account = Compute([.. archive, .. live]);

        var contact = Assert.Single(account.Contacts);
        Assert.Equal(1, contact.EventCounts["Logged in"]);
        Assert.Equal(1, contact.EventCounts["Logged out"]);
        Assert.Equal(1, account.RejectedLines);
        Assert.Equal(5, account.DuplicateLines);
    }

    [Fact]
    public void Compute_RejectedLinesOfEveryReason_ChangeNothingAndAreCountedPerReason()
    {
        var tooLong = """{"ts":"2024-06-05T10:00:00Z","event":"Updated Shipping Notes","customer":{"id":"48214","email":"bob@example.com"},"data":{"notes":""" + "\"" + new string('x', 262_200) + "\"}}";
        var account = Compute(
            Signup,
            tooLong,
            """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Dead"}""",
            """{"ts":"2024-06-05 10:00:00","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Dead"}}""",
            """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"contact":{"email":"bob@example.com"},"attrs":{"status":"Dead"}}""",
            """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@@example.com"},"attrs":{"status":"Dead"}}""",
            """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"status":"Paused","box":"Tiny"}}""",
            """{"ts":"2024-06-05T10:00:00Z","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"next_delivery":"2024-02-30","status":"Dead"}}""",
            "",
            "   ");

        foreach (var reason in ContractOracle.RejectReasons)
        {
            Assert.Equal(1, account.RejectedByReason[reason]);
        }

        Assert.Equal(7, account.RejectedLines);
        var contact = Assert.Single(account.Contacts);
        Assert.Equal("Active", contact.Status);
        Assert.Equal("Large Veggie", contact.Fields[ContractOracle.FieldBox]);
        Assert.Equal(["New Customer Signup"], contact.Events.Select(e => e.AcName));
    }

    [Fact]
    public void Compute_LiveOnlyEvent_IsSentOnlyWhenLive()
    {
        var historical = """{"ts":"2024-06-14T06:30:00Z","event":"Delivery Today Reminder Email Sent","customer":{"id":"48214","email":"bob@example.com"}}""";
        var live = """{"ts":"2024-06-20T11:55:00Z","event":"Delivery Today Reminder Email Sent","customer":{"id":"48214","email":"bob@example.com"}}""";

        var account = Compute(Signup, historical, live);

        var reminder = Assert.Single(Assert.Single(account.Contacts).Events, e => e.LogName == "Delivery Today Reminder Email Sent");
        Assert.True(reminder.IsLive);
        Assert.Equal("Delivery reminder email sent", reminder.AcName);
        Assert.Equal(1, account.HistoricalEventsNotSent);
    }

    [Fact]
    public void Compute_HistoricalEventsTurnedOff_SendsOnlyLiveEvents()
    {
        var account = ContractOracle.Compute([Signup], Tenant, Now, Threshold, new OracleOptions { SendHistoricalEvents = false });

        Assert.Empty(Assert.Single(account.Contacts).Events);
    }

    [Fact]
    public void Compute_EventData_IsOriginalTsSpaceCompactDataCutTo250()
    {
        var account = Compute(
            """{"ts":"2024-06-04T11:10:44.350+02:00","event":"Made a substitution","customer":{"id":"1","email":"c@example.com"},"data": { "from" : "Kale", "to":"Chard" }}""",
            """{"ts":"2024-06-04T12:00:00Z","event":"Updated Shipping Notes","customer":{"id":"1","email":"c@example.com"},"data":{"notes":""" + "\"" + new string('n', 400) + "\"}}",
            """{"ts":"2024-06-04T13:00:00Z","event":"Logged out","customer":{"id":"1","email":"c@example.com"}}""");

        var events = Assert.Single(account.Contacts).Events;
        Assert.Equal("""2024-06-04T11:10:44.350+02:00 {"from":"Kale","to":"Chard"}""", events[0].EventData);
        Assert.Equal(250, events[1].EventData.Length);
        Assert.Equal("2024-06-04T13:00:00Z", events[2].EventData);
    }

    [Fact]
    public void Compute_UnknownEvent_IsCountedButItsAttrsStillApply()
    {
        var account = Compute(
            Signup,
            """{"ts":"2024-06-05T10:00:00Z","event":"Logged In","customer":{"id":"48214","email":"bob@example.com"},"attrs":{"box":"Small Veggie"}}""");

        Assert.Equal(1, account.UnknownEvents["Logged In"]);
        Assert.Equal("Small Veggie", Assert.Single(account.Contacts).Fields[ContractOracle.FieldBox]);
    }

    [Fact]
    public void Compute_TenantRename_UsesTheTenantsAcName()
    {
        var options = new OracleOptions { EventRenames = new Dictionary<string, string> { ["Logged in"] = "Signed in to the greenleaf web shop today" } };
        var account = ContractOracle.Compute(
            [Signup, """{"ts":"2024-06-05T10:00:00Z","event":"Logged in","customer":{"id":"48214","email":"bob@example.com"}}"""],
            Tenant, Now, Threshold, options);

        // AC takes at most 32 characters.
        Assert.Equal(1, account.EventCounts["Signed in to the greenleaf web s"]);
        Assert.False(account.EventCounts.ContainsKey("Logged in"));
    }

    [Fact]
    public void Compute_OrderLoggedTwice_LastAmountsWinFirstSourceStays()
    {
        var first = """{"ts":"2024-06-12T05:00:00Z","event":"Order Completed","customer":{"id":"48214","email":"bob@example.com"},"order":{"id":"o-1","week":"2024-W24","total_cents":4499,"currency":"USD","shipping_cents":500,"items":[{"sku":"LVB","name":"Large Veggie Box","qty":1,"price_cents":3999,"category":"box"}]}}""";
        var again = """{"ts":"2024-06-20T11:58:00Z","event":"Order Completed","customer":{"id":"48214","email":"bob@example.com"},"order":{"id":"o-1","week":"2024-W24","total_cents":3999,"currency":"USD","shipping_cents":500,"discount_cents":500,"items":[{"sku":"LVB","name":"Large Veggie Box","qty":1,"price_cents":3999,"category":"box"}]}}""";
        var gift = """{"ts":"2024-06-20T11:59:00Z","event":"Gift Box Purchase","customer":{"id":"48214","email":"bob@example.com"},"order":{"id":"o-2","total_cents":4999,"currency":"USD","items":[{"sku":"GIFT","qty":1,"price_cents":4999}]}}""";
        var moved = """{"ts":"2024-06-20T11:59:30Z","customer":{"id":"48214","email":"bob.lee@example.net"}}""";

        var account = Compute(Signup, first, again, gift, moved);

        var order = account.Orders["o-1"];
        Assert.Equal(0, order.Source);
        Assert.Equal(3999, order.TotalCents);
        Assert.Equal(500, order.DiscountCents);
        Assert.Equal("48214", order.CustomerId);
        Assert.Equal("bob.lee@example.net", order.Email);
        Assert.Equal(1, account.Orders["o-2"].Source);
        Assert.Equal(2, account.Orders.Count);
    }

    [Fact]
    public void Compute_LinesOfAnotherTenant_StayOutOfTheDefaultTenantsAccount()
    {
        var lines = new[]
        {
            Signup,
            """{"ts":"2024-06-05T10:00:00Z","tenant":"bluebarn","event":"Logged in","customer":{"id":"48214","email":"other@example.com"}}""",
        };

        var all = ContractOracle.ComputeAll(lines, Tenant, Now, Threshold);

        Assert.Equal("bob@example.com", Assert.Single(all[Tenant].Contacts).Email);
        Assert.Equal("other@example.com", Assert.Single(all["bluebarn"].Contacts).Email);
    }

    [Fact]
    public void Catalogue_MatchesTheSystemLogEventCatalog()
    {
        // Two separate transcriptions of the contract's table: a typo in either shows up here.
        var fromService = EventCatalog.All.ToDictionary(e => e.LogName, e => (e.AcName, e.LiveOnly));
        Assert.Equal(fromService.OrderBy(p => p.Key, StringComparer.Ordinal), ContractOracle.Catalogue.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.All(ContractOracle.Catalogue.Values, v => Assert.True(v.AcName.Length <= 32, v.AcName));
    }
}
