using System.Globalization;
using Grpc.Core;
using KivaSync.Contracts.V1;

namespace KivaSync.Cli;

/// <summary>Every kivasync command.</summary>
public static partial class Commands
{
    private static readonly OptionSpec TenantOption = new("tenant", "T", "the tenant id, e.g. greenleaf (required)");

    /// <summary>The commands in the order help lists them.</summary>
    public static IReadOnlyList<Command> All { get; } =
    [
        new("provision", "set up a tenant's AC account (fields, lists, tags, events, Deep Data); safe to repeat",
            "provision --tenant T",
            "Creates what the tenant's ActiveCampaign account needs: the five custom fields and their list relations, the lists\n" +
            "All, Active, Cancelled and Leads, the four order tags, event tracking and every event name, and the Deep Data\n" +
            "connection. Idempotent: a second run finds everything and creates nothing.",
            [TenantOption], ProvisionAsync),
        new("test-sync", "dry-run log files: what a backfill would send, what looks wrong, how long it takes",
            "test-sync --tenant T FILE...",
            "Streams the log files (plain or .gz, in the order given) to the service, which parses, deduplicates and folds\n" +
            "them without touching the tenant's state or calling AC, and prints the report: AC requests by kind, events by\n" +
            "name, orders, rejected lines (with file and line), unknown events, email conflicts and the estimated backfill\n" +
            "time at the tenant's rate limit, with and without historical events. \"-\" reads standard input.",
            [TenantOption], TestSyncAsync, Files: "FILE"),
        new("status", "a tenant's sync (mode, backfill progress, lag, queues, rejects) or one customer's",
            "status --tenant T [--customer ID | --email E] [--watch [--interval S]]",
            "Without --customer/--email: the tenant's mode (backfill or live), backfill progress and time to catch up, lag,\n" +
            "queue depths, rate-limit use and rejected lines by reason. --watch polls until nothing is waiting (Ctrl+C stops\n" +
            "it): a live progress bar on a terminal, one line (or, with --json, one JSON document) per poll otherwise.\n" +
            "With --customer or --email: that customer's or lead's state, last sync, AC link, error and pending work.",
            [TenantOption, new("customer", "ID", "a customer id"), new("email", "E", "a customer's or lead's email"),
             new("watch", null, "keep polling until the backfill has caught up"),
             new("interval", "S", "seconds between polls with --watch (default 2)")], StatusAsync),
        new("resync", "queue a fresh sync of some customers, or of all of them",
            "resync --tenant T (--customer ID... | --email E... | --all)",
            "Queues a fresh sync to AC of the named customers or leads (or every one with --all), e.g. after fixing\n" +
            "something in AC by hand.",
            [TenantOption, new("customer", "ID", "customer ids", Many: true), new("email", "E", "emails", Many: true),
             new("all", null, "every customer and lead of the tenant")], ResyncAsync),
        new("dead-letters list", "list work that failed after its retries, with the reason",
            "dead-letters list --tenant T [--limit N] [--offset N]",
            "Lists the tenant's dead letters, oldest first: contacts, events or orders AC kept refusing after the bounded\n" +
            "retries, with AC's reason. Fix the cause, then \"dead-letters retry\".",
            [TenantOption, new("limit", "N", "at most N (default 100, at most 1000)"), new("offset", "N", "skip N (paging)")], DeadLettersListAsync),
        new("dead-letters retry", "queue dead letters for another attempt",
            "dead-letters retry --tenant T (--id X... | --all)",
            "Queues the named dead letters (ids from \"dead-letters list\"), or all of the tenant's, for another attempt.",
            [TenantOption, new("id", "X", "dead letter ids", Many: true), new("all", null, "every dead letter of the tenant")], DeadLettersRetryAsync),
        new("import-contacts", "import a CSV of contacts (e.g. pop-up sign-ups) into an AC list",
            "import-contacts --tenant T --list NAME FILE.csv",
            "Imports the contacts of a CSV into the AC list NAME (made if missing) by bulk import. The CSV has a header\n" +
            "row; columns email (required), first_name, last_name, phone (optional, others ignored); fields may be quoted\n" +
            "(\"Lee, Jr.\", \"\" for a quote). Rows without a valid email, with the wrong number of fields or repeating an\n" +
            "email are reported with their line numbers and not sent.",
            [TenantOption, new("list", "NAME", "the AC list to import into (required)")], ImportContactsAsync, Files: "FILE.csv"),
        new("state acknowledge", "after Redis lost a tenant's state and its log was re-shipped: resume ingest and sync",
            "state acknowledge --tenant T",
            "When Redis lost the tenant's state (status shows STATE LOST, readiness fails), the service stops taking the\n" +
            "tenant's batches and syncing it. Re-ship the tenant's log from the start (stop its shipper, delete its\n" +
            "checkpoint state, start it again: resent entries are deduplicated), then run this: it re-arms the tenant's\n" +
            "state marker and every replica resumes. README \"Operate\" has the whole procedure.",
            [TenantOption], StateAcknowledgeAsync),
    ];

    /// <summary>Call options: the headers and the command's cancellation.</summary>
    private static CallOptions Call(CommandContext c) => new(c.Headers, cancellationToken: c.Cancellation);

    private static void NoPositionals(CommandContext c)
    {
        if (c.Args.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument \"{c.Args.Positionals[0]}\"");
        }
    }

    private static async Task<int> ProvisionAsync(CommandContext c)
    {
        NoPositionals(c);
        var tenant = c.Tenant;
        var response = await c.Client.ProvisionAsync(new ProvisionRequest { Tenant = tenant }, Call(c));
        var o = c.Console.Out;
        if (c.Json)
        {
            await o.WriteLineAsync(Format.Json(response));
            return ExitCodes.Ok;
        }

        await o.WriteLineAsync($"Provisioned tenant {response.Tenant}: created {response.Created} of {response.Items.Count} items, {response.AcRequests} AC requests");
        foreach (var item in response.Items)
        {
            await o.WriteLineAsync($"  {item.Kind,-15}{item.Name,-34}{(item.AcId.Length == 0 ? "-" : item.AcId),-8}{(item.Created ? "created" : "exists")}");
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ResyncAsync(CommandContext c)
    {
        NoPositionals(c);
        var request = new ForceResyncRequest { Tenant = c.Tenant, All = c.Args.Has("all") };
        request.CustomerIds.Add(c.Args.GetAll("customer"));
        request.Emails.Add(c.Args.GetAll("email"));
        if (request.All == (request.CustomerIds.Count + request.Emails.Count > 0))
        {
            throw new UsageException("give --customer and/or --email, or --all (not both)");
        }

        var response = await c.Client.ForceResyncAsync(request, Call(c));
        var code = response.NotFound.Count > 0 ? ExitCodes.Problems : ExitCodes.Ok;
        if (c.Json)
        {
            await c.Console.Out.WriteLineAsync(Format.Json(response));
            return code;
        }

        await c.Console.Out.WriteLineAsync($"Queued {Format.N((ulong)response.Queued)} contact(s) for a sync.");
        if (response.NotFound.Count > 0)
        {
            await c.Console.Out.WriteLineAsync($"Not found (the log never named them): {string.Join(", ", response.NotFound)}");
        }

        return code;
    }

    private static async Task<int> DeadLettersListAsync(CommandContext c)
    {
        NoPositionals(c);
        var request = new ListDeadLettersRequest
        {
            Tenant = c.Tenant,
            Limit = (uint)c.Args.GetInt("limit", 100, 1, 1000),
            Offset = (uint)c.Args.GetInt("offset", 0, 0, int.MaxValue),
        };
        var response = await c.Client.ListDeadLettersAsync(request, Call(c));
        var code = response.Total > 0 ? ExitCodes.Problems : ExitCodes.Ok;
        if (c.Json)
        {
            await c.Console.Out.WriteLineAsync(Format.Json(response));
            return code;
        }

        var o = c.Console.Out;
        if (response.Total == 0)
        {
            await o.WriteLineAsync($"Tenant {response.Tenant} has no dead letters.");
            return code;
        }

        await o.WriteLineAsync($"Tenant {response.Tenant}: {response.Total} dead letter(s); showing {response.DeadLetters.Count} from #{request.Offset + 1}");
        foreach (var d in response.DeadLetters)
        {
            var who = d.CustomerId.Length > 0 ? $"customer {d.CustomerId} <{d.Email}>" : $"lead <{d.Email}>";
            var what = d.Detail.Length > 0 ? $"{d.Kind} {d.Detail}" : d.Kind;
            await o.WriteLineAsync($"  {d.Id}  {what} for {who}, {d.Attempts} attempt(s), failed {Format.Time(d.FailedAt)}");
            await o.WriteLineAsync($"      reason: {d.Reason}");
        }

        await o.WriteLineAsync("Fix the cause, then: kivasync dead-letters retry --tenant " + response.Tenant + " --all");
        return code;
    }

    private static async Task<int> DeadLettersRetryAsync(CommandContext c)
    {
        NoPositionals(c);
        var request = new RetryDeadLettersRequest { Tenant = c.Tenant, All = c.Args.Has("all") };
        request.Ids.Add(c.Args.GetAll("id"));
        if (request.All == (request.Ids.Count > 0))
        {
            throw new UsageException("give --id or --all (not both)");
        }

        var response = await c.Client.RetryDeadLettersAsync(request, Call(c));
        var code = response.NotFound.Count > 0 ? ExitCodes.Problems : ExitCodes.Ok;
        if (c.Json)
        {
            await c.Console.Out.WriteLineAsync(Format.Json(response));
            return code;
        }

        await c.Console.Out.WriteLineAsync($"Queued {response.Queued} dead letter(s) for another attempt.");
        if (response.NotFound.Count > 0)
        {
            await c.Console.Out.WriteLineAsync($"Not (or no longer) dead letters: {string.Join(", ", response.NotFound)}");
        }

        return code;
    }

    private static async Task<int> StateAcknowledgeAsync(CommandContext c)
    {
        NoPositionals(c);
        var response = await c.Client.AcknowledgeStateLossAsync(new AcknowledgeStateLossRequest { Tenant = c.Tenant }, Call(c));
        await c.Console.Out.WriteLineAsync(c.Json ? Format.Json(response)
            : response.WasLost ? $"Tenant {response.Tenant}: state loss acknowledged; ingest and sync resume."
            : $"Tenant {response.Tenant}: its state was not marked lost; the marker was re-armed anyway.");
        return ExitCodes.Ok;
    }

    private static async Task<int> ImportContactsAsync(CommandContext c)
    {
        var tenant = c.Tenant;
        var list = c.Args.Require("list");
        if (c.Args.Positionals.Count != 1)
        {
            throw new UsageException("give exactly one CSV file");
        }

        var path = c.Args.Positionals[0];
        var csv = ContactCsv.Parse(await File.ReadAllTextAsync(path, c.Cancellation));
        var responses = new List<(ImportContactsResponse Response, IReadOnlyList<CsvContact> Sent)>();
        // Requests of at most 5,000 contacts keep each message well under gRPC's 4 MB default.
        foreach (var part in csv.Contacts.Chunk(5_000))
        {
            var request = new ImportContactsRequest { Tenant = tenant, ListName = list };
            request.Contacts.Add(part.Select(p => p.Contact));
            responses.Add((await c.Client.ImportContactsAsync(request, Call(c)), part));
        }

        var refused = responses.SelectMany(r => r.Response.Rejected.Select(x =>
            (Line: x.Index >= 1 && x.Index <= r.Sent.Count ? r.Sent[(int)x.Index - 1].Line : 0, x.Email, x.Reason))).ToList();
        var imported = responses.Sum(r => (long)r.Response.Imported);
        var listId = responses.Select(r => r.Response.ListId).FirstOrDefault() ?? "";
        var listCreated = responses.Any(r => r.Response.ListCreated);
        var code = csv.Problems.Count > 0 || refused.Count > 0 ? ExitCodes.Problems : ExitCodes.Ok;
        if (c.Json)
        {
            await c.Console.Out.WriteLineAsync(Format.JsonObject(w =>
            {
                w.WriteString("tenant", tenant);
                w.WriteString("list", list);
                w.WriteString("listId", listId);
                w.WriteBoolean("listCreated", listCreated);
                w.WriteNumber("rows", csv.Contacts.Count + csv.Problems.Count);
                w.WriteNumber("sent", csv.Contacts.Count);
                w.WriteNumber("imported", imported);
                w.WriteStartArray("badRows");
                foreach (var p in csv.Problems)
                {
                    w.WriteStartObject();
                    w.WriteNumber("line", p.Line);
                    w.WriteString("email", p.Email);
                    w.WriteString("reason", p.Reason);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("refused");
                foreach (var r in refused)
                {
                    w.WriteStartObject();
                    w.WriteNumber("line", r.Line);
                    w.WriteString("email", r.Email);
                    w.WriteString("reason", r.Reason);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("batchIds");
                foreach (var id in responses.SelectMany(r => r.Response.BatchIds))
                {
                    w.WriteStringValue(id);
                }

                w.WriteEndArray();
            }));
            return code;
        }

        var o = c.Console.Out;
        foreach (var p in csv.Problems)
        {
            await o.WriteLineAsync($"{path}:{p.Line}: {(p.Email.Length == 0 ? "" : p.Email + ": ")}{p.Reason} (not sent)");
        }

        foreach (var r in refused)
        {
            await o.WriteLineAsync($"{path}:{r.Line}: {r.Email}: refused: {r.Reason}");
        }

        if (responses.Count == 0)
        {
            await o.WriteLineAsync($"No valid contact in {path}: nothing imported.");
            return ExitCodes.Problems;
        }

        await o.WriteLineAsync($"List \"{list}\" (AC id {listId}, {(listCreated ? "created now" : "already there")}): imported {Format.N(imported)} of {Format.N((long)csv.Contacts.Count)} sent; " +
            $"{csv.Problems.Count} bad row(s) not sent, {refused.Count} refused.");
        return code;
    }


    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
