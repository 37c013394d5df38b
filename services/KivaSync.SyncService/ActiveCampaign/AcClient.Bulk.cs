using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>One contact of a bulk import. Null members are not sent (AC would blank them).</summary>
/// <param name="Email">Email (required).</param>
/// <param name="FirstName">First name, when known.</param>
/// <param name="LastName">Last name, when known.</param>
/// <param name="Phone">Phone, when known.</param>
/// <param name="Tags">Tag names (AC creates missing ones).</param>
/// <param name="Fields">Custom field id → value.</param>
/// <param name="Subscribe">List ids to subscribe to (AC never re-subscribes someone who unsubscribed).</param>
/// <param name="Unsubscribe">List ids to unsubscribe from.</param>
public sealed record AcBulkContact(
    string Email,
    string? FirstName = null,
    string? LastName = null,
    string? Phone = null,
    IReadOnlyList<string>? Tags = null,
    IReadOnlyList<KeyValuePair<string, string>>? Fields = null,
    IReadOnlyList<string>? Subscribe = null,
    IReadOnlyList<string>? Unsubscribe = null);

/// <summary>The state of a bulk import batch. Status: waiting, active, completed, failed, ...
/// <see cref="Success"/> holds contact ids, <see cref="Failure"/> emails.</summary>
public sealed record AcBulkImportInfo(string BatchId, string Status, IReadOnlyList<string> Success, IReadOnlyList<string> Failure)
{
    /// <summary>True once AC has finished with the batch (completed or failed).</summary>
    public bool IsDone => Status is "completed" or "failed";
}

// Bulk import: at most 250 contacts and 400,000 bytes a request, its own per-minute limit, processed asynchronously.
public sealed partial class AcClient
{
    /// <summary>AC's per-request contact limit for import/bulk_import.</summary>
    public const int BulkMaxContacts = 250;

    /// <summary>AC's per-request byte limit for import/bulk_import.</summary>
    public const int BulkMaxBytes = 400_000;

    /// <summary>How often a bulk request refused by bulk import's own per-minute limit is tried again.</summary>
    private const int BulkRateLimitRetries = 12;

    /// <summary>
    /// POST /api/3/import/bulk_import, split into as few requests as AC's limits allow (≤ 250 contacts and
    /// ≤ 400,000 bytes each). Bulk import's own limit ("Rate limit exceeded", a 400) means "later": the request
    /// is sent again after a pause. Returns one batch id per request, in order; poll them with <see cref="GetImportInfoAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> BulkImportAsync(IReadOnlyList<AcBulkContact> contacts, bool excludeAutomations, CancellationToken ct)
    {
        var batchIds = new List<string>();
        foreach (var chunk in SplitForBulk(contacts, excludeAutomations))
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var json = await SendAsync(HttpMethod.Post, "import/bulk_import", "import/bulk_import", chunk, ct);
                    batchIds.Add(TextOrEmpty(json["batchId"]));
                    break;
                }
                catch (AcRequestException e) when (e.Status == HttpStatusCode.BadRequest && e.Message.Contains("Rate limit exceeded", StringComparison.OrdinalIgnoreCase) && attempt <= BulkRateLimitRetries)
                {
                    // Its limit is per rolling minute: wait a share of it, longer each time.
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(5 * attempt, 30)), ct);
                }
            }
        }

        return batchIds;
    }

    /// <summary>GET /api/3/import/info?batchId=...</summary>
    public async Task<AcBulkImportInfo> GetImportInfoAsync(string batchId, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Get, "import/info?batchId=" + Uri.EscapeDataString(batchId), "import/info", null, ct);
        static IReadOnlyList<string> Strings(JsonNode? node) =>
            [.. (node as JsonArray ?? []).Select(TextOrEmpty).Where(s => s.Length > 0)];
        return new AcBulkImportInfo(batchId, TextOrEmpty(json["status"]), Strings(json["success"]), Strings(json["failure"]));
    }

    /// <summary>The largest contact (its JSON in the request, bytes) one bulk import request can carry.</summary>
    public static int BulkMaxContactBytes(bool excludeAutomations) => BulkMaxBytes - BulkEnvelopeBytes(excludeAutomations);

    /// <summary>The contact's size in a bulk import request (bytes of its JSON).</summary>
    public static int BulkContactBytes(AcBulkContact contact) => Encoding.UTF8.GetByteCount(BulkBody(contact).ToJsonString());

    // {"contacts":[...],"exclude_automations":false}: the envelope plus one comma per contact after the first.
    private static int BulkEnvelopeBytes(bool excludeAutomations) =>
        Encoding.UTF8.GetByteCount(new JsonObject { ["contacts"] = new JsonArray(), ["exclude_automations"] = excludeAutomations }.ToJsonString());

    /// <summary>Request bodies of at most <see cref="BulkMaxContacts"/> contacts and <see cref="BulkMaxBytes"/> bytes each.</summary>
    internal static IEnumerable<JsonObject> SplitForBulk(IReadOnlyList<AcBulkContact> contacts, bool excludeAutomations)
    {
        var envelope = BulkEnvelopeBytes(excludeAutomations);
        var current = new JsonArray();
        var bytes = envelope;
        foreach (var contact in contacts)
        {
            var node = BulkBody(contact);
            var size = Encoding.UTF8.GetByteCount(node.ToJsonString());
            if (envelope + size > BulkMaxBytes)
            {
                // Callers check BulkMaxContactBytes first; this is a bug guard, not a way to refuse a row.
                throw new ArgumentException($"a contact of {size} bytes cannot go in a bulk import request", nameof(contacts));
            }

            var added = size + (current.Count > 0 ? 1 : 0);
            if (current.Count == BulkMaxContacts || bytes + added > BulkMaxBytes)
            {
                yield return new JsonObject { ["contacts"] = current, ["exclude_automations"] = excludeAutomations };
                current = [];
                bytes = envelope;
                added = size;
            }

            current.Add(node);
            bytes += added;
        }

        if (current.Count > 0)
        {
            yield return new JsonObject { ["contacts"] = current, ["exclude_automations"] = excludeAutomations };
        }
    }

    private static JsonObject BulkBody(AcBulkContact c)
    {
        var node = new JsonObject { ["email"] = c.Email };
        if (c.FirstName is not null)
        {
            node["first_name"] = c.FirstName;
        }

        if (c.LastName is not null)
        {
            node["last_name"] = c.LastName;
        }

        if (c.Phone is not null)
        {
            node["phone"] = c.Phone;
        }

        if (c.Tags is { Count: > 0 })
        {
            node["tags"] = new JsonArray([.. c.Tags.Select(t => (JsonNode)t)]);
        }

        if (c.Fields is { Count: > 0 })
        {
            node["fields"] = new JsonArray([.. c.Fields.Select(f => (JsonNode)new JsonObject { ["id"] = f.Key, ["value"] = f.Value })]);
        }

        if (c.Subscribe is { Count: > 0 })
        {
            node["subscribe"] = new JsonArray([.. c.Subscribe.Select(id => (JsonNode)new JsonObject { ["listid"] = id })]);
        }

        if (c.Unsubscribe is { Count: > 0 })
        {
            node["unsubscribe"] = new JsonArray([.. c.Unsubscribe.Select(id => (JsonNode)new JsonObject { ["listid"] = id })]);
        }

        return node;
    }
}
