using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using k8s.Models;
using KivaSync.SyncService.Hosting;
using KivaSync.Testing.Redis;

namespace KivaSync.Deploy.Tests;

/// <summary>
/// The sync service's probes, evaluated the way the kubelet does against the real service (in-process on
/// 127.0.0.1, on a real Redis). The ports themselves are checked against the manifests in SyncServiceManifestTests.
/// </summary>
public sealed class HealthProbeTests
{
    [Fact]
    public async Task Probes_ReadinessFollowsRedis_LivenessDoesNot()
    {
        var container = Manifests.Overlay("prod").SyncContainer;
        await using var redis = await RedisServerProcess.StartAsync();
        var (app, address) = await SyncServer.StartLocalAsync(new Dictionary<string, string?>
        {
            ["KivaSync:Redis"] = redis.ConnectionString,
            ["KivaSync:Sync:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await using var _ = app;
        using var channel = GrpcChannel.ForAddress(address);

        Assert.True(await PassesAsync(container.ReadinessProbe, channel, address), "readiness with Redis up");
        Assert.True(await PassesAsync(container.LivenessProbe, channel, address), "liveness with Redis up");

        // Redis gone: the pod leaves the Service's endpoints, but is not restarted (a restart would not bring Redis back).
        await redis.KillAsync();
        var ready = true;
        for (var attempt = 0; attempt < 60 && ready; attempt++)
        {
            ready = await PassesAsync(container.ReadinessProbe, channel, address);
            if (ready)
            {
                await Task.Delay(500);
            }
        }

        Assert.False(ready, "readiness with Redis down");
        Assert.True(await PassesAsync(container.LivenessProbe, channel, address), "liveness with Redis down");
    }

    /// <summary>A probe's verdict as the kubelet gives it: gRPC SERVING, or a TCP connection accepted.</summary>
    private static async Task<bool> PassesAsync(V1Probe probe, GrpcChannel channel, Uri address)
    {
        if (probe.Grpc is { } grpc)
        {
            try
            {
                var response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = grpc.Service ?? "" });
                return response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
            }
            catch (RpcException)
            {
                // NOT_FOUND for a service name the server does not map: the probe fails.
                return false;
            }
        }

        if (probe.TcpSocket is not null)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(address.Host, address.Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }

        throw new Xunit.Sdk.XunitException("probe kind not evaluated by this test: " + probe);
    }
}
