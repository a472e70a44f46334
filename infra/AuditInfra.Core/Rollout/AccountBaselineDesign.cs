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
    public const string ComponentType = "auditinfra:rollout:AccountBaseline";
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
