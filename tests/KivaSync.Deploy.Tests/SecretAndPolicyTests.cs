using k8s.Models;

namespace KivaSync.Deploy.Tests;

/// <summary>Secrets, Redis and the NetworkPolicies, as each overlay renders them.</summary>
public sealed class SecretAndPolicyTests
{
    public static TheoryData<string> Overlays => new(Manifests.Overlays);

    [Theory]
    [MemberData(nameof(Overlays))]
    public void SecretReferences_EveryNameAndKey_IsInTheExampleSecrets(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var examples = Manifests.ExampleSecrets().All<V1Secret>().ToDictionary(s => s.Metadata.Name, Manifests.SecretData);

        foreach (var (owner, _, container) in manifests.Containers)
        {
            foreach (var reference in (container.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>())
            {
                Assert.True(examples.TryGetValue(reference.Name, out var keys), $"{owner}/{container.Name}: Secret {reference.Name} is not in {Manifests.ExampleSecretsFile}");
                Assert.True(keys.ContainsKey(reference.Key), $"{owner}/{container.Name}: key {reference.Key} is not in example Secret {reference.Name}");
            }

            foreach (var reference in (container.EnvFrom ?? []).Select(e => e.SecretRef).OfType<V1SecretEnvSource>())
            {
                Assert.True(examples.ContainsKey(reference.Name), $"{owner}/{container.Name}: Secret {reference.Name} is not in {Manifests.ExampleSecretsFile}");
            }
        }
    }

    [Fact]
    public void ExampleSecrets_HoldNoRealLookingKeys_AndAreOnlyInDev()
    {
        foreach (var (key, value) in Manifests.ExampleSecrets().All<V1Secret>().SelectMany(Manifests.SecretData))
        {
            // AC API keys are 72 hex characters; a placeholder says what to put instead.
            Assert.DoesNotMatch("^[0-9a-f]{40,}$", value);
            Assert.True(value.Contains("replace", StringComparison.Ordinal) || value.Contains("dev", StringComparison.Ordinal), $"{key} should read as a placeholder");
        }

        Assert.Empty(Manifests.Overlay("prod").All<V1Secret>());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Redis_AofOnAPersistentVolume_AndTheServiceConnectsWithTheSamePassword(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var redis = manifests.Get<V1StatefulSet>("kivasync-redis");
        var container = Assert.Single(redis.Spec.Template.Spec.Containers);
        var config = manifests.Get<V1ConfigMap>("kivasync-redis-config").Data["redis.conf"].Split('\n').Select(l => l.Trim()).ToList();

        Assert.Contains("appendonly yes", config);
        Assert.Contains("appendfsync always", config);
        var dataDirectory = config.Single(l => l.StartsWith("dir ", StringComparison.Ordinal))[4..];
        var dataMount = Assert.Single(container.VolumeMounts, m => m.MountPath == dataDirectory);
        Assert.Contains(redis.Spec.VolumeClaimTemplates, c => c.Metadata.Name == dataMount.Name);
        var configMount = Assert.Single(container.VolumeMounts, m => container.Command.Contains(m.MountPath + "/redis.conf"));
        Assert.Equal("kivasync-redis-config", redis.Spec.Template.Spec.Volumes.Single(v => v.Name == configMount.Name).ConfigMap.Name);

        // The service's connection string names the Redis Service and port, with the server's password.
        var secrets = manifests.All<V1Secret>().Any() ? manifests : Manifests.ExampleSecrets();
        var redisSecret = Manifests.SecretData(secrets.Get<V1Secret>("kivasync-redis"));
        var options = SyncService.Hosting.RedisConfiguration.Parse(redisSecret["connection-string"]);
        var endpoint = Assert.IsType<System.Net.DnsEndPoint>(Assert.Single(options.EndPoints));
        var service = manifests.Get<V1Service>(endpoint.Host);
        Assert.Contains(service.Spec.Ports, p => p.Port == endpoint.Port);
        SyncServiceManifestTests.AssertSelects(service.Spec.Selector, redis.Spec.Template);
        Assert.Equal(redisSecret["password"], options.Password);
        Assert.Contains(container.Env, e => e.Name == "REDIS_PASSWORD" && e.ValueFrom.SecretKeyRef.Key == "password");
        Assert.Contains("$(REDIS_PASSWORD)", container.Command);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void NetworkPolicy_SyncService_AdmitsOnlyLabelledClients_AndReachesRedisDnsAndHttps(string overlay)
    {
        var manifests = Manifests.Overlay(overlay);
        var deployment = manifests.SyncDeployment;
        var policy = manifests.Get<V1NetworkPolicy>(Manifests.SyncServiceName);
        var grpcPort = Assert.Single(manifests.SyncContainer.Ports).ContainerPort;

        SyncServiceManifestTests.AssertSelects(policy.Spec.PodSelector.MatchLabels, deployment.Spec.Template);
        Assert.Equal(["Ingress", "Egress"], policy.Spec.PolicyTypes);
        var ingress = Assert.Single(policy.Spec.Ingress);
        Assert.Equal(grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(ingress.Ports).Port.Value);
        Assert.All(ingress.FromProperty, peer => Assert.NotEmpty(peer.PodSelector.MatchLabels));

        var redis = manifests.Get<V1StatefulSet>("kivasync-redis").Spec.Template;
        Assert.Contains(policy.Spec.Egress, rule => rule.To?.Any(peer => Selects(peer.PodSelector, redis)) == true && rule.Ports.Any(p => p.Port.Value == "6379"));
        Assert.Contains(policy.Spec.Egress, rule => rule.Ports.Any(p => p.Protocol == "UDP" && p.Port.Value == "53"));
        Assert.Contains(policy.Spec.Egress, rule => rule.To is null && rule.Ports.Any(p => p.Port.Value == "443"));

        // Redis admits the sync service's pods and nothing else.
        var redisPolicy = manifests.Get<V1NetworkPolicy>("kivasync-redis");
        SyncServiceManifestTests.AssertSelects(redisPolicy.Spec.PodSelector.MatchLabels, redis);
        var admitted = Assert.Single(Assert.Single(redisPolicy.Spec.Ingress).FromProperty);
        Assert.True(Selects(admitted.PodSelector, deployment.Spec.Template));
        Assert.All(manifests.PodTemplates.Where(t => t.Owner != deployment.Metadata.Name), t => Assert.False(Selects(admitted.PodSelector, t.Template), t.Owner));
    }

    private static bool Selects(V1LabelSelector? selector, V1PodTemplateSpec template) =>
        selector?.MatchLabels is { Count: > 0 } labels
        && labels.All(l => template.Metadata.Labels.TryGetValue(l.Key, out var value) && value == l.Value);
}
