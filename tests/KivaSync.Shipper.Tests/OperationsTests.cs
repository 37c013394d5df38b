using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests;

public sealed class OperationsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AckTimeout_ServiceStopsAcknowledging_StreamReopenedAndLinesResent()
    {
        var service = new FakeLogIngest { Behaviour = (stream, index, _) => stream == 1 && index == 2 ? Reaction.Hang : Reaction.Ack };
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        Append(log, Lines(0, 200));
        var options = Options(_dir, server.Url, log);
        options.AckTimeout = TimeSpan.FromMilliseconds(300);
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());

        Assert.True(service.Streams >= 2);
        var expected = ExpectedLines(await File.ReadAllBytesAsync(log));
        Assert.Equal(expected.Select(e => e.Offset).ToHashSet(), service.AllLines().Select(l => (long)l.Offset).ToHashSet());
    }

    [Fact]
    public void ReconnectDelay_RetryAfterTrailer_NeverSoonerThanAsked()
    {
        var options = new ShipperOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(100), ReconnectMaxDelay = TimeSpan.FromSeconds(2) };
        var failure = new RpcException(new Status(StatusCode.ResourceExhausted, "busy"), new Metadata { { "retry-after-ms", "5000" } });

        var delay = ReconnectPolicy.Delay(options, 1, failure, new Random(7));

        Assert.InRange(delay.TotalMilliseconds, 5000, 5500);
    }

    [Theory]
    [InlineData(1, 50, 100)]
    [InlineData(3, 200, 400)]
    [InlineData(20, 1000, 2000)]
    public void ReconnectDelay_Unavailable_GrowsExponentiallyWithJitterUpToTheCap(int attempt, double atLeast, double atMost)
    {
        var options = new ShipperOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(100), ReconnectMaxDelay = TimeSpan.FromSeconds(2) };
        var failure = new RpcException(new Status(StatusCode.Unavailable, "down"));
        var random = new Random(11);

        var delays = Enumerable.Range(0, 50).Select(_ => ReconnectPolicy.Delay(options, attempt, failure, random).TotalMilliseconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, atLeast, atMost));
        Assert.True(delays.Distinct().Count() > 1, "jitter spreads the delays");
    }

    [Fact]
    public void ReconnectDelay_UnknownTenant_WaitsTheLongestDelay()
    {
        var options = new ShipperOptions { ReconnectMinDelay = TimeSpan.FromMilliseconds(100), ReconnectMaxDelay = TimeSpan.FromSeconds(2) };
        var failure = new RpcException(new Status(StatusCode.FailedPrecondition, "no such tenant"));

        var delay = ReconnectPolicy.Delay(options, 1, failure, new Random(3));

        Assert.InRange(delay.TotalMilliseconds, 1000, 2000);
    }

    [Fact]
    public async Task Metrics_BadLinesAndRejections_Counted()
    {
        var meters = new TestMeterFactory();
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (meters.Created.Contains(instrument.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals)
            {
                totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        var longLine = "{\"msg\":\"" + new string('x', 270_000) + "\"}";
        Append(log, Lines(0, 3) + longLine + "\nnot json\n");
        AppendBytes(log, [(byte)'{', 0xFF, (byte)'}', (byte)'\n']);
        await using var runner = new ShipperRunner(Options(_dir, server.Url, log), meterFactory: meters);
        await runner.StartAsync();

        await runner.WaitForFileShippedAsync(log, Guard());
        listener.RecordObservableInstruments();

        lock (totals)
        {
            Assert.Equal(6, totals[ShipperTelemetry.LinesRead]);
            Assert.Equal(new FileInfo(log).Length, totals[ShipperTelemetry.BytesRead]);
            Assert.Equal(1, totals[ShipperTelemetry.LinesTooLong]);
            Assert.Equal(1, totals[ShipperTelemetry.LinesRepaired]);
            Assert.Equal(3, totals[ShipperTelemetry.DeadLettered]);
            Assert.Equal(0, totals[ShipperTelemetry.LagBytes]);
        }
    }

    [Fact]
    public async Task Host_ConfiguredFromSettings_ShipsAndServesHealth()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var log = _dir.File("system.log");
        Append(log, Lines(0, 30));
        var healthPort = FreePort();
        var builder = ShipperHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Shipper:ServiceUrl"] = server.Url.ToString(),
            ["Shipper:BearerToken"] = "from-settings",
            ["Shipper:Sources:0:Tenant"] = Tenant,
            ["Shipper:Sources:0:Path"] = log,
            ["Shipper:CheckpointDirectory"] = _dir.File("state"),
            ["Shipper:DeadLetterPath"] = _dir.File("state/dead.jsonl"),
            ["Shipper:PollInterval"] = "00:00:00.020",
            ["Shipper:MaxDelay"] = "00:00:00.020",
            ["Shipper:CheckpointInterval"] = "00:00:00.020",
            ["Shipper:FingerprintBytes"] = "64",
            ["Shipper:HealthUrl"] = $"http://127.0.0.1:{healthPort}",
        });
        using var host = builder.Build();
        await host.StartAsync(Guard());
        var runner = host.Services.GetRequiredService<ShipperRunner>();

        await runner.WaitForFileShippedAsync(log, Guard());
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{healthPort}/healthz"), Guard());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Guard());
        await host.StopAsync(Guard());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.GetProperty("healthy").GetBoolean());
        Assert.Equal(log, body.GetProperty("files")[0].GetProperty("path").GetString());
        Assert.All(server.Service.AuthorizationHeaders, h => Assert.Equal("Bearer from-settings", h));
        AssertExactlyOnce(ExpectedLines(await File.ReadAllBytesAsync(log)), server.Service.AllLines());
    }

    [Fact]
    public async Task Host_InvalidSettings_FailsAtStart()
    {
        var builder = ShipperHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Shipper:ServiceUrl"] = "not a url",
            ["Shipper:Sources:0:Tenant"] = Tenant,
            ["Shipper:Sources:0:Path"] = _dir.File("system.log"),
            ["Shipper:CheckpointDirectory"] = _dir.File("state"),
            ["Shipper:DeadLetterPath"] = _dir.File("dead.jsonl"),
        });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Guard()));

        Assert.Contains("ServiceUrl", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_ServiceUnreachableTooLong_ReportsUnhealthyThenRecovers()
    {
        int port;
        await using (var probe = await FakeIngestServer.StartAsync())
        {
            port = probe.Url.Port;
        }

        var log = _dir.File("system.log");
        Append(log, Lines(0, 10));
        var options = Options(_dir, new Uri($"http://127.0.0.1:{port}"), log);
        options.UnhealthyAfter = TimeSpan.FromMilliseconds(100);
        await using var runner = new ShipperRunner(options);
        await runner.StartAsync();
        while (runner.GetStatus().Healthy)
        {
            await Task.Delay(20, Guard());
        }

        await using var server = await FakeIngestServer.StartAsync(port: port);
        await runner.WaitForFileShippedAsync(log, Guard());

        Assert.True(runner.GetStatus().Healthy);
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Created { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            Created.Add(meter);
            return meter;
        }

        public void Dispose() => Created.ForEach(m => m.Dispose());
    }
}
