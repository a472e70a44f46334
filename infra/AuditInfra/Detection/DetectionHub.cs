using AuditInfra.Core.Detection;
using Pulumi;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Iam;
using Pulumi.Aws.Kms;
using Pulumi.Aws.Lambda;
using Pulumi.Aws.Sns;
using Pulumi.Aws.Sqs;
using CloudWatchInputs = Pulumi.Aws.CloudWatch.Inputs;

namespace AuditInfra.Detection;

/// <summary>
/// The audit account's detection hub: the central bus (PutEvents only from this organization),
/// one rule per enabled detection, the encrypted SNS topic they deliver to, extra targets, and
/// a dead-letter queue. Child names equal <see cref="DetectionHubPlan"/>'s.
/// </summary>
public sealed class DetectionHub : ComponentResource
{
    public Output<string> BusArn { get; }

    public Output<string> TopicArn { get; }

    public DetectionHub(string name, DetectionHubArgs args, ComponentResourceOptions? options = null)
        : base(DetectionHubDesign.ComponentType, name, options)
    {
        var design = args.Design;
        var child = new CustomResourceOptions { Parent = this };
        var busName = DetectionHubPlan.BusResourceName(design);

        var bus = new EventBus(busName, new EventBusArgs { Name = design.BusName, Tags = Tags(design) }, child);
        _ = new EventBusPolicy($"{busName}-policy", new EventBusPolicyArgs
        {
            EventBusName = bus.Name,
            Policy = design.BusPolicy.ToJson(),
        }, child);

        var key = new Key(DetectionHubPlan.TopicKeyResourceName(design), new KeyArgs
        {
            Description = design.TopicKey.Description,
            EnableKeyRotation = design.TopicKey.EnableKeyRotation,
            DeletionWindowInDays = design.TopicKey.DeletionWindowInDays,
            Policy = design.TopicKeyPolicy.ToJson(),
            Tags = Tags(design),
        }, child);
        var topicName = DetectionHubPlan.TopicResourceName(design);
        var topic = new Topic(topicName, new TopicArgs
        {
            Name = design.TopicName,
            KmsMasterKeyId = key.Arn,
            Tags = Tags(design),
        }, child);
        _ = new TopicPolicy($"{topicName}-policy", new TopicPolicyArgs
        {
            Arn = topic.Arn,
            Policy = design.TopicPolicy.ToJson(),
        }, child);

        var dlqName = DetectionHubPlan.DeadLetterQueueResourceName(design);
        var dlq = new Queue(dlqName, new QueueArgs
        {
            Name = design.DeadLetterQueueName,
            MessageRetentionSeconds = design.DeadLetterRetentionSeconds,
            SqsManagedSseEnabled = design.DeadLetterSqsManagedSse,
            Tags = Tags(design),
        }, child);
        _ = new QueuePolicy($"{dlqName}-policy", new QueuePolicyArgs
        {
            QueueUrl = dlq.Url,
            Policy = design.DeadLetterQueuePolicy.ToJson(),
        }, child);

        Function? canaryFunction = null;
        if (design.Canary is { } canary)
        {
            var canaryRole = new Role(canary.RoleLogicalName, new RoleArgs
            {
                Name = canary.RoleName,
                Description = DetectionHubPlan.CanaryRoleDescription,
                AssumeRolePolicy = canary.TrustPolicy.ToJson(),
                Tags = Tags(design),
            }, child);
            _ = new RolePolicy(canary.RolePolicyLogicalName, new RolePolicyArgs
            {
                Role = canaryRole.Id,
                Policy = canary.PutMetricDataPolicy.ToJson(),
            }, child);
            canaryFunction = new Function(canary.FunctionLogicalName, new FunctionArgs
            {
                Name = canary.FunctionName,
                Description = DetectionHubPlan.CanaryFunctionDescription,
                Role = canaryRole.Arn,
                Runtime = CanaryHubDesign.Runtime,
                Handler = CanaryHubDesign.Handler,
                Timeout = CanaryHubDesign.TimeoutSeconds,
                MemorySize = CanaryHubDesign.MemorySizeMb,
                Code = new AssetArchive(new Dictionary<string, AssetOrArchive>
                {
                    [CanaryHubDesign.SourceFileName] = new StringAsset(CanaryHubDesign.Source),
                }),
                Tags = Tags(design),
            }, child);
            _ = new Permission(canary.PermissionLogicalName, new PermissionArgs
            {
                Action = "lambda:InvokeFunction",
                Function = canaryFunction.Name,
                Principal = design.Names.ServicePrincipal("events"),
                SourceArn = canary.RuleArn,
            }, child);
            foreach (var alarm in canary.Alarms)
            {
                _ = new MetricAlarm(alarm.LogicalName, new MetricAlarmArgs
                {
                    Name = alarm.AlarmName,
                    AlarmDescription = DetectionHubPlan.CanaryAlarmDescription(canary, alarm),
                    Namespace = CanaryHubDesign.MetricNamespace,
                    MetricName = CanaryHubDesign.ArrivalsMetric,
                    Dimensions = { ["Region"] = alarm.Region },
                    Statistic = "Sum",
                    Period = DetectionHubPlan.CanaryAlarmPeriodSeconds,
                    EvaluationPeriods = canary.AlarmMinutes,
                    DatapointsToAlarm = canary.AlarmMinutes,
                    Threshold = 1,
                    ComparisonOperator = "LessThanThreshold",
                    TreatMissingData = DetectionHubPlan.CanaryTreatMissingData,
                    AlarmActions = { topic.Arn },
                    OkActions = { topic.Arn },
                    Tags = Tags(design),
                }, child);
            }
        }

        foreach (var rule in design.Rules)
        {
            var eventRule = new EventRule(rule.LogicalName, new EventRuleArgs
            {
                Name = rule.RuleName,
                EventBusName = bus.Name,
                Description = rule.Description,
                EventPattern = rule.Detection.PatternJson,
                State = design.RuleState,
                Tags = Tags(design),
            }, child);

            var targets = rule.Detection.IsCanary && canaryFunction is not null
                ? new List<Input<string>> { canaryFunction.Arn }
                : [topic.Arn, .. design.ExtraTargetArns.Select(a => (Input<string>)a)];
            for (var i = 0; i < targets.Count; i++)
            {
                _ = new EventTarget(DetectionHubPlan.TargetName(rule, i), new EventTargetArgs
                {
                    Rule = eventRule.Name,
                    EventBusName = bus.Name,
                    Arn = targets[i],
                    DeadLetterConfig = new CloudWatchInputs.EventTargetDeadLetterConfigArgs { Arn = dlq.Arn },
                    RetryPolicy = new CloudWatchInputs.EventTargetRetryPolicyArgs
                    {
                        MaximumEventAgeInSeconds = DetectionHubDesign.MaximumEventAgeInSeconds,
                        MaximumRetryAttempts = DetectionHubDesign.MaximumRetryAttempts,
                    },
                }, child);
            }
        }

        BusArn = bus.Arn;
        TopicArn = topic.Arn;
        RegisterOutputs(new Dictionary<string, object?> { ["busArn"] = BusArn, ["topicArn"] = TopicArn });
    }

    private static InputMap<string> Tags(DetectionHubDesign design) => PulumiTags.From(design.Tags);
}
