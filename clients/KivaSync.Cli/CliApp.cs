using System.CommandLine;
using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using KivaSync.Contracts.V1;

namespace KivaSync.Cli;

/// <summary>Where the CLI writes, and whether a person is watching (a terminal gets live progress).</summary>
/// <param name="Out">Standard output: results (one JSON document with --json).</param>
/// <param name="Error">Standard error: errors and warnings for a person.</param>
/// <param name="IsTerminal">True when standard output is a terminal.</param>
public sealed record CliConsole(TextWriter Out, TextWriter Error, bool IsTerminal);

/// <summary>Everything a command needs to run.</summary>
public sealed class CommandContext(ParsedArgs args, CliConsole console, SyncApi.SyncApiClient client, Metadata headers, Uri service, CancellationToken ct)
{
    /// <summary>The parsed command line.</summary>
    public ParsedArgs Args { get; } = args;

    /// <summary>Where to write.</summary>
    public CliConsole Console { get; } = console;

    /// <summary>The SyncApi client.</summary>
    public SyncApi.SyncApiClient Client { get; } = client;

    /// <summary>Call headers (authorization when a token is set).</summary>
    public Metadata Headers { get; } = headers;

    /// <summary>The service's address.</summary>
    public Uri Service { get; } = service;

    /// <summary>Ends the command (Ctrl+C).</summary>
    public CancellationToken Cancellation { get; } = ct;

    /// <summary>True with --json: one machine-readable JSON document on standard output.</summary>
    public bool Json => Args.Has("json");

    /// <summary>The --tenant option, required by every command.</summary>
    public string Tenant => Args.Require("tenant");
}

/// <summary>One command: its name, help and what it does.</summary>
/// <param name="Name">As typed, e.g. "dead-letters list".</param>
/// <param name="Summary">One line for the command list.</param>
/// <param name="Usage">The synopsis after "kivasync".</param>
/// <param name="Description">A paragraph of help.</param>
/// <param name="Options">Options besides the common ones.</param>
/// <param name="Run">Runs it and returns the exit code.</param>
/// <param name="Files">Name of its file arguments in help ("FILE"); null when it takes none.</param>
public sealed record Command(string Name, string Summary, string Usage, string Description, IReadOnlyList<OptionSpec> Options, Func<CommandContext, Task<int>> Run, string? Files = null);

/// <summary>The kivasync command line: parses, dispatches, and turns gRPC errors into messages and exit codes.</summary>
public static class CliApp
{
    /// <summary>Environment variable with the service URL.</summary>
    public const string ServiceVariable = "KIVASYNC_SERVICE";

    /// <summary>Environment variable with the bearer token.</summary>
    public const string TokenVariable = "KIVASYNC_TOKEN";

    /// <summary>The service's address when neither --service nor KIVASYNC_SERVICE is given (the service's port in k8s/).</summary>
    public const string DefaultService = "http://localhost:8080";

    /// <summary>Options every command takes.</summary>
    public static IReadOnlyList<OptionSpec> CommonOptions { get; } =
    [
        new("service", "URL", $"the sync service (default: ${ServiceVariable}, else {DefaultService})"),
        new("token", "TOKEN", $"bearer token for the service (default: ${TokenVariable}); never printed"),
        new("json", null, "print one machine-readable JSON document instead of text"),
    ];

    /// <summary>Runs the command line; returns the process exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, IReadOnlyDictionary<string, string?> environment, CancellationToken ct = default)
    {
        if (args.Count == 0 || args[0] == "help")
        {
            await console.Out.WriteAsync(MainHelp());
            return ExitCodes.Ok;
        }

        var tree = new CliTree((command, parsed, token) => RunCommandAsync(command, parsed, console, environment, token));
        var result = tree.Root.Parse(args, CommandLineConventions.Parser);
        if (CliSyntax.Problem(result, args) is { } problem && result.Action is not { ClearsParseErrors: true })
        {
            return await ParseProblemAsync(tree, result, problem, args, console);
        }

        // The command's action, --help, --version or the [suggest] directive; Ctrl+C stays with the caller's token.
        return await result.InvokeAsync(new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        }, ct);
    }

    private static async Task<int> RunCommandAsync(Command command, ParsedArgs parsed, CliConsole console, IReadOnlyDictionary<string, string?> environment, CancellationToken ct)
    {
        var serviceText = parsed.Get("service") ?? Environment(environment, ServiceVariable) ?? DefaultService;
        if (!Uri.TryCreate(serviceText, UriKind.Absolute, out var service) || service.Scheme is not ("http" or "https"))
        {
            return await UsageErrorAsync(console, command, $"--service must be an http:// or https:// URL, not \"{serviceText}\"", parsed.Has("json"));
        }

        var headers = new Metadata();
        if ((parsed.Get("token") ?? Environment(environment, TokenVariable)) is { } token)
        {
            headers.Add("authorization", "Bearer " + token);
        }

        using var channel = GrpcChannel.ForAddress(service);
        var context = new CommandContext(parsed, console, new SyncApi.SyncApiClient(channel), headers, service, ct);
        try
        {
            return await command.Run(context);
        }
        catch (UsageException e)
        {
            return await UsageErrorAsync(console, command, e.Message, context.Json);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (RpcException e)
        {
            return await ServiceErrorAsync(context, command, e);
        }
        catch (IOException e)
        {
            return await FailAsync(context, ExitCodes.Usage, "IO_ERROR", e.Message, null);
        }
        catch (UnauthorizedAccessException e)
        {
            return await FailAsync(context, ExitCodes.Usage, "IO_ERROR", e.Message, null);
        }
    }

    /// <summary>A command line that does not parse: what is wrong, System.CommandLine's "did you mean", exit 2.</summary>
    private static async Task<int> ParseProblemAsync(CliTree tree, ParseResult result, string problem, IReadOnlyList<string> args, CliConsole console)
    {
        var parsedCommand = result.CommandResult.Command;
        var path = tree.PathOf(parsedCommand);
        var unknown = (result.UnmatchedTokens.Count > 0 ? result.UnmatchedTokens[0] : null) ?? CliSyntax.UnknownOptionInFiles(result);
        // Suggest for a mistyped command or option only: a stray value would be "matched" to any short name.
        var hint = unknown is not null && (unknown.StartsWith('-') || tree.LeafOf(parsedCommand) is null)
            ? CommandLineConventions.TypoHint(new CliTree((_, _, _) => Task.FromResult(0), withFiles: false).Root.Parse([.. path, unknown], CommandLineConventions.Parser))
            : "";
        if (tree.LeafOf(parsedCommand) is { } command)
        {
            return await UsageErrorAsync(console, command, problem, args.Contains("--json"), hint);
        }

        var words = string.Join(' ', path);
        await console.Error.WriteLineAsync(unknown is null
            ? $"kivasync {words}: name a command: {string.Join(", ", parsedCommand.Subcommands.Select(c => c.Name))}; run \"kivasync {words} --help\" for what they do"
            : $"kivasync: unknown command \"{string.Join(' ', args.Take(path.Count == 0 ? 2 : path.Count + 1))}\"; run \"kivasync {(path.Count > 0 ? words + " " : "")}--help\" for the list");
        if (hint.Length > 0)
        {
            await console.Error.WriteLineAsync(hint);
        }

        return ExitCodes.Usage;
    }

    /// <summary>The text of a failed call: the status's message, what the details add (field, retry delay), and what to do.</summary>
    public static string Describe(RpcException e, Uri service, string commandName, out double? retryAfterSeconds)
    {
        retryAfterSeconds = null;
        var message = e.Status.Detail;
        var rich = e.GetRpcStatus();
        if (rich?.GetDetail<RetryInfo>() is { RetryDelay: { } delay })
        {
            retryAfterSeconds = delay.ToTimeSpan().TotalSeconds;
        }

        message = e.StatusCode switch
        {
            StatusCode.Unavailable when rich is null => $"cannot reach the sync service at {service}: {message}",
            StatusCode.Unimplemented => $"the sync service at {service} does not implement \"{commandName}\" (is it older than this CLI?)" + (message.Length == 0 ? "" : ": " + message),
            StatusCode.Unauthenticated => $"{message} (give a valid token with --token or ${TokenVariable})",
            _ => message,
        };
        if (retryAfterSeconds is { } seconds)
        {
            message += $" (retry after {seconds:0.###} s)";
        }

        return message;
    }

    private static async Task<int> ServiceErrorAsync(CommandContext context, Command command, RpcException e)
    {
        var message = Describe(e, context.Service, command.Name, out var retryAfter);
        return await FailAsync(context, ExitCodes.FromStatus(e.StatusCode), CodeName(e.StatusCode), message, retryAfter);
    }

    private static async Task<int> FailAsync(CommandContext context, int exitCode, string code, string message, double? retryAfterSeconds)
    {
        if (context.Json)
        {
            await context.Console.Out.WriteLineAsync(ErrorJson(code, message, exitCode, retryAfterSeconds));
        }
        else
        {
            await context.Console.Error.WriteLineAsync($"kivasync: {code}: {message}");
        }

        return exitCode;
    }

    private static async Task<int> UsageErrorAsync(CliConsole console, Command command, string message, bool json, string hint = "")
    {
        if (json)
        {
            await console.Out.WriteLineAsync(ErrorJson("USAGE", message, ExitCodes.Usage, null));
        }
        else
        {
            await console.Error.WriteLineAsync($"kivasync {command.Name}: {message}");
            if (hint.Length > 0)
            {
                await console.Error.WriteLineAsync(hint);
            }

            await console.Error.WriteLineAsync($"usage: kivasync {command.Usage}   (kivasync {command.Name} --help)");
        }

        return ExitCodes.Usage;
    }

    private static string ErrorJson(string code, string message, int exitCode, double? retryAfterSeconds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Format.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WriteNumber("exitCode", exitCode);
            if (retryAfterSeconds is { } s)
            {
                w.WriteNumber("retryAfterSeconds", s);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The gRPC code as the service's docs spell it (NOT_FOUND).</summary>
    public static string CodeName(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.DataLoss => "DATA_LOSS",
        _ => code.ToString().ToUpperInvariant(),
    };

    private static string? Environment(IReadOnlyDictionary<string, string?> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    /// <summary>The top-level help: every command and the exit codes.</summary>
    public static string MainHelp()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("kivasync — operate KivaSync: set up a tenant, check a log, watch a backfill, find and retry failures.");
        text.AppendLine();
        text.AppendLine("Usage: kivasync COMMAND [options]   (kivasync COMMAND --help for its options)");
        text.AppendLine();
        text.AppendLine("Commands:");
        foreach (var c in Commands.All)
        {
            text.AppendLine($"  {c.Name,-20}{c.Summary}");
        }

        text.AppendLine();
        AppendOptions(text, "Common options:", CommonOptions);
        text.AppendLine($"  {"--version",-24}print the version of kivasync");
        text.AppendLine();
        text.Append(ExitCodes.HelpText);
        text.AppendLine();
        return text.ToString();
    }

    /// <summary>A command's help.</summary>
    public static string CommandHelp(Command command)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"Usage: kivasync {command.Usage}");
        text.AppendLine();
        text.AppendLine(command.Description);
        text.AppendLine();
        AppendOptions(text, "Options:", command.Options);
        text.AppendLine();
        AppendOptions(text, "Common options:", CommonOptions);
        text.AppendLine();
        text.Append(ExitCodes.HelpText);
        text.AppendLine();
        return text.ToString();
    }

    /// <summary>The help of a word that groups commands ("dead-letters"): its commands.</summary>
    public static string GroupHelp(string group)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"Usage: kivasync {group} COMMAND [options]   (kivasync {group} COMMAND --help for its options)");
        text.AppendLine();
        text.AppendLine("Commands:");
        foreach (var c in Commands.All.Where(c => c.Name.StartsWith(group + " ", StringComparison.Ordinal)))
        {
            text.AppendLine($"  {c.Name,-20}{c.Summary}");
        }

        text.AppendLine();
        text.Append(ExitCodes.HelpText);
        text.AppendLine();
        return text.ToString();
    }

    private static void AppendOptions(System.Text.StringBuilder text, string title, IReadOnlyList<OptionSpec> options)
    {
        text.AppendLine(title);
        foreach (var o in options)
        {
            var left = o.IsFlag ? $"--{o.Name}" : o.Many ? $"--{o.Name} {o.Value}..." : $"--{o.Name} {o.Value}";
            text.AppendLine($"  {left,-24}{o.Help}");
        }

        text.AppendLine($"  {"--help, -h",-24}show this help");
    }
}
