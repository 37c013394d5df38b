using System.Diagnostics;

namespace KivaSync.Deploy.Tests;

/// <summary>Runs <c>kubectl kustomize</c>: the overlays are tested as kubectl renders them, not as files.</summary>
internal static class Kubectl
{
    private static readonly Dictionary<string, string> Cache = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>The YAML stream <c>kubectl kustomize</c> renders for a directory under k8s/ (cached per directory).</summary>
    public static string Kustomize(string k8sRelativeDir)
    {
        lock (Gate)
        {
            if (Cache.TryGetValue(k8sRelativeDir, out var cached))
            {
                return cached;
            }

            var rendered = Run("kustomize", Path.Combine(Repo.K8s, k8sRelativeDir));
            Cache[k8sRelativeDir] = rendered;
            return rendered;
        }
    }

    private static string Run(params string[] args)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout;
    }

    private static string Executable
    {
        get
        {
            if (Environment.GetEnvironmentVariable("KUBECTL") is { Length: > 0 } configured)
            {
                return configured;
            }

            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, "kubectl");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException(
                "kubectl is not on PATH (or set KUBECTL). Install it, e.g. apt-get install -y kubernetes-client (Debian); .ci/setup does this.");
        }
    }
}
