using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;

namespace KivaSync.Cli;

/// <summary>
/// What every KivaSync command line (kivasync, kivasync-demo, kivasync-samplelog) does the same way on top of
/// System.CommandLine. The tools link this file (tools may use the product, never the other way round).
/// </summary>
internal static class CommandLineConventions
{
    /// <summary>
    /// Parser settings: no response files (an argument starting with @ is a file name, as before), and only
    /// --help and -h for help (a log file may be called /h).
    /// </summary>
    public static ParserConfiguration Parser { get; } = new() { ResponseFileTokenReplacer = null };

    /// <summary>
    /// Gives <paramref name="root"/> --help/-h and --version. Help is <paramref name="help"/>, else System.CommandLine's
    /// own followed by <paramref name="epilogue"/>; --version prints <paramref name="assembly"/>'s version (the entry
    /// assembly is the test host when tests run a command in-process).
    /// </summary>
    public static void Apply(RootCommand root, Assembly assembly, SynchronousCommandLineAction? help = null, string? epilogue = null)
    {
        var standardHelp = root.Options.OfType<HelpOption>().FirstOrDefault()?.Action ?? new HelpAction();
        for (var i = root.Options.Count - 1; i >= 0; i--)
        {
            if (root.Options[i] is HelpOption or VersionOption)
            {
                root.Options.RemoveAt(i);
            }
        }

        root.Options.Add(new HelpOption("--help", "-h") { Action = help ?? new HelpThen(standardHelp, epilogue) });
        root.Options.Add(new VersionOption("--version") { Action = new PrintVersion(assembly) });
    }

    /// <summary>
    /// The first thing wrong with a parsed command line, worded for a person (the option's name and what to change),
    /// or null when nothing is.
    /// </summary>
    public static string? FirstError(ParseResult result)
    {
        if (result.UnmatchedTokens.Count > 0)
        {
            return Unknown(result.UnmatchedTokens[0]);
        }

        foreach (var error in result.Errors)
        {
            return error.SymbolResult is OptionResult o
                ? o.Tokens.Count == 0 ? $"{o.Option.Name} needs a value" + (o.Option.HelpName is { } value ? $" ({value})" : "")
                : o.Option.Arity.MaximumNumberOfValues == 1 && o.Tokens.Count > 1 ? $"{o.Option.Name} is given twice"
                : error.Message
                : error.Message;
        }

        return null;
    }

    /// <summary>The message for a word that no command or option takes.</summary>
    public static string Unknown(string token) =>
        token.StartsWith("--", StringComparison.Ordinal) ? $"unknown option {token}"
        : token.StartsWith('-') && token.Length > 1 ? $"unknown option \"{token}\" (options are spelled --name)"
        : $"unexpected argument \"{token}\"";

    /// <summary>
    /// System.CommandLine's "did you mean" for one unknown word (a command or an option; not a value, which would
    /// be matched to any short name), as "'x' was not matched. Did you mean one of the following?" and the
    /// candidates; "" when nothing is close. <paramref name="probe"/> is a parse of the command path and that word.
    /// </summary>
    public static string TypoHint(ParseResult probe)
    {
        if (probe.Action is not ParseErrorAction action)
        {
            return "";
        }

        action.ShowHelp = false;
        action.ShowTypoCorrections = true;
        using var hints = new StringWriter();
        probe.Invoke(new InvocationConfiguration { Output = hints, Error = TextWriter.Null, EnableDefaultExceptionHandler = false });
        return hints.ToString().TrimEnd();
    }

    /// <summary>The version a person can report: the informational version (with the commit when built from git).</summary>
    public static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString()
        ?? "unknown";

    private sealed class HelpThen(CommandLineAction standard, string? epilogue) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var code = standard is SynchronousCommandLineAction help ? help.Invoke(parseResult) : 0;
            if (epilogue is not null)
            {
                parseResult.InvocationConfiguration.Output.WriteLine(epilogue);
            }

            return code;
        }
    }

    private sealed class PrintVersion(Assembly assembly) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(VersionOf(assembly));
            return 0;
        }
    }
}
