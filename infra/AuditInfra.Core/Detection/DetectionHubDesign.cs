using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.Detection;

public sealed record DetectionRuleDesign(DetectionRule Detection, string LogicalName, string RuleName, string Description);

/// <summary>The topic's own key: rotated, and a month to notice a scheduled deletion.</summary>
public sealed record TopicKeyDesign(string Description, bool EnableKeyRotation, int DeletionWindowInDays);

/// <summary>
/// The audit account's detection hub: a central bus accepting events only from this
/// organization, one rule per enabled detection, an encrypted SNS topic as default target, extra
/// targets from configuration, and a dead-letter queue for failed deliveries.
/// </summary>
public sealed record DetectionHubDesign(
    ResourceNames Names,
    string BusName,
    PolicyDocument BusPolicy,
    string TopicName,
    PolicyDocument TopicPolicy,
    PolicyDocument TopicKeyPolicy,
    string DeadLetterQueueName,
    PolicyDocument DeadLetterQueuePolicy,
    ImmutableArray<DetectionRuleDesign> Rules,
    ImmutableArray<string> ExtraTargetArns,
    ImmutableSortedDictionary<string, string> Tags)
{
    public const string ComponentType = "auditinfra:detection:DetectionHub";

    /// <summary>How long and how often EventBridge retries a failed delivery before dead-lettering it.</summary>
    public const int MaximumEventAgeInSeconds = 86400;

    public const int MaximumRetryAttempts = 185;

    public TopicKeyDesign TopicKey { get; init; } = new("Encrypts the AuditInfra detection topic", EnableKeyRotation: true, DeletionWindowInDays: 30);

    /// <summary>SQS's longest retention (14 days): time to notice and replay failed deliveries.</summary>
    public int DeadLetterRetentionSeconds { get; init; } = 1_209_600;

    public bool DeadLetterSqsManagedSse { get; init; } = true;

    /// <summary>Detection rules are always on (the offline check and the policy pack reject a disabled one).</summary>
    public string RuleState { get; init; } = "ENABLED";
}

public static class DetectionHubDesigner
{
    public const string AlarmsPublishSid = "AllowDesignAlarmsToPublish";

    public static DetectionHubDesign Design(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var audit = config.Organization.AuditAccountId;
        var region = config.HomeRegion;
        var topicName = names.DetectionTopicName;
        var topicArn = names.DetectionTopicArn;
        var dlqName = names.DetectionDeadLetterQueueName;
        var dlqArn = names.DetectionDeadLetterQueueArn;
        var ruleArns = $"arn:{names.Partition}:events:{region}:{audit}:rule/{names.DetectionBusName}/{names.DetectionRuleNamePrefix}*";

        var busPolicy = new PolicyDocument(new PolicyStatement
        {
            Sid = "AllowPutEventsFromThisOrganizationOnly",
            Principal = PolicyPrincipal.Anyone,
            Actions = ["events:PutEvents"],
            Resources = [names.DetectionBusArn],
            Conditions = [new PolicyCondition("StringEquals", "aws:PrincipalOrgID", config.Organization.OrganizationId)],
        });
        var fromDetectionRules = new PolicyCondition("ArnLike", "aws:SourceArn", ruleArns);
        // The design's own CloudWatch alarms (e.g. the integrity monitor's missed run) notify the same topic.
        var fromDesignAlarms = new PolicyCondition("ArnLike", "aws:SourceArn", $"arn:{names.Partition}:cloudwatch:{region}:{audit}:alarm:{config.NamePrefix}-*");
        var topicPolicy = new PolicyDocument(
            new PolicyStatement
            {
                Sid = "AllowDetectionRulesToPublish",
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("events")),
                Actions = ["sns:Publish"],
                Resources = [topicArn],
                Conditions = [fromDetectionRules],
            },
            new PolicyStatement
            {
                Sid = AlarmsPublishSid,
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("cloudwatch")),
                Actions = ["sns:Publish"],
                Resources = [topicArn],
                Conditions = [fromDesignAlarms],
            });
        var keyPolicy = new PolicyDocument(
            new PolicyStatement
            {
                Sid = LogArchivePolicies.KeyAdministrationSid,
                Principal = PolicyPrincipal.Aws(config.DeploymentRoleArn, config.BreakGlassRoleArn),
                Actions = LogArchivePolicies.KeyAdministrationActions,
                Resources = ["*"],
            },
            new PolicyStatement
            {
                // EventBridge encrypts what it publishes to the topic with this key.
                Sid = "AllowEventBridgeToUseTheKey",
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("events")),
                Actions = ["kms:Decrypt", "kms:GenerateDataKey*"],
                Resources = ["*"],
                Conditions = [fromDetectionRules],
            },
            new PolicyStatement
            {
                Sid = AlarmsPublishSid,
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("cloudwatch")),
                Actions = ["kms:Decrypt", "kms:GenerateDataKey*"],
                Resources = ["*"],
                Conditions = [fromDesignAlarms],
            },
            new PolicyStatement
            {
                Sid = "AllowSubscribersOfTheAuditAccount",
                Principal = PolicyPrincipal.Aws(names.AccountRootArn(audit)),
                Actions = ["kms:Decrypt", "kms:DescribeKey"],
                Resources = ["*"],
                Conditions = [new PolicyCondition("StringEquals", "kms:CallerAccount", audit)],
            });
        var dlqPolicy = new PolicyDocument(new PolicyStatement
        {
            Sid = "AllowDetectionRulesToDeadLetter",
            Principal = PolicyPrincipal.Service(names.ServicePrincipal("events")),
            Actions = ["sqs:SendMessage"],
            Resources = [dlqArn],
            Conditions = [fromDetectionRules],
        });

        var rules = DetectionCatalog.For(config).Select(d => new DetectionRuleDesign(
            d,
            names.Logical($"detect-{d.Id}"),
            names.DetectionRuleNamePrefix + d.Id,
            Truncate($"[{d.Severity.ToString().ToUpperInvariant()}] {d.Title}", 512))).ToImmutableArray();

        return new DetectionHubDesign(names, names.DetectionBusName, busPolicy, topicName, topicPolicy, keyPolicy, dlqName, dlqPolicy, rules, config.Detection.ExtraTargetArns, DesignTags.For(config, "DetectionHub"));
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}

public static class DetectionHubPlan
{
    public static string BusResourceName(DetectionHubDesign d) => d.Names.Logical("detection-bus");

    public static string TopicResourceName(DetectionHubDesign d) => d.Names.Logical("detection-topic");

    public static string TopicKeyResourceName(DetectionHubDesign d) => d.Names.Logical("detection-topic-key");

    public static string DeadLetterQueueResourceName(DetectionHubDesign d) => d.Names.Logical("detection-dlq");

    public static string TargetName(DetectionRuleDesign rule, int index) => index == 0 ? $"{rule.LogicalName}-target" : $"{rule.LogicalName}-target-{index + 1}";

    public static PlannedComponent Render(DetectionHubDesign design)
    {
        var tags = PlannedResource.Tags(design.Tags);
        var bus = BusResourceName(design);
        var topic = TopicResourceName(design);
        var key = TopicKeyResourceName(design);
        var dlq = DeadLetterQueueResourceName(design);
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        resources.Add(new PlannedResource("aws:cloudwatch/eventBus:EventBus", bus, new JsonObject { ["name"] = design.BusName, ["tags"] = tags.DeepClone() }));
        resources.Add(new PlannedResource("aws:cloudwatch/eventBusPolicy:EventBusPolicy", $"{bus}-policy", new JsonObject
        {
            ["eventBusName"] = PlannedResource.Ref(bus, "name"),
            ["policy"] = design.BusPolicy.ToJsonNode(),
        }));
        resources.Add(new PlannedResource("aws:kms/key:Key", key, new JsonObject
        {
            ["description"] = design.TopicKey.Description,
            ["enableKeyRotation"] = design.TopicKey.EnableKeyRotation,
            ["deletionWindowInDays"] = design.TopicKey.DeletionWindowInDays,
            ["policy"] = design.TopicKeyPolicy.ToJsonNode(),
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:sns/topic:Topic", topic, new JsonObject
        {
            ["name"] = design.TopicName,
            ["kmsMasterKeyId"] = PlannedResource.Ref(key, "arn"),
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:sns/topicPolicy:TopicPolicy", $"{topic}-policy", new JsonObject
        {
            ["arn"] = PlannedResource.Ref(topic, "arn"),
            ["policy"] = design.TopicPolicy.ToJsonNode(),
        }));
        resources.Add(new PlannedResource("aws:sqs/queue:Queue", dlq, new JsonObject
        {
            ["name"] = design.DeadLetterQueueName,
            ["messageRetentionSeconds"] = design.DeadLetterRetentionSeconds,
            ["sqsManagedSseEnabled"] = design.DeadLetterSqsManagedSse,
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:sqs/queuePolicy:QueuePolicy", $"{dlq}-policy", new JsonObject
        {
            ["queueUrl"] = PlannedResource.Ref(dlq, "url"),
            ["policy"] = design.DeadLetterQueuePolicy.ToJsonNode(),
        }));
        foreach (var rule in design.Rules)
        {
            resources.Add(new PlannedResource("aws:cloudwatch/eventRule:EventRule", rule.LogicalName, new JsonObject
            {
                ["name"] = rule.RuleName,
                ["eventBusName"] = PlannedResource.Ref(bus, "name"),
                ["description"] = rule.Description,
                ["eventPattern"] = rule.Detection.PatternJson,
                ["state"] = design.RuleState,
                ["tags"] = tags.DeepClone(),
            }));
            var targets = new[] { PlannedResource.Ref(topic, "arn") }.Concat(design.ExtraTargetArns).ToList();
            for (var i = 0; i < targets.Count; i++)
            {
                resources.Add(new PlannedResource("aws:cloudwatch/eventTarget:EventTarget", TargetName(rule, i), new JsonObject
                {
                    ["rule"] = PlannedResource.Ref(rule.LogicalName, "name"),
                    ["eventBusName"] = PlannedResource.Ref(bus, "name"),
                    ["arn"] = targets[i],
                    ["deadLetterConfig"] = new JsonObject { ["arn"] = PlannedResource.Ref(dlq, "arn") },
                    ["retryPolicy"] = new JsonObject
                    {
                        ["maximumEventAgeInSeconds"] = DetectionHubDesign.MaximumEventAgeInSeconds,
                        ["maximumRetryAttempts"] = DetectionHubDesign.MaximumRetryAttempts,
                    },
                }));
            }
        }

        return new PlannedComponent(DetectionHubDesign.ComponentType, design.Names.Logical(AuditAccount.InAccountComponentNames.DetectionHub), resources.ToImmutable())
        {
            Outputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                ["detectionBusArn"] = design.Names.DetectionBusArn,
                ["detectionTopicArn"] = PlannedResource.Ref(topic, "arn"),
            }),
            Notes =
            [
                $"Catalog {DetectionCatalog.Version}: {design.Rules.Length} detections on bus {design.BusName}, delivered to SNS topic {design.TopicName}" + (design.ExtraTargetArns.IsEmpty ? "." : $" and {design.ExtraTargetArns.Length} extra target(s) (each must allow EventBridge in its own resource policy)."),
                "Every account and governed region forwards CloudTrail-delivered events to this bus (the account baseline); the bus accepts PutEvents only from principals of this organization.",
                $"Failed deliveries are retried for {DetectionHubDesign.MaximumEventAgeInSeconds / 3600} hours, then kept {design.DeadLetterRetentionSeconds / 86400} days in {design.DeadLetterQueueName}.",
            ],
        };
    }
}
