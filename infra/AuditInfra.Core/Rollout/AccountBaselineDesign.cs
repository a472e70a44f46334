using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Rollout;

/// <summary>One region's forwarding rule and its target (the central bus).</summary>
public sealed record ForwardingRuleDesign(string Region, string LogicalName, string RuleName, string TargetId);

/// <summary>
/// What the rollout deploys into one member account (stack <c>account-&lt;id&gt;</c>): in every
/// governed region a rule on the default bus that forwards CloudTrail-delivered events to the
/// central bus, through one role EventBridge assumes. The Detection capability owns the full
/// AccountBaseline; this design is what the Automation host's inline program maps until then.
/// </summary>
public sealed record AccountBaselineDesign(
    AccountBaselineInputs Inputs,
    string RoleLogicalName,
    string RoleName,
    PolicyDocument TrustPolicy,
    string RolePolicyLogicalName,
    PolicyDocument PutEventsPolicy,
    JsonObject EventPattern,
    ImmutableArray<ForwardingRuleDesign> Rules,
    ImmutableSortedDictionary<string, string> Tags)
{
    public const string ComponentType = "auditinfra:detection:AccountBaseline";
}

public static class AccountBaselineDesigner
{
    /// <summary>The events forwarded: every event CloudTrail delivers to EventBridge (API calls, console sign-ins, service events).</summary>
    public static readonly ImmutableArray<string> ForwardedDetailTypes =
    [
        "AWS API Call via CloudTrail",
        "AWS Console Sign In via CloudTrail",
        "AWS Service Event via CloudTrail",
    ];

    public static AccountBaselineDesign Design(AccountBaselineInputs inputs)
    {
        var partition = AwsFormats.PartitionOf(inputs.HomeRegion);
        var roleName = $"{inputs.NamePrefix}-event-forwarding";
        var trust = new PolicyDocument(new PolicyStatement
        {
            Sid = "AllowEventBridgeToForward",
            Principal = PolicyPrincipal.Service("events.amazonaws.com"),
            Actions = ["sts:AssumeRole"],
            Conditions = [new PolicyCondition("StringEquals", "aws:SourceAccount", inputs.AccountId)],
        });
        var putEvents = new PolicyDocument(new PolicyStatement
        {
            Sid = "PutEventsOnTheCentralBus",
            Actions = ["events:PutEvents"],
            Resources = [inputs.CentralBusArn],
        });
        var pattern = new JsonObject
        {
            ["detail-type"] = new JsonArray([.. ForwardedDetailTypes.Select(t => (JsonNode)JsonValue.Create(t))]),
        };
        if (!inputs.ForwardedSources.IsEmpty)
        {
            // Only what some detection can fire on leaves the account.
            pattern["source"] = new JsonArray([.. inputs.ForwardedSources.Select(s => (JsonNode)JsonValue.Create(s))]);
        }

        if (pattern.ToJsonString(JsonFormat.Compact).Length > Detection.DetectionCatalog.MaxPatternCharacters)
        {
            throw new InvalidOperationException($"the forwarding pattern is over EventBridge's {Detection.DetectionCatalog.MaxPatternCharacters}-character limit: split it");
        }
        var rules = inputs.GovernedRegions.Select(region => new ForwardingRuleDesign(
            region,
            $"{inputs.NamePrefix}-forward-{region}",
            $"{inputs.NamePrefix}-forward-to-central-bus",
            "central-bus")).ToImmutableArray();
        var tags = inputs.Tags
            .SetItem("auditinfra:component", "AccountBaseline")
            .SetItem("auditinfra:stack", inputs.StackName)
            .SetItem("managed-by", "auditinfra-rollout");
        return new AccountBaselineDesign(inputs, $"{inputs.NamePrefix}-forwarding-role", roleName, trust, $"{inputs.NamePrefix}-forwarding-policy", putEvents, pattern, rules, tags);
    }

    public static string PatternJson(AccountBaselineDesign design) => design.EventPattern.ToJsonString(JsonFormat.Compact);
}

/// <summary>The AccountBaseline component's resources, under their Pulumi wire names.</summary>
public static class AccountBaselinePlan
{
    public const string RuleDescription = "Forwards CloudTrail events to the AuditInfra central bus";

    public static string ComponentName(AccountBaselineDesign design) => $"{design.Inputs.NamePrefix}-account-baseline";

    public static string TargetName(ForwardingRuleDesign rule) => $"{rule.LogicalName}-target";

    public static PlannedComponent Render(AccountBaselineDesign design)
    {
        var tags = PlannedResource.Tags(design.Tags);
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        resources.Add(new PlannedResource("aws:iam/role:Role", design.RoleLogicalName, new JsonObject
        {
            ["name"] = design.RoleName,
            ["description"] = "Lets EventBridge forward this account's CloudTrail events to the central bus",
            ["assumeRolePolicy"] = design.TrustPolicy.ToJsonNode(),
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:iam/rolePolicy:RolePolicy", design.RolePolicyLogicalName, new JsonObject
        {
            ["role"] = PlannedResource.Ref(design.RoleLogicalName, "id"),
            ["policy"] = design.PutEventsPolicy.ToJsonNode(),
        }));
        foreach (var rule in design.Rules)
        {
            resources.Add(new PlannedResource("aws:cloudwatch/eventRule:EventRule", rule.LogicalName, new JsonObject
            {
                ["name"] = rule.RuleName,
                ["region"] = rule.Region,
                ["description"] = RuleDescription,
                ["eventPattern"] = AccountBaselineDesigner.PatternJson(design),
                ["state"] = "ENABLED",
                ["tags"] = tags.DeepClone(),
            }));
            resources.Add(new PlannedResource("aws:cloudwatch/eventTarget:EventTarget", TargetName(rule), new JsonObject
            {
                ["rule"] = PlannedResource.Ref(rule.LogicalName, "name"),
                ["region"] = rule.Region,
                ["arn"] = design.Inputs.CentralBusArn,
                ["roleArn"] = PlannedResource.Ref(design.RoleLogicalName, "arn"),
                ["targetId"] = rule.TargetId,
            }));
        }

        return new PlannedComponent(AccountBaselineDesign.ComponentType, ComponentName(design), resources.ToImmutable())
        {
            Notes =
            [
                $"Account {design.Inputs.AccountId}: forwards CloudTrail-delivered events from {string.Join(", ", design.Rules.Select(r => r.Region))} to {design.Inputs.CentralBusArn}.",
                design.Inputs.ForwardedSources.IsEmpty
                    ? "Every CloudTrail-delivered event is forwarded: some detections (root use, unauthorized calls, custom ones) can fire on any service."
                    : $"Forwarded sources: {string.Join(", ", design.Inputs.ForwardedSources)}.",
            ],
        };
    }
}
