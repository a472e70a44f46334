using AuditInfra.Core.Planning;
using AuditInfra.Core.Rollout;
using Pulumi;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Sqs;

namespace AuditInfra.Rollout;

/// <summary>
/// The rollout host's intake in the management account: the account-event rule, the SQS queue it
/// feeds, the queue's dead-letter queue and the queue policy. Maps <see cref="AccountIntakeDesign"/>
/// one to one; child names equal the planned resource names of <see cref="AccountIntakePlan"/>.
/// </summary>
public sealed class AccountIntake : ComponentResource
{
    public const string TypeToken = AccountIntakePlan.ComponentType;

    public Output<string> QueueUrl { get; }

    public Output<string> QueueArn { get; }

    public Output<string> DeadLetterQueueUrl { get; }

    public Output<string> RuleArn { get; }

    public AccountIntake(string name, AccountIntakeArgs args, ComponentResourceOptions? options = null)
        : base(TypeToken, name, options)
    {
        var design = args.Design;
        var tags = PulumiTags.From(design.Tags);

        var dlq = new Queue(AccountIntakePlan.DeadLetterQueueResource(design), new QueueArgs
        {
            Name = design.DeadLetterQueueName,
            MessageRetentionSeconds = design.DeadLetterRetentionSeconds,
            SqsManagedSseEnabled = true,
            Tags = tags,
        }, new CustomResourceOptions { Parent = this });

        var queue = new Queue(AccountIntakePlan.QueueResource(design), new QueueArgs
        {
            Name = design.QueueName,
            MessageRetentionSeconds = design.MessageRetentionSeconds,
            VisibilityTimeoutSeconds = design.VisibilityTimeoutSeconds,
            ReceiveWaitTimeSeconds = 20,
            SqsManagedSseEnabled = true,
            RedrivePolicy = AccountIntakeDesigner.RedrivePolicyJson(design),
            Tags = tags,
        }, new CustomResourceOptions { Parent = this, DependsOn = { dlq } });

        var policy = new QueuePolicy(AccountIntakePlan.QueuePolicyResource(design), new QueuePolicyArgs
        {
            QueueUrl = queue.Url,
            Policy = design.QueuePolicy.ToJson(),
        }, new CustomResourceOptions { Parent = this });

        var rule = new EventRule(AccountIntakePlan.RuleResource(design), new EventRuleArgs
        {
            Name = design.RuleName,
            Description = "Account creation, Control Tower account factory and membership changes, for the AuditInfra rollout host",
            EventPattern = design.EventPattern.ToJsonString(JsonFormat.Compact),
            State = "ENABLED",
            Tags = tags,
        }, new CustomResourceOptions { Parent = this });

        _ = new EventTarget(AccountIntakePlan.TargetResource(design), new EventTargetArgs
        {
            Rule = rule.Name,
            Arn = queue.Arn,
            TargetId = "rollout-intake-queue",
        }, new CustomResourceOptions { Parent = this, DependsOn = { policy } });

        QueueUrl = queue.Url;
        QueueArn = queue.Arn;
        DeadLetterQueueUrl = dlq.Url;
        RuleArn = rule.Arn;
        RegisterOutputs(new Dictionary<string, object?>
        {
            ["queueUrl"] = QueueUrl,
            ["queueArn"] = QueueArn,
            ["deadLetterQueueUrl"] = DeadLetterQueueUrl,
            ["ruleArn"] = RuleArn,
        });
    }
}
