using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace KivaSync.SyncService.Tests;

/// <summary>Requests whose protobuf cannot be read, sent as raw HTTP/2 frames: a clear status and next to no log.</summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private const string Token = "ops-2b8e4d6f1a3c5e7092bd";
    private readonly CapturingLoggerProvider logs = new();
    private ServiceHarness service = null!;

    public async Task InitializeAsync() => service = await ServiceHarness.StartAsync(extra: new Dictionary<string, string?>
    {
        ["KivaSync:Callers:ops:Token"] = Token,
        ["KivaSync:Callers:ops:Tenants"] = "*",
        ["KivaSync:Callers:ops:Scopes"] = "ship,read,operate",
        ["Logging:LogLevel:Default"] = "Information",
    }, configure: builder => builder.Logging.AddProvider(logs));

    public async Task DisposeAsync() => await service.DisposeAsync();

    [Fact]
    public async Task Call_500MalformedFramesBeforeAuthentication_InvalidArgumentAndAtMostAHandfulOfShortLogLines()
    {
        using var http = new HttpClient(new SocketsHttpHandler()) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var before = logs.Entries.Count;
        var statuses = new List<string?>();
        for (var i = 0; i < 500; i++)
        {
            var method = (i % 3) switch
            {
                0 => "/kiva.sync.v1.SyncApi/GetTenantStatus",
                1 => "/kiva.sync.v1.SyncApi/ForceResync",
                _ => "/kiva.sync.v1.SyncApi/TestSync",
            };
            statuses.Add(await SendAsync(http, method, authorized: false));
        }

        // An authenticated caller's broken stream is refused the same way.
        var authenticated = await SendAsync(http, "/kiva.sync.v1.SyncApi/TestSync", authorized: true);
        await service.App.StopAsync();

        var lines = logs.Entries.Skip(before).Where(e => e.Category.StartsWith("KivaSync", StringComparison.Ordinal) || e.Category.StartsWith("Grpc", StringComparison.Ordinal)
            || e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToList();
        Assert.All(statuses.Where((_, i) => i % 3 != 2), s => Assert.Equal("3", s));
        // A stream is authenticated before its first message is read: without a token it is UNAUTHENTICATED.
        Assert.All(statuses.Where((_, i) => i % 3 == 2), s => Assert.Equal("16", s));
        Assert.Equal("3", authenticated);
        Assert.True(lines.Count <= 6, $"{lines.Count} log lines:\n" + string.Join("\n", lines.Take(20).Select(l => $"{l.Level} {l.Category}: {l.Text}")));
        Assert.All(lines, l => Assert.DoesNotContain("   at ", l.Text, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.Text.Length < 400, l.Text));
    }

    /// <summary>One gRPC call whose message is not protobuf; returns its grpc-status.</summary>
    private async Task<string?> SendAsync(HttpClient http, string method, bool authorized)
    {
        // A message frame (uncompressed, 5 bytes): a field tag whose varint never ends.
        byte[] frame = [0, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(service.Address, method))
        {
            Content = new ByteArrayContent(frame),
            // HTTP/2 with prior knowledge, as a gRPC client speaks to the service's cleartext port.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (authorized)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.Single()
            : response.Headers.TryGetValues("grpc-status", out var header) ? header.Single() : $"HTTP {(int)response.StatusCode}";
    }
}
