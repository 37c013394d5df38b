using System.IO.Compression;
using Google.Protobuf;
using KivaSync.Contracts.V1;

namespace KivaSync.Cli;

public static partial class Commands
{
    private const int ChunkBytes = 256 * 1024;

    /// <summary>Rejected lines the text report lists; --json has all the service sent (up to 100).</summary>
    private const int TextRejections = 10;

    /// <summary>Where one file's lines are in the concatenated log the service numbers.</summary>
    private sealed record FileLines(string Path, ulong FirstLine, ulong Lines, long Bytes);

    private static async Task<int> TestSyncAsync(CommandContext c)
    {
        var tenant = c.Tenant;
        if (c.Args.Positionals.Count == 0)
        {
            throw new UsageException("name at least one log file (\"-\" for standard input)");
        }

        foreach (var path in c.Args.Positionals.Where(p => p != "-" && !File.Exists(p)))
        {
            throw new UsageException($"no such file: {path}");
        }

        var files = new List<FileLines>();
        using var call = c.Client.TestSync(Call(c));
        var first = true;
        ulong nextLine = 1;
        foreach (var path in c.Args.Positionals)
        {
            await using var stream = await OpenLogAsync(path);
            var buffer = new byte[ChunkBytes];
            ulong newlines = 0;
            long bytes = 0;
            byte last = (byte)'\n';
            int n;
            while ((n = await stream.ReadAsync(buffer, c.Cancellation)) > 0)
            {
                newlines += (ulong)buffer.AsSpan(0, n).Count((byte)'\n');
                bytes += n;
                last = buffer[n - 1];
                await WriteChunkAsync(ByteString.CopyFrom(buffer, 0, n));
            }

            if (last != (byte)'\n')
            {
                // A file without a final line ending must not run into the next file's first line.
                await WriteChunkAsync(ByteString.CopyFrom((byte)'\n'));
                newlines++;
            }

            files.Add(new FileLines(path, nextLine, newlines, bytes));
            nextLine += newlines;
        }

        if (first)
        {
            await WriteChunkAsync(ByteString.Empty);
        }

        await call.RequestStream.CompleteAsync();
        var report = await call;
        var problems = report.RejectedByReason.Count > 0 || report.UnknownEvents.Count > 0 || report.EventsWithoutContact > 0
            || report.CustomersWithoutEmail > 0 || report.EmailConflicts.Count > 0;
        var code = problems ? ExitCodes.Problems : ExitCodes.Ok;
        if (c.Json)
        {
            await c.Console.Out.WriteLineAsync(Format.JsonObject(w =>
            {
                w.WriteStartArray("files");
                foreach (var f in files)
                {
                    w.WriteStartObject();
                    w.WriteString("path", f.Path);
                    w.WriteNumber("firstLine", f.FirstLine);
                    w.WriteNumber("lines", f.Lines);
                    w.WriteNumber("bytes", f.Bytes);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WritePropertyName("report");
                w.WriteRawValue(Format.Json(report));
            }));
            return code;
        }

        await c.Console.Out.WriteLineAsync(TestSyncText(report, files.Select(f => (f.Path, f.FirstLine, f.Lines)).ToList()));
        return code;

        async Task WriteChunkAsync(ByteString data)
        {
            var chunk = new TestSyncChunk { Data = data };
            if (first)
            {
                chunk.Tenant = tenant;
                first = false;
            }

            await call.RequestStream.WriteAsync(chunk, c.Cancellation);
        }
    }

    private static async Task<Stream> OpenLogAsync(string path)
    {
        if (path == "-")
        {
            return Console.OpenStandardInput();
        }

        var file = File.OpenRead(path);
        var magic = new byte[2];
        var read = await file.ReadAsync(magic);
        file.Position = 0;
        // Rotated logs may be gzip-compressed (system.log.3.gz): read them as their text.
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>A test-sync report for a person; <paramref name="files"/> turns line numbers back into file:line.</summary>
    internal static string TestSyncText(TestSyncReport r, IReadOnlyList<(string Path, ulong FirstLine, ulong Lines)> files)
    {
        var lines = new List<string>();
        var rejected = r.RejectedByReason.Values.Aggregate(0UL, (a, b) => a + b);
        var events = r.EventsByName.Values.Aggregate(0UL, (a, b) => a + b);
        var unknown = r.UnknownEvents.Values.Aggregate(0UL, (a, b) => a + b);
        lines.Add($"Test sync for tenant {r.Tenant}: {Format.N(r.Lines)} lines in {files.Count} file(s); nothing was sent to AC");
        lines.Add($"  entries            {Format.N(r.Entries)} ({Format.N(r.Duplicates)} duplicate lines dropped)");
        lines.Add($"  rejected lines     {Format.N(rejected)}" + (rejected == 0 ? "" : $" ({Format.Counts(r.RejectedByReason)})"));
        foreach (var x in r.Rejections.Take(TextRejections))
        {
            lines.Add($"    {Where(x.Line),-28} {x.Reason,-15} {x.Detail}");
        }

        if (rejected > (ulong)Math.Min(r.Rejections.Count, TextRejections))
        {
            lines.Add($"    (the first {Math.Min(r.Rejections.Count, TextRejections)} of {Format.N(rejected)} are listed; --json lists the first {r.Rejections.Count})");
        }

        lines.Add($"  contacts           {Format.N(r.Customers)} customers, {Format.N(r.Leads)} leads, {Format.N(r.CustomersWithoutEmail)} customers without email");
        lines.Add($"  email conflicts    {r.EmailConflicts.Count}");
        lines.AddRange(r.EmailConflicts.Select(e => "    " + e));
        lines.Add($"  events to send     {Format.N(events)} ({Format.N(r.HistoricalEventsNotSent)} historical not sent, {Format.N(r.EventsWithoutContact)} without a contact)");
        foreach (var e in r.EventsByName.OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal))
        {
            lines.Add($"    {e.Key,-34}{Format.N(e.Value),10}");
        }

        lines.Add($"  unknown events     {Format.N(unknown)}" + (unknown == 0 ? "" : $" ({Format.Counts(r.UnknownEvents)}): not sent"));
        var totals = string.Join(", ", r.OrderTotalsCents.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key} {Format.Money(t.Value)}"));
        lines.Add($"  orders             {Format.N(r.Orders)}" + (totals.Length == 0 ? "" : $" ({totals})"));
        lines.Add($"  AC requests        {Format.N(r.RequestsTotal)} ({Format.Counts(r.RequestsByKind)})");
        lines.Add($"  estimated backfill {Format.Span(r.EstimatedBackfill)}");
        lines.Add($"  without historical events: {Format.N(r.RequestsWithoutHistoricalEvents)} requests, {Format.Span(r.EstimatedBackfillWithoutHistoricalEvents)}");
        return string.Join(Environment.NewLine, lines);

        string Where(ulong line)
        {
            foreach (var (path, firstLine, count) in files)
            {
                if (line >= firstLine && line < firstLine + count)
                {
                    return $"{path}:{line - firstLine + 1}";
                }
            }

            return $"line {line}";
        }
    }
}
