using System.Diagnostics;
using System.Text.Json;

namespace KivaSync.EndToEnd.Tests;

/// <summary>The real shipper executable (kivasync-shipper) in its own process, so a test can SIGKILL it.</summary>
internal sealed class ShipperProcess : IAsyncDisposable
{
    private readonly Process process;

    private ShipperProcess(Process process) => this.process = process;

    public static ShipperProcess Start(Uri serviceUrl, string tenant, string logPath, string stateDirectory, string bearerToken)
    {
        Directory.CreateDirectory(stateDirectory);
        var dll = Path.Combine(AppContext.BaseDirectory, "kivasync-shipper.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\"")
        {
            // No appsettings.json here: the environment is the whole configuration.
            WorkingDirectory = stateDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["Shipper__ServiceUrl"] = serviceUrl.ToString();
        info.Environment["Shipper__BearerToken"] = bearerToken;
        info.Environment["Shipper__Sources__0__Tenant"] = tenant;
        info.Environment["Shipper__Sources__0__Path"] = logPath;
        info.Environment["Shipper__CheckpointDirectory"] = stateDirectory;
        info.Environment["Shipper__DeadLetterPath"] = Path.Combine(stateDirectory, "dead-letter.jsonl");
        info.Environment["Shipper__MaxLines"] = "500";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info) ?? throw new InvalidOperationException("the shipper did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ShipperProcess(process);
    }

    /// <summary>SIGKILL: no drain, no final checkpoint write.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>The acknowledged offset the checkpoint file holds for the file (0 when none yet).</summary>
    public static long CheckpointOffset(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, "checkpoints.json");
        if (!File.Exists(path))
        {
            return 0;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.GetProperty("files").EnumerateObject().Select(p => p.Value.GetProperty("offset").GetInt64()).DefaultIfEmpty(0).Max();
        }
        catch (Exception e) when (e is JsonException or IOException or KeyNotFoundException or InvalidOperationException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
    }
}
