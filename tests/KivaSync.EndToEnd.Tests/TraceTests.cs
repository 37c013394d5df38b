using System.Diagnostics;
using KivaSync.Demo;
using KivaSync.SyncService.Status;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace KivaSync.EndToEnd.Tests;

/// <summary>
/// What an operator sees in telemetry for one synced entry, read from OpenTelemetry's in-memory
/// exporters: the shipper's batch, the service's ingest span under it, the contact's sync (a trace of its
/// own, linked to the ingest span) and every AC call under that; and the metrics the dashboard uses.
/// </summary>
public sealed class TraceTests() : WorkDirectoryTest("traces")
{
    // A tenant no other test uses: meters and sources are process-wide, and test classes run in parallel.
    private const string Tenant = "tracing";

    [Fact]
    public async Task ShipAndSync_OneEntry_TraceConnectsShipperBatchToTheAcHttpCalls()
    {
        var shipperSpans = new List<Activity>();
        var serviceSpans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        using var shipperTracing = Sdk.CreateTracerProviderBuilder().AddSource("KivaSync.Shipper").AddInMemoryExporter(shipperSpans).Build();
        var logPath = Path.Combine(WorkDir, "system.log");
        // Noise first: the shipper identifies a file by its first 1,024 bytes, so a shorter file waits to grow.
        var noise = string.Concat(Enumerable.Range(0, 12).Select(i =>
            $$$"""{"ts":"2024-06-03T14:00:{{{i:D2}}}Z","tenant":"tracing","level":"info","msg":"cron: cleanup finished in 3.2s"}""" + "\n"));
        await File.WriteAllTextAsync(logPath, noise +
            """{"ts":"2024-06-03T14:22:05.123Z","tenant":"tracing","event":"New Customer Signup","customer":{"id":"48214","email":"bob@example.com","first_name":"Bob"},"attrs":{"status":"Active"}}""" + "\n");
        await using var environment = await DemoEnvironment.StartAsync(
            new DemoSettings(Tenant, null, null, 50),
            configureService: builder => builder.Services
                .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(serviceSpans))
                .ConfigureOpenTelemetryMeterProvider(meters => meters.AddInMemoryExporter(metrics)));

        await using (var shipper = environment.CreateShipper(logPath, Path.Combine(WorkDir, "state")))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(logPath).WaitAsync(TimeSpan.FromMinutes(2));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(1));
        await environment.Service.Services.GetRequiredService<TenantGauges>().SampleAsync();
        environment.Service.Services.GetRequiredService<MeterProvider>().ForceFlush();
        shipperTracing.ForceFlush();
        var acPort = environment.Emulator!.BaseAddress.Port;
        Activity[] service;
        lock (serviceSpans)
        {
            service = [.. serviceSpans];
        }

        var batch = Assert.Single(shipperSpans, s => s.OperationName == "ship batch" && s.GetTagItem("kivasync.file.path") as string == logPath);
        var ingest = Assert.Single(service, s => s.OperationName == "ingest batch" && s.TraceId == batch.TraceId);
        Assert.Equal(batch.SpanId, ingest.ParentSpanId);
        // The contact's sync runs later, maybe for many batches: its own trace, linked to the ingest span.
        var sync = Assert.Single(service, s => s.OperationName == "sync contact" && s.Links.Any(l => l.Context.SpanId == ingest.SpanId));
        Assert.Equal(ingest.TraceId, sync.Links.Single().Context.TraceId);
        var syncTrace = service.Where(s => s.TraceId == sync.TraceId).ToList();
        var acCalls = syncTrace.Where(s => s.Kind == ActivityKind.Client && s.GetTagItem("server.port") is int port && port == acPort).ToList();
        // Field set-up (list, create, relate) and the contact/sync itself: every AC call is under the sync span.
        Assert.True(acCalls.Count >= 2, $"expected the AC calls in the sync's trace, found {acCalls.Count}");
        Assert.All(acCalls, call => Assert.True(IsDescendantOf(call, sync, syncTrace), $"{call.DisplayName} is not under the sync span"));
        Assert.Contains(acCalls, call => call.GetTagItem("url.full") is string url && url.Contains("/api/3/contact/sync", StringComparison.Ordinal));

        // Emails are redacted in telemetry and the AC key never appears.
        Assert.Equal("b***@example.com", sync.GetTagItem("kivasync.contact.email"));
        var apiKey = environment.Account!.ApiToken;
        var allTags = service.Concat(shipperSpans).SelectMany(s => s.TagObjects).Select(tag => tag.Value?.ToString() ?? "").ToList();
        Assert.DoesNotContain(allTags, value => value.Contains("bob@example.com", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(allTags, value => value.Contains(apiKey, StringComparison.Ordinal));

        // The metrics behind the dashboard, for this tenant.
        Assert.Equal(13, Sum(metrics, "kivasync.entries.accepted"));
        Assert.Equal(0, Sum(metrics, "kivasync.entries.duplicates"));
        Assert.True(Sum(metrics, "kivasync.ac.requests") >= 2);
        Assert.Equal(1, Sum(metrics, "kivasync.contact.syncs"));
        Assert.Equal(0, Sum(metrics, "kivasync.queue.depth"));
        Assert.Equal(1.0, Last(metrics, "kivasync.backfill.progress"));
    }

    private static double Sum(List<MetricSnapshot> metrics, string name) =>
        Points(metrics, name).GroupBy(p => p.Key).Sum(g => g.Last().Value);

    private static double Last(List<MetricSnapshot> metrics, string name) => Points(metrics, name).Last().Value;

    /// <summary>
    /// This tenant's points of a metric, in export order: (the point's tags, its value). Every export is read, not
    /// only the last: other test classes' services in this process have meters of the same name, which the SDK
    /// may export as metrics of their own next to ours. Sums are cumulative, so a tag set's last point is its total.
    /// </summary>
    private static List<KeyValuePair<string, double>> Points(List<MetricSnapshot> metrics, string name)
    {
        MetricSnapshot[] all;
        lock (metrics)
        {
            all = [.. metrics.Where(m => m.Name == name)];
        }

        if (all.Length == 0)
        {
            throw new Xunit.Sdk.XunitException($"metric {name} was not exported");
        }

        var points = new List<KeyValuePair<string, double>>();
        foreach (var snapshot in all)
        {
            foreach (var point in snapshot.MetricPoints)
            {
                var tags = new List<string>();
                var tenant = "";
                foreach (var tag in point.Tags)
                {
                    tags.Add($"{tag.Key}={tag.Value}");
                    if (tag.Key == "kivasync.tenant")
                    {
                        tenant = tag.Value as string ?? "";
                    }
                }

                if (tenant != Tenant)
                {
                    continue;
                }

                var value = snapshot.MetricType switch
                {
                    MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                    MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => point.GetSumDouble(),
                    MetricType.LongGauge => point.GetGaugeLastValueLong(),
                    MetricType.DoubleGauge => point.GetGaugeLastValueDouble(),
                    _ => throw new Xunit.Sdk.XunitException($"metric {name} has an unexpected type {snapshot.MetricType}"),
                };
                points.Add(new(string.Join(',', tags), value));
            }
        }

        return points;
    }

    private static bool IsDescendantOf(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        var current = span;
        for (var depth = 0; depth < 32 && current is not null; depth++)
        {
            if (current.ParentSpanId == ancestor.SpanId)
            {
                return true;
            }

            current = trace.FirstOrDefault(s => s.SpanId == current.ParentSpanId);
        }

        return false;
    }
}
