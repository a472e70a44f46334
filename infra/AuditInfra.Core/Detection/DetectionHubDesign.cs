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

    /// <summary>The canary's latency recorder and alarms, when the detection-canary detection is enabled.</summary>
    public CanaryHubDesign? Canary { get; init; }
}

/// <summary>One governed region's canary alarm: no canary from any account of that region for the configured minutes.</summary>
public sealed record CanaryAlarmDesign(string Region, string LogicalName, string AlarmName);

/// <summary>
/// The hub's side of the detection canary: a small function, target of the detection-canary rule,
/// that publishes each canary's end-to-end latency (arrival minus the CloudTrail event's time) as
/// a metric per account and region, and one alarm per governed region on the arrivals. A function,
/// because EventBridge's input transformer can copy the event's time but cannot subtract it from
/// the arrival time, and CloudWatch Logs targets keep the text without making a number of it.
/// </summary>
public sealed record CanaryHubDesign(
    string FunctionLogicalName,
    string FunctionName,
    string RoleLogicalName,
    string RoleName,
    PolicyDocument TrustPolicy,
    string RolePolicyLogicalName,
    PolicyDocument PutMetricDataPolicy,
    string PermissionLogicalName,
    string RuleArn,
    int AlarmMinutes,
    ImmutableArray<CanaryAlarmDesign> Alarms)
{
    public const string MetricNamespace = "AuditInfra/DetectionCanary";

    /// <summary>Seconds from the canary's API call (the event's time) to its arrival at the function; dimensions AccountId, Region.</summary>
    public const string LatencyMetric = "CanaryLatency";

    /// <summary>One per arrival; dimension Region (what each region's alarm watches).</summary>
    public const string ArrivalsMetric = "CanaryArrivals";

    public const string Runtime = "python3.13";

    public const string Handler = "index.handler";

    public const string SourceFileName = "index.py";

    public const int TimeoutSeconds = 10;

    public const int MemorySizeMb = 128;

    /// <summary>
    /// The function's whole source. The event comes from the central bus with the member account's
    /// account, region and time unchanged (PutEvents cannot forge an aws.* source).
    /// </summary>
    public static string Source => $$"""
        # AuditInfra detection canary latency recorder: one metric per canary that reaches the central bus.
        import datetime

        import boto3

        NAMESPACE = "{{MetricNamespace}}"
        cloudwatch = boto3.client("cloudwatch")


        def handler(event, context):
            called = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
            latency = max(0.0, (datetime.datetime.now(datetime.timezone.utc) - called).total_seconds())
            account, region = event["account"], event["region"]
            cloudwatch.put_metric_data(
                Namespace=NAMESPACE,
                MetricData=[
                    {
                        "MetricName": "{{LatencyMetric}}",
                        "Dimensions": [{"Name": "AccountId", "Value": account}, {"Name": "Region", "Value": region}],
                        "Value": latency,
                        "Unit": "Seconds",
                    },
                    {
                        "MetricName": "{{ArrivalsMetric}}",
                        "Dimensions": [{"Name": "Region", "Value": region}],
                        "Value": 1,
                        "Unit": "Count",
                    },
                ],
            )
            return {"account": account, "region": region, "latencySeconds": latency}

        """;
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
        var canaryAlarmPrefix = $"{config.NamePrefix}-detection-canary-";
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
                // CloudWatch encrypts the alarm notifications it publishes to the topic with this key.
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

        return new DetectionHubDesign(names, names.DetectionBusName, busPolicy, topicName, topicPolicy, keyPolicy, dlqName, dlqPolicy, rules, config.Detection.ExtraTargetArns, DesignTags.For(config, "DetectionHub"))
        {
            Canary = rules.FirstOrDefault(r => r.Detection.IsCanary) is { } rule ? Canary(config, names, rule, canaryAlarmPrefix) : null,
        };
    }

    private static CanaryHubDesign Canary(AuditConfig config, ResourceNames names, DetectionRuleDesign rule, string alarmPrefix)
    {
        var audit = config.Organization.AuditAccountId;
        var functionName = $"{config.NamePrefix}-canary-latency";
        var ruleArn = $"arn:{names.Partition}:events:{config.HomeRegion}:{audit}:rule/{names.DetectionBusName}/{rule.RuleName}";
        var trust = new PolicyDocument(new PolicyStatement
        {
            Sid = "AllowLambdaToRunTheRecorder",
            Principal = PolicyPrincipal.Service(names.ServicePrincipal("lambda")),
            Actions = ["sts:AssumeRole"],
            Conditions = [new PolicyCondition("StringEquals", "aws:SourceAccount", audit)],
        });
        var putMetricData = new PolicyDocument(new PolicyStatement
        {
            // PutMetricData has no resource type: the namespace condition is what scopes it.
            Sid = "PutCanaryMetricsOnly",
            Actions = ["cloudwatch:PutMetricData"],
            Resources = ["*"],
            Conditions = [new PolicyCondition("StringEquals", "cloudwatch:namespace", CanaryHubDesign.MetricNamespace)],
        });
        var alarms = config.GovernedRegions.Select(region => new CanaryAlarmDesign(
            region,
            names.Logical($"canary-alarm-{region}"),
            alarmPrefix + region)).ToImmutableArray();
        return new CanaryHubDesign(
            names.Logical("canary-latency"),
            functionName,
            names.Logical("canary-latency-role"),
            functionName,
            trust,
            names.Logical("canary-latency-policy"),
            putMetricData,
            names.Logical("canary-latency-permission"),
            ruleArn,
            config.Detection.CanaryAlarmMinutes,
            alarms);
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

    public const string CanaryRoleDescription = "Lets the AuditInfra canary latency recorder publish its metrics";

    public const string CanaryFunctionDescription = "Records the end-to-end latency of AuditInfra detection canaries";

    /// <summary>One-minute periods, as many as the alarm's minutes, all of them breaching: "no canary for N minutes" exactly.</summary>
    public const int CanaryAlarmPeriodSeconds = 60;

    /// <summary>No data is the failure the alarm exists for: a region whose canaries stopped publishes nothing.</summary>
    public const string CanaryTreatMissingData = "breaching";

    public static string CanaryAlarmDescription(CanaryHubDesign canary, CanaryAlarmDesign alarm) =>
        $"No AuditInfra detection canary from {alarm.Region} reached the central bus for {canary.AlarmMinutes} minutes: forwarding, the detection rule or the trail may be broken there.";

    /// <summary>The canary rule goes to its latency recorder only; every other rule to the topic and the extra targets.</summary>
    public static List<string> TargetArns(DetectionHubDesign design, DetectionRuleDesign rule, string topicArn, string canaryFunctionArn) =>
        rule.Detection.IsCanary && design.Canary is not null
            ? [canaryFunctionArn]
            : [topicArn, .. design.ExtraTargetArns];

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
            var targets = TargetArns(design, rule, PlannedResource.Ref(topic, "arn"), design.Canary is null ? "" : PlannedResource.Ref(design.Canary.FunctionLogicalName, "arn"));
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

        if (design.Canary is { } canary)
        {
            resources.AddRange(PlannedRoles.WithInlinePolicy(canary.RoleLogicalName, canary.RoleName, CanaryRoleDescription, canary.TrustPolicy, canary.RolePolicyLogicalName, canary.PutMetricDataPolicy, tags));
            resources.Add(new PlannedResource("aws:lambda/function:Function", canary.FunctionLogicalName, new JsonObject
            {
                ["name"] = canary.FunctionName,
                ["description"] = CanaryFunctionDescription,
                ["role"] = PlannedResource.Ref(canary.RoleLogicalName, "arn"),
                ["runtime"] = CanaryHubDesign.Runtime,
                ["handler"] = CanaryHubDesign.Handler,
                ["timeout"] = CanaryHubDesign.TimeoutSeconds,
                ["memorySize"] = CanaryHubDesign.MemorySizeMb,
                ["code"] = new JsonObject { ["assets"] = new JsonObject { [CanaryHubDesign.SourceFileName] = CanaryHubDesign.Source } },
                ["tags"] = tags.DeepClone(),
            }));
            resources.Add(new PlannedResource("aws:lambda/permission:Permission", canary.PermissionLogicalName, new JsonObject
            {
                ["action"] = "lambda:InvokeFunction",
                ["function"] = PlannedResource.Ref(canary.FunctionLogicalName, "name"),
                ["principal"] = design.Names.ServicePrincipal("events"),
                ["sourceArn"] = canary.RuleArn,
            }));
            foreach (var alarm in canary.Alarms)
            {
                resources.Add(new PlannedResource("aws:cloudwatch/metricAlarm:MetricAlarm", alarm.LogicalName, new JsonObject
                {
                    ["name"] = alarm.AlarmName,
                    ["alarmDescription"] = CanaryAlarmDescription(canary, alarm),
                    ["namespace"] = CanaryHubDesign.MetricNamespace,
                    ["metricName"] = CanaryHubDesign.ArrivalsMetric,
                    ["dimensions"] = new JsonObject { ["Region"] = alarm.Region },
                    ["statistic"] = "Sum",
                    ["period"] = CanaryAlarmPeriodSeconds,
                    ["evaluationPeriods"] = canary.AlarmMinutes,
                    ["datapointsToAlarm"] = canary.AlarmMinutes,
                    ["threshold"] = 1,
                    ["comparisonOperator"] = "LessThanThreshold",
                    ["treatMissingData"] = CanaryTreatMissingData,
                    ["alarmActions"] = new JsonArray(PlannedResource.Ref(topic, "arn")),
                    ["okActions"] = new JsonArray(PlannedResource.Ref(topic, "arn")),
                    ["tags"] = tags.DeepClone(),
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
                design.Canary is { } c
                    ? $"Detection canary: {c.FunctionName} records each canary's latency as {CanaryHubDesign.MetricNamespace}/{CanaryHubDesign.LatencyMetric} per account and region; one alarm per governed region ({string.Join(", ", c.Alarms.Select(a => a.AlarmName))}) notifies {design.TopicName} when no canary arrived for {c.AlarmMinutes} minutes (missing data breaches). It watches a region as a whole: one silent account among live ones shows in `auditinfra docs --canary-metrics`."
                    : "No detection canary (the detection-canary detection is disabled).",
            ],
        };
    }
}
