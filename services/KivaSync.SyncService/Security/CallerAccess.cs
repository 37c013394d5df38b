using System.Collections.Frozen;
using Grpc.Core;

namespace KivaSync.SyncService.Security;

/// <summary>Who the current call is and which tenants it may touch.</summary>
public sealed class CallerAccess
{
    private static readonly object UserStateKey = new();

    /// <summary>Creates the access of a named caller.</summary>
    public CallerAccess(string caller, bool allTenants, IEnumerable<string> tenants, IEnumerable<string> scopes)
    {
        Caller = caller;
        AllTenants = allTenants;
        Tenants = tenants.ToFrozenSet(StringComparer.Ordinal);
        Scopes = scopes.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Every call when no callers are configured (open mode).</summary>
    public static CallerAccess Open { get; } = new("anonymous", allTenants: true, [], CallerScopes.All);

    /// <summary>The caller's configured name (not a secret; used in messages, logs and spans).</summary>
    public string Caller { get; }

    /// <summary>True for "*": every tenant, including ones configured later.</summary>
    public bool AllTenants { get; }

    /// <summary>The tenants this caller may touch when not <see cref="AllTenants"/>.</summary>
    public FrozenSet<string> Tenants { get; }

    /// <summary>What this caller may do (<see cref="CallerScopes"/>).</summary>
    public FrozenSet<string> Scopes { get; }

    /// <summary>Whether this caller has <paramref name="scope"/>.</summary>
    public bool Has(string scope) => Scopes.Contains(scope);

    /// <summary>Whether this caller may read, resync or ship entries for <paramref name="tenant"/>.</summary>
    public bool Allows(string tenant) => AllTenants || Tenants.Contains(tenant);

    /// <summary>The access the authentication interceptor attached to this call.</summary>
    /// <exception cref="InvalidOperationException">The call did not pass the interceptor (a wiring bug; fail closed).</exception>
    public static CallerAccess Of(ServerCallContext context) =>
        context.UserState.TryGetValue(UserStateKey, out var value) && value is CallerAccess access
            ? access
            : throw new InvalidOperationException("the call has no caller access; is CallerAuthenticationInterceptor registered?");

    internal void AttachTo(ServerCallContext context) => context.UserState[UserStateKey] = this;
}
