using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace KivaSync.Deploy.Tests;

/// <summary>One FROM … stage of a Dockerfile and the instructions in it.</summary>
internal sealed record DockerStage(string Image, string? Name, IReadOnlyList<(string Instruction, string Arguments)> Instructions)
{
    public IEnumerable<string> Arguments(string instruction) =>
        Instructions.Where(i => i.Instruction == instruction).Select(i => i.Arguments);
}

/// <summary>A Dockerfile read into stages (continuation lines joined, comments kept apart).</summary>
internal sealed partial class Dockerfile
{
    private Dockerfile(string path, string projectPath, string text)
    {
        RelativePath = path;
        ProjectPath = projectPath;
        Comments = text.Split('\n').Where(l => l.TrimStart().StartsWith('#')).Select(l => l.TrimStart()[1..].Trim()).ToList();
        var joined = Regex.Replace(text, @"\\\r?\n", " ");
        var stages = new List<DockerStage>();
        List<(string, string)>? current = null;
        foreach (var raw in joined.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var instruction = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : WhiteSpace().Replace(line[(space + 1)..].Trim(), " ");
            if (instruction == "FROM")
            {
                var parts = arguments.Split(' ');
                current = [];
                stages.Add(new DockerStage(parts[0], parts.Length >= 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null, current));
                continue;
            }

            (current ?? throw new InvalidOperationException($"{path}: {instruction} before FROM")).Add((instruction, arguments));
        }

        Stages = stages;
    }

    public static Dockerfile SyncService { get; } = Load("services/KivaSync.SyncService/Dockerfile", "services/KivaSync.SyncService/KivaSync.SyncService.csproj");

    public static Dockerfile Shipper { get; } = Load("clients/KivaSync.Shipper/Dockerfile", "clients/KivaSync.Shipper/KivaSync.Shipper.csproj");

    public static IReadOnlyList<Dockerfile> All { get; } = [SyncService, Shipper];

    public string RelativePath { get; }

    /// <summary>The project the image runs.</summary>
    public string ProjectPath { get; }

    public IReadOnlyList<string> Comments { get; }

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage Final => Stages[^1];

    /// <summary>The image name the Dockerfile is built as (its LABEL org.opencontainers.image.title).</summary>
    public string ImageName =>
        Final.Arguments("LABEL").Select(l => TitleLabel().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Single();

    /// <summary>The final stage's USER, numeric.</summary>
    public long User => long.Parse(Final.Arguments("USER").Last().Split(':')[0], System.Globalization.CultureInfo.InvariantCulture);

    public IEnumerable<int> ExposedPorts =>
        Final.Arguments("EXPOSE").SelectMany(a => a.Split(' ')).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The sources of the COPY instructions of a stage that read the build context (not --from).</summary>
    public static IEnumerable<string> ContextSources(DockerStage stage) =>
        stage.Arguments("COPY").Where(a => !a.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(a => a.Split(' ').Where(p => !p.StartsWith("--", StringComparison.Ordinal)).SkipLast(1));

    /// <summary>The project and every project it references, transitively, as repository-relative paths.</summary>
    public static IReadOnlyList<string> ProjectClosure(string projectPath)
    {
        var seen = new List<string>();
        var pending = new Stack<string>([projectPath]);
        while (pending.TryPop(out var project))
        {
            if (seen.Contains(project))
            {
                continue;
            }

            seen.Add(project);
            var document = XDocument.Load(Repo.PathOf(project));
            foreach (var reference in document.Descendants("ProjectReference").Select(r => (string)r.Attribute("Include")!))
            {
                var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Repo.PathOf(project))!, reference.Replace('\\', '/')));
                pending.Push(Path.GetRelativePath(Repo.Root, full).Replace('\\', '/'));
            }
        }

        return seen;
    }

    private static Dockerfile Load(string path, string projectPath) => new(path, projectPath, Repo.Read(path));

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    [GeneratedRegex(@"org\.opencontainers\.image\.title=""?([^"" ]+)""?")]
    private static partial Regex TitleLabel();
}
