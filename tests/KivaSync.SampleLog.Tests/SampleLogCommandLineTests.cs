using System.Reflection;

namespace KivaSync.SampleLog.Tests;

/// <summary>kivasync-samplelog on System.CommandLine (issue #12): --version and a "did you mean" for a mistyped option.</summary>
public sealed class SampleLogCommandLineTests
{
    [Fact]
    public void Command_Version_PrintsTheGeneratorsVersionAndExits0()
    {
        var stdout = new StringWriter();

        var code = SampleLogCommand.Run(["--version"], stdout, new StringWriter());

        Assert.Equal(0, code);
        var version = typeof(SampleLogCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version, stdout.ToString().Trim());
    }

    [Fact]
    public void Command_MistypedOption_SuggestsTheOptionAndExits2()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = SampleLogCommand.Run(["--week", "3"], stdout, stderr);

        Assert.Equal(2, code);
        var text = stderr.ToString().ReplaceLineEndings("\n");
        Assert.Contains("kivasync-samplelog: unknown option --week\n", text, StringComparison.Ordinal);
        Assert.Contains("Did you mean", text, StringComparison.Ordinal);
        Assert.Contains("\n--weeks\n", text, StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }

    [Theory]
    [InlineData("--weeks", "x", "--weeks needs a whole number, not \"x\"")]
    [InlineData("--bad-rate", "often", "--bad-rate needs a number, not \"often\"")]
    [InlineData("--seed", null, "--seed needs a value (N)")]
    public void Command_BadValue_NamesTheOptionAndExits2(string flag, string? value, string message)
    {
        var stderr = new StringWriter();

        var code = SampleLogCommand.Run(value is null ? [flag] : [flag, value], new StringWriter(), stderr);

        Assert.Equal(2, code);
        Assert.Contains("kivasync-samplelog: " + message, stderr.ToString(), StringComparison.Ordinal);
    }
}
