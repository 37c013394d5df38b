using System.Globalization;

namespace KivaSync.Cli;

/// <summary>A command line that does not fit its command; the message says what to change.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>One option a command takes.</summary>
/// <param name="Name">Long name without dashes, e.g. "tenant".</param>
/// <param name="Value">Name of its value in help ("ID"); null for a flag.</param>
/// <param name="Help">One line of help.</param>
/// <param name="Many">Takes one or more values (repeat the option or list them after it).</param>
public sealed record OptionSpec(string Name, string? Value, string Help, bool Many = false)
{
    /// <summary>True for an option without a value.</summary>
    public bool IsFlag => Value is null;
}

/// <summary>A parsed command line: options by name, flags, positional arguments.</summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);

    /// <summary>Arguments that are not options (e.g. file names).</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>True when --help or -h was given.</summary>
    public bool Help { get; private set; }

    /// <summary>Whether a flag was given.</summary>
    public bool Has(string flag) => flags.Contains(flag);

    /// <summary>The single value of an option, or null.</summary>
    public string? Get(string name) => values.TryGetValue(name, out var list) ? list[^1] : null;

    /// <summary>Every value of a multi-valued option.</summary>
    public IReadOnlyList<string> GetAll(string name) => values.TryGetValue(name, out var list) ? list : [];

    /// <summary>The value of a required option.</summary>
    public string Require(string name) => Get(name) ?? throw new UsageException($"--{name} is required");

    /// <summary>A whole number option within bounds, or <paramref name="fallback"/> when absent.</summary>
    public int GetInt(string name, int fallback, int min, int max)
    {
        if (Get(name) is not { } text)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new UsageException($"--{name} must be a whole number from {min} to {max}, not \"{text}\"");
    }

    /// <summary>Parses <paramref name="args"/> against the options a command takes. "--" ends the options.</summary>
    public static ParsedArgs Parse(IReadOnlyList<string> args, IReadOnlyList<OptionSpec> specs)
    {
        var parsed = new ParsedArgs();
        var optionsEnded = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (optionsEnded || !arg.StartsWith('-') || arg == "-")
            {
                parsed.Positionals.Add(arg);
                continue;
            }

            if (arg == "--")
            {
                optionsEnded = true;
                continue;
            }

            if (arg is "--help" or "-h")
            {
                parsed.Help = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unknown option \"{arg}\" (options are spelled --name)");
            }

            var name = arg[2..];
            string? inline = null;
            if (name.IndexOf('=') is var eq and > 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }

            var spec = specs.FirstOrDefault(s => s.Name == name)
                ?? throw new UsageException($"unknown option --{name}");
            if (spec.IsFlag)
            {
                if (inline is not null)
                {
                    throw new UsageException($"--{name} takes no value");
                }

                parsed.flags.Add(name);
                continue;
            }

            if (!parsed.values.TryGetValue(name, out var list))
            {
                list = [];
                parsed.values[name] = list;
            }
            else if (!spec.Many)
            {
                throw new UsageException($"--{name} is given twice");
            }

            if (inline is not null)
            {
                list.Add(RequireValue(inline, name));
                continue;
            }

            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"--{name} needs a value ({spec.Value})");
            }

            list.Add(RequireValue(args[++i], name));
            // A multi-valued option takes every value up to the next option: --customer 1 2 3.
            while (spec.Many && i + 1 < args.Count && !args[i + 1].StartsWith('-'))
            {
                list.Add(RequireValue(args[++i], name));
            }
        }

        return parsed;
    }

    private static string RequireValue(string value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw new UsageException($"--{name} needs a non-empty value") : value;
}
