using System.Globalization;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Provisioning;
using KivaSync.SyncService.State;

namespace KivaSync.SyncService.Sync;

/// <summary>
/// The contract's lists, opt-out and order tag for one contact. What it last set is kept in the contact's
/// hash (per list: "1" subscribed, "2" unsubscribed, "x" the person unsubscribed inside AC — never subscribed
/// again; the order tag and its association id), so an unchanged contact costs no request and a new week
/// changes only the tags that must change.
/// </summary>
public sealed class ListsAndTagsFollowUp(
    StateStore store,
    ContactListsStep lists,
    OrderTagsStep tags) : IContactFollowUp
{
    /// <summary>Hash field prefix of a list's recorded status ("ls:All").</summary>
    public const string ListField = Schema.Contact.ListPrefix;

    /// <summary>Hash field of the order tag last set.</summary>
    public const string TagField = Schema.Contact.Tag;

    /// <summary>Hash field of that tag's association id (what DELETE contactTags takes).</summary>
    public const string TagAssociationField = Schema.Contact.TagAssociation;

    /// <summary>The person unsubscribed from the list inside AC: the sync never subscribes it again.</summary>
    public const string LeftInAc = Schema.Contact.ListLeftInAc;

    private static readonly string[] ReadFields =
    [
        ContactSnapshot.Fields.Status, ContactSnapshot.Fields.OptIn, ContactSnapshot.Fields.OrderWeek, ContactSnapshot.Fields.OrderState,
        ContactSnapshot.Fields.AcId, TagField,
        .. ContactListsStep.ContractLists.Select(l => ListField + l),
    ];

    /// <inheritdoc />
    public int Order => 10;

    /// <inheritdoc />
    public async Task<bool> HasPendingAsync(string tenant, string member)
    {
        var map = await store.ReadFieldsAsync(tenant, member, ReadFields);

        if (!map.ContainsKey(ContactSnapshot.Fields.AcId))
        {
            return false;
        }

        var plan = Desired(map, ContactRef.IsCustomerMember(member), await CurrentWeekAsync(tenant));
        return plan.Lists.Any(l => NeedsChange(l.Value, Recorded(map, l.Key))) || !string.Equals(plan.Tag, Get(map, TagField), StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public async Task RunAsync(SyncedContact contact, CancellationToken ct)
    {
        if (await MergedAwayAsync(contact))
        {
            return;
        }

        var values = contact.Snapshot.Values;
        var plan = Desired(values, contact.Snapshot.IsCustomer, await CurrentWeekAsync(contact.Tenant));
        await SyncListsAsync(contact, plan, ct);
        await SyncTagAsync(contact, plan.Tag, ct);
    }

    private async Task SyncListsAsync(SyncedContact contact, Plan plan, CancellationToken ct)
    {
        var values = contact.Snapshot.Values;
        var recorded = ContactListsStep.ContractLists.ToDictionary(l => l, l => Recorded(values, l), StringComparer.Ordinal);
        var changes = plan.Lists.Where(l => NeedsChange(l.Value, recorded[l.Key])).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        if (!contact.CreatedNow && recorded.Values.All(r => r is null))
        {
            // We never set a list on this AC contact (e.g. a lead whose hash merged into a customer's): it may be
            // on lists it must leave. AC's statuses below decide which of these need a request.
            foreach (var (name, status) in plan.Lists.Where(l => l.Value == AcClient.Unsubscribed))
            {
                changes[name] = status;
            }
        }

        if (changes.Count == 0)
        {
            return;
        }

        var client = contact.Client;
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in changes.Keys)
        {
            ids[name] = (await lists.GetOrCreateAsync(contact.Tenant, client, name, ct)).Id;
        }

        if (!contact.CreatedNow)
        {
            // AC may show what we do not know: an unsubscribe made by the person (never undone, so it must be
            // seen before we overwrite it with our own), or lists a lead was on before its hash merged into a
            // customer's (e.g. Leads, which it must leave). A contact AC made just now has no lists yet.
            var inAc = (await client.GetContactListsAsync(contact.AcId, ct)).ToDictionary(m => m.ListId, m => m.Status, StringComparer.Ordinal);
            foreach (var name in changes.Keys.ToList())
            {
                if (!inAc.TryGetValue(ids[name], out var status))
                {
                    if (changes[name] == AcClient.Unsubscribed)
                    {
                        // Never on the list: "never subscribed" is as right as "unsubscribed".
                        changes.Remove(name);
                    }

                    continue;
                }

                if (status == AcClient.Unsubscribed && recorded[name] != Schema.Contact.ListUnsubscribed)
                {
                    await RecordAsync(contact, ListField + name, LeftInAc);
                    changes.Remove(name);
                }
                else if (status == changes[name])
                {
                    await RecordAsync(contact, ListField + name, Status(status));
                    changes.Remove(name);
                }
            }
        }

        foreach (var (name, status) in changes)
        {
            if (await MergedAwayAsync(contact))
            {
                return;
            }

            await client.SetContactListStatusAsync(contact.AcId, ids[name], status, ct);
            // Recorded after each request, so a retry after a failure resends nothing that AC took.
            await RecordAsync(contact, ListField + name, Status(status));
        }
    }

    private async Task SyncTagAsync(SyncedContact contact, string? desired, CancellationToken ct)
    {
        var values = contact.Snapshot.Values;
        var recorded = Get(values, TagField);
        if (string.Equals(desired, recorded, StringComparison.Ordinal))
        {
            return;
        }

        var client = contact.Client;
        string? existingAssociation = null;
        if (Get(values, TagAssociationField) is { Length: > 0 } association)
        {
            // Removed first and forgotten after: a retry removes it again (404, fine) and never leaves two tags.
            await client.RemoveContactTagAsync(association, ct);
            await ForgetTagAsync(contact);
        }
        else if (!contact.CreatedNow)
        {
            // No association id known (never tagged by us, or tagged by a bulk import, which returns none):
            // the contact may carry any of the four order tags; find their associations. Every order tag the account
            // has counts, also one made by name elsewhere (a bulk import) whose id was never recorded here.
            var orderTagIds = await tags.FindExistingAsync(contact.Tenant, client, ct);

            if (orderTagIds.Count > 0)
            {
                foreach (var tag in await client.GetContactTagsAsync(contact.AcId, ct))
                {
                    if (!orderTagIds.TryGetValue(tag.TagId, out var name))
                    {
                        continue;
                    }

                    if (name == desired)
                    {
                        existingAssociation = tag.AssociationId;
                    }
                    else
                    {
                        await client.RemoveContactTagAsync(tag.AssociationId, ct);
                    }
                }
            }
        }

        if (desired is null)
        {
            return;
        }

        var associationId = existingAssociation
            ?? await client.AddContactTagAsync(contact.AcId, (await tags.GetOrCreateAsync(contact.Tenant, client, desired, ct)).Id, ct);
        await store.SetIfExistsAsync(contact.Tenant, contact.Snapshot.Member, (TagField, desired), (TagAssociationField, associationId));
    }

    /// <summary>The lists (1 subscribed / 2 not) and order tag the contract asks for.</summary>
    internal static Plan Desired(IReadOnlyDictionary<string, string> values, bool isCustomer, string? currentWeek)
    {
        var status = Get(values, ContactSnapshot.Fields.Status);
        var optedOut = Get(values, ContactSnapshot.Fields.OptIn) == "0";
        bool[] member =
        [
            true,
            isCustomer && status == "Active",
            isCustomer && status is "Stopped" or "Cancelled" or "Dead",
            !isCustomer,
        ];
        var wanted = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < member.Length; i++)
        {
            // Opt-out wins: subscribed to none until the person opts in again.
            wanted[ContactListsStep.ContractLists[i]] = member[i] && !optedOut ? AcClient.Subscribed : AcClient.Unsubscribed;
        }

        string? tag = null;
        if (isCustomer)
        {
            var week = Get(values, ContactSnapshot.Fields.OrderWeek);
            tag = week is { Length: > 0 } && week == currentWeek
                ? Get(values, ContactSnapshot.Fields.OrderState) switch
                {
                    "open" => OrderTagsStep.OpenOrder,
                    "closed" => OrderTagsStep.ClosedOrder,
                    "cancelled" => OrderTagsStep.CancelledOrder,
                    _ => OrderTagsStep.NoOrder,
                }
                : OrderTagsStep.NoOrder;
        }

        return new Plan(wanted, tag);
    }

    /// <summary>The tenant's current week: its latest weekly cycle's, else the ISO week (UTC) of its newest entry.</summary>
    internal async Task<string?> CurrentWeekAsync(string tenant)
    {
        var meta = await store.ReadMetaAsync(tenant);
        if (meta.CurrentWeek is { Length: > 0 } week)
        {
            return week;
        }

        if (meta.NewestEntryTsMs < 0)
        {
            return null;
        }

        var day = DateTimeOffset.FromUnixTimeMilliseconds(meta.NewestEntryTsMs).UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(day):D4}-W{ISOWeek.GetWeekOfYear(day):D2}");
    }

    /// <summary>Unsubscribing a list never subscribed is not needed ("never subscribed" is right too); "x" is never touched.</summary>
    private static bool NeedsChange(int wanted, string? recorded) =>
        recorded != LeftInAc && (wanted == AcClient.Subscribed ? recorded != Schema.Contact.ListSubscribed : recorded == Schema.Contact.ListSubscribed);

    private static string? Recorded(IReadOnlyDictionary<string, string> values, string list) => Get(values, ListField + list);

    private static string? Get(IReadOnlyDictionary<string, string> values, string field) =>
        values.TryGetValue(field, out var value) && value.Length > 0 ? value : null;

    internal static string Status(int status) => status == AcClient.Subscribed ? Schema.Contact.ListSubscribed : Schema.Contact.ListUnsubscribed;

    /// <summary>True for a lead that merged into a customer since its sync began. Its AC contact is the customer's now,
    /// whose own sync sets its lists: a lead's plan (Leads, not Active) arriving after that would undo it.</summary>
    private async Task<bool> MergedAwayAsync(SyncedContact contact) =>
        !contact.Snapshot.IsCustomer && !await store.ExistsAsync(contact.Tenant, contact.Snapshot.Member);

    private Task RecordAsync(SyncedContact contact, string field, string value) =>
        store.SetIfExistsAsync(contact.Tenant, contact.Snapshot.Member, (field, value));

    private Task ForgetTagAsync(SyncedContact contact) =>
        store.DeleteFieldsAsync(contact.Tenant, contact.Snapshot.Member, TagField, TagAssociationField);

    /// <summary>Desired list statuses by list name, and the order tag (null: none).</summary>
    internal sealed record Plan(IReadOnlyDictionary<string, int> Lists, string? Tag);
}
