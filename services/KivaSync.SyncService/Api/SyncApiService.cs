using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Security;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Tenants;
using KivaSync.SyncService.TestSync;
using KivaSync.SystemLog;

namespace KivaSync.SyncService.Api;

/// <summary>The sync API for the Kiva web tier: a customer's sync status, and forced resyncs.</summary>
public sealed class SyncApiService(StateStore store, TenantRegistry tenants, TimeProvider time) : SyncApi.SyncApiBase
{
    /// <inheritdoc />
    public override async Task<CustomerSyncStatus> GetSyncStatus(GetSyncStatusRequest request, ServerCallContext context)
    {
        var settings = RequireTenant(request.Tenant, context);
        string? member = request.CustomerCase switch
        {
            GetSyncStatusRequest.CustomerOneofCase.CustomerId when !string.IsNullOrEmpty(request.CustomerId) =>
                await store.CustomerExistsAsync(request.Tenant, request.CustomerId) ? RedisKeys.CustomerMember(request.CustomerId) : null,
            GetSyncStatusRequest.CustomerOneofCase.Email when !string.IsNullOrWhiteSpace(request.Email) =>
                await store.FindByEmailAsync(request.Tenant, request.Email),
            _ => throw GrpcErrors.InvalidArgument("customer", "give a customer_id or an email"),
        };

        var snapshot = member is null ? null : await store.ReadAsync(request.Tenant, member);
        if (snapshot is null)
        {
            var key = request.CustomerCase == GetSyncStatusRequest.CustomerOneofCase.CustomerId ? request.CustomerId : request.Email;
            throw GrpcErrors.NotFound("customer", key, $"tenant \"{request.Tenant}\" has no customer or lead \"{key}\" in its log");
        }

        var pending = await store.IsPendingAsync(request.Tenant, snapshot.Member);
        return ToStatus(request.Tenant, settings, snapshot, pending);
    }

    /// <inheritdoc />
    public override async Task<ForceResyncResponse> ForceResync(ForceResyncRequest request, ServerCallContext context)
    {
        RequireTenant(request.Tenant, context);
        var response = new ForceResyncResponse();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var members = new HashSet<string>(StringComparer.Ordinal);
        if (request.All)
        {
            await foreach (var member in store.AllMembersAsync(request.Tenant).WithCancellation(context.CancellationToken))
            {
                members.Add(member);
            }
        }
        else
        {
            if (request.CustomerIds.Count == 0 && request.Emails.Count == 0)
            {
                throw GrpcErrors.InvalidArgument("customer_ids", "name customers by id or email, or set all");
            }

            foreach (var id in request.CustomerIds.Distinct(StringComparer.Ordinal))
            {
                if (await store.CustomerExistsAsync(request.Tenant, id))
                {
                    members.Add(RedisKeys.CustomerMember(id));
                }
                else
                {
                    response.NotFound.Add(id);
                }
            }

            foreach (var email in request.Emails.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (await store.FindByEmailAsync(request.Tenant, email) is { } member)
                {
                    members.Add(member);
                }
                else
                {
                    response.NotFound.Add(email);
                }
            }
        }

        response.Queued = (uint)await store.MarkDirtyAsync(request.Tenant, members, now, force: true);
        return response;
    }

    /// <inheritdoc />
    public override async Task<TenantStatus> GetTenantStatus(GetTenantStatusRequest request, ServerCallContext context)
    {
        var settings = RequireTenant(request.Tenant, context);
        var now = time.GetUtcNow();
        var meta = await store.ReadMetaAsync(request.Tenant);
        var rejects = await store.ReadRejectCountsAsync(request.Tenant);
        var figures = await store.ReadFiguresAsync(request.Tenant, now.ToUnixTimeMilliseconds());
        var waiting = figures.Pending + figures.InFlight;
        // Claimed-first scores can be backdated for live work, so clamp the age at zero.
        var lag = figures.OldestPendingMs is { } oldest ? TimeSpan.FromMilliseconds(Math.Max(0, now.ToUnixTimeMilliseconds() - oldest)) : TimeSpan.Zero;
        var catchUp = TimeSpan.FromSeconds(waiting / settings.RequestsPerSecond);
        var status = new TenantStatus
        {
            Tenant = request.Tenant,
            // More than a minute of work queued, or work waiting over a minute: still working through history.
            Mode = catchUp > TimeSpan.FromMinutes(1) || lag > TimeSpan.FromMinutes(1) ? TenantMode.Backfill : TenantMode.Live,
            EntriesAccepted = (ulong)meta.Accepted,
            Customers = (ulong)figures.Customers,
            Leads = (ulong)figures.Leads,
            ContactsPending = (ulong)figures.Pending,
            ContactsInFlight = (ulong)figures.InFlight,
            Lag = Duration.FromTimeSpan(lag),
            RateLimitPerSecond = settings.RequestsPerSecond,
            RateLimitUsedPerSecond = figures.RequestsPerSecondLastMinute,
            EstimatedCatchUp = Duration.FromTimeSpan(catchUp),
            CurrentWeek = meta.CurrentWeek ?? "",
        };
        foreach (var (reason, count) in rejects)
        {
            status.RejectedByReason[reason] = (ulong)count;
        }

        if (meta.NewestEntryTsMs >= 0)
        {
            status.NewestEntryTs = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(meta.NewestEntryTsMs));
        }

        return status;
    }

    /// <inheritdoc />
    public override async Task<TestSyncReport> TestSync(IAsyncStreamReader<TestSyncChunk> requestStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken))
        {
            throw GrpcErrors.InvalidArgument("tenant", "the first chunk must name the tenant");
        }

        var first = requestStream.Current;
        var settings = RequireTenant(first.Tenant, context);
        var caller = CallerAccess.Of(context);
        var runner = new TestSyncRunner(first.Tenant, settings, time.GetUtcNow(), other => tenants.TryGet(other, out _) && caller.Allows(other));
        var chunk = first;
        while (true)
        {
            if (!string.IsNullOrEmpty(chunk.Tenant) && chunk.Tenant != first.Tenant)
            {
                throw GrpcErrors.InvalidArgument("tenant", $"every chunk must be for tenant \"{first.Tenant}\" (or leave it empty)");
            }

            if (!runner.Write(chunk.Data.Span))
            {
                throw GrpcErrors.InvalidArgument("data",
                    $"the log is over {TestSyncRunner.DefaultMaxLogBytes / (1024 * 1024)} MiB; test a part of it (e.g. the newest files) or split it");
            }

            if (!await requestStream.MoveNext(context.CancellationToken))
            {
                break;
            }

            chunk = requestStream.Current;
        }

        return runner.Finish();
    }

    /// <summary>Checks the id, then the caller's access (before existence, so a scoped caller learns nothing about
    /// other tenants), then that the tenant is configured.</summary>
    private TenantOptions RequireTenant(string tenant, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(tenant) || !SystemLogParser.IsValidTenant(tenant))
        {
            throw GrpcErrors.InvalidArgument("tenant", "a tenant id must match [a-z0-9][a-z0-9-]{0,62}");
        }

        var caller = CallerAccess.Of(context);
        if (!caller.Allows(tenant))
        {
            throw GrpcErrors.PermissionDenied($"caller \"{caller.Caller}\" may not use tenant \"{tenant}\"");
        }

        if (!tenants.TryGet(tenant, out var settings))
        {
            throw GrpcErrors.NotFound("tenant", tenant, $"tenant \"{tenant}\" is not configured on the sync service");
        }

        return settings;
    }

    private static CustomerSyncStatus ToStatus(string tenant, TenantOptions settings, ContactSnapshot s, bool pending)
    {
        var status = new CustomerSyncStatus
        {
            Tenant = tenant,
            CustomerId = s.CustomerId ?? "",
            Email = s.Email,
            IsLead = !s.IsCustomer,
            Error = s.Get(ContactSnapshot.Fields.Error) ?? "",
            PendingWork = pending ? 1u : 0u,
            Fields = new CustomerFields
            {
                Status = s.Get(ContactSnapshot.Fields.Status) ?? "",
                NextDelivery = s.Get(ContactSnapshot.Fields.NextDelivery) ?? "",
                CancelledOn = s.Get(ContactSnapshot.Fields.CancelledOn) ?? "",
                Schedule = s.Get(ContactSnapshot.Fields.Schedule) ?? "",
                Box = s.Get(ContactSnapshot.Fields.Box) ?? "",
                OrderWeek = s.Get(ContactSnapshot.Fields.OrderWeek) ?? "",
                OrderState = s.Get(ContactSnapshot.Fields.OrderState) ?? "",
                FirstName = s.Get(ContactSnapshot.Fields.FirstName) ?? "",
                LastName = s.Get(ContactSnapshot.Fields.LastName) ?? "",
                Phone = s.Get(ContactSnapshot.Fields.Phone) ?? "",
            },
        };
        if (s.Get(ContactSnapshot.Fields.OptIn) is { } optIn)
        {
            status.Fields.MarketingOptIn = optIn == "1";
        }

        if (long.TryParse(s.Get(ContactSnapshot.Fields.SyncedAt), out var syncedAt))
        {
            status.LastSynced = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(syncedAt));
        }

        if (long.TryParse(s.Get(ContactSnapshot.Fields.LastEntryTs), out var lastTs))
        {
            status.LastEntryTs = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(lastTs));
        }

        if (s.AcId is { } acId)
        {
            status.AcContactId = acId;
            status.AcContactUrl = TenantRegistry.ContactUrl(settings, acId);
        }

        status.State = s.Get(ContactSnapshot.Fields.SyncState) switch
        {
            "skipped" when !pending && s.SyncedVersion >= s.Version => SyncState.Skipped,
            "failed" => SyncState.Failed,
            "ok" when !pending && s.SyncedVersion >= s.Version => SyncState.Synced,
            _ => SyncState.Pending,
        };
        return status;
    }
}
