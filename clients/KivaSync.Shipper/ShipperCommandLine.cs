using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KivaSync.Shipper;

/// <summary>
/// The <c>kivasync-shipper</c> command line: <c>--help</c>, <c>--version</c>, <c>--validate</c>; arguments naming a setting
/// (<c>--Shipper:ServiceUrl=…</c>, any key with a ':') go to the configuration, anything else unknown is an error with
/// suggestions. A bad configuration exits with <see cref="ConfigurationError"/> and one line on stderr.
/// </summary>
public static class ShipperCommandLine
{
    /// <summary>Exit code of a configuration the shipper cannot run with.</summary>
    public const int ConfigurationError = 2;

    /// <summary>Parses <paramref name="args"/> and runs, validates or prints help/version.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Standard output (null: the console).</param>
    /// <param name="error">Standard error (null: the console).</param>
    /// <param name="configure">Last changes to the host builder before it is built (tests add settings here).</param>
    /// <param name="cancellationToken">Stops a normal run like SIGTERM does.</param>
    public static Task<int> RunAsync(
        string[] args,
        TextWriter? output = null,
        TextWriter? error = null,
        Action<HostApplicationBuilder>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var (settings, rest) = SplitSettings(args);
        var validate = new Option<bool>("--validate")
        {
            Description = "Check the configuration and exit: 0 with \"configuration OK: …\", or 2 with the problem.",
        };
        var root = new RootCommand(
            "Ships a tenant's Kiva system log to the KivaSync service. Settings come from appsettings.json, the environment " +
            "(Shipper__ServiceUrl=…) and arguments such as --Shipper:ServiceUrl=http://127.0.0.1:5080 (see the README).")
        {
            validate,
        };
        // The shipper's own version, not the entry assembly's (which is a test host's when invoked in-process).
        root.Options.OfType<VersionOption>().Single().Action = new PrintVersion();
        root.SetAction(async (parse, ct) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var builder = ShipperHost.CreateBuilder(settings);
            configure?.Invoke(builder);
            using var host = builder.Build();
            if (!TryReadOptions(host, out var options, out var problem))
            {
                await stderr.WriteLineAsync($"kivasync-shipper: configuration error: {problem}");
                return ConfigurationError;
            }

            if (parse.GetValue(validate))
            {
                await stdout.WriteLineAsync($"configuration OK: {Describe(options)}");
                return 0;
            }

            await host.RunAsync(ct);
            return 0;
        });

        // The host handles SIGTERM itself (graceful drain for up to DrainTimeout): the parser must not end the process first.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
        if (output is not null)
        {
            invocation.Output = output;
        }

        if (error is not null)
        {
            invocation.Error = error;
        }

        return root.Parse(rest).InvokeAsync(invocation, cancellationToken);
    }

    /// <summary>Binds and validates the options; the problem is one line a person can act on.</summary>
    private static bool TryReadOptions(IHost host, out ShipperOptions options, out string problem)
    {
        try
        {
            options = host.Services.GetRequiredService<IOptions<ShipperOptions>>().Value;
            problem = "";
            return true;
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException or FormatException)
        {
            // A validation failure lists every problem; a value that does not bind (e.g. "PollInterval": "soon") says where.
            options = null!;
            problem = string.Join(" ", ex.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
            return false;
        }
    }

    private static string Describe(ShipperOptions options)
    {
        var sources = string.Join(", ", options.Sources.Select(s => $"{s.Tenant} {s.Path}"));
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{options.Sources.Count} source(s) ({sources}), service {options.ServiceUrl}, checkpoints in {options.CheckpointDirectory}, " +
            $"token {(string.IsNullOrEmpty(options.BearerToken) ? "not set" : "set")}");
    }

    /// <summary>Settings (--Section:Key=value or --Section:Key value) for the host's configuration, the rest for the parser.</summary>
    internal static (string[] Settings, string[] Others) SplitSettings(string[] args)
    {
        var settings = new List<string>();
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var key = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..].Split('=', 2)[0] : "";
            if (!key.Contains(':', StringComparison.Ordinal))
            {
                rest.Add(arg);
                continue;
            }

            settings.Add(arg);
            if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Length)
            {
                settings.Add(args[++i]);
            }
        }

        return ([.. settings], [.. rest]);
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var assembly = typeof(ShipperCommandLine).Assembly;
            parseResult.InvocationConfiguration.Output.WriteLine(
                assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString());
            return 0;
        }
    }
}
