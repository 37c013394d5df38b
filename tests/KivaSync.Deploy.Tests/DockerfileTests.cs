using System.Text.Json;
using System.Xml.Linq;
using KivaSync.Shipper;
using KivaSync.SyncService.Hosting;

namespace KivaSync.Deploy.Tests;

/// <summary>The Dockerfiles against the projects they build and the manifests that run them.</summary>
public sealed class DockerfileTests
{
    public static TheoryData<string> Dockerfiles => new(Dockerfile.All.Select(d => d.RelativePath));

    private static Dockerfile Get(string path) => Dockerfile.All.Single(d => d.RelativePath == path);

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Stages_BuildWithTheSdkOfGlobalJson_RunOnTheMatchingRuntime(string path)
    {
        var dockerfile = Get(path);
        Assert.True(dockerfile.Stages.Count >= 2, "multi-stage: an SDK build stage and a runtime stage");

        var sdkVersion = JsonDocument.Parse(Repo.Read("global.json")).RootElement.GetProperty("sdk").GetProperty("version").GetString()!;
        var channel = string.Join('.', sdkVersion.Split('.').Take(2));
        Assert.Equal($"mcr.microsoft.com/dotnet/sdk:{channel}", dockerfile.Stages[0].Image);

        // ASP.NET Core apps (the Web SDK, or a FrameworkReference to Microsoft.AspNetCore.App) need the aspnet image.
        var project = XDocument.Load(Repo.PathOf(dockerfile.ProjectPath));
        var needsAspNet = ((string?)project.Root!.Attribute("Sdk"))?.Contains("Web", StringComparison.Ordinal) == true
            || project.Descendants("FrameworkReference").Any(f => (string?)f.Attribute("Include") == "Microsoft.AspNetCore.App");
        Assert.Equal($"mcr.microsoft.com/dotnet/{(needsAspNet ? "aspnet" : "runtime")}:{channel}", dockerfile.Final.Image);
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Restore_CopiesEveryProjectItNeeds_FromPathsThatExist(string path)
    {
        var dockerfile = Get(path);
        var build = dockerfile.Stages[0];
        var sources = Dockerfile.ContextSources(build).ToList();

        Assert.All(sources, source => Assert.True(
            File.Exists(Repo.PathOf(source)) || Directory.Exists(Repo.PathOf(source)), $"COPY source {source} does not exist"));
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Contains(file, sources);
        }

        // Every project of the closure is copied, project file first (for the restore layer), then its folder.
        var restoreIndex = build.Instructions.ToList().FindIndex(i => i.Instruction == "RUN" && i.Arguments.Contains("dotnet restore", StringComparison.Ordinal));
        Assert.True(restoreIndex >= 0, "a dotnet restore step");
        var beforeRestore = Dockerfile.ContextSources(build with { Instructions = build.Instructions.Take(restoreIndex).ToList() }).ToList();
        foreach (var project in Dockerfile.ProjectClosure(dockerfile.ProjectPath))
        {
            Assert.Contains(project, beforeRestore);
            var folder = Path.GetDirectoryName(project)!.Replace('\\', '/') + "/";
            Assert.Contains(sources, s => folder.StartsWith(s, StringComparison.Ordinal));
        }

        Assert.Contains(build.Instructions, i => i.Instruction == "RUN" && i.Arguments.Contains($"dotnet publish {dockerfile.ProjectPath}", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Entrypoint_RunsTheProjectsAssembly(string path)
    {
        var dockerfile = Get(path);
        var assembly = dockerfile == Dockerfile.SyncService ? typeof(SyncServer).Assembly : typeof(ShipperOptions).Assembly;

        Assert.Equal($"[\"dotnet\", \"{assembly.GetName().Name}.dll\"]", dockerfile.Final.Arguments("ENTRYPOINT").Single());
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void FinalStage_RunsAsANumericNonRootUser_WithNoSecrets(string path)
    {
        var dockerfile = Get(path);

        Assert.True(dockerfile.User > 0, "USER must be numeric and not root, so runAsNonRoot can be verified");
        var secretish = new[] { "KEY", "TOKEN", "SECRET", "PASSWORD" };
        foreach (var stage in dockerfile.Stages)
        {
            foreach (var (instruction, arguments) in stage.Instructions.Where(i => i.Instruction is "ENV" or "ARG"))
            {
                Assert.DoesNotContain(secretish, s => arguments.Contains(s, StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void BuildCommand_InTheHeader_UsesThisFileAndTheImageName(string path)
    {
        var dockerfile = Get(path);

        Assert.Contains($"docker build -f {dockerfile.RelativePath} -t {dockerfile.ImageName} .", dockerfile.Comments);
        Assert.True(File.Exists(Repo.PathOf(dockerfile.RelativePath + ".dockerignore")), "a Dockerfile-specific .dockerignore keeps bin/obj out of the context");
    }

    [Theory]
    [MemberData(nameof(SyncServiceManifestTests.Overlays), MemberType = typeof(SyncServiceManifestTests))]
    public void Images_InTheManifests_AreBuiltByTheDockerfiles_WithTheirUserAndPort(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var ours = manifests.Containers.Where(c => Images.Repository(c.Container.Image).Contains("kivasync/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ours);

        foreach (var (owner, pod, container) in ours)
        {
            var dockerfile = Assert.Single(Dockerfile.All, d => manifests.ContainersOfImage(d.ImageName).Any(c => c.Container == container));
            Assert.Equal(dockerfile.User, container.SecurityContext?.RunAsUser ?? pod.SecurityContext?.RunAsUser);
            Assert.Equal(dockerfile.ExposedPorts.Order(), (container.Ports ?? []).Select(p => p.ContainerPort).Order());
        }

        Assert.Equal(Manifests.SyncServiceContainer, Assert.Single(manifests.ContainersOfImage(Dockerfile.SyncService.ImageName)).Container.Name);
        Assert.All(manifests.ContainersOfImage(Dockerfile.Shipper.ImageName), c => Assert.Equal(Manifests.ShipperContainer, c.Container.Name));
    }
}
