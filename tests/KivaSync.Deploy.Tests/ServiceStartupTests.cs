using System.Diagnostics;
using System.Net.Sockets;
using KivaSync.Testing;
using KivaSync.Testing.Redis;

namespace KivaSync.Deploy.Tests;

/// <summary>The built sync service, started as Kubernetes starts it, with a configuration it must refuse (issue #12).</summary>
public sealed class ServiceStartupTests
{
    private const string SecretKey = "ac-key-that-must-never-be-printed";

    [Theory]
    [InlineData("KivaSync__Tenants__acme__ApiUrl", "not-a-url", "KivaSync:Tenants:acme:ApiUrl must be an absolute http(s) URL")]
    [InlineData("KivaSync__Sync__Concurrency", "lots", "KivaSync:Sync:Concurrency")]
    public async Task Start_InvalidConfiguration_OneLineOnStderrAndExit2(string key, string value, string reason)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
            // Nothing listens there: a service that got past its configuration check would hang connecting, not exit 2.
            ["KivaSync__Redis"] = "127.0.0.1:1",
            ["KivaSync__Tenants__acme__ApiUrl"] = "https://acme.api-us1.com",
            ["KivaSync__Tenants__acme__ApiKey"] = SecretKey,
        };
        environment[key] = value;

        var (code, stdout, stderr) = await RunServiceAsync(environment);

        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("kivasync-sync-service: invalid configuration: ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretKey, stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ValidConfiguration_ListensUntilStopped()
    {
        // A real Redis: the service checks its state marker there before it serves.
        await using var redis = await RedisServerProcess.StartAsync();
        var port = FreePort.Next();
        using var process = Process.Start(ServiceStartInfo(new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
            ["KivaSync__Redis"] = redis.ConnectionString,
            ["KivaSync__Tenants__acme__ApiUrl"] = "https://acme.api-us1.com",
            ["KivaSync__Tenants__acme__ApiKey"] = SecretKey,
        })) ?? throw new InvalidOperationException("dotnet did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            // The configuration check passes the valid configuration on: the host starts and Kestrel accepts connections.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!await AcceptsAsync(port))
            {
                Assert.False(process.HasExited, $"the service exited with {(process.HasExited ? process.ExitCode : 0)}: {(process.HasExited ? await stderr : "")}");
                Assert.True(DateTime.UtcNow < deadline, "the service did not listen within 90 s");
                await Task.Delay(100);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Runs the service until it exits.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunServiceAsync(Dictionary<string, string> environment)
    {
        using var process = Process.Start(ServiceStartInfo(environment)) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A bound, not a wait: the process is expected to exit by itself within a second or two.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the service did not exit within 90 s: it started despite an invalid configuration");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>services/KivaSync.SyncService's build output (same configuration as these tests), as a process.</summary>
    private static ProcessStartInfo ServiceStartInfo(Dictionary<string, string> environment)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Repo.PathOf($"services/KivaSync.SyncService/bin/{configuration}/net10.0/KivaSync.SyncService.dll");
        Assert.True(File.Exists(dll), $"build the service first: {dll}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }
}
