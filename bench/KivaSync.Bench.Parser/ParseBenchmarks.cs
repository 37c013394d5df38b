using System.Text;
using BenchmarkDotNet.Attributes;
using KivaSync.SystemLog;

namespace KivaSync.Bench.Parser;

/// <summary>
/// SystemLogParser.Parse on realistic ~300-byte lines, one per kind the shipper sees most: a customer
/// state change with attrs, ordinary log noise, and a catalogue event with data. Plus the identity hash
/// every line pays for deduplication.
/// </summary>
[MemoryDiagnoser]
// Not sealed: BenchmarkDotNet generates a type that derives from the benchmark class.
public class ParseBenchmarks
{
    private const string Tenant = "greenleaf";

    /// <summary>When the lines are processed: after their 2024 ts, as in production.</summary>
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private byte[] _customerWithAttrs = [];
    private byte[] _noise = [];
    private byte[] _eventWithData = [];

    [GlobalSetup]
    public void Setup()
    {
        _customerWithAttrs = Encoding.UTF8.GetBytes(
            """{"ts":"2024-06-06T23:00:01.204Z","tenant":"greenleaf","id":"evt-9f1c2a7e","customer":{"id":"48214","email":"bob.lee@example.com","first_name":"Bob","last_name":"Lee","phone":"+1 415 555 0100"},"attrs":{"status":"Active","schedule":"weekly","box":"Large Veggie","next_delivery":"2024-06-14","order":{"week":"2024-W24","state":"open"},"marketing_opt_in":true}}""");
        _noise = Encoding.UTF8.GetBytes(
            """{"ts":"2024-06-03T14:22:06.001Z","tenant":"greenleaf","level":"info","msg":"cron: cleanup finished in 3.2s; removed 412 expired sessions, 37 stale carts, 5 orphaned uploads; next run at 2024-06-03T15:22:06Z","host":"web-3","pid":48211,"req":"c2a7e9f1-0b44-4e0c-9d5e-2f8a1b6c3d70"}""");
        _eventWithData = Encoding.UTF8.GetBytes(
            """{"ts":"2024-06-04T09:10:44.350Z","tenant":"greenleaf","id":"evt-77a0b3d1","event":"Made a substitution","customer":{"id":"48214","email":"bob.lee@example.com"},"data":{"from":"Kale","to":"Chard","order":"o-99812","week":"2024-W23","box":"Large Veggie","note":"customer prefers chard"}}""");

        // A benchmark of a rejected line would measure the wrong path: fail fast instead.
        foreach (var line in new[] { _customerWithAttrs, _noise, _eventWithData })
        {
            var outcome = SystemLogParser.Parse(line, Tenant, Now);
            if (!outcome.IsAccepted)
            {
                throw new InvalidOperationException($"benchmark line rejected: {outcome.Detail}");
            }
        }
    }

    [Benchmark(Baseline = true)]
    public LogEntry? CustomerWithAttrs() => SystemLogParser.Parse(_customerWithAttrs, Tenant, Now).Entry;

    [Benchmark]
    public LogEntry? Noise() => SystemLogParser.Parse(_noise, Tenant, Now).Entry;

    [Benchmark]
    public LogEntry? EventWithData() => SystemLogParser.Parse(_eventWithData, Tenant, Now).Entry;

    [Benchmark]
    public byte[] IdentityByBytes() => EntryIdentity.Compute(Tenant, null, _noise);
}
