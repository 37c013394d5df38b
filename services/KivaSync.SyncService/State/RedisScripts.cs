using System.Globalization;
using System.Reflection;
using System.Text;
using StackExchange.Redis;

namespace KivaSync.SyncService.State;

/// <summary>One Redis script: its file name and the source the loader made of it.</summary>
public sealed record RedisScript(string Name, string Source)
{
    /// <summary>The source with <see cref="RedisScripts.KeyCheck"/> first: it fails on any key not in KEYS (tests run it).</summary>
    public string Checked { get; } = RedisScripts.KeyCheck + Source;
}

/// <summary>
/// The one loader of the Redis scripts (State/Scripts/*.lua, embedded). Each script's source is the generated
/// schema header (<see cref="Header"/>: one Lua table per <see cref="Schema"/> class), the helpers it names with
/// <c>--! include &lt;file&gt;</c> (State/Scripts/lib/), then its own text. Scripts run through
/// <see cref="RunAsync"/>: StackExchange.Redis sends EVALSHA and falls back to EVAL (loading it) on NOSCRIPT.
/// Rule for every script: each key it touches arrives in KEYS (Redis Cluster and proxies route by KEYS); where a key
/// is found at run time the script says in its header comment how that is kept.
/// </summary>
public static class RedisScripts
{
    private const string IncludeDirective = "--! include ";

    /// <summary>Scripts/lib/key_check.lua: fails a script on any key that did not arrive in KEYS (<see cref="CheckKeys"/>).</summary>
    public static string KeyCheck { get; } = ReadFile("key_check.lua");

    /// <summary>Tests set this: every script runs <see cref="RedisScript.Checked"/>.</summary>
    internal static bool CheckKeys { get; set; }

    /// <summary>The schema as Lua: <c>local C = {Email = 'em', ...}</c> and so on, one line per table.</summary>
    public static string Header { get; } = BuildHeader();

    public static RedisScript Ingest { get; } = Load("ingest.lua");
    public static RedisScript IngestRotate { get; } = Load("ingest_rotate.lua");
    public static RedisScript Claim { get; } = Load("claim.lua");
    public static RedisScript ClaimBulk { get; } = Load("claim_bulk.lua");
    public static RedisScript Complete { get; } = Load("complete.lua");
    public static RedisScript Renew { get; } = Load("renew.lua");
    public static RedisScript Release { get; } = Load("release.lua");
    public static RedisScript RecordContactSynced { get; } = Load("record_contact_synced.lua");
    public static RedisScript RecordBulkImported { get; } = Load("record_bulk_imported.lua");
    public static RedisScript ForceIfExists { get; } = Load("force_if_exists.lua");
    public static RedisScript SetIfExists { get; } = Load("set_if_exists.lua");
    public static RedisScript DeadLetterContact { get; } = Load("dead_letter_contact.lua");
    public static RedisScript DeadLetterRetry { get; } = Load("dead_letter_retry.lua");
    public static RedisScript Defer { get; } = Load("defer.lua");
    public static RedisScript StateCheck { get; } = Load("state_check.lua");
    public static RedisScript StateAcknowledge { get; } = Load("state_acknowledge.lua");
    public static RedisScript RateLimit { get; } = Load("ratelimit.lua");
    public static RedisScript RateRelease { get; } = Load("rate_release.lua");
    public static RedisScript RatePause { get; } = Load("rate_pause.lua");
    public static RedisScript EventDelivered { get; } = Load("event_delivered.lua");
    public static RedisScript EventRefused { get; } = Load("event_refused.lua");
    public static RedisScript OrdersDequeueIfDone { get; } = Load("orders_dequeue_if_done.lua");
    public static RedisScript OrderAccepted { get; } = Load("order_accepted.lua");
    public static RedisScript OrderSetAside { get; } = Load("order_set_aside.lua");
    public static RedisScript HoldLease { get; } = Load("hold_lease.lua");
    public static RedisScript ReleaseLease { get; } = Load("release_lease.lua");
    public static RedisScript RecurringPaymentSent { get; } = Load("recurring_payment_sent.lua");

    /// <summary>Every script, for the schema-consistency test.</summary>
    public static IReadOnlyList<RedisScript> All { get; } =
    [
        Ingest, IngestRotate, Claim, ClaimBulk, Complete, Renew, Release, RecordContactSynced, RecordBulkImported, ForceIfExists, SetIfExists,
        DeadLetterContact, DeadLetterRetry, Defer, StateCheck, StateAcknowledge, RateLimit, RateRelease, RatePause, EventDelivered,
        EventRefused, OrdersDequeueIfDone, OrderAccepted, OrderSetAside, HoldLease, ReleaseLease, RecurringPaymentSent,
    ];

    /// <summary>Runs a script (EVALSHA, EVAL on NOSCRIPT).</summary>
    public static Task<RedisResult> RunAsync(this IDatabaseAsync db, RedisScript script, RedisKey[] keys, RedisValue[] args) =>
        db.ScriptEvaluateAsync(CheckKeys ? script.Checked : script.Source, keys, args);

    /// <summary>The text of a .lua file as embedded, without header or includes (for the consistency test).</summary>
    public static string ReadFile(string name)
    {
        var assembly = typeof(RedisScripts).Assembly;
        var resource = assembly.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith("." + name, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no embedded script {name}");
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Every embedded .lua file name (scripts and helpers).</summary>
    public static IReadOnlyList<string> FileNames() =>
        [.. typeof(RedisScripts).Assembly.GetManifestResourceNames().Where(n => n.EndsWith(".lua", StringComparison.Ordinal))
            .Select(n => n[(n.LastIndexOf('.', n.Length - 5) + 1)..])];

    private static RedisScript Load(string name)
    {
        var text = new StringBuilder(Header);
        foreach (var line in ReadFile(name).Split('\n'))
        {
            if (line.StartsWith(IncludeDirective, StringComparison.Ordinal))
            {
                text.Append(ReadFile(line[IncludeDirective.Length..].Trim())).Append('\n');
            }
            else
            {
                text.Append(line).Append('\n');
            }
        }

        return new RedisScript(name, text.ToString());
    }

    private static string BuildHeader()
    {
        var text = new StringBuilder("-- Generated from State/Schema.cs by RedisScripts: the schema's names.\n");
        foreach (var table in typeof(Schema).GetNestedTypes(BindingFlags.Public))
        {
            if (table.GetCustomAttribute<LuaTableAttribute>() is not { } lua)
            {
                continue;
            }

            text.Append("local ").Append(lua.Name).Append(" = {");
            var first = true;
            foreach (var field in table.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
            {
                text.Append(first ? "" : ", ").Append(field.Name).Append(" = ");
                first = false;
                text.Append(field.GetRawConstantValue() switch
                {
                    string s => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'",
                    int i => i.ToString(CultureInfo.InvariantCulture),
                    var other => throw new InvalidOperationException($"Schema.{table.Name}.{field.Name}: {other?.GetType()} has no Lua form"),
                });
            }

            text.Append("}\n");
        }

        return text.ToString();
    }
}
