using System.Net;
using KivaSync.SyncService.ActiveCampaign;

namespace KivaSync.SyncService.Tests;

/// <summary>Which failed requests may have reached AC: those an event post is never retried blindly after.</summary>
public sealed class AcOutcomeUnknownTests
{
    public static TheoryData<string, bool> Outcomes => new()
    {
        { "429", false },
        { "503", false },
        { "500", true },
        { "502", true },
        { "504", true },
        { "connection refused", false },
        { "name not resolved", false },
        { "tls handshake failed", false },
        { "answer ended early", true },
        { "connection reset", true },
        { "timeout", true },
        { "caller stopped", false },
        { "400", false },
    };

    [Theory]
    [MemberData(nameof(Outcomes))]
    public void MayHaveReachedAc_EachFailure_DeliveredOnlyWhenTheRequestMayHaveBeenActedOn(string failure, bool maybe)
    {
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        var (exception, caller) = failure switch
        {
            "429" => (new AcTransientException(HttpStatusCode.TooManyRequests, null, "slow down"), CancellationToken.None),
            "503" => (new AcTransientException(HttpStatusCode.ServiceUnavailable, null, "unavailable"), CancellationToken.None),
            "500" => (new AcTransientException(HttpStatusCode.InternalServerError, null, "error"), CancellationToken.None),
            "502" => (new AcTransientException(HttpStatusCode.BadGateway, null, "bad gateway"), CancellationToken.None),
            "504" => (new AcTransientException(HttpStatusCode.GatewayTimeout, null, "gateway timeout"), CancellationToken.None),
            "connection refused" => (new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"), CancellationToken.None),
            "name not resolved" => (new HttpRequestException(HttpRequestError.NameResolutionError, "No such host"), CancellationToken.None),
            "tls handshake failed" => (new HttpRequestException(HttpRequestError.SecureConnectionError, "TLS"), CancellationToken.None),
            "answer ended early" => (new HttpRequestException(HttpRequestError.ResponseEnded, "ended"), CancellationToken.None),
            "connection reset" => (new HttpRequestException("reset", new IOException("Connection reset by peer")), CancellationToken.None),
            "timeout" => (new TaskCanceledException("timed out"), CancellationToken.None),
            "caller stopped" => (new TaskCanceledException("stopping"), stopped.Token),
            _ => ((Exception)new AcRequestException(HttpStatusCode.BadRequest, null, "bad request"), CancellationToken.None),
        };

        Assert.Equal(maybe, AcOutcomeUnknownException.MayHaveReachedAc(exception, caller));
    }
}
