using System.Collections.Frozen;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KivaSync.AcEmulator;

// Contacts, custom fields, field relations and field values.
public sealed partial class EmulatedAccount
{
    private static readonly FrozenSet<string> FieldTypes = new[]
    {
        "text", "textarea", "date", "datetime", "dropdown", "multiselect", "radio", "checkbox", "hidden", "listbox",
    }.ToFrozenSet(StringComparer.Ordinal);

    private readonly List<ContactState> _contacts = [];
    private readonly Dictionary<string, ContactState> _contactsById = new(StringComparer.Ordinal);

    // Keyed by the trimmed email; the comparer makes it case-insensitive, as AC matches.
    private readonly Dictionary<string, ContactState> _contactsByEmail = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<FieldState> _fields = [];
    private readonly List<FieldValueState> _fieldValues = [];

    /// <summary>All contacts, oldest first.</summary>
    public IReadOnlyList<EmulatedContact> Contacts()
    {
        lock (_gate) { return [.. _contacts.Select(Snapshot)]; }
    }

    /// <summary>The contact with this email (trimmed, case-insensitive), or null.</summary>
    public EmulatedContact? FindContact(string email)
    {
        lock (_gate) { return _contactsByEmail.TryGetValue(email.Trim(), out var c) ? Snapshot(c) : null; }
    }

    /// <summary>All custom fields, oldest first.</summary>
    public IReadOnlyList<EmulatedField> Fields()
    {
        lock (_gate) { return [.. _fields.Select(f => new EmulatedField(f.Id, f.Title, f.Type, f.Perstag, [.. f.Rels.Select(r => r.RelId)]))]; }
    }

    /// <summary>
    /// The value of the field titled fieldTitle (case-insensitive) on the contact with this email
    /// (trimmed, case-insensitive); null when the contact or field is unknown or the value was never set.
    /// </summary>
    public string? FieldValue(string email, string fieldTitle)
    {
        lock (_gate)
        {
            var field = _fields.FirstOrDefault(f => string.Equals(f.Title, fieldTitle, StringComparison.OrdinalIgnoreCase));
            return field is not null && _contactsByEmail.TryGetValue(email.Trim(), out var contact) &&
                   contact.Values.TryGetValue(field.Id, out var value)
                ? value.Value
                : null;
        }
    }

    private static EmulatedContact Snapshot(ContactState c) => new(
        c.Id, c.Email, c.FirstName, c.LastName, c.Phone,
        c.Values.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal),
        c.Created, c.Updated);

    private static JsonObject Render(ContactState c) => new()
    {
        ["email"] = c.Email,
        ["firstName"] = c.FirstName ?? "",
        ["lastName"] = c.LastName ?? "",
        ["phone"] = c.Phone ?? "",
        ["orgid"] = "0",
        ["deleted"] = "0",
        ["cdate"] = AcJson.Stamp(c.Created),
        ["udate"] = AcJson.Stamp(c.Updated),
        ["id"] = c.Id,
    };

    private static JsonObject Render(FieldValueState v) => new()
    {
        ["contact"] = v.ContactId,
        ["field"] = v.FieldId,
        ["value"] = v.Value,
        ["cdate"] = AcJson.Stamp(v.Created),
        ["udate"] = AcJson.Stamp(v.Updated),
        ["id"] = v.Id,
    };

    private static JsonObject Render(FieldState f) => new()
    {
        ["title"] = f.Title,
        ["descript"] = f.Description,
        ["type"] = f.Type,
        ["isrequired"] = "0",
        ["perstag"] = f.Perstag,
        ["defval"] = "",
        ["visible"] = "1",
        ["cdate"] = AcJson.Stamp(f.Created),
        ["udate"] = AcJson.Stamp(f.Created),
        ["id"] = f.Id,
    };

    private static JsonObject Render(FieldRelState r) => new()
    {
        ["field"] = r.FieldId,
        ["relid"] = r.RelId,
        ["dorder"] = "0",
        ["cdate"] = AcJson.Stamp(r.Created),
        ["id"] = r.Id,
    };

    private ContactState AddContact(string email)
    {
        var contact = new ContactState(NextId(), email, _time.GetUtcNow());
        _contacts.Add(contact);
        _contactsById.Add(contact.Id, contact);
        _contactsByEmail.Add(email, contact);
        return contact;
    }

    /// <summary>Validates an email given in a body; null when fine.</summary>
    private static ApiResult? CheckEmail(string? email, string pointer) =>
        string.IsNullOrEmpty(email) ? ApiResult.Unprocessable("field_missing", "Email address is required.", pointer)
        : !AcJson.IsEmail(email) ? ApiResult.Unprocessable("field_invalid", "Email address is not valid.", pointer)
        : null;

    /// <summary>Reads contact fieldValues [{field,value}]: every field must exist, date fields take YYYY-MM-DD or "".</summary>
    private List<(string FieldId, string Value)>? ReadFieldValues(JsonNode? node, out ApiResult? error)
    {
        error = null;
        var values = new List<(string, string)>();
        if (node is null)
        {
            return values;
        }

        if (node is not JsonArray array)
        {
            error = ApiResult.Unprocessable("field_invalid", "fieldValues must be an array.", "/data/attributes/fieldValues");
            return null;
        }

        for (var i = 0; i < array.Count; i++)
        {
            var pointer = "/data/attributes/fieldValues/" + AcJson.Str(i);
            var fieldId = AcJson.Id(array[i]?["field"]);
            var value = AcJson.Text(array[i]?["value"]);
            error = CheckFieldValue(fieldId, value, pointer);
            if (error is not null)
            {
                return null;
            }

            values.Add((fieldId!, value!));
        }

        return values;
    }

    private ApiResult? CheckFieldValue(string? fieldId, string? value, string pointer)
    {
        if (fieldId is null)
        {
            return ApiResult.Unprocessable("field_missing", "Field is required.", pointer + "/field");
        }

        var field = _fields.Find(f => f.Id == fieldId);
        if (field is null)
        {
            return ApiResult.Unprocessable("related_missing", "Field " + fieldId + " does not exist.", pointer + "/field");
        }

        if (value is null)
        {
            return ApiResult.Unprocessable("field_missing", "Value is required.", pointer + "/value");
        }

        return field.Type == "date" && !AcJson.IsDateValue(value)
            ? ApiResult.Unprocessable("field_invalid", "Date fields take YYYY-MM-DD.", pointer + "/value", "Got '" + value + "'.")
            : null;
    }

    private List<FieldValueState> ApplyFieldValues(ContactState contact, IEnumerable<(string FieldId, string Value)> values)
    {
        var now = _time.GetUtcNow();
        var applied = new List<FieldValueState>();
        foreach (var (fieldId, value) in values)
        {
            if (contact.Values.TryGetValue(fieldId, out var existing))
            {
                existing.Value = value;
                existing.Updated = now;
            }
            else
            {
                existing = new FieldValueState(NextId(), contact.Id, fieldId, value, now);
                contact.Values.Add(fieldId, existing);
                _fieldValues.Add(existing);
            }

            applied.Add(existing);
        }

        return applied;
    }

    /// <summary>A key present with a non-null value overwrites (an empty string too); an absent key leaves the value.</summary>
    private static void ApplyNames(ContactState contact, JsonObject c)
    {
        if (AcJson.Text(c["firstName"]) is { } first)
        {
            contact.FirstName = first;
        }

        if (AcJson.Text(c["lastName"]) is { } last)
        {
            contact.LastName = last;
        }

        if (AcJson.Text(c["phone"]) is { } phone)
        {
            contact.Phone = phone;
        }
    }

    private ApiResult ContactSync(JsonNode? root)
    {
        var c = AcJson.Envelope(root, "contact");
        var email = AcJson.Text(c["email"])?.Trim();
        if (CheckEmail(email, "/data/attributes/email") is { } bad)
        {
            return bad;
        }

        var values = ReadFieldValues(c["fieldValues"], out var error);
        if (values is null)
        {
            return error!;
        }

        var created = !_contactsByEmail.TryGetValue(email!, out var contact);
        contact ??= AddContact(email!);
        ApplyNames(contact, c);
        var applied = ApplyFieldValues(contact, values);
        contact.Updated = _time.GetUtcNow();
        var answer = new JsonObject
        {
            ["fieldValues"] = new JsonArray([.. applied.Select(v => (JsonNode)Render(v))]),
            ["contact"] = Render(contact),
        };
        return created ? ApiResult.Created(answer) : ApiResult.Ok(answer);
    }

    private ApiResult ListContacts(IQueryCollection q)
    {
        IEnumerable<ContactState> found = _contacts;
        if (AcJson.Query(q, "email") is { } email)
        {
            found = found.Where(c => string.Equals(c.Email, email.Trim(), StringComparison.OrdinalIgnoreCase));
        }

        if (AcJson.Query(q, "email_like") is { } like)
        {
            found = found.Where(c => c.Email.Contains(like.Trim(), StringComparison.OrdinalIgnoreCase));
        }

        if (AcJson.Query(q, "search") is { } search)
        {
            found = found.Where(c => c.Email.Contains(search, StringComparison.OrdinalIgnoreCase) ||
                                     (c.FirstName ?? "").Contains(search, StringComparison.OrdinalIgnoreCase) ||
                                     (c.LastName ?? "").Contains(search, StringComparison.OrdinalIgnoreCase));
        }

        if (AcJson.Query(q, "ids") is { } ids)
        {
            var wanted = ids.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            found = found.Where(c => wanted.Contains(c.Id));
        }

        if (AcJson.Query(q, "listid") is { } listId)
        {
            found = found.Where(c => _contactLists.Exists(m => m.ContactId == c.Id && m.ListId == listId));
        }

        if (AcJson.Query(q, "tagid") is { } tagId)
        {
            found = found.Where(c => _contactTags.Exists(t => t.ContactId == c.Id && t.TagId == tagId));
        }

        return ApiResult.Ok(AcJson.Page(found.ToList(), q, "contacts", Render));
    }

    private ApiResult GetContact(string id)
    {
        if (!_contactsById.TryGetValue(id, out var contact))
        {
            return ApiResult.NotFound("Subscriber", id);
        }

        return ApiResult.Ok(new JsonObject
        {
            ["contactLists"] = new JsonArray([.. _contactLists.Where(m => m.ContactId == id).Select(m => (JsonNode)Render(m))]),
            ["contactTags"] = new JsonArray([.. _contactTags.Where(t => t.ContactId == id).Select(t => (JsonNode)Render(t))]),
            ["fieldValues"] = new JsonArray([.. contact.Values.Values.Select(v => (JsonNode)Render(v))]),
            ["contact"] = Render(contact),
        });
    }

    private ApiResult UpdateContact(string id, JsonNode? root)
    {
        if (!_contactsById.TryGetValue(id, out var contact))
        {
            return ApiResult.NotFound("Subscriber", id);
        }

        var c = AcJson.Envelope(root, "contact");
        string? newEmail = null;
        if (c.ContainsKey("email") && c["email"] is not null)
        {
            newEmail = AcJson.Text(c["email"])?.Trim() ?? "";
            if (newEmail.Length == 0 || !AcJson.IsEmail(newEmail))
            {
                return ApiResult.Unprocessable("field_invalid", "Email address is not valid.", "/data/attributes/email");
            }

            if (_contactsByEmail.TryGetValue(newEmail, out var other) && other.Id != contact.Id)
            {
                return ApiResult.Unprocessable("duplicate", "Email address already exists in the system.", "/data/attributes/email");
            }
        }

        var values = ReadFieldValues(c["fieldValues"], out var error);
        if (values is null)
        {
            return error!;
        }

        if (newEmail is not null)
        {
            _contactsByEmail.Remove(contact.Email);
            contact.Email = newEmail;
            _contactsByEmail.Add(newEmail, contact);
        }

        ApplyNames(contact, c);
        var applied = ApplyFieldValues(contact, values);
        contact.Updated = _time.GetUtcNow();
        return ApiResult.Ok(new JsonObject
        {
            ["fieldValues"] = new JsonArray([.. applied.Select(v => (JsonNode)Render(v))]),
            ["contact"] = Render(contact),
        });
    }

    private ApiResult FieldValuesOf(string contactId) =>
        _contactsById.TryGetValue(contactId, out var contact)
            ? ApiResult.Ok(new JsonObject { ["fieldValues"] = new JsonArray([.. contact.Values.Values.Select(v => (JsonNode)Render(v))]) })
            : ApiResult.NotFound("Subscriber", contactId);

    private ApiResult ListFields(IQueryCollection q)
    {
        var page = AcJson.Page(_fields, q, "fields", Render);
        var shown = page["fields"]!.AsArray().Select(f => (string)f!["id"]!).ToHashSet(StringComparer.Ordinal);
        page["fieldRels"] = new JsonArray([.. _fields.Where(f => shown.Contains(f.Id)).SelectMany(f => f.Rels).Select(r => (JsonNode)Render(r))]);
        return ApiResult.Ok(page);
    }

    private ApiResult GetField(string id) =>
        _fields.Find(f => f.Id == id) is { } field
            ? ApiResult.Ok(new JsonObject
            {
                ["field"] = Render(field),
                ["fieldRels"] = new JsonArray([.. field.Rels.Select(r => (JsonNode)Render(r))]),
            })
            : ApiResult.NotFound("Field", id);

    private ApiResult CreateField(JsonNode? root)
    {
        var f = AcJson.Envelope(root, "field");
        var title = AcJson.Text(f["title"])?.Trim();
        var type = AcJson.Text(f["type"])?.Trim().ToLowerInvariant();
        var missing = new List<(string, string, string)>();
        if (string.IsNullOrEmpty(title))
        {
            missing.Add(("field_missing", "Title is required.", "/data/attributes/title"));
        }

        if (string.IsNullOrEmpty(type))
        {
            missing.Add(("field_missing", "Type is required.", "/data/attributes/type"));
        }

        if (missing.Count > 0)
        {
            return ApiResult.Unprocessable(missing);
        }

        if (!FieldTypes.Contains(type!))
        {
            return ApiResult.Unprocessable("field_invalid", "Unknown field type '" + type + "'.", "/data/attributes/type");
        }

        if (_fields.Exists(x => string.Equals(x.Title, title, StringComparison.OrdinalIgnoreCase)))
        {
            return ApiResult.Unprocessable("duplicate", "A field with this title already exists.", "/data/attributes/title");
        }

        var perstag = AcJson.Text(f["perstag"])?.Trim();
        perstag = string.IsNullOrEmpty(perstag) ? PerstagFrom(title!) : perstag.ToUpperInvariant();
        if (_fields.Exists(x => string.Equals(x.Perstag, perstag, StringComparison.OrdinalIgnoreCase)))
        {
            return ApiResult.Unprocessable("duplicate", "A field with this personalization tag already exists.", "/data/attributes/perstag");
        }

        var field = new FieldState(NextId(), title!, type!, perstag, AcJson.Text(f["descript"]) ?? "", _time.GetUtcNow());
        _fields.Add(field);
        return ApiResult.Created(new JsonObject { ["field"] = Render(field) });
    }

    /// <summary>AC derives a missing perstag from the title: upper case, other characters as underscores.</summary>
    private static string PerstagFrom(string title)
    {
        var tag = new StringBuilder(title.Length);
        foreach (var ch in title.ToUpperInvariant())
        {
            tag.Append(char.IsAsciiLetterOrDigit(ch) ? ch : '_');
        }

        return tag.ToString();
    }

    private ApiResult ListFieldRels(IQueryCollection q) =>
        ApiResult.Ok(AcJson.Page(_fields.SelectMany(f => f.Rels).OrderBy(r => long.Parse(r.Id, System.Globalization.CultureInfo.InvariantCulture)).ToList(), q, "fieldRels", Render));

    private ApiResult CreateFieldRel(JsonNode? root)
    {
        var r = AcJson.Envelope(root, "fieldRel");
        var fieldId = AcJson.Id(r["field"]);
        var relId = AcJson.Id(r["relid"]);
        if (fieldId is null)
        {
            return ApiResult.Unprocessable("field_missing", "Field is required.", "/data/attributes/field");
        }

        if (relId is null)
        {
            return ApiResult.Unprocessable("field_missing", "Relid is required.", "/data/attributes/relid");
        }

        var field = _fields.Find(f => f.Id == fieldId);
        if (field is null)
        {
            return ApiResult.Unprocessable("related_missing", "Field " + fieldId + " does not exist.", "/data/attributes/field");
        }

        if (relId != "0" && !_lists.Exists(l => l.Id == relId))
        {
            return ApiResult.Unprocessable("related_missing", "List " + relId + " does not exist.", "/data/attributes/relid");
        }

        // Relating a field to a list twice changes nothing: answer the existing relation.
        if (field.Rels.Find(x => x.RelId == relId) is { } existing)
        {
            return ApiResult.Ok(new JsonObject { ["fieldRel"] = Render(existing) });
        }

        var rel = new FieldRelState(NextId(), field.Id, relId, _time.GetUtcNow());
        field.Rels.Add(rel);
        return ApiResult.Created(new JsonObject { ["fieldRel"] = Render(rel) });
    }

    private ApiResult ListFieldValues(IQueryCollection q)
    {
        IEnumerable<FieldValueState> found = _fieldValues;
        if (AcJson.Query(q, "filters[fieldid]") is { } fieldId)
        {
            found = found.Where(v => v.FieldId == fieldId);
        }

        if (AcJson.Query(q, "filters[val]") is { } value)
        {
            found = found.Where(v => v.Value == value);
        }

        return ApiResult.Ok(AcJson.Page(found.ToList(), q, "fieldValues", Render));
    }

    private ApiResult GetFieldValue(string id) =>
        _fieldValues.Find(v => v.Id == id) is { } value
            ? ApiResult.Ok(new JsonObject { ["fieldValue"] = Render(value) })
            : ApiResult.NotFound("FieldValue", id);

    private ApiResult CreateFieldValue(JsonNode? root)
    {
        var v = AcJson.Envelope(root, "fieldValue");
        var contactId = AcJson.Id(v["contact"]);
        if (contactId is null)
        {
            return ApiResult.Unprocessable("field_missing", "Contact is required.", "/data/attributes/contact");
        }

        if (!_contactsById.TryGetValue(contactId, out var contact))
        {
            return ApiResult.Unprocessable("related_missing", "Contact " + contactId + " does not exist.", "/data/attributes/contact");
        }

        var fieldId = AcJson.Id(v["field"]);
        var value = AcJson.Text(v["value"]);
        if (CheckFieldValue(fieldId, value, "/data/attributes") is { } error)
        {
            return error;
        }

        var applied = ApplyFieldValues(contact, [(fieldId!, value!)]);
        contact.Updated = _time.GetUtcNow();
        return ApiResult.Ok(new JsonObject
        {
            ["contacts"] = new JsonArray(Render(contact)),
            ["fieldValue"] = Render(applied[0]),
        });
    }
}
