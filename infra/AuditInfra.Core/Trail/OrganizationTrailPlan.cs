using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Planning;

namespace AuditInfra.Core.Trail;

/// <summary>The OrganizationTrail component's resources, under their Pulumi wire names.</summary>
public static class OrganizationTrailPlan
{
    public const string ComponentType = "auditinfra:trail:OrganizationTrail";
    public const string StackReferenceType = "pulumi:pulumi:StackReference";

    public static string StackReferenceName(OrganizationTrailDesign d) => d.Names.Logical("audit-stack");

    public static string TrailResourceName(OrganizationTrailDesign d) => d.Names.Logical("organization-trail");

    public static string LogGroupName(OrganizationTrailDesign d) => d.Names.Logical("trail-log-group");

    public static string LogKeyName(OrganizationTrailDesign d) => d.Names.Logical("trail-log-group-key");

    public static string RoleName(OrganizationTrailDesign d) => d.Names.Logical("trail-cloudwatch-role");

    public static string RolePolicyName(OrganizationTrailDesign d) => d.Names.Logical("trail-cloudwatch-role-policy");

    /// <summary>The audit stack this trail reads; without a configured reference, this organization's project 'auditinfra', stack 'audit'.</summary>
    public static string AuditStackName(OrganizationTrailDesign d, string organization = "<organization>") =>
        d.Settings.AuditStackReference ?? $"{organization}/auditinfra/audit";

    public static PlannedComponent Render(OrganizationTrailDesign design)
    {
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        var reference = StackReferenceName(design);
        resources.Add(new PlannedResource(StackReferenceType, reference, new JsonObject { ["name"] = AuditStackName(design) }));

        var trail = new JsonObject
        {
            ["name"] = design.Name,
            ["s3BucketName"] = PlannedResource.Ref(reference, "logBucketName"),
            ["kmsKeyId"] = PlannedResource.Ref(reference, "trailKeyArn"),
            ["isOrganizationTrail"] = design.IsOrganizationTrail,
            ["isMultiRegionTrail"] = design.IsMultiRegionTrail,
            ["includeGlobalServiceEvents"] = design.IncludeGlobalServiceEvents,
            ["enableLogFileValidation"] = design.EnableLogFileValidation,
            ["enableLogging"] = design.EnableLogging,
            ["advancedEventSelectors"] = new JsonArray([.. design.Selectors.Select(s => (JsonNode)Selector(s))]),
            ["tags"] = PlannedResource.Tags(design.Tags),
        };
        if (design.S3KeyPrefix.Length > 0)
        {
            trail["s3KeyPrefix"] = design.S3KeyPrefix;
        }

        if (!design.InsightTypes.IsEmpty)
        {
            trail["insightSelectors"] = new JsonArray([.. design.InsightTypes.Select(t => (JsonNode)new JsonObject { ["insightType"] = t })]);
        }

        var dependsOn = ImmutableArray<string>.Empty;
        if (design.CloudWatch is { } cw)
        {
            resources.Add(new PlannedResource("aws:kms/key:Key", LogKeyName(design), new JsonObject
            {
                ["description"] = $"Encrypts the CloudWatch Logs copy of trail '{design.Name}'",
                ["enableKeyRotation"] = cw.LogKeyRotation,
                ["deletionWindowInDays"] = cw.LogKeyDeletionWindowInDays,
                ["policy"] = cw.LogKeyPolicy.ToJsonNode(),
            }));
            resources.Add(new PlannedResource("aws:cloudwatch/logGroup:LogGroup", LogGroupName(design), new JsonObject
            {
                ["name"] = cw.LogGroupName,
                ["retentionInDays"] = cw.RetentionInDays,
                ["kmsKeyId"] = PlannedResource.Ref(LogKeyName(design), "arn"),
            }));
            resources.Add(new PlannedResource("aws:iam/role:Role", RoleName(design), new JsonObject
            {
                ["name"] = cw.RoleName,
                ["assumeRolePolicy"] = cw.RoleTrustPolicy.ToJsonNode(),
            }));
            resources.Add(new PlannedResource("aws:iam/rolePolicy:RolePolicy", RolePolicyName(design), new JsonObject
            {
                ["role"] = PlannedResource.Ref(RoleName(design), "name"),
                ["policy"] = cw.RolePolicy.ToJsonNode(),
            }));
            trail["cloudWatchLogsGroupArn"] = PlannedResource.Ref(LogGroupName(design), "arn") + ":*";
            trail["cloudWatchLogsRoleArn"] = PlannedResource.Ref(RoleName(design), "arn");
            dependsOn = [RolePolicyName(design)];
        }

        resources.Add(new PlannedResource("aws:cloudtrail/trail:Trail", TrailResourceName(design), trail) { Protect = design.Guard.Protect, RetainOnDelete = design.Guard.RetainOnDelete, DependsOn = dependsOn });

        return new PlannedComponent(ComponentType, design.Names.Logical("organization-trail-component"), resources.ToImmutable())
        {
            Outputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                ["trailArn"] = design.TrailArn,
                ["trailName"] = design.Name,
            }),
            Notes = Notes(design),
        };
    }

    public static ImmutableArray<string> Notes(OrganizationTrailDesign design)
    {
        var notes = ImmutableArray.CreateBuilder<string>();
        notes.Add("Prerequisite: trusted access for CloudTrail in Organizations (aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com); the program checks it and stops with that command if it is missing.");
        notes.Add($"Order: deploy the 'audit' stack first; this trail reads its bucket and key from {AuditStackName(design)} and waits for its 'logArchiveReady' output (bucket and key policies in place), because CloudTrail checks both when the trail is created.");
        notes.Add("Member accounts need no trail of their own: this organization trail records every account and region, and accounts created later inherit it. A second trail recording management events is billed as a paid copy for every event.");
        notes.Add("Management events are recorded read and write" + (design.Settings.ExcludeManagementEventSources.IsEmpty ? "." : $", except from {string.Join(", ", design.Settings.ExcludeManagementEventSources)}."));
        if (design.Settings.DelegatedAdministratorAccountId is { } delegated)
        {
            notes.Add($"Delegated administrator: account {delegated} may manage the trail, but the management account still owns it (the trail ARN names the management account), and the delegated administrator cannot remove the trail's protection by Pulumi: run this stack with management-account credentials unless you have moved the stack's state deliberately.");
        }

        return notes.ToImmutable();
    }

    private static JsonObject Selector(AdvancedEventSelector selector) => new()
    {
        ["name"] = selector.Name,
        ["fieldSelectors"] = new JsonArray([.. selector.FieldSelectors.Select(f =>
        {
            var node = new JsonObject { ["field"] = f.Field };
            Add(node, "equals", f.EqualTo);
            Add(node, "notEquals", f.NotEqualTo);
            Add(node, "startsWiths", f.StartsWith);
            return (JsonNode)node;
        })]),
    };

    private static void Add(JsonObject node, string key, ImmutableArray<string> values)
    {
        if (!values.IsEmpty)
        {
            node[key] = new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
        }
    }
}
