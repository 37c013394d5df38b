using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using KivaSync.Shipper;
using KivaSync.SyncService.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.RepresentationModel;

namespace KivaSync.Deploy.Tests;

/// <summary>The Grafana dashboard and the alert rules read only metrics (and labels) the code really exports.</summary>
public sealed partial class ObservabilityTests
{
    private const string Dashboard = "k8s/observability/kivasync-dashboard.json";
    private const string Rules = "k8s/observability/kivasync-alerts.yaml";

    /// <summary>The instruments the service and the shipper create, as the Collector's Prometheus exporter names them.</summary>
    private static async Task<HashSet<string>> ExportedSeriesAsync()
    {
        var instruments = new List<Instrument>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name is SyncTelemetry.Name or ShipperTelemetry.Name)
            {
                lock (instruments)
                {
                    instruments.Add(instrument);
                }
            }
        };
        listener.Start();

        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        using (new SyncTelemetry(meterFactory))
        {
            var state = Directory.CreateTempSubdirectory("kivasync-deploy-tests-");
            try
            {
                await using var runner = new ShipperRunner(
                    new ShipperOptions
                    {
                        ServiceUrl = new Uri("http://127.0.0.1:9"),
                        Sources = [new SourceOptions { Tenant = "demo", Path = Path.Combine(state.FullName, "system.log") }],
                        CheckpointDirectory = state.FullName,
                        DeadLetterPath = Path.Combine(state.FullName, "dead-letter.jsonl"),
                    },
                    meterFactory: meterFactory);
            }
            finally
            {
                state.Delete(recursive: true);
            }
        }

        return instruments.SelectMany(PrometheusNames).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>OpenTelemetry → Prometheus: dots to underscores, the unit appended unless a name token already, _total on counters.</summary>
    private static IEnumerable<string> PrometheusNames(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        var unit = instrument.Unit switch
        {
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            _ => null,
        };
        if (unit is not null && !name.Split('_').Contains(unit))
        {
            name += "_" + unit;
        }

        var type = instrument.GetType().GetGenericTypeDefinition();
        if (type == typeof(Counter<>) || type == typeof(ObservableCounter<>))
        {
            return [name + "_total"];
        }

        if (type == typeof(Histogram<>))
        {
            return [name + "_bucket", name + "_sum", name + "_count"];
        }

        return [name];
    }

    private static IEnumerable<(string Where, string Expression)> DashboardExpressions()
    {
        using var dashboard = JsonDocument.Parse(Repo.Read(Dashboard));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                yield return ($"panel '{panel.GetProperty("title").GetString()}'", target.GetProperty("expr").GetString()!);
            }
        }

        foreach (var variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                yield return ($"variable {variable.GetProperty("name").GetString()}", variable.GetProperty("query").GetString()!);
            }
        }
    }

    private static IEnumerable<(string Where, string Expression)> RuleExpressions()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(Repo.Read(Rules)));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        foreach (var group in ((YamlSequenceNode)root["groups"]).Children.Cast<YamlMappingNode>())
        {
            foreach (var rule in ((YamlSequenceNode)group["rules"]).Children.Cast<YamlMappingNode>())
            {
                yield return ($"alert {rule["alert"]}", ((YamlScalarNode)rule["expr"]).Value!);
            }
        }
    }

    public static TheoryData<string> Sources => new("dashboard", "alerts");

    [Theory]
    [MemberData(nameof(Sources))]
    public async Task Expressions_EveryKivaSyncMetric_IsExportedByTheCode(string source)
    {
        var exported = await ExportedSeriesAsync();
        var expressions = (source == "dashboard" ? DashboardExpressions() : RuleExpressions()).ToList();
        Assert.NotEmpty(expressions);

        foreach (var (where, expression) in expressions)
        {
            var metrics = Metrics(expression).ToList();
            Assert.NotEmpty(metrics);
            Assert.All(metrics, metric => Assert.True(exported.Contains(metric), $"{source}, {where}: {metric} is not exported (exported: {string.Join(", ", exported.Order())})"));
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Expressions_KivaSyncLabels_AreTheCodesTagNames(string source)
    {
        var tags = typeof(SyncTelemetry.Tags).GetFields().Select(f => ((string)f.GetValue(null)!).Replace('.', '_'))
            .Append("file_path") // the shipper's per-file lag tag
            .ToHashSet(StringComparer.Ordinal);
        var expressions = source == "dashboard" ? DashboardExpressions() : RuleExpressions();

        foreach (var (where, expression) in expressions)
        {
            foreach (var label in Labels(expression).Where(l => l.StartsWith("kivasync_", StringComparison.Ordinal) || !IsInfrastructureLabel(l)))
            {
                Assert.True(tags.Contains(label), $"{source}, {where}: label {label} is not a tag the code sets");
            }
        }
    }

    [Fact]
    public void Alerts_CoverLag429ShareAndDeadLetters()
    {
        var expressions = string.Join('\n', RuleExpressions().Select(r => r.Expression));

        Assert.Contains("kivasync_shipper_lag_bytes", expressions, StringComparison.Ordinal);
        Assert.Contains("http_response_status_code=\"429\"", expressions, StringComparison.Ordinal);
        Assert.Contains("kivasync_shipper_dead_lettered_total", expressions, StringComparison.Ordinal);
    }

    /// <summary>Labels the pipeline adds (histogram buckets, resource attributes), not the code's tags.</summary>
    private static bool IsInfrastructureLabel(string label) =>
        label == "le" || label.StartsWith("k8s_", StringComparison.Ordinal) || label.StartsWith("service_", StringComparison.Ordinal)
        || label is "job" or "instance";

    /// <summary>The kivasync_* metric names of a PromQL expression: what is left once label matchers and clauses are cut out.</summary>
    private static IEnumerable<string> Metrics(string expression)
    {
        var withoutLabels = LabelContext().Replace(expression, " ");
        var labelValues = LabelValues().Match(withoutLabels);
        if (labelValues.Success)
        {
            return [labelValues.Groups[1].Value];
        }

        return Identifier().Matches(withoutLabels).Select(m => m.Value).Where(i => i.StartsWith("kivasync_", StringComparison.Ordinal));
    }

    /// <summary>Label names in {…} matchers, by/without/on/ignoring clauses and label_values(metric, label).</summary>
    private static IEnumerable<string> Labels(string expression)
    {
        foreach (Match context in LabelContext().Matches(expression))
        {
            var text = context.Value;
            if (text.StartsWith('{'))
            {
                foreach (Match matcher in Matcher().Matches(text))
                {
                    yield return matcher.Groups[1].Value;
                }
            }
            else
            {
                foreach (Match identifier in Identifier().Matches(text[text.IndexOf('(', StringComparison.Ordinal)..]))
                {
                    yield return identifier.Value;
                }
            }
        }

        var labelValues = LabelValues().Match(expression);
        if (labelValues.Success)
        {
            yield return labelValues.Groups[2].Value;
        }
    }

    [GeneratedRegex(@"\{[^}]*\}|\b(?:by|without|on|ignoring)\s*\([^)]*\)")]
    private static partial Regex LabelContext();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!=|!~|=)")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"label_values\(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\b[a-zA-Z_][a-zA-Z0-9_]*\b")]
    private static partial Regex Identifier();
}
