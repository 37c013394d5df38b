using k8s.Models;
using KivaSync.SyncService.Hosting;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KivaSync.Deploy.Tests;

/// <summary>The sync service's Deployment, Service, PDB and HPA, as each overlay renders them, against the code.</summary>
public sealed class SyncServiceManifestTests
{
    /// <summary>The host's default ShutdownTimeout: how long open calls get after SIGTERM.</summary>
    private static readonly TimeSpan HostShutdownTimeout = new Microsoft.Extensions.Hosting.HostOptions().ShutdownTimeout;

    public static TheoryData<string> Overlays => new(Manifests.Overlays);

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Ports_ContainerProbesServiceAndKestrel_Agree(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var container = manifests.SyncContainer;
        var port = Assert.Single(container.Ports);
        var environment = manifests.Environment(container, Manifests.ExampleSecrets());

        // Kestrel listens where the container port says (ASPNETCORE_HTTP_PORTS; ASPNETCORE_URLS would override it).
        Assert.Equal(port.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), environment["ASPNETCORE_HTTP_PORTS"]);
        Assert.False(environment.ContainsKey("ASPNETCORE_URLS"), "ASPNETCORE_URLS would override ASPNETCORE_HTTP_PORTS");

        Assert.Equal(port.ContainerPort, int.Parse(container.ReadinessProbe.Grpc.Port.ToString(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(port.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), container.LivenessProbe.TcpSocket.Port.Value);

        var service = manifests.Get<V1Service>(Manifests.SyncServiceName);
        var servicePort = Assert.Single(service.Spec.Ports);
        Assert.Equal(port.Name, servicePort.TargetPort.Value);
        Assert.Equal("kubernetes.io/h2c", servicePort.AppProtocol);
        AssertSelects(service.Spec.Selector, manifests.SyncDeployment.Spec.Template);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Deployment_Availability_SurvivesADrainAndARollout(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var deployment = manifests.SyncDeployment;
        var pod = deployment.Spec.Template.Spec;

        Assert.True(deployment.Spec.Replicas >= 2);
        Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.Contains(pod.TopologySpreadConstraints, c => c.TopologyKey == "kubernetes.io/hostname");
        Assert.All(pod.TopologySpreadConstraints, c => AssertSelects(c.LabelSelector.MatchLabels, deployment.Spec.Template));

        var pdb = manifests.Get<V1PodDisruptionBudget>(Manifests.SyncServiceName);
        AssertSelects(pdb.Spec.Selector.MatchLabels, deployment.Spec.Template);
        Assert.Equal("1", pdb.Spec.MaxUnavailable.Value);

        var hpa = manifests.Get<V2HorizontalPodAutoscaler>(Manifests.SyncServiceName);
        Assert.Equal(("Deployment", deployment.Metadata.Name), (hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name));
        Assert.True(hpa.Spec.MinReplicas >= 2);
        Assert.True(hpa.Spec.MaxReplicas > hpa.Spec.MinReplicas);
        // A CPU target needs a CPU request to be a percentage of.
        Assert.NotNull(manifests.SyncContainer.Resources.Requests["cpu"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Deployment_Security_NonRootReadOnlyWithWritableTmp(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var pod = manifests.SyncDeployment.Spec.Template.Spec;
        var container = manifests.SyncContainer;

        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(Dockerfile.SyncService.User, pod.SecurityContext.RunAsUser);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Contains("ALL", container.SecurityContext.Capabilities.Drop);
        var tmp = Assert.Single(container.VolumeMounts, m => m.MountPath == "/tmp");
        Assert.NotNull(Assert.Single(pod.Volumes, v => v.Name == tmp.Name).EmptyDir);
        Assert.False(pod.AutomountServiceAccountToken);

        Assert.NotNull(container.Resources.Limits["memory"]);
        Assert.NotNull(container.Resources.Requests["memory"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Deployment_Termination_LeavesTimeForThePreStopPauseAndTheHostShutdown(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var preStop = manifests.SyncContainer.Lifecycle.PreStop.Sleep.Seconds;
        var grace = manifests.SyncDeployment.Spec.Template.Spec.TerminationGracePeriodSeconds;

        Assert.True(grace > preStop + (long)HostShutdownTimeout.TotalSeconds, $"grace {grace}s <= preStop {preStop}s + host shutdown {HostShutdownTimeout.TotalSeconds}s");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Environment_EveryKivaSyncKey_BindsToAnOption(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var environment = manifests.Environment(manifests.SyncContainer, Manifests.ExampleSecrets());
        var keys = environment.Keys.Where(k => k.StartsWith(KivaSyncOptions.Section + "__", StringComparison.Ordinal)).ToList();

        Assert.Contains("KivaSync__Redis", keys);
        Assert.All(keys, key => Assert.Null(ConfigurationKeys.Explain(typeof(KivaSyncOptions), key, KivaSyncOptions.Section)));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Environment_WithTheSecretsInPlace_PassesTheServicesOwnValidation(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        // The overlay's own Secrets only: prod's are created out of band, for its own tenants.
        var environment = manifests.Environment(manifests.SyncContainer, secrets: null);
        // Values from secretKeyRef come from the example Secrets.
        foreach (var variable in manifests.SyncContainer.Env.Where(v => v.ValueFrom?.SecretKeyRef is not null))
        {
            var reference = variable.ValueFrom.SecretKeyRef;
            environment[variable.Name] = Manifests.SecretData(Manifests.ExampleSecrets().Get<V1Secret>(reference.Name))[reference.Key];
        }

        // Prod's tenant keys are not in the repository: the example Secret documents one tenant's keys, every
        // configured tenant needs the same ones.
        foreach (var tenant in Tenants(environment).Where(t => !environment.ContainsKey($"KivaSync__Tenants__{t}__ApiKey")).ToList())
        {
            environment[$"KivaSync__Tenants__{tenant}__ApiKey"] = "from-the-secret";
        }

        // Likewise each configured caller's token.
        foreach (var caller in environment.Keys.Where(k => k.StartsWith("KivaSync__Callers__", StringComparison.Ordinal))
                     .Select(k => k.Split("__")[2]).Distinct().Where(c => !environment.ContainsKey($"KivaSync__Callers__{c}__Token")).ToList())
        {
            environment[$"KivaSync__Callers__{caller}__Token"] = "from-the-secret-0123456789";
        }

        var settings = environment.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value));
        await using var app = SyncServer.Create([], builder => builder.Configuration.AddInMemoryCollection(settings));

        // Resolving the options runs the service's validators (tenant ids, URLs, keys); a failure throws here.
        var options = app.Services.GetRequiredService<IOptions<KivaSyncOptions>>().Value;
        Assert.NotEmpty(options.Tenants);
        Assert.Equal(environment["KivaSync__Redis"], options.Redis);
        Assert.All(options.Tenants.Values, t => Assert.StartsWith("https://", t.ApiUrl, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Environment_Otlp_PointsAtTheCollectorsGrpcPort(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var environment = manifests.Environment(manifests.SyncContainer, Manifests.ExampleSecrets());
        var endpoint = new Uri(environment["OTEL_EXPORTER_OTLP_ENDPOINT"]!);

        var collector = manifests.Get<V1Service>(endpoint.Host);
        var port = Assert.Single(collector.Spec.Ports, p => p.Port == endpoint.Port);
        Assert.Equal("grpc", environment["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("grpc", port.AppProtocol);
    }

    internal static IEnumerable<string> Tenants(IReadOnlyDictionary<string, string?> environment) =>
        environment.Keys.Where(k => k.StartsWith("KivaSync__Tenants__", StringComparison.Ordinal))
            .Select(k => k.Split("__")[2]).Distinct(StringComparer.Ordinal);

    internal static void AssertSelects(IDictionary<string, string> selector, V1PodTemplateSpec template)
    {
        Assert.NotEmpty(selector);
        Assert.All(selector, label => Assert.Equal(label.Value, template.Metadata.Labels.TryGetValue(label.Key, out var value) ? value : null));
    }
}
