using System.IO.Compression;
using System.Text;

namespace KivaSync.SampleLog;

/// <summary>
/// Generates a realistic, deterministic system log for one tenant (shared/contract/system-log.md):
/// the same options always give the same bytes. Lines are produced lazily, one day at a time.
/// </summary>
public static class SampleLogGenerator
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The log's lines, without line endings, in time order.</summary>
    public static IEnumerable<string> GenerateLines(SampleLogOptions o) => GenerateLines(o, new SampleLogSummary());

    /// <summary>The log's lines; <paramref name="summary"/> is filled in as they are enumerated.</summary>
    public static IEnumerable<string> GenerateLines(SampleLogOptions o, SampleLogSummary summary)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(summary);
        // Validate eagerly: a bad option fails at the call, not at the first MoveNext.
        var generator = new Generator(o, summary);
        return generator.Lines();
    }

    /// <summary>Writes the log to <paramref name="path"/> (each line + '\n'); returns the line count.</summary>
    public static long WriteTo(string path, SampleLogOptions o) => Write(path, o, fraction: 1.0, gzip: false).Lines;

    /// <summary>Writes the first <paramref name="fraction"/> of the log (all of it by default) to a stream, left open;
    /// returns what was generated.</summary>
    public static SampleLogSummary Write(Stream stream, SampleLogOptions o, double fraction = 1.0)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var take = ArchiveLength(o, fraction);
        return WriteLines(stream, GenerateLinesWithSummary(o, out var summary), take, summary);
    }

    /// <summary>
    /// Writes an "archive" of the log: its first <paramref name="fraction"/> of lines (rounded up), as a
    /// separate file, gzip-compressed when <paramref name="gzip"/> is set. Shipped next to the full log it
    /// overlaps it exactly, as the contract's archives do. Returns the number of lines written.
    /// </summary>
    public static long WriteArchive(string path, SampleLogOptions o, double fraction, bool gzip) => Write(path, o, fraction, gzip).Lines;

    /// <summary>The first <paramref name="fraction"/> of the log's lines (rounded up).</summary>
    public static IEnumerable<string> ArchiveLines(SampleLogOptions o, double fraction)
    {
        var take = ArchiveLength(o, fraction);
        return GenerateLines(o).Take(checked((int)Math.Min(take, int.MaxValue)));
    }

    /// <summary>Writes the first <paramref name="fraction"/> of the log to <paramref name="path"/>, optionally gzip.</summary>
    public static SampleLogSummary Write(string path, SampleLogOptions o, double fraction, bool gzip)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(o);
        o.Validate();
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        if (!gzip)
        {
            return Write(file, o, fraction);
        }

        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        return Write(zip, o, fraction);
    }

    private static long ArchiveLength(SampleLogOptions o, double fraction)
    {
        if (double.IsNaN(fraction) || fraction is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must be in (0, 1]");
        }

        // Counting needs one extra generation pass; determinism makes the second pass identical.
        return fraction >= 1 ? long.MaxValue : (long)Math.Ceiling(GenerateLines(o).LongCount() * fraction);
    }

    private static IEnumerable<string> GenerateLinesWithSummary(SampleLogOptions o, out SampleLogSummary summary)
    {
        summary = new SampleLogSummary();
        return GenerateLines(o, summary);
    }

    private static SampleLogSummary WriteLines(Stream stream, IEnumerable<string> lines, long take, SampleLogSummary summary)
    {
        using var writer = new StreamWriter(stream, Utf8NoBom, 1 << 16, leaveOpen: true) { NewLine = "\n" };
        long written = 0;
        foreach (var line in lines)
        {
            if (written >= take)
            {
                break;
            }

            writer.Write(line);
            writer.Write('\n');
            written++;
        }

        writer.Flush();
        // Lines reports what was written; the other counters describe the generation up to that point.
        summary.Lines = written;
        return summary;
    }
}
