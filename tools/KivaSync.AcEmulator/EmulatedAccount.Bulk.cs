using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace KivaSync.AcEmulator;

// Bulk import: synchronous checks and limits, then asynchronous processing by a background worker.
public sealed partial class EmulatedAccount
{
    /// <summary>Per-request limits of POST import/bulk_import.</summary>
    public const int BulkMaxContacts = 250;

    /// <summary>Per-request byte limit of POST import/bulk_import.</summary>
    public const int BulkMaxBytes = 400_000;

    /// <summary>Bulk import's own limits per rolling minute: multi-contact and single-contact requests.</summary>
    public const int BulkMultiPerMinute = 100;

    /// <inheritdoc cref="BulkMultiPerMinute"/>
    public const int BulkSinglePerMinute = 20;

    private readonly SlidingWindow _bulkSingleWindow;
    private readonly SlidingWindow _bulkMultiWindow;
    private readonly List<BulkBatchState> _batches = [];
    private readonly Channel<BulkBatchState> _bulkQueue = Channel.CreateUnbounded<BulkBatchState>();
    private TaskCompletionSource _bulkResume = NewResume();
    private bool _bulkPaused;

    /// <summary>
    /// While true, queued batches stay "waiting" (lets a test observe the asynchronous status);
    /// setting it false lets the worker process them.
    /// </summary>
    public bool BulkImportsPaused
    {
        get { lock (_gate) { return _bulkPaused; } }
        set
        {
            lock (_gate)
            {
                _bulkPaused = value;
                if (value)
                {
                    if (_bulkResume.Task.IsCompleted)
                    {
                        _bulkResume = NewResume();
                    }
                }
                else
                {
                    _bulkResume.TrySetResult();
                }
            }
        }
    }

    /// <summary>All bulk import batches, oldest first.</summary>
    public IReadOnlyList<EmulatedBulkImport> BulkImports()
    {
        lock (_gate)
        {
            return [.. _batches.Select(b => new EmulatedBulkImport(
                b.BatchId, b.Status, b.Contacts.Count, b.ExcludeAutomations, [.. b.Success], [.. b.Failure], b.Queued, b.Completed))];
        }
    }

    private static TaskCompletionSource NewResume() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static ApiResult BulkRejected(string message, IEnumerable<string>? reasons = null) =>
        new(StatusCodes.Status400BadRequest, new JsonObject
        {
            ["success"] = 0,
            ["message"] = message,
            ["failureReasons"] = new JsonArray([.. (reasons ?? [message]).Select(r => (JsonNode)r)]),
        });

    private ApiResult QueueBulkImport(JsonNode? root)
    {
        if (root?["contacts"] is not JsonArray { Count: > 0 } contacts)
        {
            return BulkRejected("contacts is required and may not be empty.");
        }

        if (contacts.Count > BulkMaxContacts)
        {
            return BulkRejected("At most 250 contacts per request.");
        }

        var parsed = new List<BulkContact>(contacts.Count);
        var reasons = new List<string>();
        for (var i = 0; i < contacts.Count; i++)
        {
            if (ReadBulkContact(contacts[i], out var reason) is { } contact)
            {
                parsed.Add(contact);
            }
            else
            {
                reasons.Add("contacts[" + AcJson.Str(i) + "]: " + reason);
            }
        }

        if (reasons.Count > 0)
        {
            return BulkRejected("Some contacts are not valid.", reasons);
        }

        var (window, limit) = parsed.Count == 1 ? (_bulkSingleWindow, BulkSinglePerMinute) : (_bulkMultiWindow, BulkMultiPerMinute);
        if (!window.TryAcquire(limit))
        {
            return BulkRejected("Rate limit exceeded.");
        }

        var batch = new BulkBatchState(Guid.NewGuid().ToString(), parsed, AcJson.Bool(root["exclude_automations"]) ?? false, _time.GetUtcNow());
        _batches.Add(batch);
        _bulkQueue.Writer.TryWrite(batch);
        return ApiResult.Ok(new JsonObject
        {
            ["success"] = 1,
            ["queued_contacts"] = parsed.Count,
            ["batchId"] = batch.BatchId,
        });
    }

    private static BulkContact? ReadBulkContact(JsonNode? node, out string reason)
    {
        reason = "";
        if (node is not JsonObject c)
        {
            reason = "not an object";
            return null;
        }

        var email = AcJson.Text(c["email"])?.Trim();
        if (string.IsNullOrEmpty(email) || !AcJson.IsEmail(email))
        {
            reason = "email is missing or not valid";
            return null;
        }

        var fields = new List<(string, string)>();
        foreach (var f in c["fields"] as JsonArray ?? [])
        {
            if (AcJson.Id(f?["id"]) is not { } id)
            {
                reason = "a field has no id";
                return null;
            }

            fields.Add((id, AcJson.Text(f?["value"]) ?? ""));
        }

        static List<string> ListIds(JsonNode? node) =>
            [.. (node as JsonArray ?? []).Select(x => AcJson.Id(x?["listid"])).OfType<string>()];

        return new BulkContact(
            email,
            AcJson.Text(c["first_name"]),
            AcJson.Text(c["last_name"]),
            AcJson.Text(c["phone"]),
            [.. (c["tags"] as JsonArray ?? []).Select(AcJson.Text).Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t!.Trim())],
            fields,
            ListIds(c["subscribe"]),
            ListIds(c["unsubscribe"]));
    }

    private ApiResult BulkImportInfo(IQueryCollection q)
    {
        if (AcJson.Query(q, "batchId") is not { Length: > 0 } batchId)
        {
            return ApiResult.BareBadRequest();
        }

        if (_batches.Find(b => b.BatchId == batchId) is not { } batch)
        {
            return ApiResult.Message(StatusCodes.Status404NotFound, "No import batch with id " + batchId);
        }

        return ApiResult.Ok(new JsonObject
        {
            ["batchId"] = batch.BatchId,
            ["status"] = batch.Status,
            ["queued_contacts"] = batch.Contacts.Count,
            ["success"] = new JsonArray([.. batch.Success.Select(s => (JsonNode)s)]),
            ["failure"] = new JsonArray([.. batch.Failure.Select(f => (JsonNode)f)]),
        });
    }

    private async Task RunBulkWorkerAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var batch in _bulkQueue.Reader.ReadAllAsync(stopping))
            {
                while (true)
                {
                    Task resume;
                    lock (_gate)
                    {
                        if (!_bulkPaused)
                        {
                            batch.Status = "active";
                            break;
                        }

                        resume = _bulkResume.Task;
                    }

                    await resume.WaitAsync(stopping);
                }

                foreach (var contact in batch.Contacts)
                {
                    // One contact per lock so API calls interleave with a long import, as in AC.
                    lock (_gate)
                    {
                        ImportOne(batch, contact);
                    }

                    await Task.Yield();
                }

                lock (_gate)
                {
                    batch.Status = "completed";
                    batch.Completed = _time.GetUtcNow();
                }

                Log.BulkImportCompleted(_logger, Name, batch.Success.Count, batch.Failure.Count);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    private void ImportOne(BulkBatchState batch, BulkContact c)
    {
        // A contact whose data AC cannot take fails as a whole; its email goes to the failure list.
        var valid = c.Fields.All(f => CheckFieldValue(f.FieldId, f.Value, "") is null) &&
                    c.Subscribe.Concat(c.Unsubscribe).All(listId => _lists.Exists(l => l.Id == listId));
        if (!valid)
        {
            batch.Failure.Add(c.Email);
            return;
        }

        var contact = _contactsByEmail.TryGetValue(c.Email, out var found) ? found : AddContact(c.Email);
        if (c.FirstName is not null)
        {
            contact.FirstName = c.FirstName;
        }

        if (c.LastName is not null)
        {
            contact.LastName = c.LastName;
        }

        if (c.Phone is not null)
        {
            contact.Phone = c.Phone;
        }

        ApplyFieldValues(contact, c.Fields);
        foreach (var name in c.Tags)
        {
            var tag = FindTag(name, "contact") ?? AddTag(name, "contact", "");
            Tag(contact.Id, tag.Id, out _);
        }

        var now = _time.GetUtcNow();
        foreach (var listId in c.Subscribe)
        {
            var existing = _contactLists.Find(m => m.ContactId == contact.Id && m.ListId == listId);
            if (existing is { Status: 2 })
            {
                // Bulk import cannot re-subscribe: the membership stays unsubscribed.
                existing.RefusedResubscribeCount++;
                continue;
            }

            var membership = Membership(contact.Id, listId, 1);
            membership.Status = 1;
            membership.Updated = now;
        }

        foreach (var listId in c.Unsubscribe)
        {
            var membership = Membership(contact.Id, listId, 2);
            membership.Status = 2;
            membership.Updated = now;
        }

        contact.Updated = now;
        batch.Success.Add(contact.Id);
    }
}
