using System.Text.Json;
using System.Text.Json.Serialization;

namespace KivaSync.Shipper;

/// <summary>What is stored per fingerprint.</summary>
/// <param name="Offset">Acknowledged offset: every byte before it is durable in the service.</param>
/// <param name="Path">Last path the file was seen at (for operators).</param>
/// <param name="Tenant">The source's tenant.</param>
/// <param name="Complete">True once the file was read to its end and let go (archives, rotated files).</param>
/// <param name="UpdatedAt">When the entry last changed.</param>
public sealed record CheckpointEntry(long Offset, string Path, string Tenant, bool Complete, DateTimeOffset UpdatedAt);

/// <summary>
/// Fingerprint → acknowledged offset, kept in one JSON file replaced atomically (temp file, fsync, rename),
/// so a crash leaves either the old or the new checkpoint, never a torn one.
/// </summary>
internal sealed class CheckpointStore
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly Lock _gate = new();
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retention;
    private readonly Dictionary<string, CheckpointEntry> _entries;
    private readonly Dictionary<string, int> _restarts = new(StringComparer.Ordinal);
    private Dictionary<string, CheckpointEntry> _persisted;
    private TaskCompletionSource _persistedChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _dirty;

    /// <param name="directory">Where checkpoints.json lives.</param>
    /// <param name="time">Clock for entry times.</param>
    /// <param name="retention">How long an entry of a file that was read to its end and let go is kept (null: forever).</param>
    public CheckpointStore(string directory, TimeProvider time, TimeSpan? retention = null)
    {
        _retention = retention ?? TimeSpan.MaxValue;
        Directory.CreateDirectory(directory);
        _path = System.IO.Path.Combine(directory, "checkpoints.json");
        _time = time;
        _entries = Load(_path);
        _persisted = new Dictionary<string, CheckpointEntry>(_entries);
    }

    public string FilePath => _path;

    public CheckpointEntry? Get(string fingerprint)
    {
        lock (_gate)
        {
            return _entries.GetValueOrDefault(fingerprint);
        }
    }

    /// <summary>The entry as last written to disk.</summary>
    public CheckpointEntry? GetPersisted(string fingerprint)
    {
        lock (_gate)
        {
            return _persisted.GetValueOrDefault(fingerprint);
        }
    }

    /// <summary>A task that completes at the next write to disk.</summary>
    public Task PersistedChanged
    {
        get
        {
            lock (_gate)
            {
                return _persistedChanged.Task;
            }
        }
    }

    /// <summary>How often <paramref name="fingerprint"/> was started over (<see cref="Restart"/>) in this process.</summary>
    public int Generation(string fingerprint)
    {
        lock (_gate)
        {
            return _restarts.GetValueOrDefault(fingerprint);
        }
    }

    /// <summary>Moves a file's checkpoint forward (never back).</summary>
    /// <param name="generation">The <see cref="Generation"/> the reader of these offsets started under: an acknowledgement
    /// for the file a restart replaced must not move the new content's checkpoint past lines not yet sent. Null: any.</param>
    public void Advance(string fingerprint, string path, string tenant, long offset, int? generation = null)
    {
        lock (_gate)
        {
            if (generation is { } g && g != _restarts.GetValueOrDefault(fingerprint))
            {
                return;
            }

            var old = _entries.GetValueOrDefault(fingerprint);
            if (old is not null && old.Offset >= offset && old.Path == path)
            {
                return;
            }

            _entries[fingerprint] = new CheckpointEntry(Math.Max(offset, old?.Offset ?? 0), path, tenant, old?.Complete ?? false, _time.GetUtcNow());
            _dirty = true;
        }
    }

    /// <summary>Starts a fingerprint over (a file truncated and rewritten with the same first bytes); the one way back.</summary>
    public void Restart(string fingerprint, string path, string tenant)
    {
        lock (_gate)
        {
            _entries[fingerprint] = new CheckpointEntry(0, path, tenant, false, _time.GetUtcNow());
            _restarts[fingerprint] = _restarts.GetValueOrDefault(fingerprint) + 1;
            _dirty = true;
        }
    }

    /// <summary>Records that a file was read to its end and let go.</summary>
    public void MarkComplete(string fingerprint, string path, string tenant, long offset)
    {
        lock (_gate)
        {
            var old = _entries.GetValueOrDefault(fingerprint);
            _entries[fingerprint] = new CheckpointEntry(Math.Max(offset, old?.Offset ?? 0), path, tenant, true, _time.GetUtcNow());
            _dirty = true;
        }
    }

    /// <summary>Writes the checkpoint when it changed: temp file, fsync, rename over the old one.</summary>
    public void Flush()
    {
        Dictionary<string, CheckpointEntry> snapshot;
        lock (_gate)
        {
            if (!_dirty)
            {
                return;
            }

            Prune();
            snapshot = new Dictionary<string, CheckpointEntry>(_entries);
            _dirty = false;
        }

        var temp = _path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
            {
                JsonSerializer.Serialize(stream, new CheckpointFile(1, snapshot), Json);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, _path, overwrite: true);
        }
        catch
        {
            lock (_gate)
            {
                _dirty = true;
            }

            throw;
        }

        TaskCompletionSource changed;
        lock (_gate)
        {
            _persisted = snapshot;
            changed = _persistedChanged;
            _persistedChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Drops entries of files let go long ago, so the file does not grow with every rotation.</summary>
    private void Prune()
    {
        if (_retention == TimeSpan.MaxValue)
        {
            return;
        }

        var cutoff = _time.GetUtcNow() - _retention;
        foreach (var (fingerprint, entry) in _entries.ToList())
        {
            if (entry.Complete && entry.UpdatedAt < cutoff)
            {
                _entries.Remove(fingerprint);
            }
        }
    }

    private static Dictionary<string, CheckpointEntry> Load(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = File.OpenRead(path);
        var file = JsonSerializer.Deserialize<CheckpointFile>(stream, Json)
            ?? throw new InvalidDataException($"checkpoint file {path} is empty");
        return new Dictionary<string, CheckpointEntry>(file.Files);
    }

    private sealed record CheckpointFile(
        [property: JsonPropertyName("version")] int Version,
        [property: JsonPropertyName("files")] Dictionary<string, CheckpointEntry> Files);
}
