using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Rollout;

/// <summary>One region's forwarding rule and its target (the central bus).</summary>
public sealed record ForwardingRuleDesign(string Region, string LogicalName, string RuleName, string TargetId);

/// <summary>One governed region's canary schedule.</summary>
public sealed record CanaryScheduleDesign(string Region, string LogicalName, string ScheduleName);

/// <summary>
/// The account's detection canary: in every governed region an EventBridge Scheduler schedule
/// that overwrites the canary SSM parameter with its scheduled time, through a role that may do
/// exactly that. CloudTrail records the call as a management write event, the forwarding rule
/// carries it to the central bus, and the hub's detection-canary rule records its latency.
/// </summary>
public sealed record CanaryBaselineDesign(
    string RoleLogicalName,
    string RoleName,
    PolicyDocument TrustPolicy,
    string RolePolicyLogicalName,
    PolicyDocument PutParameterPolicy,
    string ParameterName,
    int IntervalMinutes,
    ImmutableArray<CanaryScheduleDesign> Schedules)
{
    /// <summary>Every schedule's own group: the default one (a group of our own would be one more thing to tamper with).</summary>
    public const string GroupName = "default";

    public string ScheduleExpression => IntervalMinutes == 1 ? "rate(1 minute)" : $"rate({IntervalMinutes} minutes)";

    /// <summary>
    /// A universal target: Scheduler calls ssm:PutParameter itself (arn:&lt;partition&gt;:scheduler:::aws-sdk:&lt;service&gt;:&lt;apiAction&gt;),
    /// so no function runs in the member account.
    /// </summary>
    public string TargetArn(string partition) => $"arn:{partition}:scheduler:::aws-sdk:ssm:putParameter";

    /// <summary>The PutParameter request; Scheduler replaces &lt;aws.scheduler.scheduled-time&gt; with the invocation's scheduled time.</summary>
    public string TargetInput => new JsonObject
    {
        ["Name"] = ParameterName,
        ["Value"] = "<aws.scheduler.scheduled-time>",
        ["Type"] = "String",
        ["Overwrite"] = true,
    }.ToJsonString(JsonFormat.Compact);

    /// <summary>A canary older than its interval measures nothing new: drop it rather than retry for hours.</summary>
    public int MaximumEventAgeInSeconds => Math.Max(60, IntervalMinutes * 60);

    public const int MaximumRetryAttempts = 2;
}

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

    /// <summary>The detection canary, unless the catalog's detection-canary is disabled.</summary>
    public CanaryBaselineDesign? Canary { get; init; }
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
        return new AccountBaselineDesign(inputs, $"{inputs.NamePrefix}-forwarding-role", roleName, trust, $"{inputs.NamePrefix}-forwarding-policy", putEvents, pattern, rules, tags)
        {
            Canary = inputs.CanaryIntervalMinutes is { } interval ? Canary(inputs, partition, interval) : null,
        };
    }

    private static CanaryBaselineDesign Canary(AccountBaselineInputs inputs, string partition, int intervalMinutes)
    {
        var parameter = Detection.CanaryNames.Parameter(inputs.NamePrefix);
        var trust = new PolicyDocument(new PolicyStatement
        {
            Sid = "AllowSchedulerToRunTheCanary",
            Principal = PolicyPrincipal.Service("scheduler.amazonaws.com"),
            Actions = ["sts:AssumeRole"],
            Conditions = [new PolicyCondition("StringEquals", "aws:SourceAccount", inputs.AccountId)],
        });
        var putParameter = new PolicyDocument(new PolicyStatement
        {
            Sid = "OverwriteTheCanaryParameterOnly",
            Actions = ["ssm:PutParameter"],
            // The parameter name starts with '/', which the ARN's "parameter" already ends before.
            Resources = [.. inputs.GovernedRegions.Select(region => $"arn:{partition}:ssm:{region}:{inputs.AccountId}:parameter{parameter}")],
        });
        var schedules = inputs.GovernedRegions.Select(region => new CanaryScheduleDesign(
            region,
            $"{inputs.NamePrefix}-canary-{region}",
            Detection.CanaryNames.Schedule(inputs.NamePrefix))).ToImmutableArray();
        return new CanaryBaselineDesign(
            $"{inputs.NamePrefix}-canary-role",
            Detection.CanaryNames.Role(inputs.NamePrefix),
            trust,
            $"{inputs.NamePrefix}-canary-policy",
            putParameter,
            parameter,
            intervalMinutes,
            schedules);
    }

    public static string PatternJson(AccountBaselineDesign design) => design.EventPattern.ToJsonString(JsonFormat.Compact);
}

/// <summary>The AccountBaseline component's resources, under their Pulumi wire names.</summary>
public static class AccountBaselinePlan
{
    public const string RuleDescription = "Forwards CloudTrail events to the AuditInfra central bus";

    public const string CanaryRoleDescription = "Lets EventBridge Scheduler overwrite the AuditInfra detection canary parameter";

    public const string CanaryScheduleDescription = "AuditInfra detection canary: proves this region's events reach the central bus";

    public static string ComponentName(AccountBaselineDesign design) => $"{design.Inputs.NamePrefix}-account-baseline";

    public static string TargetName(ForwardingRuleDesign rule) => $"{rule.LogicalName}-target";

    public static PlannedComponent Render(AccountBaselineDesign design)
    {
        var tags = PlannedResource.Tags(design.Tags);
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        resources.AddRange(PlannedRoles.WithInlinePolicy(design.RoleLogicalName, design.RoleName, "Lets EventBridge forward this account's CloudTrail events to the central bus", design.TrustPolicy, design.RolePolicyLogicalName, design.PutEventsPolicy, tags));
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

        if (design.Canary is { } canary)
        {
            var partition = AwsFormats.PartitionOf(design.Inputs.HomeRegion);
            resources.AddRange(PlannedRoles.WithInlinePolicy(canary.RoleLogicalName, canary.RoleName, CanaryRoleDescription, canary.TrustPolicy, canary.RolePolicyLogicalName, canary.PutParameterPolicy, tags));
            foreach (var schedule in canary.Schedules)
            {
                resources.Add(new PlannedResource("aws:scheduler/schedule:Schedule", schedule.LogicalName, new JsonObject
                {
                    ["name"] = schedule.ScheduleName,
                    ["groupName"] = CanaryBaselineDesign.GroupName,
                    ["region"] = schedule.Region,
                    ["description"] = CanaryScheduleDescription,
                    ["scheduleExpression"] = canary.ScheduleExpression,
                    ["flexibleTimeWindow"] = new JsonObject { ["mode"] = "OFF" },
                    ["state"] = "ENABLED",
                    ["target"] = new JsonObject
                    {
                        ["arn"] = canary.TargetArn(partition),
                        ["roleArn"] = PlannedResource.Ref(canary.RoleLogicalName, "arn"),
                        ["input"] = canary.TargetInput,
                        ["retryPolicy"] = new JsonObject
                        {
                            ["maximumEventAgeInSeconds"] = canary.MaximumEventAgeInSeconds,
                            ["maximumRetryAttempts"] = CanaryBaselineDesign.MaximumRetryAttempts,
                        },
                    },
                }));
            }
        }

        return new PlannedComponent(AccountBaselineDesign.ComponentType, ComponentName(design), resources.ToImmutable())
        {
            Notes =
            [
                $"Account {design.Inputs.AccountId}: forwards CloudTrail-delivered events from {string.Join(", ", design.Rules.Select(r => r.Region))} to {design.Inputs.CentralBusArn}.",
                design.Inputs.ForwardedSources.IsEmpty
                    ? "Every CloudTrail-delivered event is forwarded: some detections (root use, unauthorized calls, custom ones) can fire on any service."
                    : $"Forwarded sources: {string.Join(", ", design.Inputs.ForwardedSources)}.",
                design.Canary is { } c
                    ? $"Detection canary: every {c.IntervalMinutes} minute(s) in {string.Join(", ", c.Schedules.Select(s => s.Region))}, schedule {c.Schedules[0].ScheduleName} overwrites SSM parameter {c.ParameterName} (a management write event) as role {c.RoleName}; the central bus records its latency."
                    : "No detection canary (the detection-canary detection is disabled).",
            ],
        };
    }
}
