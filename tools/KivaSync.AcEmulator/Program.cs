using System.Runtime.InteropServices;
using KivaSync.AcEmulator;

// Standalone emulator for the demo:
//   dotnet run --project tools/KivaSync.AcEmulator -- --urls http://127.0.0.1:5099 --account demo:KEY:1:EVENTKEY
// --account name:apiToken:actid:eventKey[:requestsPerSecond] may repeat. Binds 127.0.0.1 only.
var port = 5099;
var accounts = new List<string[]>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--urls" when i + 1 < args.Length:
            var url = new Uri(args[++i].Split(';')[0]);
            if (url.Host is not ("127.0.0.1" or "localhost"))
            {
                await Console.Error.WriteLineAsync("The emulator binds 127.0.0.1 only; got " + url.Host);
                return 2;
            }

            port = url.Port;
            break;
        case "--account" when i + 1 < args.Length:
            var parts = args[++i].Split(':');
            if (parts.Length is not (4 or 5))
            {
                await Console.Error.WriteLineAsync("--account takes name:apiToken:actid:eventKey[:requestsPerSecond]");
                return 2;
            }

            accounts.Add(parts);
            break;
        default:
            await Console.Error.WriteLineAsync("Unknown argument " + args[i]);
            return 2;
    }
}

var stop = new CancellationTokenSource();
void Stop(PosixSignalContext signal)
{
    signal.Cancel = true;
    stop.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

await using var host = await AcEmulatorHost.StartAsync(port, quiet: false, TimeProvider.System, stop.Token);
foreach (var a in accounts)
{
    host.AddAccount(a[0], a[1], a[2], a[3], a.Length == 5 ? int.Parse(a[4], System.Globalization.CultureInfo.InvariantCulture) : 5);
    Console.WriteLine("account " + a[0] + ": API URL " + host.ApiUrl(a[0]) + ", tracking URL " + host.TrackingUrl);
}

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    // Ctrl+C or SIGTERM.
}

return 0;
