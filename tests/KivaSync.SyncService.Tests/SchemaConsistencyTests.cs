using System.Reflection;
using System.Text.RegularExpressions;
using KivaSync.AcEmulator;
using KivaSync.SampleLog;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.Ingest;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Tenants;
using KivaSync.SystemLog;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace KivaSync.SyncService.Tests;

/// <summary>
/// The Lua scripts and the C# agree on the schema (State/Schema.cs): no script spells a field name or code itself, every
/// schema name a script uses exists, the ingest arguments sit where Schema.IngestArgs says, and the contact hashes a real
/// run writes hold only the schema's field names.
/// </summary>
public sealed partial class SchemaConsistencyTests
{
    /// <summary>A literal that reads like a field name or a code (lower case, digits, _ : ? ! ~ -), which only the schema may hold.</summary>
    [GeneratedRegex(@"^[a-z_][a-z0-9_:?]*$")]
    private static partial Regex NameLike();

    [GeneratedRegex(@"'((?:[^'\\]|\\.)*)'")]
    private static partial Regex LuaString();

    [GeneratedRegex(@"(?<![\w.])([A-Z]{1,2})\.([A-Za-z]+)")]
    private static partial Regex SchemaReference();

    private static readonly Dictionary<string, Type> Tables = typeof(Schema).GetNestedTypes(BindingFlags.Public)
        .Where(t => t.GetCustomAttribute<LuaTableAttribute>() is not null)
        .ToDictionary(t => t.GetCustomAttribute<LuaTableAttribute>()!.Name, StringComparer.Ordinal);

    [Fact]
    public void LuaFiles_NoFieldNameOrCodeLiterals_AllComeFromTheSchemaHeader()
    {
        var found = new List<string>();
        foreach (var file in RedisScripts.FileNames())
        {
            var lines = RedisScripts.ReadFile(file).Split('\n');
            for (var n = 0; n < lines.Length; n++)
            {
                foreach (Match literal in LuaString().Matches(Code(lines[n])))
                {
                    if (NameLike().IsMatch(literal.Groups[1].Value))
                    {
                        found.Add($"{file}:{n + 1} spells '{literal.Groups[1].Value}' (field names and codes come from State/Schema.cs through the header)");
                    }
                }
            }
        }

        Assert.Empty(found);
    }

    [Fact]
    public void LuaFiles_SchemaNamesTheyUse_AllExistInTheSchema()
    {
        var found = new List<string>();
        foreach (var file in RedisScripts.FileNames())
        {
            var lines = RedisScripts.ReadFile(file).Split('\n');
            for (var n = 0; n < lines.Length; n++)
            {
                var code = LuaString().Replace(Code(lines[n]), "''");
                foreach (Match reference in SchemaReference().Matches(code))
                {
                    var (table, name) = (reference.Groups[1].Value, reference.Groups[2].Value);
                    if (!Tables.TryGetValue(table, out var type))
                    {
                        continue;
                    }

                    if (type.GetField(name, BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true })
                    {
                        found.Add($"{file}:{n + 1} uses {table}.{name}, which Schema.{type.Name} does not define");
                    }
                }
            }
        }

        Assert.Empty(found);
    }

    [Fact]
    public void Header_EverySchemaTable_HoldsEachConstantOnce()
    {
        foreach (var (name, type) in Tables)
        {
            var line = RedisScripts.Header.Split('\n').Single(l => l.StartsWith($"local {name} = {{", StringComparison.Ordinal));
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
            {
                var value = field.GetRawConstantValue() is string s ? $"'{s}'" : field.GetRawConstantValue()!.ToString();
                Assert.Contains($"{field.Name} = {value}", line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void WriteAccepted_CustomerEntry_ArgumentsWhereSchemaIngestArgsSaysAndItsKeysNamed()
    {
        var args = new List<RedisValue>();
        for (var i = 0; i < StateStore.IngestHeaderArgs; i++)
        {
            args.Add(RedisValue.Null);
        }

        IngestScriptEntry.WriteHeader(args, "00-tp", 7, 9);
        Assert.Equal(Schema.IngestArgs.FirstEntry - 1, args.Count);
        Assert.Equal("00-tp", (string?)args[Schema.IngestArgs.TraceParent - 1]);
        Assert.Equal(7, (int)args[Schema.IngestArgs.RejectedMaxEntries - 1]);
        Assert.Equal(9, (int)args[Schema.IngestArgs.RejectedMaxBytes - 1]);

        var line = """{"ts":"2024-06-03T14:22:05Z","customer":{"id":"48214","email":"Bob@Example.com","first_name":"Bob"},"attrs":{"status":"Active"}}""";
        var entry = Assert.IsType<LogEntry>(SystemLogParser.Parse(System.Text.Encoding.UTF8.GetBytes(line), "greenleaf", DateTimeOffset.UtcNow).Entry);
        var keys = new IngestBatchKeys();
        var at = args.Count;
        IngestScriptEntry.WriteAccepted(args, keys, new byte[32], entry, EventRules.For(new TenantOptions()), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1024);

        Assert.Equal(Schema.IngestArgs.KindCustomerWindowed, (string?)args[at + Schema.IngestArgs.Kind]);
        Assert.Equal("0000", (string?)args[at + Schema.IngestArgs.Bucket]);
        Assert.Equal(entry.Ts.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)args[at + Schema.IngestArgs.Ts]);
        Assert.Equal("", (string?)args[at + Schema.IngestArgs.Week]);
        Assert.Equal(((args.Count - at - Schema.IngestArgs.Rest - 3) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)args[at + Schema.IngestArgs.FieldPairs]);
        Assert.Equal("48214", (string?)args[at + Schema.IngestArgs.Rest]);
        Assert.Equal("Bob@Example.com", (string?)args[at + Schema.IngestArgs.Rest + 1]);
        Assert.Equal("bob@example.com", (string?)args[at + Schema.IngestArgs.Rest + 2]);
        Assert.Equal([Schema.Contact.FirstName, "Bob", Schema.Contact.Status, "Active"], args.Skip(at + Schema.IngestArgs.Rest + 3).Take(4).Select(v => (string?)v));

        var rejectedAt = args.Count;
        IngestScriptEntry.WriteRejected(args, keys, new byte[32], RejectReason.InvalidJson, [1, 2]);
        Assert.Equal(Schema.IngestArgs.RejectedLength, args.Count - rejectedAt);
        Assert.Equal(Schema.IngestArgs.KindRejected, (string?)args[rejectedAt + Schema.IngestArgs.Kind]);
        Assert.Equal(RejectReason.InvalidJson.ToContractName(), (string?)args[rejectedAt + Schema.IngestArgs.RejectReason]);

        var names = keys.Build(new RedisKeys("greenleaf"), 5, []).Select(k => (string)k!).ToList();
        Assert.Equal(Schema.IngestKeys.Count, names.IndexOf("ks:{greenleaf}:c:48214"));
        Assert.Contains("ks:{greenleaf}:ev:c:48214", names);
        Assert.Contains("ks:{greenleaf}:l:bob@example.com", names);
        Assert.Contains("ks:{greenleaf}:r:5:0000", names);
        Assert.Contains("ks:{greenleaf}:r:4:0000", names);
        Assert.Contains("ks:{greenleaf}:d:0000", names);
    }

    [Fact]
    public async Task Sync_SampleLogIngestedAndSynced_ContactHashesHoldOnlySchemaFieldNames()
    {
        await using var emulator = await AcEmulatorHost.StartAsync();
        emulator.AddAccount("greenleaf", "ac-test-key", "1000", "event-key", requestsPerSecond: 200);
        await using var service = await ServiceHarness.StartAsync("greenleaf", emulator.ApiUrl("greenleaf").ToString(), "ac-test-key", 200);
        var lines = SampleLogGenerator.GenerateLines(new SampleLogOptions { Customers = 25, Leads = 15, Weeks = 6, WriteTenantKey = false }).ToArray();
        for (var i = 0; i < lines.Length; i += 500)
        {
            await service.ShipAsync(ServiceHarness.Batch("greenleaf", "sample", i, (ulong)(i / 500) + 1, lines[i..Math.Min(i + 500, lines.Length)]));
        }

        var db = service.App.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var keys = new RedisKeys("greenleaf");
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (await db.SortedSetLengthAsync(keys.Dirty) + await db.SortedSetLengthAsync(keys.InFlight) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the sample log's contacts were not all synced within 3 minutes");
            await Task.Delay(100);
        }

        var fields = typeof(Schema.Contact).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && !f.Name.EndsWith("Prefix", StringComparison.Ordinal) && !f.Name.StartsWith("List", StringComparison.Ordinal) && f.Name is not ("BulkImported" or "BulkRefused"))
            .Select(f => (string)f.GetRawConstantValue()!).ToHashSet(StringComparer.Ordinal);
        var server = service.App.Services.GetRequiredService<IConnectionMultiplexer>().GetServers()[0];
        var strangers = new SortedSet<string>(StringComparer.Ordinal);
        var contacts = 0;
        await foreach (var key in server.KeysAsync(pattern: keys.Prefix + "[cl]:*"))
        {
            contacts++;
            foreach (var entry in await db.HashGetAllAsync(key))
            {
                var name = (string)entry.Name!;
                var known = fields.Contains(name)
                    || (name.StartsWith(Schema.Contact.TsPrefix, StringComparison.Ordinal) && fields.Contains(name[Schema.Contact.TsPrefix.Length..]))
                    || (name.StartsWith(Schema.Contact.ListPrefix, StringComparison.Ordinal) && name.Length > Schema.Contact.ListPrefix.Length);
                if (!known)
                {
                    strangers.Add(name);
                }
            }
        }

        Assert.True(contacts >= 25, $"only {contacts} contact hashes");
        Assert.Empty(strangers);
    }

    /// <summary>A line without its comment (no script puts "--" inside a string).</summary>
    private static string Code(string line)
    {
        var cut = line.IndexOf("--", StringComparison.Ordinal);
        return cut < 0 ? line : line[..cut];
    }
}
