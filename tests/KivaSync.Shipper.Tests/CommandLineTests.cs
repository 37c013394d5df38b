using System.Diagnostics;
using System.Reflection;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests;

/// <summary>kivasync-shipper's command line, invoked in-process (and once as the real program).</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunAsync_Help_ListsTheOptionsAndExitsZero()
    {
        var (code, output, error) = await RunAsync("--help");

        Assert.Equal(0, code);
        Assert.Contains("--validate", output, StringComparison.Ordinal);
        Assert.Contains("--version", output, StringComparison.Ordinal);
        Assert.Contains("--Shipper:ServiceUrl=", output, StringComparison.Ordinal);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task RunAsync_Version_PrintsTheAssemblyVersion()
    {
        var (code, output, _) = await RunAsync("--version");

        Assert.Equal(0, code);
        var version = typeof(ShipperRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(version, output.Trim());
    }

    [Fact]
    public async Task RunAsync_ValidateGoodConfiguration_OneLineOkWithoutTheToken()
    {
        var (code, output, error) = await RunAsync(["--validate", .. GoodSettings(), "--Shipper:BearerToken=s3cret-token"]);

        Assert.Equal(0, code);
        Assert.StartsWith($"configuration OK: 1 source(s) ({Tenant} {_dir.File("system.log")}), service http://127.0.0.1:5080/", output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("s3cret-token", output, StringComparison.Ordinal);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData("--Shipper:ServiceUrl=not a url", "Shipper:ServiceUrl must be an absolute http:// or https:// address")]
    [InlineData("--Shipper:PollInterval=soon", "Shipper:PollInterval")]
    [InlineData("--Shipper:MaxLines=0", "Shipper:MaxLines must be positive")]
    public async Task RunAsync_ValidateBadConfiguration_ExitCode2AndOneLineError(string setting, string expected)
    {
        var (code, output, error) = await RunAsync(["--validate", .. GoodSettings(), setting]);

        Assert.Equal(ShipperCommandLine.ConfigurationError, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kivasync-shipper: configuration error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RunWithBadConfiguration_ExitCode2WithoutStarting()
    {
        var (code, _, error) = await RunAsync([.. GoodSettings(), "--Shipper:Sources:0:Tenant=Not A Tenant"]);

        Assert.Equal(ShipperCommandLine.ConfigurationError, code);
        Assert.Contains("Shipper:Sources:0:Tenant must match", Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.File("state")), "nothing was started");
    }

    [Fact]
    public async Task RunAsync_MistypedOption_SuggestsTheRightOne()
    {
        var (code, output, error) = await RunAsync("--valdate");

        Assert.NotEqual(0, code);
        Assert.Contains("Unrecognized command or argument '--valdate'", error, StringComparison.Ordinal);
        Assert.Contains("'--valdate' was not matched. Did you mean one of the following?\n--validate", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void SplitSettings_BothSettingForms_GoToTheConfigurationTheRestToTheParser()
    {
        var (settings, rest) = ShipperCommandLine.SplitSettings(["--Shipper:MaxLines=5", "--validate", "--Shipper:ServiceUrl", "http://x:1", "--help"]);

        Assert.Equal(["--Shipper:MaxLines=5", "--Shipper:ServiceUrl", "http://x:1"], settings);
        Assert.Equal(["--validate", "--help"], rest);
    }

    [Fact]
    public async Task Program_BadConfiguration_ProcessExitsWith2AndNoStackTrace()
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "kivasync-shipper.dll"), "--validate", .. GoodSettings(), "--Shipper:ServiceUrl=ftp://x"])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(Guard());
        var output = await process.StandardOutput.ReadToEndAsync(Guard());
        await process.WaitForExitAsync(Guard());

        Assert.Equal(2, process.ExitCode);
        Assert.Equal("", output);
        Assert.Equal("kivasync-shipper: configuration error: Shipper:ServiceUrl must be an absolute http:// or https:// address", (await error).Trim());
    }

    private string[] GoodSettings() =>
    [
        "--Shipper:ServiceUrl=http://127.0.0.1:5080",
        $"--Shipper:Sources:0:Tenant={Tenant}",
        $"--Shipper:Sources:0:Path={_dir.File("system.log")}",
        $"--Shipper:CheckpointDirectory={_dir.File("state")}",
        $"--Shipper:DeadLetterPath={_dir.File("state/dead.jsonl")}",
    ];

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await ShipperCommandLine.RunAsync(args, output, error, cancellationToken: Guard());
        return (code, output.ToString(), error.ToString());
    }
}
