using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KivaSync.Testing.Redis;

/// <summary>
/// A real redis-server (the Debian package) on 127.0.0.1 and a free port, in its own temporary
/// directory. Tests and the demo use it; it can be stopped hard and restarted on the same port and
/// data directory (with AOF on, acknowledged writes survive).
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string directory;
    private readonly bool appendOnly;
    private Process? process;

    private RedisServerProcess(int port, string directory, bool appendOnly)
    {
        Port = port;
        this.directory = directory;
        this.appendOnly = appendOnly;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000";

    /// <summary>The redis-server executable: REDIS_SERVER, else on PATH, else /usr/bin/redis-server.</summary>
    public static string Executable =>
        Environment.GetEnvironmentVariable("REDIS_SERVER") is { Length: > 0 } configured ? configured
        : FindOnPath("redis-server") ?? "/usr/bin/redis-server";

    /// <summary>Starts a fresh server. <paramref name="appendOnly"/> turns on AOF with fsync on every write.</summary>
    public static async Task<RedisServerProcess> StartAsync(bool appendOnly = false, CancellationToken ct = default)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException(
                $"redis-server was not found at {Executable}. Install it (apt-get install -y redis-server) or set REDIS_SERVER; .ci/run does this.");
        }

        var dir = Path.Combine(Path.GetTempPath(), "kivasync-redis-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var server = new RedisServerProcess(FreePort.Next(), dir, appendOnly);
        await server.StartProcessAsync(ct);
        return server;
    }

    /// <summary>Kills the server at once (SIGKILL): whatever it had not persisted is gone.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the server again on the same port and directory (it reloads its AOF, if on).</summary>
    public Task RestartAsync(CancellationToken ct = default) => StartProcessAsync(ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }

    private async Task StartProcessAsync(CancellationToken ct)
    {
        var args = new StringBuilder()
            .Append("--bind 127.0.0.1 --port ").Append(Port)
            .Append(" --dir ").Append(directory)
            .Append(" --save \"\" --protected-mode yes --daemonize no --loglevel warning");
        if (appendOnly)
        {
            args.Append(" --appendonly yes --appendfsync always");
        }

        var info = new ProcessStartInfo(Executable, args.ToString())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        process?.Dispose();
        process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on port {Port}");
            }

            if (await PingAsync(ct))
            {
                return;
            }

            await Task.Delay(50, ct);
        }

        throw new TimeoutException($"redis-server on port {Port} did not answer PING within 20 s");
    }

    private async Task<bool> PingAsync(CancellationToken ct)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, ct);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), ct);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, ct);
            // "+PONG"; "-LOADING" means the AOF is still being read.
            return read > 0 && Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
