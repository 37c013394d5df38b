using System.Xml.Linq;

namespace KivaSync.Deploy.Tests;

/// <summary>
/// References point one way (issue #12): the product (services/, clients/) never builds on a project or file under
/// tools/ (demo, sample-log generator, AC emulator) or tests/; tools may use the product, tests may use both.
/// </summary>
public sealed class ProjectLayoutTests
{
    private static readonly string[] ProductFolders = ["services", "clients"];
    private static readonly string[] ForbiddenFolders = ["tools", "tests"];

    [Fact]
    public void ProductProjects_ReferenceNothingUnderToolsOrTests()
    {
        var projects = ProductFolders
            .SelectMany(folder => Directory.EnumerateFiles(Repo.PathOf(folder), "*.csproj", SearchOption.AllDirectories))
            .Where(path => !IsBuildOutput(path))
            .ToList();
        Assert.True(projects.Count >= 5, $"expected the product's projects under services/ and clients/, found {projects.Count}");

        var offending = projects
            .SelectMany(project => PathsReferenced(project).Select(target => (Project: Relative(project), Target: Relative(target))))
            .Where(r => ForbiddenFolders.Contains(r.Target.Split('/')[0], StringComparer.Ordinal))
            .Select(r => $"{r.Project} → {r.Target}")
            .ToList();

        Assert.True(offending.Count == 0,
            "the product must not depend on tools/ or tests/ (move the shared code into the product, or the dependency into the tool): "
            + string.Join("; ", offending));
    }

    /// <summary>Every path an item or import of the project names (ProjectReference, Compile links, Import ...), made absolute.</summary>
    private static IEnumerable<string> PathsReferenced(string project)
    {
        var directory = Path.GetDirectoryName(project)!;
        return XDocument.Load(project).Descendants()
            .SelectMany(e => new[] { e.Attribute("Include"), e.Attribute("Project") })
            .Select(a => a?.Value)
            .Where(v => v is not null && (v.Contains('/', StringComparison.Ordinal) || v.Contains('\\', StringComparison.Ordinal)) && !v.Contains("$(", StringComparison.Ordinal))
            .Select(v => Path.GetFullPath(Path.Combine(directory, v!.Replace('\\', '/'))));
    }

    private static string Relative(string path) => Path.GetRelativePath(Repo.Root, path).Replace('\\', '/');

    private static bool IsBuildOutput(string path)
    {
        var parts = Relative(path).Split('/');
        return parts.Contains("bin", StringComparer.Ordinal) || parts.Contains("obj", StringComparer.Ordinal);
    }
}
