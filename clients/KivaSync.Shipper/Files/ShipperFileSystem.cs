namespace KivaSync.Shipper;

/// <summary>
/// The file system as file tracking sees it: listing a source's files, identifying them and opening their bytes.
/// Tests wrap it to act as a writer at the very moment the shipper opens or reads a file.
/// </summary>
internal interface IShipperFileSystem
{
    /// <summary>The files a source path (a file, or a directory plus a file-name pattern) matches now, in a stable order.</summary>
    IReadOnlyList<string> Expand(string pattern);

    /// <summary>Length and last write time of a file; null when it is gone.</summary>
    FileStat? Stat(string path);

    /// <summary>The fingerprint of the file at <paramref name="path"/> (see <see cref="Fingerprint"/>); null while too short or unreadable.</summary>
    string? Fingerprint(string path, int bytes);

    /// <summary>Opens a plain file by handle (the handle follows it through rename and deletion).</summary>
    IByteSource OpenPlain(string path);

    /// <summary>Opens a .gz archive, offsets in its decompressed bytes.</summary>
    IByteSource OpenArchive(string path);
}

/// <summary>What <see cref="IShipperFileSystem.Stat"/> tells of a file.</summary>
internal readonly record struct FileStat(long Length, DateTimeOffset LastWriteUtc);

/// <summary>The real file system.</summary>
internal sealed class PhysicalFileSystem : IShipperFileSystem
{
    public IReadOnlyList<string> Expand(string pattern) => FileGlob.Expand(pattern);

    public FileStat? Stat(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileStat(info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero)) : null;
    }

    public string? Fingerprint(string path, int bytes) => KivaSync.Shipper.Fingerprint.TryCompute(path, bytes);

    public IByteSource OpenPlain(string path) => PlainFileSource.Open(path);

    public IByteSource OpenArchive(string path) => new GzipFileSource(path);
}
