using System.Net;
using KivaSync.SyncService.ActiveCampaign;
using KivaSync.SyncService.Telemetry;

namespace KivaSync.SyncService.Provisioning;

/// <summary>The five custom fields (date type for the dates) and their relation to all lists (relid "0").</summary>
public sealed class CustomFieldsStep(AcNameCatalog names, SyncTelemetry telemetry, ILogger<CustomFieldsStep> logger) : IProvisioningStep
{
    /// <summary>The <see cref="AcNameCatalog"/> kind of custom fields.</summary>
    public const string Kind = "fields";

    /// <inheritdoc />
    public int Order => 10;

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProvisionedThing>> RunAsync(string tenant, AcClient client, CancellationToken ct)
    {
        using var activity = telemetry.Source.StartActivity(SyncTelemetry.Spans.EnsureFields);
        var things = new List<ProvisionedThing>();
        var fields = await client.ListFieldsAsync(ct);
        IReadOnlyList<AcFieldRelation>? relations = null;
        foreach (var definition in AcCustomFields.All)
        {
            var field = Match(fields, definition.Title);
            var created = false;
            if (field is null)
            {
                try
                {
                    field = await client.CreateFieldAsync(definition, ct);
                    created = true;
                    Log.FieldCreated(logger, definition.Title, field.Id, tenant);
                }
                catch (AcRequestException e) when (e.Status == HttpStatusCode.UnprocessableEntity && e.Code == "duplicate")
                {
                    // Another replica made it between our list and our create: read it back.
                    fields = await client.ListFieldsAsync(ct);
                    field = Match(fields, definition.Title);
                    if (field is null)
                    {
                        throw;
                    }
                }
            }

            things.Add(new ProvisionedThing("field", definition.Title, field.Id, created));

            // A field made now has no relation yet; an existing one may lack it (a run stopped in between).
            AcFieldRelation? relation = null;
            if (!created)
            {
                relations ??= await client.ListFieldRelationsAsync(ct);
                relation = relations.FirstOrDefault(r => r.FieldId == field.Id && r.ListId == "0");
            }

            if (relation is null)
            {
                relation = await client.CreateFieldRelationAsync(field.Id, "0", ct);
                things.Add(new ProvisionedThing("field_rel", definition.Title, relation.Id, true));
            }
            else
            {
                things.Add(new ProvisionedThing("field_rel", definition.Title, relation.Id, false));
            }

            // Stored only once the relation exists, so the sync never uses a field that is not on the lists.
            await names.SetAsync(tenant, Kind, definition.Title, field.Id);
        }

        return things;
    }

    private static AcField? Match(IReadOnlyList<AcField> fields, string title) =>
        fields.FirstOrDefault(f => string.Equals(f.Title.Trim(), title, StringComparison.OrdinalIgnoreCase));
}
