using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using KivaSync.Contracts.V1;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Errors;
using KivaSync.SyncService.Events;
using KivaSync.SyncService.Provisioning;
using KivaSync.SyncService.Security;
using KivaSync.SyncService.State;
using KivaSync.SyncService.Subscriptions;
using KivaSync.SyncService.Status;
using KivaSync.SyncService.Tenants;
using KivaSync.SyncService.TestSync;
using KivaSync.SystemLog;
using Microsoft.Extensions.Options;

namespace KivaSync.SyncService.Api;

/// <summary>The sync API for the Kiva web tier: a customer's sync status, and forced resyncs.</summary>
public sealed class SyncApiService(
    StateStore store,
    FollowUpStore followUps,
    TenantRegistry tenants,
    TenantStatusReader statusReader,
    TimeProvider time,
    TenantProvisioner provisioner,
    DeadLetterStore deadLetters,
    AcClientFactory clients,
    ContactListsStep lists,
    IOptions<KivaSyncOptions> options,
    TestSyncAdmission testSyncs,
    StateGuard guard) : SyncApi.SyncApiBase
{
    private readonly ApiOptions limits = options.Value.Api;

    /// <summary>How often ImportContacts asks AC about a batch at most.</summary>
    private static readonly TimeSpan LongestImportPoll = TimeSpan.FromSeconds(5);

    /// <summary>A stand-in as long as the longest AC list id (a 64-bit number) when sizing an import row.</summary>
    private const string LongestListId = "18446744073709551615";

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
            // Never the whole key: it may be an email (messages are logged) or 20 KiB (too big for a trailer).
            var key = CallerInput.ForMessage(request.CustomerCase == GetSyncStatusRequest.CustomerOneofCase.CustomerId ? request.CustomerId : request.Email);
            throw GrpcErrors.NotFound("customer", key, $"tenant \"{request.Tenant}\" has no customer or lead \"{key}\" in its log");
        }

        var pending = await store.IsPendingAsync(request.Tenant, snapshot.Member);
        // Queued events and waiting orders are pending work too.
        var work = (pending ? 1 : 0) + await followUps.PendingCountAsync(request.Tenant, snapshot.Member);
        return ToStatus(request.Tenant, settings, snapshot, pending, (uint)work);
    }

    /// <inheritdoc />
    public override async Task<ForceResyncResponse> ForceResync(ForceResyncRequest request, ServerCallContext context)
    {
        RequireTenant(request.Tenant, context);
        var ct = context.CancellationToken;
        var response = new ForceResyncResponse();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (request.All)
        {
            // In slices, so a large tenant is neither held in memory at once nor queued after the caller gave up.
            var slice = new List<string>(limits.MaxResyncKeys);
            await foreach (var member in store.AllMembersAsync(request.Tenant).WithCancellation(ct))
            {
                slice.Add(member);
                if (slice.Count == limits.MaxResyncKeys)
                {
                    response.Queued += (uint)await store.MarkDirtyAsync(request.Tenant, slice, now, force: true).WaitAsync(ct);
                    slice.Clear();
                }
            }

            ct.ThrowIfCancellationRequested();
            response.Queued += (uint)await store.MarkDirtyAsync(request.Tenant, slice, now, force: true).WaitAsync(ct);
            return response;
        }

        var named = request.CustomerIds.Count + request.Emails.Count;
        if (named == 0)
        {
            throw GrpcErrors.InvalidArgument("customer_ids", "name customers by id or email, or set all");
        }

        if (named > limits.MaxResyncKeys)
        {
            throw GrpcErrors.InvalidArgument("customer_ids",
                $"{named} customer ids and emails in one call; at most {limits.MaxResyncKeys} (KivaSync:Api:MaxResyncKeys). " +
                "For a whole tenant set all (kivasync resync --all); else split the list");
        }

        // One Redis command for all ids and one for all emails, not a round trip each.
        var members = new HashSet<string>(StringComparer.Ordinal);
        var ids = request.CustomerIds.Distinct(StringComparer.Ordinal).ToList();
        var known = await store.CustomersExistAsync(request.Tenant, ids).WaitAsync(ct);
        for (var i = 0; i < ids.Count; i++)
        {
            if (known[i])
            {
                members.Add(RedisKeys.CustomerMember(ids[i]));
            }
            else
            {
                response.NotFound.Add(CallerInput.Cap(ids[i]));
            }
        }

        var emails = request.Emails.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var owners = await store.FindByEmailsAsync(request.Tenant, emails).WaitAsync(ct);
        for (var i = 0; i < emails.Count; i++)
        {
            if (owners[i] is { } member)
            {
                members.Add(member);
            }
            else
            {
                response.NotFound.Add(CallerInput.Cap(emails[i]));
            }
        }

        // The caller may have given up while Redis answered: queue nothing then.
        ct.ThrowIfCancellationRequested();
        response.Queued = (uint)await store.MarkDirtyAsync(request.Tenant, members, now, force: true);
        return response;
    }

    /// <inheritdoc />
    public override Task<TenantStatus> GetTenantStatus(GetTenantStatusRequest request, ServerCallContext context) =>
        // Answers while the state is lost: it is where the operator reads that it is.
        statusReader.ReadAsync(request.Tenant, RequireTenant(request.Tenant, context, stateNeeded: false));

    /// <inheritdoc />
    public override async Task<AcknowledgeStateLossResponse> AcknowledgeStateLoss(AcknowledgeStateLossRequest request, ServerCallContext context)
    {
        RequireTenant(request.Tenant, context, stateNeeded: false);
        return new AcknowledgeStateLossResponse { Tenant = request.Tenant, WasLost = await guard.AcknowledgeAsync(request.Tenant) };
    }

    /// <inheritdoc />
    public override async Task<ProvisionResponse> Provision(ProvisionRequest request, ServerCallContext context)
    {
        RequireTenant(request.Tenant, context);
        var result = await provisioner.RunAsync(request.Tenant, context.CancellationToken);
        var response = new ProvisionResponse { Tenant = request.Tenant, Created = (uint)result.Created, AcRequests = (uint)result.AcRequests };
        response.Items.AddRange(result.Items.Select(i => new ProvisionedItem { Kind = i.Kind, Name = i.Name, AcId = i.AcId ?? "", Created = i.Created }));
        return response;
    }

    /// <inheritdoc />
    public override async Task<ListDeadLettersResponse> ListDeadLetters(ListDeadLettersRequest request, ServerCallContext context)
    {
        RequireTenant(request.Tenant, context);
        var limit = request.Limit == 0 ? 100 : (int)Math.Min(request.Limit, 1000);
        var (page, total) = await deadLetters.ListAsync(request.Tenant, (int)Math.Min(request.Offset, int.MaxValue - 1000), limit);
        var response = new ListDeadLettersResponse { Tenant = request.Tenant, Total = (uint)total };
        foreach (var d in page)
        {
            response.DeadLetters.Add(new DeadLetter
            {
                Id = d.Id,
                Kind = d.Kind,
                CustomerId = ContactRef.TryParse(d.Member, out var contact) ? contact.CustomerId ?? "" : "",
                Email = d.Email,
                Reason = d.Reason,
                Attempts = (uint)d.Attempts,
                FailedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(d.FailedAtMs)),
                Detail = d.Detail,
            });
        }

        return response;
    }

    /// <inheritdoc />
    public override async Task<RetryDeadLettersResponse> RetryDeadLetters(RetryDeadLettersRequest request, ServerCallContext context)
    {
        RequireTenant(request.Tenant, context);
        if (!request.All && request.Ids.Count == 0)
        {
            throw GrpcErrors.InvalidArgument("ids", "name dead letters by id, or set all");
        }

        if (!request.All && request.Ids.Count > limits.MaxResyncKeys)
        {
            throw GrpcErrors.InvalidArgument("ids",
                $"{request.Ids.Count} dead-letter ids in one call; at most {limits.MaxResyncKeys} (KivaSync:Api:MaxResyncKeys). Set all to retry every one");
        }

        var ids = request.All ? await deadLetters.AllIdsAsync(request.Tenant) : [.. request.Ids.Distinct(StringComparer.Ordinal)];
        var response = new RetryDeadLettersResponse();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var id in ids)
        {
            if (await deadLetters.RetryAsync(request.Tenant, id, now))
            {
                response.Queued++;
            }
            else
            {
                response.NotFound.Add(CallerInput.Cap(id));
            }
        }

        return response;
    }

    /// <inheritdoc />
    public override async Task<ImportContactsResponse> ImportContacts(ImportContactsRequest request, ServerCallContext context)
    {
        RequireTenant(request.Tenant, context);
        var listName = request.ListName.Trim();
        if (listName.Length == 0)
        {
            throw GrpcErrors.InvalidArgument("list_name", "name the AC list to import the contacts into");
        }

        if (request.Contacts.Count == 0)
        {
            throw GrpcErrors.InvalidArgument("contacts", "give at least one contact");
        }

        var ct = context.CancellationToken;
        var response = new ImportContactsResponse();
        var positions = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var maxRowBytes = AcClient.BulkMaxContactBytes(excludeAutomations: false);
        var bulk = new List<AcBulkContact>();
        // Every row is checked before anything is made in AC: a bad row is refused alone, with its position.
        for (var i = 0; i < request.Contacts.Count; i++)
        {
            var contact = request.Contacts[i];
            var email = contact.Email.Trim();
            // Sized with a list id as long as any AC list id (the list is only looked up once every row passed).
            var row = new AcBulkContact(email, Known(contact.FirstName), Known(contact.LastName), Known(contact.Phone), Subscribe: [LongestListId]);
            string? reason = null;
            if (!SystemLogParser.IsValidEmail(email))
            {
                reason = "invalid email";
            }
            else if (positions.TryGetValue(email, out var first))
            {
                reason = $"duplicate of contact {first} in this request";
            }
            else if (ImportRows.FormulaCell(row) is { } cell)
            {
                reason = $"{cell} starts with =, +, - or @: a spreadsheet would run it as a formula when the contacts are exported from AC; remove the sign";
            }
            else if (AcClient.BulkContactBytes(row) is var size && size > maxRowBytes)
            {
                reason = $"the row is {size} bytes; at most {maxRowBytes} fit in one ActiveCampaign bulk import request";
            }

            if (reason is not null)
            {
                response.Rejected.Add(new ImportRejection { Index = (uint)(i + 1), Email = CallerInput.Cap(contact.Email), Reason = reason });
                continue;
            }

            positions[email] = i + 1;
            bulk.Add(row);
        }

        if (bulk.Count == 0)
        {
            // Nothing to import: no list is made either.
            return response;
        }

        var client = clients.For(request.Tenant);
        var list = await lists.GetOrCreateAsync(request.Tenant, client, listName, ct);
        response.ListId = list.Id;
        response.ListCreated = list.Created;
        // Sign-ups: automations (e.g. a welcome series) should run for them.
        var batchIds = await client.BulkImportAsync([.. bulk.Select(c => c with { Subscribe = [list.Id] })], excludeAutomations: false, ct);
        response.BatchIds.AddRange(batchIds);
        foreach (var batchId in batchIds)
        {
            var info = await WaitForImportAsync(client, batchId, ct);
            response.Imported += (uint)info.Success.Count;
            foreach (var email in info.Failure)
            {
                var index = positions.TryGetValue(email.Trim(), out var at) ? at : 0;
                response.Rejected.Add(new ImportRejection { Index = (uint)index, Email = email, Reason = "refused by ActiveCampaign" });
            }

            if (info.Status != "completed")
            {
                throw GrpcErrors.FailedPrecondition("AC_IMPORT_FAILED", $"ActiveCampaign's bulk import batch {batchId} ended {info.Status}");
            }
        }

        return response;
    }

    private static string? Known(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Polls a bulk import batch until AC is done with it (the caller's deadline bounds the wait).</summary>
    private async Task<AcBulkImportInfo> WaitForImportAsync(AcClient client, string batchId, CancellationToken ct)
    {
        var wait = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var info = await client.GetImportInfoAsync(batchId, ct);
            if (info.IsDone)
            {
                return info;
            }

            await Task.Delay(wait, time, ct);
            wait = TimeSpan.FromMilliseconds(Math.Min(wait.TotalMilliseconds * 2, LongestImportPoll.TotalMilliseconds));
        }
    }

    /// <inheritdoc />
    public override async Task<TestSyncReport> TestSync(IAsyncStreamReader<TestSyncChunk> requestStream, ServerCallContext context)
    {
        using var slot = testSyncs.TryEnter() ?? throw GrpcErrors.ResourceExhausted("TEST_SYNC_BUSY",
            $"{limits.MaxConcurrentTestSyncs} test syncs are running on this replica (KivaSync:Api:MaxConcurrentTestSyncs); retry later",
            limits.TestSyncRetryAfter);
        if (!await requestStream.MoveNext(context.CancellationToken))
        {
            throw GrpcErrors.InvalidArgument("tenant", "the first chunk must name the tenant");
        }

        var first = requestStream.Current;
        // TestSync touches no tenant state.
        var settings = RequireTenant(first.Tenant, context, stateNeeded: false);
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
    /// other tenants), then that the tenant is configured, then (<paramref name="stateNeeded"/>) that Redis holds its state.</summary>
    private TenantOptions RequireTenant(string tenant, ServerCallContext context, bool stateNeeded = true)
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

        if (stateNeeded)
        {
            guard.ThrowIfNotIntact(tenant);
        }

        return settings;
    }

    private static CustomerSyncStatus ToStatus(string tenant, TenantOptions settings, ContactSnapshot s, bool pending, uint pendingWork)
    {
        var status = new CustomerSyncStatus
        {
            Tenant = tenant,
            CustomerId = s.CustomerId ?? "",
            Email = s.Email,
            IsLead = !s.IsCustomer,
            Error = s.Get(ContactSnapshot.Fields.SyncState) == Schema.SyncState.Dead
                ? $"dead-lettered after {s.Get(ContactSnapshot.Fields.Attempts)} attempts (RetryDeadLetters sends it again): {s.Get(ContactSnapshot.Fields.Error)}"
                : s.Get(ContactSnapshot.Fields.Error) ?? "",
            PendingWork = pendingWork,
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

        if (SubscriberSnapshot.Map(s) is { } rp)
        {
            var rpPending = long.TryParse(s.Get(ContactSnapshot.Fields.RpVersion), out var rv) && rv > (long.TryParse(s.Get(ContactSnapshot.Fields.RpSentVersion), out var sv) ? sv : 0);
            status.Subscription = new SubscriptionStatus
            {
                Status = rp.NormalizedStatus,
                StoreStatus = rp.StoreStatus,
                BillingInterval = rp.BillingInterval.Value ?? "",
                BillingIntervalCount = (uint)(rp.BillingIntervalCount.Value ?? 0),
                NextPaymentDate = rp.NextPaymentDate.Value ?? "",
                UnreadableSchedule = rp.UnreadableSchedule ?? "",
                Pending = rpPending,
                // Pending: what the next send carries; else what AC accepted last.
                SuppressAutomations = rpPending ? SubscriberSnapshot.SuppressAutomations(s) : s.Get(ContactSnapshot.Fields.RpSentSuppress) == "1",
            };
        }

        if (s.AcId is { } acId)
        {
            status.AcContactId = acId;
            status.AcContactUrl = TenantRegistry.ContactUrl(settings, acId);
        }

        status.State = s.Get(ContactSnapshot.Fields.SyncState) switch
        {
            Schema.SyncState.Skipped when !pending && s.SyncedVersion >= s.Version => SyncState.Skipped,
            Schema.SyncState.Failed or Schema.SyncState.Dead => SyncState.Failed,
            Schema.SyncState.Ok when !pending && s.SyncedVersion >= s.Version => SyncState.Synced,
            _ => SyncState.Pending,
        };
        return status;
    }
}
