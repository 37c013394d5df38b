namespace KivaSync.Shipper;

/// <summary>Expands a source path: a literal directory plus a file-name pattern with '*' and '?'.</summary>
internal static class FileGlob
{
    private static readonly EnumerationOptions Options = new()
    {
        MatchType = MatchType.Simple,
        MatchCasing = MatchCasing.CaseSensitive,
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.Directory,
    };

    public static bool HasWildcard(string s) => s.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>The matching files, sorted for a stable order; none when the directory is missing.</summary>
    public static IReadOnlyList<string> Expand(string pattern)
    {
        var full = Path.GetFullPath(pattern);
        var name = Path.GetFileName(full);
        if (!HasWildcard(name))
        {
            return File.Exists(full) ? [full] : [];
        }

        var dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir))
        {
            return [];
        }

        try
        {
            var files = Directory.EnumerateFiles(dir, name, Options).ToList();
            files.Sort(StringComparer.Ordinal);
            return files;
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }
}
