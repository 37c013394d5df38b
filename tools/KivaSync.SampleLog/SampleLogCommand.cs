using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KivaSync.Cli;

namespace KivaSync.SampleLog;

/// <summary>The command line (System.CommandLine), exit 2 on bad flags. Public so tests can run it in-process.</summary>
public static class SampleLogCommand
{
    private const string Name = "kivasync-samplelog";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var defaults = new SampleLogOptions();
        var seed = Value("--seed", "N", "random seed (default 1); the same flags always give the same bytes", ParseInt);
        var tenant = Value("--tenant", "ID", "tenant id, [a-z0-9][a-z0-9-]{0,62} (default greenleaf)", r => r.Tokens[0].Value);
        var customers = Value("--customers", "N", "customers signing up during the log (default 200)", ParseInt);
        var leads = Value("--leads", "N", "leads writing in via the contact form (default 60)", ParseInt);
        var weeks = Value("--weeks", "N", "length of the log in weeks (default 30)", ParseInt);
        var start = Value("--start", "DATE", "first day, YYYY-MM-DD or RFC 3339 (default 2024-01-01)", ParseStart);
        var badRate = Value("--bad-rate", "R", "bad lines per valid line, 0..0.5 (default 0.01)", ParseDouble);
        var noiseRate = Value("--noise-rate", "R", "share of level/msg noise lines, 0..0.9 (default 0.05)", ParseDouble);
        var tooLong = Flag("--too-long", "add one line over 262,144 bytes");
        var noTenantKey = Flag("--no-tenant-key", "leave the \"tenant\" key out of every line");
        var fraction = Value("--fraction", "F", "write only the first F of the lines (an archive), 0 < F <= 1", ParseDouble);
        var gzip = Flag("--gzip", "gzip the output (needs --out)");
        var outPath = Value("--out", "FILE", "output file (default: stdout)", r => r.Tokens[0].Value);
        var root = new RootCommand($"{Name} — writes a realistic, deterministic Kiva system log (JSON Lines). A one-line summary goes to stderr.")
        {
            seed, tenant, customers, leads, weeks, start, badRate, noiseRate, tooLong, noTenantKey, fraction, gzip, outPath,
        };
        CommandLineConventions.Apply(root, typeof(SampleLogCommand).Assembly);
        root.SetAction(result =>
        {
            var o = new SampleLogOptions
            {
                Seed = result.GetResult(seed) is null ? defaults.Seed : result.GetValue(seed),
                Tenant = result.GetValue(tenant) ?? defaults.Tenant,
                Customers = result.GetResult(customers) is null ? defaults.Customers : result.GetValue(customers),
                Leads = result.GetResult(leads) is null ? defaults.Leads : result.GetValue(leads),
                Weeks = result.GetResult(weeks) is null ? defaults.Weeks : result.GetValue(weeks),
                Start = result.GetResult(start) is null ? defaults.Start : result.GetValue(start),
                BadLineRate = result.GetResult(badRate) is null ? defaults.BadLineRate : result.GetValue(badRate),
                NoiseRate = result.GetResult(noiseRate) is null ? defaults.NoiseRate : result.GetValue(noiseRate),
                IncludeTooLongLine = result.GetValue(tooLong),
                WriteTenantKey = !result.GetValue(noTenantKey),
            };
            return Generate(o, result.GetResult(fraction) is null ? 1.0 : result.GetValue(fraction), result.GetValue(gzip), result.GetValue(outPath), stderr);
        });

        var parsed = root.Parse(args, CommandLineConventions.Parser);
        if (parsed.Action is not { ClearsParseErrors: true } && CommandLineConventions.FirstError(parsed) is { } problem)
        {
            stderr.WriteLine($"{Name}: {problem}");
            if (parsed.UnmatchedTokens is [var unknown, ..] && unknown.StartsWith('-')
                && CommandLineConventions.TypoHint(root.Parse([unknown], CommandLineConventions.Parser)) is { Length: > 0 } hint)
            {
                stderr.WriteLine(hint);
            }

            stderr.WriteLine($"Try '{Name} --help'.");
            return 2;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }

    private static int Generate(SampleLogOptions o, double fraction, bool gzip, string? outPath, TextWriter stderr)
    {
        try
        {
            o.Validate();
            if (fraction is <= 0 or > 1 || double.IsNaN(fraction))
            {
                throw new UsageException("--fraction must be greater than 0 and at most 1");
            }

            if (gzip && outPath is null)
            {
                throw new UsageException("--gzip needs --out FILE");
            }
        }
        catch (Exception ex) when (ex is UsageException or ArgumentException)
        {
            var message = ex is ArgumentException { ParamName: not null } ae ? ae.Message[..ae.Message.IndexOf(" (Parameter", StringComparison.Ordinal)] : ex.Message;
            stderr.WriteLine($"{Name}: {message}");
            stderr.WriteLine($"Try '{Name} --help'.");
            return 2;
        }

        SampleLogSummary summary;
        if (outPath is null)
        {
            using var stdoutStream = Console.OpenStandardOutput();
            summary = SampleLogGenerator.Write(stdoutStream, o, fraction);
        }
        else
        {
            summary = SampleLogGenerator.Write(outPath, o, fraction, gzip);
        }

        stderr.WriteLine($"{Name}: {summary}");
        return 0;
    }

    private static Option<T> Value<T>(string name, string value, string help, Func<ArgumentResult, T> parse) => new(name)
    {
        HelpName = value,
        Description = help,
        CustomParser = r => Checked(r, parse),
    };

    private static Option<bool> Flag(string name, string help) => new(name) { Description = help, Arity = ArgumentArity.Zero };

    /// <summary>Runs a value parser; its <see cref="UsageException"/> becomes a parse error naming the option.</summary>
    private static T Checked<T>(ArgumentResult r, Func<ArgumentResult, T> parse)
    {
        if (r.Tokens.Count != 1)
        {
            return default!; // missing or repeated: System.CommandLine reports the arity
        }

        try
        {
            return parse(r);
        }
        catch (UsageException e)
        {
            r.AddError(e.Message);
            return default!;
        }
    }

    private static string OptionName(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : "the option";

    private static int ParseInt(ArgumentResult r) =>
        int.TryParse(r.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new UsageException($"{OptionName(r)} needs a whole number, not \"{r.Tokens[0].Value}\"");

    private static double ParseDouble(ArgumentResult r) =>
        double.TryParse(r.Tokens[0].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x)
            ? x
            : throw new UsageException($"{OptionName(r)} needs a number, not \"{r.Tokens[0].Value}\"");

    private static DateTimeOffset ParseStart(ArgumentResult r)
    {
        var value = r.Tokens[0].Value;
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto)
            ? dto
            : throw new UsageException($"--start needs a date (YYYY-MM-DD), not \"{value}\"");
    }

    private sealed class UsageException(string message) : Exception(message);
}
