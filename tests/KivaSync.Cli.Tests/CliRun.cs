using KivaSync.Cli;

namespace KivaSync.Cli.Tests;

/// <summary>What one in-process run of kivasync printed and returned.</summary>
internal sealed record CliResult(int Code, string Out, string Err)
{
    public System.Text.Json.JsonDocument Json() => System.Text.Json.JsonDocument.Parse(Out);
}

internal static class CliRun
{
    /// <summary>Runs kivasync in-process with the given environment (KIVASYNC_SERVICE, KIVASYNC_TOKEN).</summary>
    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        await RunAsync(environment, terminal: false, default, args);

    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, bool terminal, CancellationToken ct, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, new CliConsole(stdout, stderr, terminal), environment, ct);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}
