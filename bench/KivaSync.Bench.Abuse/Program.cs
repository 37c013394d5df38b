using System.Globalization;
using KivaSync.Testing.Abuse;

// dotnet run -c Release --project bench/KivaSync.Bench.Abuse -- [--idle-seconds 60] [--service-dll PATH] [--emulator-dll PATH]
// --service-dll runs another build of the service (e.g. one of the pre-fix commit) for "before" figures.
string? serviceDll = null;
string? emulatorDll = null;
var idle = TimeSpan.FromSeconds(60);
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--service-dll" when i + 1 < args.Length:
            serviceDll = Path.GetFullPath(args[++i]);
            break;
        case "--emulator-dll" when i + 1 < args.Length:
            emulatorDll = Path.GetFullPath(args[++i]);
            break;
        case "--idle-seconds" when i + 1 < args.Length:
            idle = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture));
            break;
        default:
            await Console.Error.WriteLineAsync("usage: [--idle-seconds S] [--service-dll PATH] [--emulator-dll PATH]");
            return 2;
    }
}

var sizes = AbuseSizes.Issue with { Idle = idle };
Console.WriteLine($"abuse run (issue #11): {sizes}");
await using var environment = await AbuseEnvironment.StartAsync(serviceDll, emulatorDll);
Console.WriteLine($"service pid {environment.Service.Id} at {environment.Address}");
var report = await new AbuseRun(environment, sizes, line => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}")).RunAsync();
Console.WriteLine();
Console.WriteLine("| step | Redis used_memory before → after | service RSS peak | time | outcome |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var step in report.Steps)
{
    Console.WriteLine($"| {step.Name} | {AbuseRun.Mib(step.RedisBefore)} → {AbuseRun.Mib(step.RedisAfter)} | {AbuseRun.Mib(step.RssPeak)} | {step.Elapsed.TotalSeconds:0.0} s | {step.Outcome} |");
}

Console.WriteLine();
Console.WriteLine($"ready after: {report.ReadyAfter}; tenant B: {report.TenantBAccepted}/{report.TenantBBatches} batches accepted (resent after {report.TenantBRefusedBusy}× RESOURCE_EXHAUSTED, {report.TenantBRefusedUnavailable}× UNAVAILABLE)");
Console.WriteLine($"Redis used_memory: {AbuseRun.Mib(report.RedisStart)} → {AbuseRun.Mib(report.RedisEnd)} (+{AbuseRun.Mib(report.RedisGrowth)})");
Console.WriteLine($"service RSS: start {AbuseRun.Mib(report.RssStart)}, peak (VmHWM) {AbuseRun.Mib(report.RssPeak)}, after {idle.TotalSeconds:0} s idle {AbuseRun.Mib(report.RssIdle)}");
return 0;
