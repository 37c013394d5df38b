using System.Reflection;

namespace KivaSync.Cli.Tests;

/// <summary>What System.CommandLine brings to kivasync (issue #12): --version, help per group, typo suggestions, completion.</summary>
public sealed class CliCommandLineTests
{
    // Port 9 (discard) has no gRPC server: none of these may call the service.
    private static readonly Dictionary<string, string?> NoService = new() { ["KIVASYNC_SERVICE"] = "http://127.0.0.1:9" };

    [Fact]
    public async Task Run_Version_PrintsTheCliVersionAndExits0()
    {
        var result = await CliRun.RunAsync(NoService, "--version");

        Assert.Equal(0, result.Code);
        var version = typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version, result.Out.Trim());
        Assert.Equal("", result.Err);
        Assert.Contains("--version", (await CliRun.RunAsync(NoService, "--help")).Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dead-letters", "dead-letters list", "dead-letters retry")]
    [InlineData("state", "state acknowledge", null)]
    public async Task Run_GroupHelp_ListsOnlyThatGroupsCommands(string group, string first, string? second)
    {
        var result = await CliRun.RunAsync(NoService, group, "--help");

        Assert.Equal(0, result.Code);
        Assert.StartsWith($"Usage: kivasync {group} COMMAND", result.Out, StringComparison.Ordinal);
        Assert.Contains(first, result.Out, StringComparison.Ordinal);
        if (second is not null)
        {
            Assert.Contains(second, result.Out, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("  provision ", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SubcommandHelpInGroup_ShowsThatCommandsHelp()
    {
        var result = await CliRun.RunAsync(NoService, "dead-letters", "list", "-h");

        Assert.Equal(0, result.Code);
        Assert.StartsWith("Usage: kivasync dead-letters list --tenant T [--limit N] [--offset N]", result.Out, StringComparison.Ordinal);
        Assert.Contains("--offset N", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_GroupWithoutCommand_NamesItsCommandsExit2()
    {
        var result = await CliRun.RunAsync(NoService, "dead-letters");

        Assert.Equal(2, result.Code);
        Assert.Contains("name a command: list, retry", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("statsu --tenant t", "unknown command \"statsu --tenant\"", "status")]
    [InlineData("dead-letters lsit --tenant t", "unknown command \"dead-letters lsit\"", "list")]
    public async Task Run_MistypedCommand_SuggestsTheCommandExit2(string commandLine, string message, string suggestion)
    {
        var result = await CliRun.RunAsync(NoService, commandLine.Split(' '));

        Assert.Equal(2, result.Code);
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.Contains("Did you mean", result.Err, StringComparison.Ordinal);
        Assert.Contains("\n" + suggestion + "\n", result.Err.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status --tenat t", "unknown option --tenat", "--tenant")]
    [InlineData("test-sync --tenant t --jsno a.log", "unknown option --jsno", "--json")]
    public async Task Run_MistypedOption_SuggestsTheOptionExit2(string commandLine, string message, string suggestion)
    {
        var result = await CliRun.RunAsync(NoService, commandLine.Split(' '));

        Assert.Equal(2, result.Code);
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.Contains("Did you mean", result.Err, StringComparison.Ordinal);
        Assert.Contains("\n" + suggestion + "\n", result.Err.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("usage: kivasync", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resync --tenant t --all=yes", "--all takes no value")]
    [InlineData("status --tenant t --tenant u", "--tenant is given twice")]
    [InlineData("status --tenant", "--tenant needs a value (T)")]
    [InlineData("provision --tenant t extra", "unexpected argument \"extra\"")]
    [InlineData("test-sync --tenant t -- --odd.log", "no such file: --odd.log")]
    public async Task Run_BadOption_SaysWhatAndExits2(string commandLine, string message)
    {
        var result = await CliRun.RunAsync(NoService, commandLine.Split(' '));

        Assert.Equal(2, result.Code);
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SuggestDirective_CompletesOptionsOfTheCommand()
    {
        // What dotnet-suggest runs on <Tab>: the cursor position and the whole line.
        var result = await CliRun.RunAsync(NoService, "[suggest:19]", "kivasync status --t");

        Assert.Equal(0, result.Code);
        Assert.Equal(["--tenant", "--token"], result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
