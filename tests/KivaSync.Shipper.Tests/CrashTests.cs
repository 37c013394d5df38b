using System.Diagnostics;
using System.Text.Json;
using static KivaSync.Shipper.Tests.TestSupport;

namespace KivaSync.Shipper.Tests;

/// <summary>The real shipper process, killed with SIGKILL at random points while it ships a growing file.</summary>
public sealed class CrashTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Process_KilledRepeatedly_NoLineLostAndCheckpointNeverAheadOfAcks()
    {
        var service = new FakeLogIngest();
        await using var server = await FakeIngestServer.StartAsync(service);
        var log = _dir.File("system.log");
        var checkpointFile = _dir.File("state/checkpoints.json");
        // Big enough (1000+ batches) that five kills after at most 30 batches each never reach its end, even when the
        // test is starved of CPU while the shipper runs on between a wait and its kill.
        Append(log, Lines(0, 20000));
        var random = new Random(20261126);
        var next = 20000;

        for (var kill = 0; kill < 5; kill++)
        {
            using var shipper = StartShipper(server.Url, log);
            try
            {
                await service.WaitForBatchesAsync(service.Received.Count + random.Next(1, 30), Guard());
                Append(log, Lines(next, 100));
                next += 100;
            }
            finally
            {
                shipper.Kill(entireProcessTree: true);
                await shipper.WaitForExitAsync(Guard());
            }

            AssertCheckpointNotAheadOfAcks(service, checkpointFile);
        }

        using (var shipper = StartShipper(server.Url, log))
        {
            try
            {
                var length = new FileInfo(log).Length;
                while (ReadCheckpoint(checkpointFile) < length)
                {
                    await Task.Delay(20, Guard());
                }
            }
            finally
            {
                shipper.Kill(entireProcessTree: true);
                await shipper.WaitForExitAsync(Guard());
            }
        }

        var expected = ExpectedLines(await File.ReadAllBytesAsync(log));
        Assert.Equal(expected.Select(e => e.Offset).ToHashSet(), service.AllLines().Select(l => (long)l.Offset).ToHashSet());
        Assert.True(service.Streams >= 6);
    }

    private static void AssertCheckpointNotAheadOfAcks(FakeLogIngest service, string checkpointFile)
    {
        if (!File.Exists(checkpointFile))
        {
            return;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(checkpointFile));
        foreach (var entry in document.RootElement.GetProperty("files").EnumerateObject())
        {
            var acked = service.AckedEnd.GetValueOrDefault(entry.Name);
            Assert.True(entry.Value.GetProperty("offset").GetInt64() <= (long)acked, $"checkpoint of {entry.Name} is past what the service acknowledged");
        }
    }

    private static long ReadCheckpoint(string checkpointFile)
    {
        if (!File.Exists(checkpointFile))
        {
            return 0;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(checkpointFile));
        return document.RootElement.GetProperty("files").EnumerateObject().Select(e => e.Value.GetProperty("offset").GetInt64()).DefaultIfEmpty(0).Max();
    }

    private Process StartShipper(Uri url, string log)
    {
        var binDir = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(binDir, "kivasync-shipper.dll")])
        {
            WorkingDirectory = binDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Shipper__ServiceUrl"] = url.ToString();
        start.Environment["Shipper__Sources__0__Tenant"] = Tenant;
        start.Environment["Shipper__Sources__0__Path"] = log;
        start.Environment["Shipper__CheckpointDirectory"] = _dir.File("state");
        start.Environment["Shipper__DeadLetterPath"] = _dir.File("state/dead.jsonl");
        start.Environment["Shipper__MaxLines"] = "20";
        start.Environment["Shipper__FingerprintBytes"] = "64";
        start.Environment["Shipper__PollInterval"] = "00:00:00.020";
        start.Environment["Shipper__MaxDelay"] = "00:00:00.020";
        start.Environment["Shipper__CheckpointInterval"] = "00:00:00.010";
        var process = Process.Start(start)!;
        // Drain the pipes so the child never blocks on a full one.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
