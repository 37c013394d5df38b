using k8s;
using k8s.Models;

namespace KivaSync.Deploy.Tests;

/// <summary>A set of Kubernetes objects, typed by the KubernetesClient models, with the look-ups the tests need.</summary>
internal sealed class Manifests(IReadOnlyList<object> objects)
{
    public const string SyncServiceName = "kivasync-sync-service";
    public const string SyncServiceContainer = "sync-service";
    public const string ShipperContainer = "shipper";
    public const string ExampleSecretsFile = "k8s/overlays/dev/secrets.yaml";

    public static readonly string[] Overlays = ["dev", "prod"];

    public IReadOnlyList<object> Objects { get; } = objects;

    /// <summary>An overlay as <c>kubectl kustomize</c> renders it.</summary>
    public static Manifests Overlay(string overlay) => Parse(Kubectl.Kustomize(Path.Combine("overlays", overlay)));

    /// <summary>Loads a YAML stream; every document must be a known Kubernetes kind.</summary>
    public static Manifests Parse(string yaml) => new(KubernetesYaml.LoadAllFromString(yaml));

    /// <summary>The example Secrets: the names and keys every environment must provide.</summary>
    public static Manifests ExampleSecrets() => Parse(Repo.Read(ExampleSecretsFile));

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public T Get<T>(string name)
        where T : IKubernetesObject<V1ObjectMeta> =>
        All<T>().SingleOrDefault(o => o.Metadata.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"no {typeof(T).Name} named {name} in the manifests");

    public V1Deployment SyncDeployment => Get<V1Deployment>(SyncServiceName);

    public V1Container SyncContainer => SyncDeployment.Spec.Template.Spec.Containers.Single(c => c.Name == SyncServiceContainer);

    /// <summary>Every pod template: Deployments and StatefulSets.</summary>
    public IEnumerable<(string Owner, V1PodTemplateSpec Template)> PodTemplates =>
        All<V1Deployment>().Select(d => (d.Metadata.Name, d.Spec.Template))
            .Concat(All<V1StatefulSet>().Select(s => (s.Metadata.Name, s.Spec.Template)));

    /// <summary>Every container and init container of every pod template.</summary>
    public IEnumerable<(string Owner, V1PodSpec Pod, V1Container Container)> Containers =>
        PodTemplates.SelectMany(t => (t.Template.Spec.InitContainers ?? []).Concat(t.Template.Spec.Containers)
            .Select(c => (t.Owner, t.Template.Spec, c)));

    /// <summary>The containers running a given image repository (e.g. kivasync/shipper), whatever the registry and tag.</summary>
    public IEnumerable<(string Owner, V1PodSpec Pod, V1Container Container)> ContainersOfImage(string repository) =>
        Containers.Where(c => Images.Repository(c.Container.Image).EndsWith(repository, StringComparison.Ordinal)
            && (Images.Repository(c.Container.Image).Length == repository.Length
                || Images.Repository(c.Container.Image)[^(repository.Length + 1)] == '/'));

    /// <summary>
    /// The environment a container sees: its ConfigMap and Secret envFrom sources (a Secret this set lacks is taken
    /// from <paramref name="secrets"/>, or left out without it), then its own env (literal values; references give null).
    /// </summary>
    public Dictionary<string, string?> Environment(V1Container container, Manifests? secrets)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            if (source.ConfigMapRef is { } configMapRef)
            {
                foreach (var (key, value) in Get<V1ConfigMap>(configMapRef.Name).Data ?? new Dictionary<string, string>())
                {
                    environment[key] = value;
                }
            }

            if (source.SecretRef is { } secretRef)
            {
                var secret = All<V1Secret>().SingleOrDefault(s => s.Metadata.Name == secretRef.Name) ?? secrets?.Get<V1Secret>(secretRef.Name);
                foreach (var (key, value) in secret is null ? [] : SecretData(secret))
                {
                    environment[key] = value;
                }
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            environment[variable.Name] = variable.ValueFrom is null ? variable.Value : null;
        }

        return environment;
    }

    /// <summary>A Secret's keys and values, from stringData and (base64-decoded) data.</summary>
    public static Dictionary<string, string> SecretData(V1Secret secret)
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in secret.StringData ?? new Dictionary<string, string>())
        {
            data[key] = value;
        }

        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            data[key] = System.Text.Encoding.UTF8.GetString(value);
        }

        return data;
    }
}

/// <summary>Image reference parsing.</summary>
internal static class Images
{
    /// <summary>"registry:5000/a/b:tag@sha256:…" → "registry:5000/a/b".</summary>
    public static string Repository(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var name = at >= 0 ? image[..at] : image;
        var lastSlash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        return colon > lastSlash ? name[..colon] : name;
    }
}
