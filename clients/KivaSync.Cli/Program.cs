using System.Collections;
using KivaSync.Cli;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends --watch cleanly; a second one kills the process.
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};

var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
{
    environment[(string)variable.Key] = variable.Value as string;
}

var console = new CliConsole(Console.Out, Console.Error, IsTerminal: !Console.IsOutputRedirected);
return await CliApp.RunAsync(args, console, environment, cancel.Token);
