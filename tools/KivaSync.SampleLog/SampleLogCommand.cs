using System.Globalization;

namespace KivaSync.SampleLog;

/// <summary>The command line: plain argument parsing, exit 2 on bad flags. Public so tests can run it in-process.</summary>
public static class SampleLogCommand
{
    private const string Usage = """
        kivasync-samplelog — writes a realistic, deterministic Kiva system log (JSON Lines).

        Usage: kivasync-samplelog [options]

          --seed N          random seed (default 1); the same flags always give the same bytes
          --tenant ID       tenant id, [a-z0-9][a-z0-9-]{0,62} (default greenleaf)
          --customers N     customers signing up during the log (default 200)
          --leads N         leads writing in via the contact form (default 60)
          --weeks N         length of the log in weeks (default 30)
          --start DATE      first day, YYYY-MM-DD or RFC 3339 (default 2024-01-01)
          --bad-rate R      bad lines per valid line, 0..0.5 (default 0.01)
          --noise-rate R    share of level/msg noise lines, 0..0.9 (default 0.05)
          --too-long        add one line over 262,144 bytes
          --no-tenant-key   leave the "tenant" key out of every line
          --fraction F      write only the first F of the lines (an archive), 0 < F <= 1
          --gzip            gzip the output (needs --out)
          --out FILE        output file (default: stdout)
          -h, --help        show this help

        A one-line summary goes to stderr.
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new SampleLogOptions();
        string? outPath = null;
        var fraction = 1.0;
        var gzip = false;
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                var arg = args[i];
                switch (arg)
                {
                    case "-h" or "--help":
                        stdout.Write(Usage);
                        return 0;
                    case "--seed":
                        o = o with { Seed = ParseInt(arg, Next(args, ref i)) };
                        break;
                    case "--tenant":
                        o = o with { Tenant = Next(args, ref i) };
                        break;
                    case "--customers":
                        o = o with { Customers = ParseInt(arg, Next(args, ref i)) };
                        break;
                    case "--leads":
                        o = o with { Leads = ParseInt(arg, Next(args, ref i)) };
                        break;
                    case "--weeks":
                        o = o with { Weeks = ParseInt(arg, Next(args, ref i)) };
                        break;
                    case "--start":
                        o = o with { Start = ParseStart(Next(args, ref i)) };
                        break;
                    case "--bad-rate":
                        o = o with { BadLineRate = ParseDouble(arg, Next(args, ref i)) };
                        break;
                    case "--noise-rate":
                        o = o with { NoiseRate = ParseDouble(arg, Next(args, ref i)) };
                        break;
                    case "--too-long":
                        o = o with { IncludeTooLongLine = true };
                        break;
                    case "--no-tenant-key":
                        o = o with { WriteTenantKey = false };
                        break;
                    case "--fraction":
                        fraction = ParseDouble(arg, Next(args, ref i));
                        break;
                    case "--gzip":
                        gzip = true;
                        break;
                    case "--out":
                        outPath = Next(args, ref i);
                        break;
                    default:
                        throw new UsageException($"unknown option \"{arg}\"");
                }
            }

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
            stderr.WriteLine($"kivasync-samplelog: {message}");
            stderr.WriteLine("Try 'kivasync-samplelog --help'.");
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

        stderr.WriteLine($"kivasync-samplelog: {summary}");
        return 0;
    }

    private static string Next(string[] args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new UsageException($"{args[i]} needs a value");
        }

        return args[++i];
    }

    private static int ParseInt(string flag, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new UsageException($"{flag} needs a whole number, not \"{value}\"");

    private static double ParseDouble(string flag, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x)
            ? x
            : throw new UsageException($"{flag} needs a number, not \"{value}\"");

    private static DateTimeOffset ParseStart(string value)
    {
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
