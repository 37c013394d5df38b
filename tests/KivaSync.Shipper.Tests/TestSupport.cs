using System.Text;
using KivaSync.Contracts.V1;

namespace KivaSync.Shipper.Tests;

/// <summary>A line the test expects, computed from the file's bytes independently of the shipper.</summary>
public sealed record ExpectedLine(long Offset, int Length, byte[] Content);

/// <summary>A temporary directory with the shipper's state and logs, removed at the end.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kivasync-shipper-tests", Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a handle may still be closing.
        }
    }
}

internal static class TestSupport
{
    public const string Tenant = "greenleaf";

    /// <summary>Options tuned for quick tests: short polls and delays, small fingerprints.</summary>
    public static ShipperOptions Options(TempDir dir, Uri url, string pattern, StartPosition startAt = StartPosition.Beginning) => new()
    {
        ServiceUrl = url,
        Sources = [new SourceOptions { Tenant = Tenant, Path = pattern, StartAt = startAt }],
        CheckpointDirectory = dir.File("state"),
        DeadLetterPath = dir.File("state/dead-letter.jsonl"),
        MaxLines = 50,
        MaxBytes = 64 * 1024,
        MaxDelay = TimeSpan.FromMilliseconds(20),
        MaxInFlightBatches = 4,
        FingerprintBytes = 64,
        PollInterval = TimeSpan.FromMilliseconds(20),
        RotatedFileWait = TimeSpan.FromMilliseconds(300),
        CheckpointInterval = TimeSpan.FromMilliseconds(20),
        ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        DrainTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>A guard so a broken test fails instead of hanging; not a speed assertion.</summary>
    public static CancellationToken Guard() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    /// <summary>A valid contract line for customer <paramref name="i"/>.</summary>
    public static string EntryLine(int i, string? tag = null) =>
        $$$"""{"ts":"2024-06-03T14:22:{{{i % 60:D2}}}.123Z","id":"{{{tag}}}e{{{i}}}","event":"Made a substitution","customer":{"id":"{{{i}}}","email":"c{{{i}}}@example.com"},"data":{"n":{{{i}}}}}""";

    public static string Lines(int from, int count, string? tag = null) =>
        string.Concat(Enumerable.Range(from, count).Select(i => EntryLine(i, tag) + "\n"));

    public static void Append(string path, string text) => AppendBytes(path, Encoding.UTF8.GetBytes(text));

    public static void AppendBytes(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.Write(bytes);
    }

    /// <summary>Truncates the file in place to zero bytes, as copy-and-truncate rotation does (same inode).</summary>
    public static void TruncateInPlace(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.SetLength(0);
    }

    /// <summary>The complete, non-blank lines of <paramref name="content"/> starting at <paramref name="from"/>.</summary>
    public static List<ExpectedLine> ExpectedLines(byte[] content, long from = 0)
    {
        var lines = new List<ExpectedLine>();
        var start = (int)from;
        for (var i = start; i < content.Length; i++)
        {
            if (content[i] != (byte)'\n')
            {
                continue;
            }

            var body = content.AsSpan(start, i - start);
            if (body.Length > 0 && body[^1] == (byte)'\r')
            {
                body = body[..^1];
            }

            if (body.Trim((byte)' ').Length > 0)
            {
                lines.Add(new ExpectedLine(start, i - start + 1, body.ToArray()));
            }

            start = i + 1;
        }

        return lines;
    }

    public static IEnumerable<LogLine> AllLines(this FakeLogIngest service) => service.Received.SelectMany(r => r.Batch.Lines);

    public static IEnumerable<LogLine> LinesOf(this FakeLogIngest service, string fingerprint) =>
        service.Received.Where(r => r.Batch.Source.Fingerprint == fingerprint).SelectMany(r => r.Batch.Lines);

    /// <summary>Asserts the received lines are exactly the expected ones, each once, with offsets and bytes.</summary>
    public static void AssertExactlyOnce(IEnumerable<ExpectedLine> expected, IEnumerable<LogLine> received)
    {
        var want = expected.Select(e => (e.Offset, e.Length, Encoding.UTF8.GetString(e.Content))).ToList();
        var got = received.Select(l => ((long)l.Offset, (int)l.Length, l.Raw.ToStringUtf8())).ToList();
        Assert.Equal(want, got);
    }
}
