using k8s.Models;
using KivaSync.Shipper;
using Microsoft.Extensions.Configuration;

namespace KivaSync.Deploy.Tests;

/// <summary>The example web tier (dev overlay): the shipper as a native sidecar, against ShipperOptions.</summary>
public sealed class ShipperSidecarTests
{
    private const string Overlay = "dev";

    private static (Manifests Manifests, V1PodSpec Pod, V1Container Shipper) Render()
    {
        var manifests = Manifests.Overlay(Overlay);
        var (_, pod, shipper) = Assert.Single(manifests.ContainersOfImage(Dockerfile.Shipper.ImageName));
        return (manifests, pod, shipper);
    }

    private static ShipperOptions Bind(Dictionary<string, string?> environment)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value)))
            .Build();
        return configuration.GetSection(ShipperOptions.SectionName).Get<ShipperOptions>() ?? new ShipperOptions();
    }

    [Fact]
    public void Shipper_IsANativeSidecar_StartedBeforeAndStoppedAfterTheWebContainer()
    {
        var (_, pod, shipper) = Render();

        Assert.Contains(shipper, pod.InitContainers);
        Assert.Equal("Always", shipper.RestartPolicy);
        Assert.DoesNotContain(pod.Containers, c => c.Name == shipper.Name);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.True(shipper.SecurityContext.ReadOnlyRootFilesystem);
    }

    [Fact]
    public void Environment_EveryShipperKey_BindsToAnOption_AndPassesTheShippersValidation()
    {
        var (manifests, _, shipper) = Render();
        var environment = manifests.Environment(shipper, Manifests.ExampleSecrets());
        var keys = environment.Keys.Where(k => k.StartsWith(ShipperOptions.SectionName + "__", StringComparison.Ordinal)).ToList();

        Assert.All(keys, key => Assert.Null(ConfigurationKeys.Explain(typeof(ShipperOptions), key, ShipperOptions.SectionName)));
        var result = new ShipperOptionsValidator().Validate(null, Bind(environment));
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Volumes_LogsAreShared_CheckpointAndDeadLettersWritable_AndSurviveContainerRestarts()
    {
        var (manifests, pod, shipper) = Render();
        var options = Bind(manifests.Environment(shipper, Manifests.ExampleSecrets()));
        var web = Assert.Single(pod.Containers);

        // Every source's directory is a volume the web container writes and the shipper reads.
        foreach (var source in options.Sources)
        {
            var directory = Path.GetDirectoryName(source.Path)!;
            var shipperMount = Assert.Single(shipper.VolumeMounts, m => m.MountPath == directory);
            var webMount = Assert.Single(web.VolumeMounts, m => m.Name == shipperMount.Name);
            Assert.NotEqual(true, webMount.ReadOnlyProperty);
        }

        // The checkpoint and the dead letters are on a writable pod volume (a container restart keeps it), never the
        // read-only root filesystem.
        foreach (var path in new[] { options.CheckpointDirectory, Path.GetDirectoryName(options.DeadLetterPath)! })
        {
            var mount = Assert.Single(shipper.VolumeMounts, m => path == m.MountPath || path.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
            Assert.NotEqual(true, mount.ReadOnlyProperty);
            var volume = Assert.Single(pod.Volumes, v => v.Name == mount.Name);
            Assert.True(volume.EmptyDir is not null || volume.PersistentVolumeClaim is not null, $"{mount.Name} must outlive the container");
        }
    }

    [Fact]
    public void Health_ListensOnTheContainerPort_ThatTheLivenessProbeChecks()
    {
        var (manifests, _, shipper) = Render();
        var options = Bind(manifests.Environment(shipper, Manifests.ExampleSecrets()));
        var port = new Uri(options.HealthUrl!).Port;

        Assert.Equal(port, Assert.Single(shipper.Ports).ContainerPort);
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), shipper.LivenessProbe.TcpSocket.Port.Value);
        // The sync service being away must not make the web tier unready.
        Assert.Null(shipper.ReadinessProbe);
    }

    [Fact]
    public void Termination_GivesTheShipperItsDrainTimeout()
    {
        var (manifests, pod, shipper) = Render();
        var options = Bind(manifests.Environment(shipper, Manifests.ExampleSecrets()));

        // The web container stops first, then the sidecar drains; both within the grace period.
        Assert.True(pod.TerminationGracePeriodSeconds > options.DrainTimeout.TotalSeconds + 10);
    }

    [Fact]
    public void ServiceUrl_IsTheSyncServicesServiceAndPort_OverHttp2WithoutTls()
    {
        var (manifests, pod, shipper) = Render();
        var options = Bind(manifests.Environment(shipper, Manifests.ExampleSecrets()));

        Assert.Equal("http", options.ServiceUrl!.Scheme);
        var service = manifests.Get<V1Service>(options.ServiceUrl.Host);
        Assert.Equal(Manifests.SyncServiceName, service.Metadata.Name);
        Assert.Contains(service.Spec.Ports, p => p.Port == options.ServiceUrl.Port);

        // The pod carries the label the sync service's NetworkPolicy admits.
        var policy = manifests.Get<V1NetworkPolicy>(Manifests.SyncServiceName);
        Assert.Contains(policy.Spec.Ingress.SelectMany(i => i.FromProperty), peer =>
            peer.PodSelector.MatchLabels.All(l => manifests.All<V1Deployment>().Single(d => d.Spec.Template.Spec == pod)
                .Spec.Template.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value));
    }

    [Fact]
    public void Sources_EveryTenant_IsConfiguredInTheSyncService()
    {
        var (manifests, _, shipper) = Render();
        var options = Bind(manifests.Environment(shipper, Manifests.ExampleSecrets()));
        var serviceTenants = SyncServiceManifestTests.Tenants(manifests.Environment(manifests.SyncContainer, Manifests.ExampleSecrets())).ToList();

        // A batch for a tenant the service does not know is refused (FAILED_PRECONDITION) and the shipper keeps retrying it.
        Assert.NotEmpty(options.Sources);
        Assert.All(options.Sources, source => Assert.Contains(source.Tenant, serviceTenants));
    }
}
