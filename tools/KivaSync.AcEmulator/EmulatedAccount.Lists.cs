using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KivaSync.AcEmulator;

// Lists, list memberships, tags and tag associations.
public sealed partial class EmulatedAccount
{
    private readonly List<ListState> _lists = [];
    private readonly List<ContactListState> _contactLists = [];
    private readonly List<TagState> _tags = [];
    private readonly List<ContactTagState> _contactTags = [];

    /// <summary>All lists, oldest first.</summary>
    public IReadOnlyList<EmulatedList> Lists()
    {
        lock (_gate) { return [.. _lists.Select(l => new EmulatedList(l.Id, l.Name, l.StringId, l.SenderUrl, l.SenderReminder))]; }
    }

    /// <summary>All list memberships, oldest first.</summary>
    public IReadOnlyList<EmulatedContactList> ContactLists()
    {
        lock (_gate)
        {
            return [.. _contactLists.Select(m => new EmulatedContactList(
                m.Id, m.ContactId, m.ListId, m.Status, m.UnsubscribedInAc, m.ResubscribeCount, m.RefusedResubscribeCount, m.Updated))];
        }
    }

    /// <summary>All tags, oldest first.</summary>
    public IReadOnlyList<EmulatedTag> Tags()
    {
        lock (_gate) { return [.. _tags.Select(t => new EmulatedTag(t.Id, t.Name, t.TagType, t.Description))]; }
    }

    /// <summary>All tag associations, oldest first.</summary>
    public IReadOnlyList<EmulatedContactTag> ContactTags()
    {
        lock (_gate) { return [.. _contactTags.Select(t => new EmulatedContactTag(t.Id, t.ContactId, t.TagId, t.Created))]; }
    }

    /// <summary>
    /// Simulates the person unsubscribing from a list inside AC (status 2, flagged UnsubscribedInAc).
    /// Throws ArgumentException when the contact or list does not exist.
    /// </summary>
    public void UnsubscribeInAc(string contactId, string listId)
    {
        lock (_gate)
        {
            if (!_contactsById.ContainsKey(contactId))
            {
                throw new ArgumentException("No contact with id " + contactId, nameof(contactId));
            }

            if (!_lists.Exists(l => l.Id == listId))
            {
                throw new ArgumentException("No list with id " + listId, nameof(listId));
            }

            var membership = Membership(contactId, listId, 2);
            membership.Status = 2;
            membership.UnsubscribedInAc = true;
            membership.Updated = _time.GetUtcNow();
        }
    }

    private ContactListState Membership(string contactId, string listId, int initialStatus)
    {
        var membership = _contactLists.Find(m => m.ContactId == contactId && m.ListId == listId);
        if (membership is null)
        {
            membership = new ContactListState(NextId(), contactId, listId, initialStatus, _time.GetUtcNow());
            _contactLists.Add(membership);
        }

        return membership;
    }

    private static JsonObject Render(ListState l) => new()
    {
        ["stringid"] = l.StringId,
        ["userid"] = "1",
        ["name"] = l.Name,
        ["sender_url"] = l.SenderUrl,
        ["sender_reminder"] = l.SenderReminder,
        ["cdate"] = AcJson.Stamp(l.Created),
        ["udate"] = AcJson.Stamp(l.Created),
        ["id"] = l.Id,
    };

    private static JsonObject Render(ContactListState m) => new()
    {
        ["contact"] = m.ContactId,
        ["list"] = m.ListId,
        ["status"] = AcJson.Str(m.Status),
        ["sdate"] = AcJson.Stamp(m.Created),
        ["udate"] = AcJson.Stamp(m.Updated),
        ["unsubreason"] = m.UnsubscribedInAc ? "Unsubscribed by the contact" : "",
        ["id"] = m.Id,
    };

    private JsonObject Render(TagState t) => new()
    {
        ["tagType"] = t.TagType,
        ["tag"] = t.Name,
        ["description"] = t.Description,
        ["cdate"] = AcJson.Stamp(t.Created),
        ["subscriber_count"] = AcJson.Str(_contactTags.Count(a => a.TagId == t.Id)),
        ["id"] = t.Id,
    };

    private static JsonObject Render(ContactTagState a) => new()
    {
        ["contact"] = a.ContactId,
        ["tag"] = a.TagId,
        ["cdate"] = AcJson.Stamp(a.Created),
        ["id"] = a.Id,
    };

    private ApiResult ListLists(IQueryCollection q)
    {
        IEnumerable<ListState> found = _lists;
        if ((AcJson.Query(q, "filters[name]") ?? AcJson.Query(q, "filters[name][eq]")) is { } name)
        {
            found = found.Where(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
        }

        if (AcJson.Query(q, "filters[stringid]") is { } stringId)
        {
            found = found.Where(l => string.Equals(l.StringId, stringId, StringComparison.OrdinalIgnoreCase));
        }

        return ApiResult.Ok(AcJson.Page(found.ToList(), q, "lists", Render));
    }

    private ApiResult GetList(string id) =>
        _lists.Find(l => l.Id == id) is { } list
            ? ApiResult.Ok(new JsonObject { ["list"] = Render(list) })
            : ApiResult.NotFound("List", id);

    private ApiResult CreateList(JsonNode? root)
    {
        var l = AcJson.Envelope(root, "list");
        string[] required = ["name", "stringid", "sender_url", "sender_reminder"];
        var missing = required
            .Where(key => string.IsNullOrWhiteSpace(AcJson.Text(l[key])))
            .Select(key => ("field_missing", "The " + key + " field is required.", "/data/attributes/" + key))
            .ToList();
        if (missing.Count > 0)
        {
            return ApiResult.Unprocessable(missing);
        }

        var stringId = AcJson.Text(l["stringid"])!.Trim();
        if (_lists.Exists(x => string.Equals(x.StringId, stringId, StringComparison.OrdinalIgnoreCase)))
        {
            return ApiResult.Unprocessable("duplicate", "A list with this stringid already exists.", "/data/attributes/stringid");
        }

        var list = new ListState(NextId(), AcJson.Text(l["name"])!.Trim(), stringId, AcJson.Text(l["sender_url"])!,
            AcJson.Text(l["sender_reminder"])!, _time.GetUtcNow());
        _lists.Add(list);
        return ApiResult.Created(new JsonObject { ["list"] = Render(list) });
    }

    private ApiResult SetContactList(JsonNode? root)
    {
        var m = AcJson.Envelope(root, "contactList");
        var listId = AcJson.Id(m["list"]);
        var contactId = AcJson.Id(m["contact"]);
        var statusText = AcJson.Id(m["status"]);
        var missing = new List<(string, string, string)>();
        if (listId is null)
        {
            missing.Add(("field_missing", "List is required.", "/data/attributes/list"));
        }

        if (contactId is null)
        {
            missing.Add(("field_missing", "Contact is required.", "/data/attributes/contact"));
        }

        if (statusText is null)
        {
            missing.Add(("field_missing", "Status is required.", "/data/attributes/status"));
        }

        if (missing.Count > 0)
        {
            return ApiResult.Unprocessable(missing);
        }

        if (statusText is not ("1" or "2"))
        {
            return ApiResult.Unprocessable("field_invalid", "Status must be 1 (subscribed) or 2 (unsubscribed).", "/data/attributes/status");
        }

        if (!_contactsById.TryGetValue(contactId!, out var contact))
        {
            return ApiResult.Unprocessable("related_missing", "Contact " + contactId + " does not exist.", "/data/attributes/contact");
        }

        if (!_lists.Exists(l => l.Id == listId))
        {
            return ApiResult.Unprocessable("related_missing", "List " + listId + " does not exist.", "/data/attributes/list");
        }

        var status = statusText == "1" ? 1 : 2;
        var isNew = !_contactLists.Exists(x => x.ContactId == contactId && x.ListId == listId);
        var membership = Membership(contactId!, listId!, status);

        // AC obeys: status 1 on an unsubscribed membership re-subscribes it. Counted so tests can tell.
        if (!isNew && membership.Status == 2 && status == 1)
        {
            membership.ResubscribeCount++;
        }

        membership.Status = status;
        membership.Updated = _time.GetUtcNow();
        var answer = new JsonObject
        {
            ["contacts"] = new JsonArray(Render(contact)),
            ["contactList"] = Render(membership),
        };
        return isNew ? ApiResult.Created(answer) : ApiResult.Ok(answer);
    }

    private ApiResult ContactListsOf(string contactId) =>
        _contactsById.ContainsKey(contactId)
            ? ApiResult.Ok(new JsonObject
            {
                ["contactLists"] = new JsonArray([.. _contactLists.Where(m => m.ContactId == contactId).Select(m => (JsonNode)Render(m))]),
            })
            : ApiResult.NotFound("Subscriber", contactId);

    private ApiResult ListTags(IQueryCollection q)
    {
        IEnumerable<TagState> found = _tags;
        if (AcJson.Query(q, "filters[search][eq]") is { } exact)
        {
            found = found.Where(t => string.Equals(t.Name, exact, StringComparison.OrdinalIgnoreCase));
        }

        if (AcJson.Query(q, "filters[search][contains]") is { } contains)
        {
            found = found.Where(t => t.Name.Contains(contains, StringComparison.OrdinalIgnoreCase));
        }

        if (AcJson.Query(q, "search") is { } search)
        {
            found = found.Where(t => t.Name.Contains(search, StringComparison.OrdinalIgnoreCase));
        }

        return ApiResult.Ok(AcJson.Page(found.ToList(), q, "tags", Render));
    }

    private ApiResult GetTag(string id) =>
        _tags.Find(t => t.Id == id) is { } tag
            ? ApiResult.Ok(new JsonObject { ["tag"] = Render(tag) })
            : ApiResult.NotFound("Tag", id);

    private ApiResult CreateTag(JsonNode? root)
    {
        var t = AcJson.Envelope(root, "tag");
        var name = AcJson.Text(t["tag"])?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            return ApiResult.Unprocessable("field_missing", "Tag is required.", "/data/attributes/tag");
        }

        var type = AcJson.Text(t["tagType"])?.Trim() is { Length: > 0 } given ? given : "contact";
        if (type is not ("contact" or "template"))
        {
            return ApiResult.Unprocessable("field_invalid", "tagType must be contact or template.", "/data/attributes/tagType");
        }

        if (FindTag(name, type) is not null)
        {
            return ApiResult.Unprocessable("duplicate", "A tag with this name already exists.", "/data/attributes/tag");
        }

        var tag = AddTag(name, type, AcJson.Text(t["description"]) ?? "");
        return ApiResult.Created(new JsonObject { ["tag"] = Render(tag) });
    }

    private TagState? FindTag(string name, string type) =>
        _tags.Find(x => x.TagType == type && string.Equals(x.Name, name, StringComparison.OrdinalIgnoreCase));

    private TagState AddTag(string name, string type, string description)
    {
        var tag = new TagState(NextId(), name, type, description, _time.GetUtcNow());
        _tags.Add(tag);
        return tag;
    }

    private ContactTagState Tag(string contactId, string tagId, out bool isNew)
    {
        var association = _contactTags.Find(a => a.ContactId == contactId && a.TagId == tagId);
        isNew = association is null;
        if (association is null)
        {
            association = new ContactTagState(NextId(), contactId, tagId, _time.GetUtcNow());
            _contactTags.Add(association);
        }

        return association;
    }

    private ApiResult AddContactTag(JsonNode? root)
    {
        var a = AcJson.Envelope(root, "contactTag");
        var contactId = AcJson.Id(a["contact"]);
        var tagId = AcJson.Id(a["tag"]);
        if (contactId is null)
        {
            return ApiResult.Unprocessable("field_missing", "Contact is required.", "/data/attributes/contact");
        }

        if (tagId is null)
        {
            return ApiResult.Unprocessable("field_missing", "Tag is required.", "/data/attributes/tag");
        }

        if (!_contactsById.ContainsKey(contactId))
        {
            return ApiResult.Unprocessable("related_missing", "Contact " + contactId + " does not exist.", "/data/attributes/contact");
        }

        if (!_tags.Exists(t => t.Id == tagId))
        {
            return ApiResult.Unprocessable("related_missing", "Tag " + tagId + " does not exist.", "/data/attributes/tag");
        }

        var association = Tag(contactId, tagId, out var isNew);
        var answer = new JsonObject { ["contactTag"] = Render(association) };
        return isNew ? ApiResult.Created(answer) : ApiResult.Ok(answer);
    }

    private ApiResult GetContactTag(string id) =>
        _contactTags.Find(a => a.Id == id) is { } association
            ? ApiResult.Ok(new JsonObject { ["contactTag"] = Render(association) })
            : ApiResult.NotFound("ContactTag", id);

    private ApiResult DeleteContactTag(string id)
    {
        var removed = _contactTags.RemoveAll(a => a.Id == id);
        return removed > 0 ? ApiResult.Ok(new JsonObject()) : ApiResult.NotFound("ContactTag", id);
    }

    private ApiResult ContactTagsOf(string contactId) =>
        _contactsById.ContainsKey(contactId)
            ? ApiResult.Ok(new JsonObject
            {
                ["contactTags"] = new JsonArray([.. _contactTags.Where(a => a.ContactId == contactId).Select(a => (JsonNode)Render(a))]),
            })
            : ApiResult.NotFound("Subscriber", contactId);
}
