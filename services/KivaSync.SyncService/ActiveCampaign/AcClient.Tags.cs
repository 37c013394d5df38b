using System.Net;
using System.Text.Json.Nodes;

namespace KivaSync.SyncService.ActiveCampaign;

/// <summary>A contact tag as AC returns it.</summary>
public sealed record AcTag(string Id, string Name);

/// <summary>A tag on a contact. <see cref="AssociationId"/> is what DELETE contactTags/{id} takes (not the tag id).</summary>
public sealed record AcContactTag(string AssociationId, string TagId);

/// <summary>A custom field's relation to a list ("0" = all lists).</summary>
public sealed record AcFieldRelation(string Id, string FieldId, string ListId);

// Tags, contact-tag associations and field relations.
public sealed partial class AcClient
{
    /// <summary>GET /api/3/tags?filters[search][eq]=NAME, then keeps only a tag whose name is exactly
    /// <paramref name="name"/> (case-insensitive): AC ignores parameters it does not know, so the filter
    /// alone proves nothing. Null when the account has no such tag.</summary>
    public async Task<AcTag?> FindTagAsync(string name, CancellationToken ct)
    {
        var query = "filters[search][eq]=" + Uri.EscapeDataString(name.Trim());
        var tags = await ListAllAsync("tags", query, "tags", ct);
        return tags
            .Where(t => TextOrEmpty(t["tagType"]) is "" or "contact")
            .Select(t => new AcTag(Id(t["id"]), TextOrEmpty(t["tag"])))
            .FirstOrDefault(t => string.Equals(t.Name.Trim(), name.Trim(), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>POST /api/3/tags (a contact tag). A duplicate name fails (422).</summary>
    public async Task<AcTag> CreateTagAsync(string name, string description, CancellationToken ct)
    {
        var body = new JsonObject { ["tag"] = new JsonObject { ["tag"] = name, ["tagType"] = "contact", ["description"] = description } };
        var tag = (await SendAsync(HttpMethod.Post, "tags", "tags", body, ct))["tag"]
            ?? throw new AcRequestException(HttpStatusCode.OK, null, "AC answered without a tag");
        return new AcTag(Id(tag["id"]), TextOrEmpty(tag["tag"]) is { Length: > 0 } n ? n : name);
    }

    /// <summary>POST /api/3/contactTags; returns the association id (AC answers the existing one when the tag is already there).</summary>
    public async Task<string> AddContactTagAsync(string contactId, string tagId, CancellationToken ct)
    {
        var body = new JsonObject { ["contactTag"] = new JsonObject { ["contact"] = contactId, ["tag"] = tagId } };
        var json = await SendAsync(HttpMethod.Post, "contactTags", "contactTags", body, ct);
        return Id(json["contactTag"]?["id"]);
    }

    /// <summary>GET /api/3/contacts/{id}/contactTags: the contact's tag associations.</summary>
    public async Task<IReadOnlyList<AcContactTag>> GetContactTagsAsync(string contactId, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Get, $"contacts/{Uri.EscapeDataString(contactId)}/contactTags", "contacts/{id}/contactTags", null, ct);
        return (json["contactTags"]?.AsArray() ?? [])
            .Where(node => node is not null)
            .Select(node => new AcContactTag(Id(node!["id"]), TextOrEmpty(node["tag"])))
            .ToList();
    }

    /// <summary>DELETE /api/3/contactTags/{associationId}. False when AC no longer has that association.</summary>
    public async Task<bool> RemoveContactTagAsync(string associationId, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, $"contactTags/{Uri.EscapeDataString(associationId)}", "contactTags/{id}", null, ct);
            return true;
        }
        catch (AcRequestException e) when (e.Status == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>GET /api/3/fieldRels, every page.</summary>
    public async Task<IReadOnlyList<AcFieldRelation>> ListFieldRelationsAsync(CancellationToken ct) =>
        (await ListAllAsync("fieldRels", "", "fieldRels", ct))
            .Select(node => new AcFieldRelation(Id(node["id"]), TextOrEmpty(node["field"]), TextOrEmpty(node["relid"])))
            .ToList();

    /// <summary>POST /api/3/fieldRels: makes a field available on a list ("0" = all lists); returns the relation.</summary>
    public async Task<AcFieldRelation> CreateFieldRelationAsync(string fieldId, string listId, CancellationToken ct)
    {
        var body = new JsonObject { ["fieldRel"] = new JsonObject { ["field"] = fieldId, ["relid"] = listId } };
        var json = await SendAsync(HttpMethod.Post, "fieldRels", "fieldRels", body, ct);
        return new AcFieldRelation(json["fieldRel"]?["id"] is { } id ? Id(id) : "", fieldId, listId);
    }
}
