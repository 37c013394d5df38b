using System.Collections.Concurrent;
using System.Diagnostics;
using KivaSync.Demo;

namespace KivaSync.EndToEnd.Tests;

/// <summary>One trace from the shipper's batch, through the service's ingest and contact sync, to each AC HTTP call.</summary>
public sealed class TraceTests() : WorkDirectoryTest("traces")
{
    private const string Tenant = "greenleaf";

    [Fact]
    public async Task ShipAndSync_OneEntry_TraceConnectsShipperBatchToTheAcHttpCalls()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "KivaSync.Shipper" or "KivaSync.SyncService" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var logPath = Path.Combine(WorkDir, "system.log");
        // Noise first: the shipper identifies a file by its first 1,024 bytes, so a shorter file waits to grow.
        var noise = string.Concat(Enumerable.Range(0, 12).Select(i =>
            $$$"""{"ts":"2024-06-03T14:00:{{{i:D2}}}Z","tenant":"greenleaf","level":"info","msg":"cron: cleanup finished in 3.2s"}""" + "\n"));
        await File.WriteAllTextAsync(logPath, noise +
            """{"ts":"2024-06-03T14:22:05.123Z","tenant":"greenleaf","event":"New Customer Signup","customer":{"id":"48214","email":"bob@example.com","first_name":"Bob"},"attrs":{"status":"Active"}}""" + "\n");
        await using var environment = await DemoEnvironment.StartAsync(new DemoSettings(Tenant, null, null, 50));

        await using (var shipper = environment.CreateShipper(logPath, Path.Combine(WorkDir, "state")))
        {
            await shipper.StartAsync();
            await shipper.WaitForFileShippedAsync(logPath).WaitAsync(TimeSpan.FromMinutes(2));
        }

        await environment.WaitForIdleAsync(TimeSpan.FromMinutes(1));
        var contactPort = environment.Emulator!.BaseAddress.Port;

        // The listener is process-wide and other test classes run in parallel: keep to this test's file.
        var batch = Assert.Single(spans, s => s.OperationName == "ship batch" && s.Source.Name == "KivaSync.Shipper"
            && s.GetTagItem("kivasync.file.path") as string == logPath);
        var trace = spans.Where(s => s.TraceId == batch.TraceId).ToList();
        var ingest = Assert.Single(trace, s => s.OperationName == "ingest batch");
        var sync = Assert.Single(trace, s => s.OperationName == "sync contact");
        var acCalls = trace.Where(s => s.Source.Name == "System.Net.Http" && s.GetTagItem("server.port") is int port && port == contactPort).ToList();

        Assert.Equal(batch.SpanId, ingest.ParentSpanId);
        Assert.Equal(ingest.SpanId, sync.ParentSpanId);
        // Field set-up (list, create, relate) and the contact/sync itself: every AC call is in the trace.
        Assert.True(acCalls.Count >= 2, $"expected the AC calls in the batch's trace, found {acCalls.Count}");
        Assert.All(acCalls, call => Assert.True(IsDescendantOf(call, sync, trace), $"{call.DisplayName} is not under the sync span"));
        // Emails are redacted in telemetry; the API key never appears.
        Assert.Equal("b***@example.com", sync.GetTagItem("kivasync.contact.email"));
        Assert.DoesNotContain(trace.SelectMany(s => s.TagObjects), tag => tag.Value?.ToString()?.Contains("bob@example.com", StringComparison.Ordinal) == true);
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
