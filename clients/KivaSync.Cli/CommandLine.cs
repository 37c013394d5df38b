using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Scl = System.CommandLine;

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

/// <summary>A parsed command line (System.CommandLine's <see cref="ParseResult"/>): options by name, flags, positional arguments.</summary>
public sealed class ParsedArgs
{
    private readonly ParseResult result;
    private readonly CliSyntax.Leaf leaf;

    internal ParsedArgs(ParseResult result, CliSyntax.Leaf leaf)
    {
        this.result = result;
        this.leaf = leaf;
    }

    /// <summary>Arguments that are not options (e.g. file names).</summary>
    public IReadOnlyList<string> Positionals => leaf.Files is null ? [] : result.GetValue(leaf.Files) ?? [];

    /// <summary>Whether a flag was given.</summary>
    public bool Has(string flag) => leaf.Options.TryGetValue(flag, out var o) && o is Option<bool> b && result.GetValue(b);

    /// <summary>The single value of an option, or null.</summary>
    public string? Get(string name) => GetAll(name) is [.., var last] ? last : null;

    /// <summary>Every value of a multi-valued option.</summary>
    public IReadOnlyList<string> GetAll(string name) => leaf.Options.TryGetValue(name, out var o)
        ? o switch
        {
            Option<string[]> many => result.GetValue(many) ?? [],
            Option<string> one => result.GetValue(one) is { } value ? [value] : [],
            _ => [],
        }
        : [];

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

    /// <summary>Parses <paramref name="args"/> against the options a command takes (and file names). "--" ends the options.</summary>
    public static ParsedArgs Parse(IReadOnlyList<string> args, IReadOnlyList<OptionSpec> specs)
    {
        var root = new RootCommand();
        var leaf = CliSyntax.AddOptions(root, specs, files: "FILE");
        var result = root.Parse(args, CommandLineConventions.Parser);
        return CliSyntax.Problem(result, args) is { } problem ? throw new UsageException(problem) : new ParsedArgs(result, leaf);
    }
}

/// <summary>Turns <see cref="OptionSpec"/>s into System.CommandLine options, and its parse errors into the CLI's messages.</summary>
internal static class CliSyntax
{
    /// <summary>A command's options by name (without dashes) and its file-name argument, if it takes any.</summary>
    internal sealed record Leaf(IReadOnlyDictionary<string, Option> Options, Argument<string[]>? Files);

    /// <summary>Adds the options (and, with <paramref name="files"/>, a FILE... argument) to <paramref name="command"/>.</summary>
    public static Leaf AddOptions(Scl.Command command, IReadOnlyList<OptionSpec> specs, string? files)
    {
        var options = new Dictionary<string, Option>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            Option option = spec.IsFlag
                ? new Option<bool>("--" + spec.Name) { Arity = ArgumentArity.Zero }
                : spec.Many
                    ? new Option<string[]>("--" + spec.Name) { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true }
                    : new Option<string>("--" + spec.Name) { Arity = ArgumentArity.ExactlyOne };
            option.Description = spec.Help;
            option.HelpName = spec.Value;
            if (!spec.IsFlag)
            {
                var name = spec.Name;
                option.Validators.Add(r =>
                {
                    if (r.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
                    {
                        r.AddError($"--{name} needs a non-empty value");
                    }
                });
            }

            command.Options.Add(option);
            options[spec.Name] = option;
        }

        Argument<string[]>? argument = null;
        if (files is not null)
        {
            argument = new Argument<string[]>(files) { Arity = ArgumentArity.ZeroOrMore };
            command.Arguments.Add(argument);
        }

        return new Leaf(options, argument);
    }

    /// <summary>
    /// The first thing wrong with the command line, as the CLI words it (the option's name and what to change), or null.
    /// System.CommandLine hands an unknown "--x" to a command's file argument and splits "--flag=value"; both are caught here.
    /// </summary>
    public static string? Problem(ParseResult result, IReadOnlyList<string> args)
    {
        var flags = result.CommandResult.Command.Options.Where(o => o.Arity.MaximumNumberOfValues == 0).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var arg in args.TakeWhile(a => a != "--"))
        {
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 2 && flags.Contains(arg[..eq]))
            {
                return $"{arg[..eq]} takes no value";
            }
        }

        return result.UnmatchedTokens.Count == 0 && UnknownOptionInFiles(result) is { } option
            ? CommandLineConventions.Unknown(option)
            : CommandLineConventions.FirstError(result);
    }

    /// <summary>A "-x" or "--x" that landed in the command's file names before any "--".</summary>
    public static string? UnknownOptionInFiles(ParseResult result)
    {
        var files = result.CommandResult.Command.Arguments.FirstOrDefault();
        if (files is null || result.GetResult(files) is not { } fileResult)
        {
            return null;
        }

        var all = result.Tokens;
        var doubleDash = IndexOf(all, t => t.Type == TokenType.DoubleDash);
        foreach (var token in fileResult.Tokens)
        {
            var at = IndexOf(all, t => ReferenceEquals(t, token));
            if (token.Value.Length > 1 && token.Value[0] == '-' && (doubleDash < 0 || at < doubleDash))
            {
                return token.Value;
            }
        }

        return null;
    }

    private static int IndexOf(IReadOnlyList<Token> tokens, Func<Token, bool> match)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (match(tokens[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
