using k8s;
using YamlDotNet.RepresentationModel;

namespace KivaSync.Deploy.Tests;

/// <summary>The k8s/ tree itself: every kustomization renders, every file it names exists, no manifest is left out.</summary>
public sealed class KustomizationTests
{
    public static TheoryData<string> Directories => new(KustomizationDirectories());

    private static IEnumerable<string> KustomizationDirectories() =>
        Directory.EnumerateFiles(Repo.K8s, "kustomization.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Repo.K8s, Path.GetDirectoryName(f)!).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    /// <summary>The files and directories a kustomization.yaml names: resources, components, patches, generator inputs.</summary>
    private static IEnumerable<(string Path, bool IsManifest)> References(string directory)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(Path.Combine(Repo.K8s, directory, "kustomization.yaml"))))
        {
            stream.Load(reader);
        }

        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        foreach (var (key, value) in root.Children)
        {
            switch (((YamlScalarNode)key).Value)
            {
                case "resources" or "components":
                    foreach (var item in ((YamlSequenceNode)value).Children)
                    {
                        yield return (((YamlScalarNode)item).Value!, true);
                    }

                    break;
                case "patches":
                    foreach (var patch in ((YamlSequenceNode)value).Children.OfType<YamlMappingNode>())
                    {
                        if (patch.Children.TryGetValue("path", out var path))
                        {
                            yield return (((YamlScalarNode)path).Value!, true);
                        }
                    }

                    break;
                case "configMapGenerator" or "secretGenerator":
                    foreach (var generator in ((YamlSequenceNode)value).Children.OfType<YamlMappingNode>())
                    {
                        foreach (var field in new[] { "envs", "files" })
                        {
                            if (generator.Children.TryGetValue(field, out var files))
                            {
                                foreach (var file in ((YamlSequenceNode)files).Children)
                                {
                                    var text = ((YamlScalarNode)file).Value!;
                                    yield return (text.Contains('=', StringComparison.Ordinal) ? text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..] : text, false);
                                }
                            }
                        }
                    }

                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Directories))]
    public void Kustomization_EveryNamedFileExists_AndManifestsLoadAsKubernetesObjects(string directory)
    {
        foreach (var (reference, isManifest) in References(directory))
        {
            var full = Path.GetFullPath(Path.Combine(Repo.K8s, directory, reference));
            Assert.True(File.Exists(full) || File.Exists(Path.Combine(full, "kustomization.yaml")), $"{directory}: {reference} does not exist");
            if (isManifest && File.Exists(full))
            {
                Assert.NotEmpty(KubernetesYaml.LoadAllFromString(File.ReadAllText(full)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Directories))]
    public void Kustomization_RendersWithKubectl(string directory)
    {
        var rendered = Manifests.Parse(Kubectl.Kustomize(directory));

        Assert.NotEmpty(rendered.Objects);
    }

    [Fact]
    public void Manifests_EveryYamlFile_IsPartOfSomeKustomization()
    {
        var referenced = KustomizationDirectories()
            .SelectMany(d => References(d).Select(r => Path.GetFullPath(Path.Combine(Repo.K8s, d, r.Path))))
            .ToHashSet(StringComparer.Ordinal);
        var files = Directory.EnumerateFiles(Repo.K8s, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "kustomization.yaml");

        Assert.All(files, file => Assert.True(referenced.Contains(Path.GetFullPath(file)), $"{Path.GetRelativePath(Repo.Root, file)} is in no kustomization"));
    }
}
