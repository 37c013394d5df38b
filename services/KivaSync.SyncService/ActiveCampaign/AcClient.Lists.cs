using System.Net;
using System.Text.Json.Nodes;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>A list as AC returns it.</summary>
public sealed record AcList(string Id, string Name, string StringId);

/// <summary>A contact's status on one list: 1 subscribed, 2 unsubscribed (AC's numbers).</summary>
public sealed record AcContactList(string ListId, int Status);

// Lists and list statuses.
public sealed partial class AcClient
{
    /// <summary>Status of a subscribed contact (contactLists).</summary>
    public const int Subscribed = 1;

    /// <summary>Status of an unsubscribed contact (contactLists).</summary>
    public const int Unsubscribed = 2;

    /// <summary>GET /api/3/lists, every page.</summary>
    public async Task<IReadOnlyList<AcList>> ListListsAsync(CancellationToken ct) =>
        (await ListAllAsync("lists", "", "lists", ct))
            .Select(node => new AcList(Id(node["id"]), TextOrEmpty(node["name"]), TextOrEmpty(node["stringid"])))
            .ToList();

    /// <summary>POST /api/3/lists (all four values are required by AC). Throws <see cref="AcRequestException"/>
    /// with code "duplicate" when the stringid is taken.</summary>
    public async Task<AcList> CreateListAsync(string name, string stringId, string senderUrl, string senderReminder, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["list"] = new JsonObject { ["name"] = name, ["stringid"] = stringId, ["sender_url"] = senderUrl, ["sender_reminder"] = senderReminder },
        };
        var list = (await SendAsync(HttpMethod.Post, "lists", "lists", body, ct))["list"]
            ?? throw new AcRequestException(HttpStatusCode.OK, null, "AC answered without a list");
        return new AcList(Id(list["id"]), TextOrEmpty(list["name"]) is { Length: > 0 } n ? n : name, stringId);
    }

    /// <summary>POST /api/3/contactLists: status 1 subscribes, 2 unsubscribes. Status 1 re-subscribes someone who
    /// unsubscribed: callers check <see cref="GetContactListsAsync"/> first.</summary>
    public Task SetContactListStatusAsync(string contactId, string listId, int status, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, Subscribed);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, Unsubscribed);
        var body = new JsonObject
        {
            ["contactList"] = new JsonObject { ["list"] = listId, ["contact"] = contactId, ["status"] = status },
        };
        return SendAsync(HttpMethod.Post, "contactLists", "contactLists", body, ct);
    }

    /// <summary>GET /api/3/contacts/{id}/contactLists: the contact's status on every list it was ever on.</summary>
    public async Task<IReadOnlyList<AcContactList>> GetContactListsAsync(string contactId, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Get, $"contacts/{Uri.EscapeDataString(contactId)}/contactLists", "contacts/{id}/contactLists", null, ct);
        return (json["contactLists"]?.AsArray() ?? [])
            .Where(node => node is not null)
            .Select(node => new AcContactList(Id(node!["list"]), int.TryParse(TextOrEmpty(node["status"]), out var s) ? s : 0))
            .ToList();
    }

    /// <summary>A scalar as text (AC sends numbers as strings, sometimes as numbers); "" when absent.</summary>
    private static string TextOrEmpty(JsonNode? node) => Text(node) ?? "";
}
