using System.Net;

namespace KivaSync.AcEmulator.Tests;

public sealed class EcomTests : EmulatorTest
{
    private const string ConnectionBody = """{"connection":{"service":"kiva","externalid":"tenant-1","name":"Kiva","logoUrl":"https://kiva.example/logo.png","linkUrl":"https://kiva.example"}}""";

    private async Task<string> CreateConnectionAsync()
    {
        var response = await Api.PostAsync("connections", ConnectionBody);
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return (string)response.Json["connection"]!["id"]!;
    }

    private async Task<string> CreateCustomerAsync(string connectionId, string externalId, string email)
    {
        var response = await Api.PostAsync("ecomCustomers", $$$"""{"ecomCustomer":{"connectionid":"{{{connectionId}}}","externalid":"{{{externalId}}}","email":"{{{email}}}","acceptsMarketing":"1"}}""");
        Assert.Equal(HttpStatusCode.Created, response.Status);
        return (string)response.Json["ecomCustomer"]!["id"]!;
    }

    private static string OrderBody(string connectionId, string customerId, string externalId, long total, int source = 1) => $$$"""
        {"ecomOrder":{"externalid":"{{{externalId}}}","source":{{{source}}},"email":"o@example.com",
         "orderProducts":[{"externalid":"box-1","name":"Monthly box","price":2500,"quantity":2,"category":"Boxes","sku":"BOX"}],
         "totalPrice":{{{total}}},"shippingAmount":500,"taxAmount":0,"discountAmount":"100","currency":"USD",
         "connectionid":"{{{connectionId}}}","customerid":{{{customerId}}},
         "externalCreatedDate":"2026-11-01T10:00:00Z","externalUpdatedDate":"2026-11-01T10:00:00Z"}}
        """;

    [Fact]
    public async Task CreateConnection_Duplicate_Answers422AndFilterFindsOriginal()
    {
        var id = await CreateConnectionAsync();

        var duplicate = await Api.PostAsync("connections", ConnectionBody);
        var found = await Api.GetAsync("connections?filters[service]=kiva&filters[externalid]=tenant-1");
        var other = await Api.GetAsync("connections?filters[externalid]=tenant-2");

        Assert.Equal(((HttpStatusCode)422, "duplicate"), (duplicate.Status, duplicate.ErrorCode));
        Assert.Equal(id, (string)Assert.Single(found.Json["connections"]!.AsArray())!["id"]!);
        Assert.Empty(other.Json["connections"]!.AsArray());
    }

    [Fact]
    public async Task CreateEcomCustomer_DuplicateExternalId_Answers422AndFilterFindsOriginal()
    {
        var connectionId = await CreateConnectionAsync();
        var id = await CreateCustomerAsync(connectionId, "cust-1", "o@example.com");

        var duplicate = await Api.PostAsync("ecomCustomers", $$$"""{"ecomCustomer":{"connectionid":{{{connectionId}}},"externalid":"cust-1","email":"x@example.com"}}""");
        var found = await Api.GetAsync("ecomCustomers?filters[externalid]=cust-1");

        Assert.Equal(((HttpStatusCode)422, "duplicate"), (duplicate.Status, duplicate.ErrorCode));
        Assert.Equal(id, (string)Assert.Single(found.Json["ecomCustomers"]!.AsArray())!["id"]!);
    }

    [Fact]
    public async Task CreateEcomOrder_Valid_StoresEveryFieldAndDerivesCustomerTotals()
    {
        var connectionId = await CreateConnectionAsync();
        var customerId = await CreateCustomerAsync(connectionId, "cust-1", "o@example.com");

        var first = await Api.PostAsync("ecomOrders", OrderBody(connectionId, customerId, "order-1", 5400, source: 0));
        await Api.PostAsync("ecomOrders", OrderBody(connectionId, customerId, "order-2", 3000));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        var order = Account.EcomOrders()[0];
        Assert.Equal(((string)first.Json["ecomOrder"]!["id"]!, "order-1", 0, 5400L, 500L, 0L, 100L, "USD", connectionId, customerId),
            (order.Id, order.ExternalId, order.Source, order.TotalPrice, order.ShippingAmount, order.TaxAmount, order.DiscountAmount, order.Currency, order.ConnectionId, order.CustomerId));
        Assert.Equal(new EmulatedOrderProduct("box-1", "Monthly box", 2500, 2, "Boxes", "BOX"), Assert.Single(order.Products));
        Assert.Equal(Account.FindContact("o@example.com")!.Id, order.ContactId);
        var customer = Assert.Single(Account.EcomCustomers());
        Assert.Equal((8400L, 2, 4200L), (customer.TotalRevenue, customer.TotalOrders, customer.AverageOrderValue));
        var shown = await Api.GetAsync("ecomCustomers/" + customerId);
        Assert.Equal("8400", (string)shown.Json["ecomCustomer"]!["totalRevenue"]!);
    }

    [Fact]
    public async Task CreateEcomOrder_RepeatedExternalId_Answers422ThenLookupAndPutUpdates()
    {
        var connectionId = await CreateConnectionAsync();
        var customerId = await CreateCustomerAsync(connectionId, "cust-1", "o@example.com");
        await Api.PostAsync("ecomOrders", OrderBody(connectionId, customerId, "order-1", 5400));

        var repeated = await Api.PostAsync("ecomOrders", OrderBody(connectionId, customerId, "order-1", 6000));
        Assert.Equal(((HttpStatusCode)422, "duplicate"), (repeated.Status, repeated.ErrorCode));

        var found = await Api.GetAsync("ecomOrders?filters[externalid]=order-1");
        var id = (string)Assert.Single(found.Json["ecomOrders"]!.AsArray())!["id"]!;
        var updated = await Api.PutAsync("ecomOrders/" + id, OrderBody(connectionId, customerId, "order-1", 6000));

        Assert.Equal(HttpStatusCode.OK, updated.Status);
        var order = Assert.Single(Account.EcomOrders());
        Assert.Equal((6000L, 1), (order.TotalPrice, order.UpdateCount));
    }

    [Theory]
    [InlineData("9999", "2500", "related_missing")]
    [InlineData(null, "25.00", "field_invalid")]
    public async Task CreateEcomOrder_UnknownCustomerOrFractionalPrice_Answers422(string? customerOverride, string price, string code)
    {
        var connectionId = await CreateConnectionAsync();
        var customerId = await CreateCustomerAsync(connectionId, "cust-1", "o@example.com");
        var body = OrderBody(connectionId, customerOverride ?? customerId, "order-1", 5400).Replace("\"price\":2500", "\"price\":" + price, StringComparison.Ordinal);

        var response = await Api.PostAsync("ecomOrders", body);

        Assert.Equal(((HttpStatusCode)422, code), (response.Status, response.ErrorCode));
        Assert.Empty(Account.EcomOrders());
    }
}
