using KivaSync.SyncService.Tenants;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Security;

/// <summary>
/// Checks the callers at start-up. Messages name configuration keys, never a token's value.
/// </summary>
internal sealed class CallersValidator : IValidateOptions<KivaSyncOptions>
{
    /// <summary>Shorter tokens are guessable; 16 characters of a random token are ~96 bits.</summary>
    internal const int MinTokenLength = 16;

    public ValidateOptionsResult Validate(string? name, KivaSyncOptions options)
    {
        var failures = new List<string>();
        var tokenOwners = new Dictionary<string, string>(StringComparer.Ordinal);
        var subjectOwners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (caller, settings) in options.Callers.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var key = $"KivaSync:Callers:{caller}";
            var subject = CallerAuthenticator.NormalizeSubject(settings.CertificateSubject);
            if (string.IsNullOrEmpty(settings.Token) && subject is null)
            {
                failures.Add($"{key}: give a Token or a CertificateSubject, or the caller can never authenticate");
            }

            if (!string.IsNullOrEmpty(settings.Token))
            {
                if (settings.Token.Length < MinTokenLength)
                {
                    failures.Add($"{key}:Token must be at least {MinTokenLength} characters");
                }

                if (settings.Token.Any(char.IsWhiteSpace))
                {
                    failures.Add($"{key}:Token must not contain whitespace");
                }

                if (!tokenOwners.TryAdd(settings.Token, caller))
                {
                    failures.Add($"{key}:Token is the same as KivaSync:Callers:{tokenOwners[settings.Token]}:Token; every caller needs its own");
                }
            }

            if (subject is not null && !subjectOwners.TryAdd(subject, caller))
            {
                failures.Add($"{key}:CertificateSubject is the same as KivaSync:Callers:{subjectOwners[subject]}:CertificateSubject");
            }

            if (settings.Tenants.Count == 0)
            {
                failures.Add($"{key}:Tenants lists no tenants; give tenant ids or \"{CallerOptions.AllTenants}\"");
            }

            if (settings.Scopes.Count == 0)
            {
                failures.Add($"{key}:Scopes lists no scopes; give one or more of {string.Join(", ", CallerScopes.All.Order(StringComparer.Ordinal))} (e.g. \"{CallerScopes.Ship}\" for a shipper)");
            }

            for (var i = 0; i < settings.Scopes.Count; i++)
            {
                if (!CallerScopes.All.Contains(settings.Scopes[i]))
                {
                    failures.Add($"{key}:Scopes:{i}: unknown scope \"{settings.Scopes[i]}\"; the scopes are {string.Join(", ", CallerScopes.All.Order(StringComparer.Ordinal))}");
                }
            }

            for (var i = 0; i < settings.Tenants.Count; i++)
            {
                var tenant = settings.Tenants[i];
                if (tenant != CallerOptions.AllTenants && !options.Tenants.ContainsKey(tenant))
                {
                    failures.Add($"{key}:Tenants:{i}: unknown tenant \"{tenant}\" (not configured under KivaSync:Tenants)");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Lets a caller's tenants and scopes also be one comma-separated value ("a,b" or "*"; "read,operate"), the natural
/// form in an environment variable (KivaSync__Callers__web__Tenants=*), besides the list form (Tenants:0, Tenants:1, ...).
/// </summary>
internal sealed class CallerTenantsFromScalar(IConfiguration configuration) : IPostConfigureOptions<KivaSyncOptions>
{
    public void PostConfigure(string? name, KivaSyncOptions options)
    {
        foreach (var section in configuration.GetSection($"{KivaSyncOptions.Section}:Callers").GetChildren())
        {
            if (configuration[$"{section.Path}:Tenants"] is { } scalar && options.Callers.TryGetValue(section.Key, out var caller))
            {
                caller.Tenants = [.. scalar.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            }

            if (configuration[$"{section.Path}:Scopes"] is { } scopes && options.Callers.TryGetValue(section.Key, out var scoped))
            {
                scoped.Scopes = [.. scopes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            }
        }
    }
}
