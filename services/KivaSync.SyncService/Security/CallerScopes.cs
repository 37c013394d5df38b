using System.Collections.Frozen;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Security;

/// <summary>
/// What a caller may do, besides which tenants: <c>ship</c> entries, <c>read</c> status, <c>operate</c> (change
/// what is synced or made in AC). The one home of which gRPC method needs which scope.
/// </summary>
public static class CallerScopes
{
    /// <summary>LogIngest.Ship: the log shippers.</summary>
    public const string Ship = "ship";

    /// <summary>Reading status and dead letters, and TestSync (a dry run that changes nothing).</summary>
    public const string Read = "read";

    /// <summary>Forcing resyncs, provisioning, importing contacts, retrying dead letters.</summary>
    public const string Operate = "operate";

    /// <summary>Every scope; the open mode's callers have them all.</summary>
    public static FrozenSet<string> All { get; } = new[] { Ship, Read, Operate }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string> ByMethod = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Path(LogIngest.Descriptor.FullName, nameof(LogIngest.LogIngestBase.Ship))] = Ship,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.GetSyncStatus))] = Read,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.GetTenantStatus))] = Read,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.ListDeadLetters))] = Read,
        // A dry run: it reads the tenant's settings and changes nothing in Redis or AC.
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.TestSync))] = Read,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.ForceResync))] = Operate,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.Provision))] = Operate,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.ImportContacts))] = Operate,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.RetryDeadLetters))] = Operate,
        [Path(SyncApi.Descriptor.FullName, nameof(SyncApi.SyncApiBase.AcknowledgeStateLoss))] = Operate,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The scope a gRPC method (its path, "/package.Service/Method") needs; null for a method no scope grants.</summary>
    public static string? RequiredFor(string method) => ByMethod.GetValueOrDefault(method);

    private static string Path(string service, string method) => $"/{service}/{method}";
}
