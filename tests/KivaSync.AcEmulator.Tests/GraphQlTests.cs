using System.Net;
using System.Text.Json.Nodes;

namespace KivaSync.AcEmulator.Tests;

public sealed class GraphQlTests : EmulatorTest
{
    private const string OrdersQuery = "mutation($orders:[OrderInput]){bulkUpsertOrdersAsync(orders:$orders){recordId}}";
    private const string PaymentsQuery = "mutation($rps:[RecurringPaymentInput]){bulkUpsertRecurringPayments(recurringPayments:$rps){recordId}}";

    private async Task<long> CreateConnectionAsync()
    {
        var response = await Api.PostAsync("connections", """{"connection":{"service":"kiva","externalid":"t","name":"Kiva","logoUrl":"https://k.example/l.png","linkUrl":"https://k.example"}}""");
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return long.Parse((string)response.Json["connection"]!["id"]!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static JsonObject Order(long connection, string id, decimal total = 45.99m, string source = "HISTORICAL") => new()
    {
        ["legacyConnectionId"] = connection,
        ["storeOrderId"] = id,
        ["orderNumber"] = id,
        ["email"] = "buyer@example.com",
        ["storeCustomerId"] = "c-1",
        ["storeCreatedDate"] = "2026-11-01T10:00:00Z",
        ["creationSource"] = source,
        ["normalizedStatus"] = "COMPLETED",
        ["storeStatus"] = "Order Completed",
        ["currency"] = "USD",
        ["finalAmount"] = total,
        ["shippingAmount"] = 5m,
        ["lineItems"] = new JsonArray(new JsonObject { ["name"] = "Large Veggie Box", ["quantity"] = 2, ["priceAmount"] = 19.99m, ["sku"] = "LVB" }),
    };

    private Task<AcResponse> PostAsync(string query, string variable, params JsonObject[] items) =>
        Api.PostAsync("ecom/graphql", new JsonObject
        {
            ["query"] = query,
            ["variables"] = new JsonObject { [variable] = new JsonArray([.. items]) },
        }.ToJsonString());

    [Fact]
    public async Task BulkUpsertOrders_Accepted_ContactAtOnceOrderAboutASecondLater()
    {
        var connection = await CreateConnectionAsync();

        var response = await PostAsync(OrdersQuery, "orders", Order(connection, "o-1"));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.False(string.IsNullOrEmpty((string?)response.Json["data"]!["bulkUpsertOrdersAsync"]!["recordId"]));
        Assert.NotNull(Account.FindContact("buyer@example.com"));
        Assert.Equal("c-1", Assert.Single(Account.EcomCustomers()).ExternalId);
        Assert.Empty(Account.GraphQlOrders());
        Assert.Equal(1, Account.PendingGraphQlItems);

        Clock.Advance(TimeSpan.FromSeconds(1));

        var order = Assert.Single(Account.GraphQlOrders());
        Assert.Equal(("o-1", "o-1", "HISTORICAL", 45.99m, 5m, (decimal?)null, "USD", "c-1", Account.FindContact("buyer@example.com")!.Id),
            (order.StoreOrderId, order.OrderNumber, order.CreationSource, order.FinalAmount, order.ShippingAmount, order.DiscountsAmount, order.Currency, order.StoreCustomerId, order.ContactId));
        Assert.Equal(new EmulatedLineItem("Large Veggie Box", 2, 19.99m, "LVB", null, null), Assert.Single(order.LineItems));
        Assert.Empty(Account.EcomOrders());
    }

    [Fact]
    public async Task BulkUpsertOrders_SecondUpsert_UpdatesSameOrderAbsentKeepsNullClears()
    {
        var connection = await CreateConnectionAsync();
        await PostAsync(OrdersQuery, "orders", Order(connection, "o-1"));
        var update = Order(connection, "o-1", total: 50m, source: "REAL_TIME");
        update.Remove("storeStatus");
        update["shippingAmount"] = null;
        update["lineItems"] = new JsonArray(new JsonObject { ["name"] = "Small Box", ["quantity"] = 1, ["priceAmount"] = 50m });

        await PostAsync(OrdersQuery, "orders", update);
        Clock.Advance(TimeSpan.FromSeconds(1));

        var order = Assert.Single(Account.GraphQlOrders());
        Assert.Equal((50m, (decimal?)null, "Order Completed", 2, "REAL_TIME"), (order.FinalAmount, order.ShippingAmount, order.StoreStatus, order.UpsertCount, order.CreationSource));
        Assert.Equal(["HISTORICAL", "REAL_TIME"], order.CreationSourcesSent);
        Assert.Equal("Small Box", Assert.Single(order.LineItems).Name);
    }

    [Fact]
    public async Task BulkUpsertOrders_RefusedId_ValidationErrorsNameItAndNothingIsApplied()
    {
        var connection = await CreateConnectionAsync();
        Account.RefuseOrderIds("o-2-b");
        var bad = Order(connection, "o-3");
        bad["finalAmount"] = "4599";

        var response = await PostAsync(OrdersQuery, "orders", Order(connection, "o-1"), Order(connection, "o-2-b"), bad);
        Clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Null(response.Json["data"]!["bulkUpsertOrdersAsync"]);
        var error = response.Json["errors"]![0]!;
        Assert.Equal("Validation errors", (string?)error["message"]);
        var keys = error["extensions"]!.AsObject().Select(kv => kv.Key).Order().ToList();
        Assert.Equal(["1-storeOrderId-o-2-b", "2-storeOrderId-o-3"], keys);
        Assert.Contains("finalAmount", (string?)error["extensions"]!["2-storeOrderId-o-3"], StringComparison.Ordinal);
        Assert.Empty(Account.GraphQlOrders());
        Assert.Equal(0, Account.PendingGraphQlItems);
    }

    [Fact]
    public async Task BulkUpsertOrders_Over50Items_ValidationErrorNamingNoItem()
    {
        var connection = await CreateConnectionAsync();

        var response = await PostAsync(OrdersQuery, "orders", [.. Enumerable.Range(0, 51).Select(i => Order(connection, "o-" + i))]);
        Clock.Advance(TimeSpan.FromSeconds(2));

        var error = response.Json["errors"]![0]!;
        Assert.Equal("Validation errors", (string?)error["message"]);
        Assert.DoesNotContain(error["extensions"]!.AsObject(), kv => kv.Key.Contains("storeOrderId", StringComparison.Ordinal));
        Assert.Empty(Account.GraphQlOrders());
    }

    [Fact]
    public async Task GraphQl_BodyOver400000Bytes_RequestBodyTooLargeAndNothingApplied()
    {
        var connection = await CreateConnectionAsync();
        var big = Order(connection, "o-1");
        big["storeStatus"] = new string('x', 400_001);

        var response = await PostAsync(OrdersQuery, "orders", big);
        Clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("Request body too large", (string?)response.Json["errors"]![0]!["message"]);
        Assert.Empty(Account.GraphQlOrders());
    }

    [Fact]
    public async Task GraphQl_OtherQuery_AnswersInvalidQuery()
    {
        var response = await Api.PostAsync("ecom/graphql", """{"query":"query { searchOrder(id: 1) { id } }","variables":{}}""");

        Assert.Equal("Invalid query", (string?)response.Json["errors"]![0]!["message"]);
    }

    [Fact]
    public async Task BulkUpsertRecurringPayments_Upserts_AbsentKeepsNullClearsAndRefusalNamesId()
    {
        var connection = await CreateConnectionAsync();
        var first = new JsonObject
        {
            ["legacyConnectionId"] = connection, ["storeRecurringPaymentId"] = "c-1", ["storeCustomerId"] = "c-1",
            ["email"] = "sub@example.com", ["name"] = "Large Veggie Box", ["lineItemNames"] = new JsonArray("Large Veggie Box"),
            ["normalizedStatus"] = "ACTIVE", ["storeStatus"] = "Active", ["billingInterval"] = "WEEKLY", ["billingIntervalCount"] = 2,
            ["nextPaymentDate"] = "2026-12-01T00:00:00Z", ["paymentAmount"] = 39.99m, ["currency"] = "USD", ["suppressAutomations"] = true,
        };
        await PostAsync(PaymentsQuery, "rps", first);
        var second = new JsonObject
        {
            ["legacyConnectionId"] = connection, ["storeRecurringPaymentId"] = "c-1", ["email"] = "sub@example.com",
            ["normalizedStatus"] = "CANCELLED", ["storeStatus"] = "Cancelled", ["nextPaymentDate"] = null,
            ["cancelledDate"] = "2026-11-20T00:00:00Z", ["suppressAutomations"] = false,
        };
        await PostAsync(PaymentsQuery, "rps", second);
        Account.RefuseRecurringPaymentIds("c-2");
        var refused = await PostAsync(PaymentsQuery, "rps", new JsonObject
        {
            ["legacyConnectionId"] = connection, ["storeRecurringPaymentId"] = "c-2", ["email"] = "two@example.com",
        });
        Clock.Advance(TimeSpan.FromSeconds(1));

        var rp = Assert.Single(Account.RecurringPayments());
        Assert.Equal(("CANCELLED", "Cancelled", "WEEKLY", (int?)2, (string?)null, "2026-11-20T00:00:00Z", (decimal?)39.99m, "Large Veggie Box", false),
            (rp.NormalizedStatus, rp.StoreStatus, rp.BillingInterval, rp.BillingIntervalCount, rp.NextPaymentDate, rp.CancelledDate, rp.PaymentAmount, rp.Name, rp.SuppressAutomations));
        Assert.Equal([true, false], rp.SuppressAutomationsSent);
        Assert.Contains("nextPaymentDate", rp.FieldsSent);
        Assert.Equal("Validation errors", (string?)refused.Json["errors"]![0]!["message"]);
        Assert.NotNull(refused.Json["errors"]![0]!["extensions"]!["0-storeRecurringPaymentId-c-2"]);
    }

    [Fact]
    public async Task GraphQl_SharesAccountWindowWithV3_Answers429OverFivePerSecond()
    {
        var connection = await CreateConnectionAsync();
        Account.RequestsPerSecond = 5;
        Clock.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync("lists")).Status);
        }

        var fifth = await PostAsync(OrdersQuery, "orders", Order(connection, "o-1"));
        var sixth = await PostAsync(OrdersQuery, "orders", Order(connection, "o-2"));

        Assert.Equal(HttpStatusCode.OK, fifth.Status);
        Assert.Equal((HttpStatusCode.TooManyRequests, "1"), (sixth.Status, sixth.RetryAfter));
    }
}
