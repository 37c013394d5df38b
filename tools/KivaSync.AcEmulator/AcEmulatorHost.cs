using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KivaSync.AcEmulator;

/// <summary>
/// An in-process ActiveCampaign emulator on real HTTP/1.1 (Kestrel, 127.0.0.1 only).
/// Each account answers under /{account}/api/3/...; event tracking is POST /event, the account chosen by actid.
/// </summary>
public sealed partial class AcEmulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, EmulatedAccount> _accounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _addGate = new();
    private readonly ILogger _logger;
    private int _disposed;

    private readonly TimeProvider _time;

    private AcEmulatorHost(WebApplication app, Uri baseAddress, TimeProvider time)
    {
        _app = app;
        _time = time;
        BaseAddress = baseAddress;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KivaSync.AcEmulator");
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress { get; }

    /// <summary>The event-tracking URL (real AC: https://trackcmp.net/event).</summary>
    public Uri TrackingUrl => new(BaseAddress, "event");

    /// <summary>Starts on 127.0.0.1 with a free port.</summary>
    public static Task<AcEmulatorHost> StartAsync(CancellationToken ct = default) => StartAsync(0, quiet: true, TimeProvider.System, ct);

    /// <summary>
    /// Starts on 127.0.0.1 with a free port, reading time from time: the rate-limit windows and the
    /// stamps (cdate, ReceivedAt, ...) follow it, so a test can hold or advance the clock.
    /// Latency is always real (wall-clock) time.
    /// </summary>
    public static Task<AcEmulatorHost> StartAsync(TimeProvider time, CancellationToken ct = default) => StartAsync(0, quiet: true, time, ct);

    /// <summary>Starts on 127.0.0.1:port (0 = a free port). quiet keeps logging to warnings (tests).</summary>
    internal static async Task<AcEmulatorHost> StartAsync(int port, bool quiet, TimeProvider time, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(AcEmulatorHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        // The emulator takes no configuration files: a host process's appsettings.json is not meant for it.
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(quiet ? LogLevel.Warning : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var app = builder.Build();
        AcEmulatorHost? host = null;
        app.Run(context => host!.HandleAsync(context));
        await app.StartAsync(ct);
        var address = new Uri(app.Urls.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        host = new AcEmulatorHost(app, address, time);
        Log.Listening(host._logger, address);
        return host;
    }

    /// <summary>
    /// Adds an account. name is a URL path segment (letters, digits, '-', '_'; not "event");
    /// actId must be unique; requestsPerSecond is the account's API limit (AC: 5).
    /// </summary>
    public EmulatedAccount AddAccount(string name, string apiToken, string actId, string eventKey, int requestsPerSecond = 5)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(apiToken);
        ArgumentException.ThrowIfNullOrWhiteSpace(actId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventKey);
        if (!AccountName().IsMatch(name) || string.Equals(name, "event", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("An account name is a path segment of letters, digits, '-' and '_', and not 'event'.", nameof(name));
        }

        lock (_addGate)
        {
            if (_accounts.ContainsKey(name))
            {
                throw new ArgumentException("Account " + name + " already exists.", nameof(name));
            }

            if (_accounts.Values.Any(a => a.ActId == actId))
            {
                throw new ArgumentException("Another account already has actid " + actId + ".", nameof(actId));
            }

            var account = new EmulatedAccount(name, apiToken, actId, eventKey, requestsPerSecond, _time,
                _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KivaSync.AcEmulator." + name), _stopping.Token);
            _accounts[name] = account;
            Log.AccountAdded(_logger, name, actId, requestsPerSecond);
            return account;
        }
    }

    /// <summary>The account with this name; throws KeyNotFoundException when there is none.</summary>
    public EmulatedAccount Account(string name) =>
        _accounts.TryGetValue(name, out var account) ? account : throw new KeyNotFoundException("No account " + name);

    /// <summary>The tenant's "API URL": BaseAddress + account (no trailing slash); clients append "/api/3/...".</summary>
    public Uri ApiUrl(string account) => new(BaseAddress, Account(account).Name);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is ["event" or "Event"])
        {
            await HandleEventAsync(context);
            return;
        }

        if (segments.Length >= 3 && segments[1] == "api" && segments[2] == "3" && _accounts.TryGetValue(segments[0], out var account))
        {
            await account.HandleApiAsync(context, path[(segments[0].Length + 1)..], segments[3..]);
            return;
        }

        await EmulatedAccount.WriteAsync(context, ApiResult.Message(StatusCodes.Status404NotFound, "Not Found"));
    }

    private async Task HandleEventAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await EmulatedAccount.WriteAsync(context, ApiResult.Message(StatusCodes.Status404NotFound, "Not Found"));
            return;
        }

        // trackcmp.net reads form fields only; a JSON body carries no actid and is refused like one.
        var form = context.Request.HasFormContentType
            ? await context.Request.ReadFormAsync(context.RequestAborted)
            : FormCollection.Empty;
        var actId = form["actid"].ToString();
        var account = _accounts.Values.FirstOrDefault(a => a.ActId == actId);
        if (account is null)
        {
            await EmulatedAccount.WriteAsync(context, EmulatedAccount.EventRefused("Invalid actid"));
            return;
        }

        await account.HandleEventAsync(context, form);
    }

    /// <summary>Stops the server and the bulk-import workers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_accounts.Values.Select(a => a.BulkWorker));
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex AccountName();
}
