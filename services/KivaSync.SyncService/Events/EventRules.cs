using System.Runtime.CompilerServices;
using System.Collections.Frozen;
using KivaSync.SyncService.Tenants;
using KivaSync.SystemLog;

namespace KivaSync.SyncService.Events;

/// <summary>
/// A tenant's event catalogue: the contract's catalogue plus the tenant's renames and additions
/// (<see cref="TenantOptions.EventNames"/>), and which historical events are not sent.
/// </summary>
public sealed class EventRules
{
    /// <summary>AC takes event names of at most this many characters.</summary>
    public const int MaxAcNameLength = 32;

    /// <summary>Event data is cut to this many characters (the contract's "Events").</summary>
    public const int MaxEventDataLength = 250;

    private static readonly ConditionalWeakTable<TenantOptions, EventRules> Cache = new();

    private readonly FrozenDictionary<string, EventCatalog.EventDefinition> events;
    private readonly FrozenSet<string> historicalOff;

    private EventRules(TenantOptions tenant)
    {
        var all = EventCatalog.All.ToDictionary(e => e.LogName, StringComparer.Ordinal);
        foreach (var (logName, acName) in tenant.EventNames)
        {
            if (logName == EventCatalog.WeeklyCycleCompleted || string.IsNullOrWhiteSpace(acName))
            {
                continue;
            }

            // A rename keeps the catalogue's live-only mark; an addition is an ordinary event.
            var liveOnly = all.TryGetValue(logName, out var known) && known.LiveOnly;
            all[logName] = new EventCatalog.EventDefinition(logName, Cut(acName.Trim(), MaxAcNameLength), liveOnly);
        }

        events = all.ToFrozenDictionary(StringComparer.Ordinal);
        SendHistorical = tenant.SendHistoricalEvents;
        LiveThreshold = tenant.LiveThreshold;
        // Named by log name or AC name, whichever the operator wrote.
        var off = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in tenant.HistoricalEventsOff)
        {
            off.Add(name);
            foreach (var e in all.Values.Where(e => string.Equals(e.AcName, name, StringComparison.Ordinal)))
            {
                off.Add(e.LogName);
            }
        }

        historicalOff = off.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>False when the tenant sends no historical events.</summary>
    public bool SendHistorical { get; }

    /// <summary>An entry older than this when processed is historical.</summary>
    public TimeSpan LiveThreshold { get; }

    /// <summary>Every event this tenant sends (catalogue, renamed, and additions), one per log name.</summary>
    public IEnumerable<EventCatalog.EventDefinition> All => events.Values;

    /// <summary>The rules of a tenant's current options (cached per options instance).</summary>
    public static EventRules For(TenantOptions tenant) => Cache.GetValue(tenant, t => new EventRules(t));

    /// <summary>Finds an event the tenant sends by its log name.</summary>
    public bool TryGet(string logName, out EventCatalog.EventDefinition definition) =>
        events.TryGetValue(logName, out definition!);

    /// <summary>Whether an event of this entry is sent: always when live; when historical, unless it is live-only
    /// or historical events are off for the tenant or for this event.</summary>
    public bool ShouldSend(EventCatalog.EventDefinition definition, bool live) =>
        live || (!definition.LiveOnly && SendHistorical && !historicalOff.Contains(definition.LogName));

    /// <summary>The event data AC gets: the original ts, a space, the compact data; cut to 250 characters.</summary>
    public static string EventData(LogEntry entry)
    {
        var data = entry.DataJson is null ? entry.TsText : entry.TsText + " " + entry.DataJson;
        return Cut(data, MaxEventDataLength);
    }

    /// <summary>True when the entry's ts is within the live threshold of <paramref name="nowMs"/>.</summary>
    public bool IsLive(LogEntry entry, long nowMs) => IsLive(entry.Ts.ToUnixTimeMilliseconds(), nowMs);

    /// <summary>True when an entry with this ts (unix ms) is within the live threshold of <paramref name="nowMs"/>.</summary>
    public bool IsLive(long tsMs, long nowMs) => nowMs - tsMs <= (long)LiveThreshold.TotalMilliseconds;

    // Never ends in half a surrogate pair: a lone half reaches AC as U+FFFD, a character the log never had.
    private static string Cut(string value, int length) =>
        value.Length <= length ? value : value[..(char.IsHighSurrogate(value[length - 1]) ? length - 1 : length)];
}
