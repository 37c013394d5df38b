using System.Reflection;
using KivaSync.Demo;

namespace KivaSync.Cli.Tests;

/// <summary>The demo's command line on System.CommandLine (issue #12); none of these starts the demo.</summary>
public sealed class DemoCommandLineTests
{
    [Fact]
    public async Task RunAsync_Help_ListsOptionsAndEnvironmentExits0()
    {
        var stdout = new StringWriter();

        var code = await DemoCommand.RunAsync(["--help"], stdout, new StringWriter());

        Assert.Equal(0, code);
        foreach (var expected in new[] { "--customers", "--leads", "--weeks", "--seed", "--tenant", "--rate", "--work-dir", "--version", "REDIS_URL", "AC_API_KEY", "bash .ci/demo" })
        {
            Assert.Contains(expected, stdout.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RunAsync_Version_PrintsTheDemosVersionExits0()
    {
        var stdout = new StringWriter();

        var code = await DemoCommand.RunAsync(["--version"], stdout, new StringWriter());

        Assert.Equal(0, code);
        var version = typeof(DemoCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version, stdout.ToString().Trim());
    }

    [Theory]
    [InlineData("--custmers 5", "kivasync-demo: unknown option --custmers", "--customers")]
    [InlineData("--rate fast", "kivasync-demo: --rate needs a number, not \"fast\"", null)]
    [InlineData("--rate 0", "kivasync-demo: --rate must be in (0, 1000]", null)]
    [InlineData("--weeks 0", "kivasync-demo: weeks must be between 1 and 1040", null)]
    public async Task RunAsync_BadOption_SaysWhatExits2(string commandLine, string message, string? suggestion)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await DemoCommand.RunAsync(commandLine.Split(' '), stdout, stderr);

        Assert.Equal(2, code);
        var text = stderr.ToString().ReplaceLineEndings("\n");
        Assert.Contains(message, text, StringComparison.Ordinal);
        if (suggestion is not null)
        {
            Assert.Contains("Did you mean", text, StringComparison.Ordinal);
            Assert.Contains("\n" + suggestion + "\n", text, StringComparison.Ordinal);
        }

        Assert.Equal("", stdout.ToString());
    }
}
