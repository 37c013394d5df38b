using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace KivaSync.SyncService.Tests;

/// <summary>
/// A client certificate identifies a caller by its subject CN, over real TLS on loopback. The service is given a
/// self-signed server certificate and told to take any client certificate (in a cluster, Kestrel or the mesh
/// validates the chain); what is tested is the mapping from a presented certificate to a caller and its tenants.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private const string Green = "greenleaf";
    private const string Blue = "bluebarn";
    private readonly X509Certificate2 serverCertificate = SelfSigned("CN=localhost");
    private ServiceHarness service = null!;
    private Uri tlsAddress = null!;

    public async Task InitializeAsync()
    {
        service = await ServiceHarness.StartAsync(Green, extra: new Dictionary<string, string?>
        {
            [$"KivaSync:Tenants:{Blue}:ApiUrl"] = "http://127.0.0.1:9/unused",
            [$"KivaSync:Tenants:{Blue}:ApiKey"] = "blue-key",
            ["KivaSync:Callers:blue-shipper:CertificateSubject"] = "CN=blue-shipper",
            ["KivaSync:Callers:blue-shipper:Tenants"] = Blue,
            ["KivaSync:Callers:blue-shipper:Scopes"] = "ship,read",
        }, configure: builder => builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(serverCertificate, https =>
            {
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.AllowAnyClientCertificate();
            });
        })));
        tlsAddress = new Uri(service.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Single(a => a.StartsWith("https://", StringComparison.Ordinal)));
    }

    public async Task DisposeAsync()
    {
        await service.DisposeAsync();
        serverCertificate.Dispose();
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // A PFX round trip gives a certificate whose private key TLS can use on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    private SyncApi.SyncApiClient ClientWith(X509Certificate2 clientCertificate, out GrpcChannel channel)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [clientCertificate];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == serverCertificate.GetCertHashString();
        channel = GrpcChannel.ForAddress(tlsAddress, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return new SyncApi.SyncApiClient(channel);
    }

    [Fact]
    public async Task ClientCertificate_ConfiguredSubjectCn_ThatCallersTenantsOnly()
    {
        using var certificate = SelfSigned("CN=blue-shipper, O=Kiva");
        var client = ClientWith(certificate, out var channel);
        using (channel)
        {
            var blue = await client.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Blue });
            var denied = await Assert.ThrowsAsync<RpcException>(async () => await client.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Green }));

            Assert.Equal(Blue, blue.Tenant);
            Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        }
    }

    [Fact]
    public async Task ClientCertificate_UnknownSubjectCn_Unauthenticated()
    {
        using var certificate = SelfSigned("CN=someone-else");
        var client = ClientWith(certificate, out var channel);
        using (channel)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await client.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Blue }));

            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }
    }

    [Fact]
    public async Task PlainConnection_NoCertificateNoToken_Unauthenticated()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await service.Api.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = Blue }));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }
}
