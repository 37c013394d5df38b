using System.Text.Json;

namespace KivaSync.Shipper;

/// <summary>Appends lines the service rejected to a JSON-lines file, one object per rejection.</summary>
internal sealed class DeadLetterWriter : IDisposable
{
    private readonly Lock _gate = new();
    private readonly FileStream _stream;

    public DeadLetterWriter(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 4096);
    }

    public void Write(IReadOnlyList<DeadLetter> letters)
    {
        if (letters.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var letter in letters)
            {
                using (var writer = new Utf8JsonWriter(_stream))
                {
                    writer.WriteStartObject();
                    writer.WriteString("time", letter.Time);
                    writer.WriteString("tenant", letter.Tenant);
                    writer.WriteString("path", letter.Path);
                    writer.WriteString("fingerprint", letter.Fingerprint);
                    writer.WriteNumber("offset", letter.Offset);
                    writer.WriteString("reason", letter.Reason);
                    writer.WriteString("detail", letter.Detail);
                    writer.WriteEndObject();
                }

                _stream.WriteByte((byte)'\n');
            }

            _stream.Flush(flushToDisk: true);
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>One rejected line as written to the dead-letter file.</summary>
internal sealed record DeadLetter(DateTimeOffset Time, string Tenant, string Path, string Fingerprint, ulong Offset, string Reason, string Detail);
