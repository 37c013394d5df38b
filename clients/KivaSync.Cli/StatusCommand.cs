using System.Globalization;
using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.Cli;

public static partial class Commands
{
    private static async Task<int> StatusAsync(CommandContext c)
    {
        NoPositionals(c);
        var tenant = c.Tenant;
        var customer = c.Args.Get("customer");
        var email = c.Args.Get("email");
        if (customer is not null && email is not null)
        {
            throw new UsageException("give --customer or --email, not both");
        }

        if (customer is not null || email is not null)
        {
            if (c.Args.Has("watch") || c.Args.Get("interval") is not null)
            {
                throw new UsageException("--watch is for a tenant's status, not a customer's");
            }

            var request = new GetSyncStatusRequest { Tenant = tenant };
            if (customer is not null)
            {
                request.CustomerId = customer;
            }
            else
            {
                request.Email = email;
            }

            return await CustomerStatusAsync(c, await c.Client.GetSyncStatusAsync(request, Call(c)));
        }

        if (c.Args.Get("interval") is not null && !c.Args.Has("watch"))
        {
            throw new UsageException("--interval needs --watch");
        }

        var interval = TimeSpan.FromSeconds(Interval(c.Args.Get("interval")));
        var status = await c.Client.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = tenant }, Call(c));
        if (!c.Args.Has("watch"))
        {
            await c.Console.Out.WriteLineAsync(c.Json ? Format.Json(status) : TenantText(status));
            return status.StateLost ? ExitCodes.Problems : ExitCodes.Ok;
        }

        return await WatchAsync(c, status, interval);
    }

    private static double Interval(string? text)
    {
        if (text is null)
        {
            return 2;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is >= 0.1 and <= 3600
            ? s
            : throw new UsageException($"--interval must be seconds from 0.1 to 3600, not \"{text}\"");
    }

    /// <summary>Polls until nothing waits: a redrawn bar on a terminal, a line (or JSON document) per poll otherwise.</summary>
    private static async Task<int> WatchAsync(CommandContext c, TenantStatus status, TimeSpan interval)
    {
        var o = c.Console.Out;
        var live = c.Console.IsTerminal && !c.Json;
        while (true)
        {
            var idle = status.ContactsPending + status.ContactsInFlight == 0;
            if (c.Json)
            {
                // One JSON document per line (JSON Lines) while watching.
                await o.WriteLineAsync(Format.Json(status));
            }
            else if (live)
            {
                await o.WriteAsync("\r" + ProgressLine(status) + "\u001b[K");
            }
            else
            {
                await o.WriteLineAsync(Invariant($"{DateTimeOffset.UtcNow:HH:mm:ss} {ProgressLine(status)}"));
            }

            await o.FlushAsync();
            if (idle)
            {
                break;
            }

            try
            {
                await Task.Delay(interval, c.Cancellation);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            status = await c.Client.GetTenantStatusAsync(new GetTenantStatusRequest { Tenant = status.Tenant }, Call(c));
        }

        if (live)
        {
            await o.WriteLineAsync();
            await o.WriteLineAsync(TenantText(status));
        }

        return ExitCodes.Ok;
    }

    /// <summary>Contacts already in AC over all contacts the log named.</summary>
    private static (ulong Done, ulong Total) Progress(TenantStatus s)
    {
        var total = s.Customers + s.Leads;
        var waiting = s.ContactsPending + s.ContactsInFlight;
        return (total > waiting ? total - waiting : 0, total);
    }

    private static string ProgressLine(TenantStatus s)
    {
        var (done, total) = Progress(s);
        var fraction = total == 0 ? 1 : (double)done / total;
        return $"{Format.Bar(fraction)} {fraction * 100,3:0}%  {Format.N(done)}/{Format.N(total)} contacts  {Mode(s.Mode)}  " +
            $"catch up in {Format.Span(s.EstimatedCatchUp)}  lag {Format.Span(s.Lag)}  {Format.D(s.RateLimitUsedPerSecond)}/{Format.D(s.RateLimitPerSecond)} req/s";
    }

    private static string Mode(TenantMode mode) => mode switch
    {
        TenantMode.Backfill => "backfill",
        TenantMode.Live => "live",
        _ => "unknown",
    };

    /// <summary>A tenant's status for a person.</summary>
    public static string TenantText(TenantStatus s)
    {
        var (done, total) = Progress(s);
        var fraction = total == 0 ? 1 : (double)done / total;
        var rejected = s.RejectedByReason.Values.Aggregate(0UL, (a, b) => a + b);
        var use = s.RateLimitPerSecond > 0 ? s.RateLimitUsedPerSecond / s.RateLimitPerSecond * 100 : 0;
        var lines = new List<string>
        {
            $"Tenant {s.Tenant}: {Mode(s.Mode)}" + (s.Mode == TenantMode.Live ? " (caught up: new entries reach AC within seconds)" : " (working through history)"),
            $"  entries accepted   {Format.N(s.EntriesAccepted)} (newest {Format.Time(s.NewestEntryTs)}, current week {(s.CurrentWeek.Length == 0 ? "-" : s.CurrentWeek)})",
            $"  contacts           {Format.N(s.Customers)} customers, {Format.N(s.Leads)} leads",
            $"  progress           {Format.Bar(fraction)} {fraction * 100:0}% ({Format.N(done)} of {Format.N(total)} contacts synced)",
            $"  queue              {Format.N(s.ContactsPending)} waiting, {Format.N(s.ContactsInFlight)} in flight",
            $"  lag                {Format.Span(s.Lag)} (oldest waiting contact)",
            $"  catch up in        {Format.Span(s.EstimatedCatchUp)} at {Format.D(s.RateLimitPerSecond)} requests/s",
            $"  rate limit         {Format.D(s.RateLimitUsedPerSecond)} of {Format.D(s.RateLimitPerSecond)} requests/s in use ({use:0}%, last minute)",
            $"  rejected lines     {Format.N(rejected)}" + (rejected == 0 ? "" : $" ({Format.Counts(s.RejectedByReason)})"),
        };
        if (s.StateLost)
        {
            // First: nothing else on this page can be trusted until it is dealt with.
            lines.Insert(0, $"STATE LOST: {s.StateLostReason}");
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static async Task<int> CustomerStatusAsync(CommandContext c, CustomerSyncStatus s)
    {
        var code = s.State is SyncState.Failed or SyncState.Skipped ? ExitCodes.Problems : ExitCodes.Ok;
        await c.Console.Out.WriteLineAsync(c.Json ? Format.Json(s) : CustomerText(s));
        return code;
    }

    /// <summary>One customer's status for a person.</summary>
    public static string CustomerText(CustomerSyncStatus s)
    {
        var who = s.IsLead ? $"Lead {s.Email}" : $"Customer {s.CustomerId} ({s.Email})";
        var f = s.Fields;
        var fields = new List<string>();
        Add("status", f.Status);
        Add("box", f.Box);
        Add("schedule", f.Schedule);
        Add("next delivery", f.NextDelivery);
        Add("cancelled on", f.CancelledOn);
        Add("order", f.OrderWeek.Length == 0 ? "" : $"{f.OrderWeek} {f.OrderState}");
        if (f.HasMarketingOptIn)
        {
            fields.Add("marketing opt-in=" + (f.MarketingOptIn ? "yes" : "no"));
        }

        var name = string.Join(' ', new[] { f.FirstName, f.LastName }.Where(n => n.Length > 0));
        var lines = new List<string>
        {
            $"{who}: {State(s.State)}",
            $"  last synced   {Format.Time(s.LastSynced)}",
            $"  AC contact    {(s.AcContactId.Length == 0 ? "not in AC yet" : $"{s.AcContactId}  {s.AcContactUrl}")}",
            $"  pending work  {s.PendingWork}",
            $"  last entry    {Format.Time(s.LastEntryTs)}",
        };
        if (name.Length > 0 || f.Phone.Length > 0)
        {
            lines.Add($"  name, phone   {(name.Length == 0 ? "-" : name)}, {(f.Phone.Length == 0 ? "-" : f.Phone)}");
        }

        lines.Add($"  fields        {(fields.Count == 0 ? "-" : string.Join(", ", fields))}");
        if (s.Error.Length > 0)
        {
            lines.Add($"  error         {s.Error}");
        }

        if (s.State is SyncState.Failed or SyncState.Skipped)
        {
            lines.Add(s.State == SyncState.Failed
                ? "  It is retried by itself; after fixing the cause: kivasync resync --tenant " + s.Tenant + (s.IsLead ? " --email " + s.Email : " --customer " + s.CustomerId)
                : "  AC refused it for a reason retrying cannot fix: correct the data in the platform, and the next entry syncs it.");
        }

        return string.Join(Environment.NewLine, lines);

        void Add(string label, string value)
        {
            if (value.Length > 0)
            {
                fields.Add($"{label}={value}");
            }
        }
    }

    private static string State(SyncState state) => state switch
    {
        SyncState.Synced => "Synced",
        SyncState.Pending => "Pending",
        SyncState.Failed => "Failed",
        SyncState.Skipped => "Skipped",
        _ => "Unknown",
    };
}
