using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Health.V1;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Security;
using KivaSync.SyncService.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Tests;

/// <summary>Bearer-token callers scoped to tenants, against the real service on real Redis.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string Green = "greenleaf";
    private const string Blue = "bluebarn";
    private const string GreenToken = "green-7f3a9c2e5b1d4f80a6c3";
    private const string OpsToken = "ops-2b8e4d6f1a3c5e7092bd";
    private const string GreenWebToken = "green-web-5c1e8a3f7d9b2460e1";
    private const string WrongToken = "wrong-9d1f3b5a7c2e4f6081ac";

    private readonly CapturingLoggerProvider logs = new();
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(Green, extra: new Dictionary<string, string?>
    {
        [$"KivaSync:Tenants:{Blue}:ApiUrl"] = "http://127.0.0.1:9/unused",
        [$"KivaSync:Tenants:{Blue}:ApiKey"] = "blue-key",
        ["KivaSync:Callers:green-shipper:Token"] = GreenToken,
        ["KivaSync:Callers:green-shipper:Tenants:0"] = Green,
        ["KivaSync:Callers:green-shipper:Scopes:0"] = "ship",
        // The web tier: reads and operates its tenant, never ships.
        ["KivaSync:Callers:green-web:Token"] = GreenWebToken,
        ["KivaSync:Callers:green-web:Tenants:0"] = Green,
        ["KivaSync:Callers:green-web:Scopes"] = "read,operate",
        // The scalar form, as an environment variable would give it.
        ["KivaSync:Callers:ops:Token"] = OpsToken,
        ["KivaSync:Callers:ops:Tenants"] = "*",
        ["KivaSync:Callers:ops:Scopes"] = "ship,read,operate",
        ["Logging:LogLevel:Default"] = "Debug",
    }, configure: builder => builder.Logging.AddProvider(logs));

    public async Task DisposeAsync() => await service.DisposeAsync();

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    private static string Signup(string tenant, string id, string email) =>
        $$$"""{"ts":"2024-06-03T14:22:05.123Z","tenant":"{{{tenant}}}","event":"New Customer Signup","customer":{"id":"{{{id}}}","email":"{{{email}}}"},"attrs":{"status":"Active","schedule":"weekly","box":"Large Veggie"}}""";

    private static void AssertNoSecret(RpcException error)
    {
        foreach (var text in new[] { error.Status.Detail, error.Message }.Concat(error.Trailers.Select(t => t.IsBinary ? Convert.ToBase64String(t.ValueBytes) + System.Text.Encoding.UTF8.GetString(t.ValueBytes) : t.Value)))
        {
            Assert.DoesNotContain(GreenToken, text, StringComparison.Ordinal);
            Assert.DoesNotContain(OpsToken, text, StringComparison.Ordinal);
            Assert.DoesNotContain(GreenWebToken, text, StringComparison.Ordinal);
            Assert.DoesNotContain(WrongToken, text, StringComparison.Ordinal);
        }
    }

    private Task CallAsync(string rpc, string tenant, Metadata? headers) => rpc switch
    {
        nameof(SyncApi.SyncApiClient.GetSyncStatus) =>
            service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = tenant, CustomerId = "1" }, headers).ResponseAsync,
        nameof(SyncApi.SyncApiClient.ForceResync) =>
            service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = tenant, All = true }, headers).ResponseAsync,
        _ => service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = tenant }, headers).ResponseAsync,
    };

    [Theory]
    [InlineData(nameof(SyncApi.SyncApiClient.GetSyncStatus))]
    [InlineData(nameof(SyncApi.SyncApiClient.ForceResync))]
    [InlineData(nameof(SyncApi.SyncApiClient.GetTenantStatus))]
    public async Task SyncApi_NoToken_Unauthenticated(string rpc)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(rpc, Green, null));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains("Bearer", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTenantStatus_WrongToken_UnauthenticatedAndNoTokenInTheError()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(nameof(SyncApi.SyncApiClient.GetTenantStatus), Green, Bearer(WrongToken)));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        AssertNoSecret(error);
    }

    [Theory]
    [InlineData("Basic Z3JlZW46bGVhZg==")]
    [InlineData("Bearer ")]
    [InlineData(GreenToken)]
    public async Task GetTenantStatus_MalformedAuthorization_Unauthenticated(string authorization)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            CallAsync(nameof(SyncApi.SyncApiClient.GetTenantStatus), Green, new Metadata { { "authorization", authorization } }));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        AssertNoSecret(error);
    }

    [Theory]
    [InlineData(nameof(SyncApi.SyncApiClient.GetSyncStatus))]
    [InlineData(nameof(SyncApi.SyncApiClient.ForceResync))]
    [InlineData(nameof(SyncApi.SyncApiClient.GetTenantStatus))]
    public async Task SyncApi_TokenForAReadingB_PermissionDenied(string rpc)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(rpc, Blue, Bearer(GreenWebToken)));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains(Blue, error.Status.Detail, StringComparison.Ordinal);
        AssertNoSecret(error);
    }

    [Fact]
    public async Task SyncApi_TokenForAReadingAnUnconfiguredTenant_PermissionDeniedNotNotFound()
    {
        // A scoped caller learns nothing about which other tenants exist.
        var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(nameof(SyncApi.SyncApiClient.GetTenantStatus), "nobody", Bearer(GreenWebToken)));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task SyncApi_TokenForAReadingA_Answers()
    {
        await service.ShipAsync(Bearer(GreenToken), ServiceHarness.Batch(Green, "fp", 0, 1, Signup(Green, "1", "a@example.com")));

        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Green, CustomerId = "1" }, Bearer(GreenWebToken));
        var resync = await service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = Green, All = true }, Bearer(GreenWebToken));

        Assert.Equal("a@example.com", status.Email);
        Assert.Equal(1u, resync.Queued);
    }

    [Fact]
    public async Task SyncApi_WildcardCaller_ReadsEveryTenant()
    {
        var green = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Green }, Bearer(OpsToken));
        var blue = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Blue }, Bearer(OpsToken));

        Assert.Equal(Green, green.Tenant);
        Assert.Equal(Blue, blue.Tenant);
    }

    [Fact]
    public async Task Ship_NoToken_Unauthenticated()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            service.ShipAsync(ServiceHarness.Batch(Green, "fp", 0, 1, Signup(Green, "1", "a@example.com"))));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task Ship_WrongToken_UnauthenticatedAndNothingStored()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            service.ShipAsync(Bearer(WrongToken), ServiceHarness.Batch(Green, "fp", 0, 1, Signup(Green, "1", "a@example.com"))));
        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Green }, Bearer(OpsToken));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        AssertNoSecret(error);
        Assert.Equal(0ul, status.EntriesAccepted);
    }

    [Fact]
    public async Task Ship_TokenForABatchForB_PermissionDeniedAndNothingStored()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            service.ShipAsync(Bearer(GreenToken), ServiceHarness.Batch(Blue, "fp", 0, 1, Signup(Blue, "1", "a@example.com"))));
        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Blue }, Bearer(OpsToken));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains(Blue, error.Status.Detail, StringComparison.Ordinal);
        AssertNoSecret(error);
        Assert.Equal(0ul, status.EntriesAccepted);
    }

    [Fact]
    public async Task Ship_LineNamingBInsideABatchWithAsToken_RejectedAloneLaterLinesAccepted()
    {
        var batch = ServiceHarness.Batch(Green, "fp", 0, 1,
            Signup(Green, "1", "a@example.com"), Signup(Blue, "9", "x@example.com"), Signup(Green, "2", "b@example.com"));

        var ack = (await service.ShipAsync(Bearer(GreenToken), batch)).Single();
        var blue = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Blue }, Bearer(OpsToken));

        Assert.Equal(2u, ack.Accepted);
        var rejection = Assert.Single(ack.Rejections);
        Assert.Equal(batch.Lines[1].Offset, rejection.Offset);
        Assert.Equal(RejectReason.InvalidEntry, rejection.Reason);
        Assert.Contains(Blue, rejection.Detail, StringComparison.Ordinal);
        Assert.Equal(0ul, blue.EntriesAccepted);
    }

    [Fact]
    public async Task Ship_LineNamingBInsideABatchWithWildcardToken_AcceptedForB()
    {
        // The same batch as above, from a caller allowed both tenants: the line is routed to B, not rejected.
        var batch = ServiceHarness.Batch(Green, "fp", 0, 1,
            Signup(Green, "1", "a@example.com"), Signup(Blue, "9", "x@example.com"), Signup(Green, "2", "b@example.com"));

        var ack = (await service.ShipAsync(Bearer(OpsToken), batch)).Single();
        var blue = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = Blue, CustomerId = "9" }, Bearer(OpsToken));

        Assert.Equal(3u, ack.Accepted);
        Assert.Empty(ack.Rejections);
        Assert.Equal("x@example.com", blue.Email);
    }

    [Theory]
    [InlineData(nameof(SyncApi.SyncApiClient.ForceResync))]
    [InlineData(nameof(SyncApi.SyncApiClient.Provision))]
    [InlineData(nameof(SyncApi.SyncApiClient.ImportContacts))]
    [InlineData(nameof(SyncApi.SyncApiClient.RetryDeadLetters))]
    public async Task SyncApi_ShipperTokenOperating_PermissionDeniedNamingOperate(string rpc)
    {
        Task call = rpc switch
        {
            nameof(SyncApi.SyncApiClient.ForceResync) =>
                service.Api.ForceResyncAsync(new ForceResyncRequest { Tenant = Green, All = true }, Bearer(GreenToken)).ResponseAsync,
            nameof(SyncApi.SyncApiClient.Provision) =>
                service.Api.ProvisionAsync(new ProvisionRequest { Tenant = Green }, Bearer(GreenToken)).ResponseAsync,
            nameof(SyncApi.SyncApiClient.RetryDeadLetters) =>
                service.Api.RetryDeadLettersAsync(new RetryDeadLettersRequest { Tenant = Green, All = true }, Bearer(GreenToken)).ResponseAsync,
            _ => service.Api.ImportContactsAsync(new ImportContactsRequest
            {
                Tenant = Green, ListName = "Pop-up", Contacts = { new ImportContact { Email = "a@example.com" } },
            }, Bearer(GreenToken)).ResponseAsync,
        };

        var error = await Assert.ThrowsAsync<RpcException>(() => call);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("\"operate\" scope", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(rpc, error.Status.Detail, StringComparison.Ordinal);
        AssertNoSecret(error);
    }

    [Fact]
    public async Task GetTenantStatus_ShipperTokenWithoutRead_PermissionDeniedNamingRead()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(nameof(SyncApi.SyncApiClient.GetTenantStatus), Green, Bearer(GreenToken)));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("\"read\" scope", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ship_OperatorToken_PermissionDeniedNamingShipAndNothingStored()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            service.ShipAsync(Bearer(GreenWebToken), ServiceHarness.Batch(Green, "fp", 0, 1, Signup(Green, "1", "a@example.com"))));
        var status = await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Green }, Bearer(GreenWebToken));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("\"ship\" scope", error.Status.Detail, StringComparison.Ordinal);
        AssertNoSecret(error);
        Assert.Equal(0ul, status.EntriesAccepted);
    }

    [Fact]
    public async Task HealthCheck_NoToken_Serving()
    {
        // Kubernetes probes carry no credentials.
        var health = await new Health.HealthClient(service.Channel).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task Logs_RefusedAndAcceptedCalls_RefusalLoggedNoTokenAnywhere()
    {
        await Assert.ThrowsAsync<RpcException>(() => CallAsync(nameof(SyncApi.SyncApiClient.GetTenantStatus), Green, Bearer(WrongToken)));
        await Assert.ThrowsAsync<RpcException>(() => CallAsync(nameof(SyncApi.SyncApiClient.GetTenantStatus), Blue, Bearer(GreenWebToken)));
        await service.ShipAsync(Bearer(GreenToken), ServiceHarness.Batch(Green, "fp", 0, 1, Signup(Green, "1", "a@example.com")));
        await CallAsync(nameof(SyncApi.SyncApiClient.GetTenantStatus), Blue, Bearer(OpsToken));
        await service.App.StopAsync();

        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Text.Contains("InvalidToken", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Text.Contains(GreenToken, StringComparison.Ordinal)
            || e.Text.Contains(OpsToken, StringComparison.Ordinal) || e.Text.Contains(WrongToken, StringComparison.Ordinal));
    }

    [Fact]
    public void StartUp_CallersConfigured_LogsTheirNamesNotOpenMode()
    {
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Information && e.Text.Contains("green-shipper, green-web, ops", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Text.Contains("OPEN", StringComparison.Ordinal));
    }
}

/// <summary>No callers configured: the service runs open, and says so.</summary>
public sealed class OpenModeTests : IAsyncLifetime
{
    private readonly CapturingLoggerProvider logs = new();
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(configure: builder => builder.Logging.AddProvider(logs));

    public async Task DisposeAsync() => await service.DisposeAsync();

    [Fact]
    public async Task OpenMode_NoToken_CallsSucceedAndStartUpWarns()
    {
        var ack = (await service.ShipAsync(ServiceHarness.Batch("greenleaf", "fp", 0, 1,
            """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"1","email":"a@example.com"},"attrs":{"status":"Active"}}"""))).Single();
        var status = await service.Api.GetSyncStatusAsync(new GetSyncStatusRequest { Tenant = "greenleaf", CustomerId = "1" });

        Assert.Equal(1u, ack.Accepted);
        Assert.Equal("a@example.com", status.Email);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Text.Contains("OPEN", StringComparison.Ordinal));
    }
}

/// <summary>Caller configuration is checked at start-up, and the authenticator maps credentials to callers.</summary>
public sealed class CallerConfigurationTests
{
    private const string Token = "cfg-5c7e9a1b3d5f7082c4e6";

    private static async Task<OptionsValidationException> StartFailsAsync(Dictionary<string, string?> callers)
    {
        var settings = new Dictionary<string, string?>
        {
            // Start-up validation fails before anything connects to Redis.
            ["KivaSync:Redis"] = "127.0.0.1:9,abortConnect=false",
            ["KivaSync:Tenants:greenleaf:ApiUrl"] = "http://127.0.0.1:9/unused",
            ["KivaSync:Tenants:greenleaf:ApiKey"] = "key",
            ["KivaSync:Sync:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in callers)
        {
            settings[key] = value;
        }

        await using var app = Hosting.SyncServer.Create([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        });
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }

    [Fact]
    public async Task StartUp_CallerNamingAnUnknownTenant_FailsNamingTheKeyNotTheToken()
    {
        var error = await StartFailsAsync(new()
        {
            ["KivaSync:Callers:web:Token"] = Token,
            ["KivaSync:Callers:web:Tenants:0"] = "greenleaf",
            ["KivaSync:Callers:web:Tenants:1"] = "bluebarn",
            ["KivaSync:Callers:web:Scopes"] = "read",
        });

        Assert.Contains("KivaSync:Callers:web:Tenants:1", error.Message, StringComparison.Ordinal);
        Assert.Contains("bluebarn", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartUp_TwoCallersWithOneToken_FailsWithoutTheToken()
    {
        var error = await StartFailsAsync(new()
        {
            ["KivaSync:Callers:a:Token"] = Token,
            ["KivaSync:Callers:a:Tenants"] = "*",
            ["KivaSync:Callers:a:Scopes"] = "read",
            ["KivaSync:Callers:b:Token"] = Token,
            ["KivaSync:Callers:b:Tenants"] = "greenleaf",
            ["KivaSync:Callers:b:Scopes"] = "read",
        });

        Assert.Contains("KivaSync:Callers:b:Token", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short-token", "at least 16")]
    [InlineData("", "give a Token or a CertificateSubject")]
    public async Task StartUp_UnusableToken_FailsNamingTheKey(string token, string expected)
    {
        var error = await StartFailsAsync(new()
        {
            ["KivaSync:Callers:web:Token"] = token,
            ["KivaSync:Callers:web:Tenants"] = "greenleaf",
            ["KivaSync:Callers:web:Scopes"] = "read",
        });

        Assert.Contains("KivaSync:Callers:web", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        if (token.Length > 0)
        {
            Assert.DoesNotContain(token, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StartUp_CallerWithNoTenants_Fails()
    {
        var error = await StartFailsAsync(new() { ["KivaSync:Callers:web:Token"] = Token, ["KivaSync:Callers:web:Scopes"] = "read" });

        Assert.Contains("KivaSync:Callers:web:Tenants lists no tenants", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartUp_CallerWithoutScopes_FailsNamingTheKeyAndTheScopes()
    {
        // No silent all-access: a caller configured before scopes existed must be given them.
        var error = await StartFailsAsync(new() { ["KivaSync:Callers:web:Token"] = Token, ["KivaSync:Callers:web:Tenants"] = "greenleaf" });

        Assert.Contains("KivaSync:Callers:web:Scopes lists no scopes", error.Message, StringComparison.Ordinal);
        Assert.Contains("operate, read, ship", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartUp_UnknownScope_FailsNamingIt()
    {
        var error = await StartFailsAsync(new()
        {
            ["KivaSync:Callers:web:Token"] = Token,
            ["KivaSync:Callers:web:Tenants"] = "greenleaf",
            ["KivaSync:Callers:web:Scopes:0"] = "read",
            ["KivaSync:Callers:web:Scopes:1"] = "admin",
        });

        Assert.Contains("KivaSync:Callers:web:Scopes:1: unknown scope \"admin\"", error.Message, StringComparison.Ordinal);
    }

    private static CallerAuthenticator Authenticator() => new(Options.Create(new KivaSyncOptions
    {
        Tenants = { ["greenleaf"] = new TenantOptions(), ["bluebarn"] = new TenantOptions() },
        Callers =
        {
            ["green"] = new CallerOptions { Token = Token, Tenants = ["greenleaf"] },
            ["blue-shipper"] = new CallerOptions { CertificateSubject = "CN=blue-shipper", Tenants = ["bluebarn"] },
        },
    }));

    private static X509Certificate2 Certificate(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public void Authenticate_CertificateWithAConfiguredSubjectCn_ThatCallersTenantsOnly()
    {
        using var certificate = Certificate("CN=blue-shipper, O=Kiva, C=NZ");

        var access = Authenticator().Authenticate(null, certificate, out var failure);

        Assert.Equal(AuthenticationFailure.None, failure);
        Assert.NotNull(access);
        Assert.Equal("blue-shipper", access.Caller);
        Assert.True(access.Allows("bluebarn"));
        Assert.False(access.Allows("greenleaf"));
    }

    [Fact]
    public void Authenticate_CertificateWithAnUnknownSubjectCn_Refused()
    {
        using var certificate = Certificate("CN=intruder, O=blue-shipper");

        var access = Authenticator().Authenticate(null, certificate, out var failure);

        Assert.Null(access);
        Assert.Equal(AuthenticationFailure.UnknownCertificate, failure);
    }

    [Fact]
    public void Authenticate_WrongTokenWithAValidCertificate_RefusedNoFallback()
    {
        using var certificate = Certificate("CN=blue-shipper");

        var access = Authenticator().Authenticate("Bearer not-the-token-at-all", certificate, out var failure);

        Assert.Null(access);
        Assert.Equal(AuthenticationFailure.InvalidToken, failure);
    }

    [Theory]
    [InlineData("Bearer " + Token)]
    [InlineData("bearer   " + Token + " ")]
    public void Authenticate_ValidToken_ItsCaller(string authorization)
    {
        var access = Authenticator().Authenticate(authorization, null, out _);

        Assert.Equal("green", access?.Caller);
    }
}
