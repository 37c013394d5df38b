using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Security;

/// <summary>
/// Turns a call's credentials into a <see cref="CallerAccess"/>. Holds only SHA-256 hashes of the tokens and compares
/// them in constant time against every caller, so neither the token's content nor which caller matched shows in timing.
/// </summary>
public sealed class CallerAuthenticator
{
    private const string BearerScheme = "Bearer ";
    private readonly (byte[] TokenHash, CallerAccess Access)[] byToken;
    private readonly FrozenDictionary<string, CallerAccess> byCertificateSubject;

    /// <summary>Builds the lookup from the validated options.</summary>
    public CallerAuthenticator(IOptions<KivaSyncOptions> options)
    {
        var callers = options.Value.Callers;
        IsOpen = callers.Count == 0;
        CallerNames = [.. callers.Keys.Order(StringComparer.Ordinal)];
        var tokens = new List<(byte[], CallerAccess)>();
        var subjects = new Dictionary<string, CallerAccess>(StringComparer.Ordinal);
        foreach (var (name, caller) in callers)
        {
            var access = new CallerAccess(name, caller.Tenants.Contains(CallerOptions.AllTenants), caller.Tenants.Where(t => t != CallerOptions.AllTenants), caller.Scopes);
            if (!string.IsNullOrEmpty(caller.Token))
            {
                tokens.Add((Hash(caller.Token), access));
            }

            if (NormalizeSubject(caller.CertificateSubject) is { } subject)
            {
                subjects[subject] = access;
            }
        }

        byToken = [.. tokens];
        byCertificateSubject = subjects.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>True when no callers are configured: every call is let in with <see cref="CallerAccess.Open"/>.</summary>
    public bool IsOpen { get; }

    /// <summary>The configured caller names, for the start-up log.</summary>
    public IReadOnlyList<string> CallerNames { get; }

    /// <summary>
    /// Authenticates a call from its authorization metadata and, when the connection has one, its client certificate.
    /// A bearer token, when sent, must be valid (a wrong token never falls back to the certificate).
    /// </summary>
    /// <returns>The caller's access, or null with a <paramref name="failure"/> that never contains the token.</returns>
    public CallerAccess? Authenticate(string? authorization, X509Certificate2? clientCertificate, out AuthenticationFailure failure)
    {
        failure = AuthenticationFailure.None;
        if (IsOpen)
        {
            return CallerAccess.Open;
        }

        if (authorization is not null)
        {
            if (!authorization.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase) || authorization.AsSpan(BearerScheme.Length).Trim().IsEmpty)
            {
                failure = AuthenticationFailure.MalformedAuthorization;
                return null;
            }

            var presented = Hash(authorization.AsSpan(BearerScheme.Length).Trim());
            CallerAccess? match = null;
            // No early exit: every caller is compared, whatever matches.
            foreach (var (tokenHash, access) in byToken)
            {
                if (CryptographicOperations.FixedTimeEquals(presented, tokenHash))
                {
                    match = access;
                }
            }

            failure = match is null ? AuthenticationFailure.InvalidToken : AuthenticationFailure.None;
            return match;
        }

        if (clientCertificate is not null)
        {
            var subject = clientCertificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            if (byCertificateSubject.TryGetValue(subject, out var access))
            {
                return access;
            }

            failure = AuthenticationFailure.UnknownCertificate;
            return null;
        }

        failure = AuthenticationFailure.MissingCredentials;
        return null;
    }

    /// <summary>"CN=shipper-a" and "shipper-a" both name the CN shipper-a.</summary>
    internal static string? NormalizeSubject(string? subject)
    {
        if (string.IsNullOrWhiteSpace(subject))
        {
            return null;
        }

        var trimmed = subject.Trim();
        return trimmed.StartsWith("CN=", StringComparison.OrdinalIgnoreCase) ? trimmed[3..].Trim() : trimmed;
    }

    private static byte[] Hash(ReadOnlySpan<char> token)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(token)];
        Encoding.UTF8.GetBytes(token, bytes);
        var hash = SHA256.HashData(bytes);
        CryptographicOperations.ZeroMemory(bytes);
        return hash;
    }
}

/// <summary>Why a call was not authenticated; the wording a caller sees is in <see cref="CallerAuthenticationInterceptor"/>.</summary>
public enum AuthenticationFailure
{
    /// <summary>Authenticated.</summary>
    None,

    /// <summary>Neither a bearer token nor a client certificate.</summary>
    MissingCredentials,

    /// <summary>The authorization metadata is not "Bearer &lt;token&gt;".</summary>
    MalformedAuthorization,

    /// <summary>A bearer token that no caller has.</summary>
    InvalidToken,

    /// <summary>A client certificate whose subject CN no caller has.</summary>
    UnknownCertificate,
}
