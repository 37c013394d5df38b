using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Hosting;
using KivaSync.Testing.Redis;
using Microsoft.AspNetCore.Builder;

namespace KivaSync.SyncService.Tests;

/// <summary>A real redis-server plus the sync service in-process on Kestrel (127.0.0.1, port 0).</summary>
internal sealed class ServiceHarness : IAsyncDisposable
{
    private readonly Action<WebApplicationBuilder>? configure;

    private ServiceHarness(RedisServerProcess redis, WebApplication app, Uri address, IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure)
    {
        Redis = redis;
        App = app;
        Address = address;
        Settings = settings;
        this.configure = configure;
        Channel = GrpcChannel.ForAddress(address);
    }

    public RedisServerProcess Redis { get; }

    public WebApplication App { get; private set; }

    public Uri Address { get; private set; }

    public IReadOnlyDictionary<string, string?> Settings { get; }

    public GrpcChannel Channel { get; private set; }

    public LogIngest.LogIngestClient Ingest => new(Channel);

    public SyncApi.SyncApiClient Api => new(Channel);

    /// <summary>Starts Redis and the service. Without <paramref name="acApiUrl"/> the workers are off (ingest only).</summary>
    public static async Task<ServiceHarness> StartAsync(
        string tenant = "greenleaf", string? acApiUrl = null, string apiKey = "test-key", double requestsPerSecond = 5,
        IDictionary<string, string?>? extra = null, RedisServerProcess? redis = null, Action<WebApplicationBuilder>? configure = null)
    {
        redis ??= await RedisServerProcess.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["KivaSync:Redis"] = redis.ConnectionString,
            [$"KivaSync:Tenants:{tenant}:ApiUrl"] = acApiUrl ?? "http://127.0.0.1:9/unused",
            [$"KivaSync:Tenants:{tenant}:ApiKey"] = apiKey,
            [$"KivaSync:Tenants:{tenant}:AccountWebUrl"] = "https://greenleaf.activehosted.com",
            [$"KivaSync:Tenants:{tenant}:RequestsPerSecond"] = requestsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["KivaSync:Sync:Enabled"] = acApiUrl is null ? "false" : "true",
            ["KivaSync:Sync:Debounce"] = "00:00:00.050",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var (app, address) = await SyncServer.StartLocalAsync(settings, configure);
        return new ServiceHarness(redis, app, address, settings, configure);
    }

    /// <summary>Stops the service and starts a new instance on the same Redis (a restart).</summary>
    public async Task RestartServiceAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        (App, Address) = await SyncServer.StartLocalAsync(Settings, configure);
        Channel = GrpcChannel.ForAddress(Address);
    }

    /// <summary>Ships batches on one stream and returns their acknowledgements.</summary>
    public Task<List<BatchAck>> ShipAsync(params EntryBatch[] batches) => ShipAsync(null, batches);

    /// <summary>Ships batches on one stream with the given call metadata (e.g. authorization) and returns their acknowledgements.</summary>
    public async Task<List<BatchAck>> ShipAsync(Grpc.Core.Metadata? headers, params EntryBatch[] batches)
    {
        using var call = Ingest.Ship(headers);
        var acks = new List<BatchAck>();
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            acks.Add(call.ResponseStream.Current);
        }

        await call.RequestStream.CompleteAsync();
        return acks;
    }

    /// <summary>Settings for one more tenant that only takes entries (its AC is never called in the test).</summary>
    public static Dictionary<string, string?> IngestOnlyTenant(string tenant) => new()
    {
        [$"KivaSync:Tenants:{tenant}:ApiUrl"] = "http://127.0.0.1:9/unused",
        [$"KivaSync:Tenants:{tenant}:ApiKey"] = "test-key",
        [$"KivaSync:Tenants:{tenant}:AccountWebUrl"] = $"https://{tenant}.activehosted.com",
    };

    /// <summary>Sends every batch on one stream without waiting for acknowledgements (all in flight), then reads them all.</summary>
    public async Task<List<BatchAck>> ShipInFlightAsync(IReadOnlyList<EntryBatch> batches)
    {
        using var call = Ingest.Ship();
        var reader = Task.Run(async () =>
        {
            var acks = new List<BatchAck>();
            while (acks.Count < batches.Count && await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                acks.Add(call.ResponseStream.Current);
            }

            return acks;
        });
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch);
        }

        var result = await reader;
        await call.RequestStream.CompleteAsync();
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Redis.DisposeAsync();
    }

    /// <summary>Builds a batch from lines as a file would hold them (each followed by '\n').</summary>
    public static EntryBatch Batch(string tenant, string fingerprint, long startOffset, ulong sequence, params string[] lines)
    {
        var batch = new EntryBatch
        {
            Sequence = sequence,
            Source = new Source { Tenant = tenant, Path = "/var/log/kiva/system.log", Fingerprint = fingerprint },
            StartOffset = (ulong)startOffset,
        };
        var offset = (ulong)startOffset;
        foreach (var line in lines)
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            batch.Lines.Add(new LogLine { Offset = offset, Length = (uint)bytes.Length + 1, Raw = ByteString.CopyFrom(bytes) });
            offset += (ulong)bytes.Length + 1;
        }

        batch.EndOffset = offset;
        return batch;
    }
}
