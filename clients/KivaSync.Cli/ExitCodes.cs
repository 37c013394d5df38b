using Grpc.Core;

namespace KivaSync.Cli;

/// <summary>What the process exit code tells a script.</summary>
public static class ExitCodes
{
    /// <summary>Done, nothing wrong.</summary>
    public const int Ok = 0;

    /// <summary>The command ran but found problems (see <see cref="HelpText"/>).</summary>
    public const int Problems = 1;

    /// <summary>Bad command line, or the service refused the arguments (INVALID_ARGUMENT).</summary>
    public const int Usage = 2;

    /// <summary>The service is unreachable, unavailable, overloaded, or cannot serve this call.</summary>
    public const int Unavailable = 3;

    /// <summary>No or wrong token (UNAUTHENTICATED), or the token may not use this tenant (PERMISSION_DENIED).</summary>
    public const int Auth = 4;

    /// <summary>The tenant, customer or email is unknown (NOT_FOUND).</summary>
    public const int NotFound = 5;

    /// <summary>The exit code for a failed call.</summary>
    public static int FromStatus(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => Usage,
        StatusCode.Unauthenticated or StatusCode.PermissionDenied => Auth,
        StatusCode.NotFound => NotFound,
        // The request was understood, but the tenant is not in a state to do it (what to fix is in the message).
        StatusCode.FailedPrecondition or StatusCode.AlreadyExists => Problems,
        // Unreachable, overloaded, too old to know the call (UNIMPLEMENTED), or broken: try again later or elsewhere.
        _ => Unavailable,
    };

    /// <summary>The exit codes as --help prints them.</summary>
    public const string HelpText = """
        Exit codes:
          0  ok
          1  the command ran but found problems: test-sync saw rejected lines, unknown events, events without a
             contact, customers without email or email conflicts; status --customer is Failed or Skipped;
             status shows STATE LOST; resync or dead-letters retry named something unknown; dead-letters list
             found dead letters; import-contacts refused rows; the service answered FAILED_PRECONDITION
          2  usage error (bad options, or the service answered INVALID_ARGUMENT)
          3  the service is unreachable or unavailable (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
             UNIMPLEMENTED — a service older than this CLI —, INTERNAL, ...)
          4  auth error (UNAUTHENTICATED, PERMISSION_DENIED)
          5  not found (NOT_FOUND: unknown tenant, customer or email)
        """;
}
