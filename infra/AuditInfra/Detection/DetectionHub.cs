using AuditInfra.Core.Detection;
using Pulumi;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Kms;
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

            var targets = new List<Input<string>> { topic.Arn };
            targets.AddRange(design.ExtraTargetArns.Select(a => (Input<string>)a));
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
