using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Rollout;

/// <summary>
/// The intake of the Automation host, in the management account (stack <c>prod</c>): an
/// EventBridge rule on the default bus for account creation, Control Tower account factory and
/// membership changes, an SQS queue it feeds, the queue's dead-letter queue, and the queue policy
/// that lets only that rule send.
/// </summary>
public sealed record AccountIntakeDesign(
    string QueueName,
    string DeadLetterQueueName,
    string RuleName,
    JsonObject EventPattern,
    int MessageRetentionSeconds,
    int DeadLetterRetentionSeconds,
    int VisibilityTimeoutSeconds,
    int MaxReceiveCount,
    string QueueArn,
    string DeadLetterQueueArn,
    string RuleArn,
    PolicyDocument QueuePolicy,
    ImmutableSortedDictionary<string, string> Tags)
{
    public string Region => QueueArn.Split(':')[3];
}

public static class AccountIntakeDesigner
{
    public const int FourteenDays = 14 * 24 * 3600;

    /// <summary>Organizations API calls by which accounts join, move and leave (recorded in us-east-1 in the management account).</summary>
    public static readonly ImmutableArray<string> MembershipCalls =
        ["AcceptHandshake", "MoveAccount", "RemoveAccountFromOrganization", "LeaveOrganization", "CloseAccount"];

    public static AccountIntakeDesign Design(AuditConfig config)
    {
        var settings = config.Rollout;
        var queue = settings.QueueName ?? $"{config.NamePrefix}-account-events";
        var dlq = queue + "-dlq";
        var rule = $"{config.NamePrefix}-account-events";
        var region = config.HomeRegion;
        var account = config.Organization.ManagementAccountId;
        var partition = config.Partition;
        var queueArn = $"arn:{partition}:sqs:{region}:{account}:{queue}";
        var ruleArn = $"arn:{partition}:events:{region}:{account}:rule/{rule}";
        var policy = new PolicyDocument(
            new PolicyStatement
            {
                Sid = "AllowTheAccountEventRuleToSend",
                Principal = PolicyPrincipal.Service("events.amazonaws.com"),
                Actions = ["sqs:SendMessage"],
                Resources = [queueArn],
                Conditions = [new PolicyCondition("ArnEquals", "aws:SourceArn", ruleArn)],
            },
            new PolicyStatement
            {
                Sid = "DenyInsecureTransport",
                Effect = PolicyEffect.Deny,
                Principal = PolicyPrincipal.Anyone,
                Actions = ["sqs:*"],
                Resources = [queueArn],
                Conditions = [new PolicyCondition("Bool", "aws:SecureTransport", "false")],
            });
        var tags = config.Tags
            .SetItem("auditinfra:component", "AccountIntake")
            .SetItem("auditinfra:stack", config.StackName)
            .SetItem("managed-by", "pulumi");
        return new AccountIntakeDesign(
            queue, dlq, rule, Pattern(),
            MessageRetentionSeconds: 4 * 24 * 3600,
            DeadLetterRetentionSeconds: FourteenDays,
            // Longer than recording an event takes: the host deletes a message only once recorded.
            VisibilityTimeoutSeconds: 300,
            settings.MaxReceiveCount,
            queueArn,
            $"arn:{partition}:sqs:{region}:{account}:{dlq}",
            ruleArn,
            policy,
            tags);
    }

    /// <summary>The rule's pattern (account-events.md): three alternatives under <c>$or</c>.</summary>
    public static JsonObject Pattern() => new()
    {
        ["$or"] = new JsonArray(
            new JsonObject
            {
                ["source"] = new JsonArray("aws.organizations"),
                ["detail-type"] = new JsonArray("AWS Service Event via CloudTrail"),
                ["detail"] = new JsonObject
                {
                    ["eventName"] = new JsonArray("CreateAccountResult"),
                    ["serviceEventDetails"] = new JsonObject { ["createAccountStatus"] = new JsonObject { ["state"] = new JsonArray("SUCCEEDED") } },
                },
            },
            new JsonObject
            {
                ["source"] = new JsonArray("aws.controltower"),
                ["detail-type"] = new JsonArray("AWS Service Event via CloudTrail"),
                ["detail"] = new JsonObject { ["eventName"] = new JsonArray("CreateManagedAccount", "UpdateManagedAccount") },
            },
            new JsonObject
            {
                ["source"] = new JsonArray("aws.organizations"),
                ["detail-type"] = new JsonArray("AWS API Call via CloudTrail"),
                ["detail"] = new JsonObject { ["eventName"] = new JsonArray([.. MembershipCalls.Select(c => (JsonNode)JsonValue.Create(c))]) },
            }),
    };

    public static string RedrivePolicyJson(AccountIntakeDesign design) =>
        new JsonObject { ["deadLetterTargetArn"] = design.DeadLetterQueueArn, ["maxReceiveCount"] = design.MaxReceiveCount }.ToJsonString(JsonFormat.Compact);
}

/// <summary>The AccountIntake component's resources with their Pulumi inputs (wire names of @pulumi/aws).</summary>
public static class AccountIntakePlan
{
    public const string ComponentType = "auditinfra:rollout:AccountIntake";

    public static string ComponentName(AccountIntakeDesign d) => d.RuleName.Replace("-account-events", "-account-intake", StringComparison.Ordinal);

    public static string DeadLetterQueueResource(AccountIntakeDesign d) => d.DeadLetterQueueName;

    public static string QueueResource(AccountIntakeDesign d) => d.QueueName;

    public static string QueuePolicyResource(AccountIntakeDesign d) => d.QueueName + "-policy";

    public static string RuleResource(AccountIntakeDesign d) => d.RuleName + "-rule";

    public static string TargetResource(AccountIntakeDesign d) => d.RuleName + "-target";

    public static PlannedComponent Render(AccountIntakeDesign design)
    {
        var tags = PlannedResource.Tags(design.Tags);
        var resources = ImmutableArray.Create(
            new PlannedResource("aws:sqs/queue:Queue", DeadLetterQueueResource(design), new JsonObject
            {
                ["name"] = design.DeadLetterQueueName,
                ["messageRetentionSeconds"] = design.DeadLetterRetentionSeconds,
                ["sqsManagedSseEnabled"] = true,
                ["tags"] = tags.DeepClone(),
            }),
            new PlannedResource("aws:sqs/queue:Queue", QueueResource(design), new JsonObject
            {
                ["name"] = design.QueueName,
                ["messageRetentionSeconds"] = design.MessageRetentionSeconds,
                ["visibilityTimeoutSeconds"] = design.VisibilityTimeoutSeconds,
                ["receiveWaitTimeSeconds"] = 20,
                ["sqsManagedSseEnabled"] = true,
                ["redrivePolicy"] = AccountIntakeDesigner.RedrivePolicyJson(design),
                ["tags"] = tags.DeepClone(),
            })
            { DependsOn = [DeadLetterQueueResource(design)] },
            new PlannedResource("aws:sqs/queuePolicy:QueuePolicy", QueuePolicyResource(design), new JsonObject
            {
                ["queueUrl"] = PlannedResource.Ref(QueueResource(design), "url"),
                ["policy"] = design.QueuePolicy.ToJsonNode(),
            }),
            new PlannedResource("aws:cloudwatch/eventRule:EventRule", RuleResource(design), new JsonObject
            {
                ["name"] = design.RuleName,
                ["description"] = "Account creation, Control Tower account factory and membership changes, for the AuditInfra rollout host",
                ["eventPattern"] = design.EventPattern.ToJsonString(JsonFormat.Compact),
                ["state"] = "ENABLED",
                ["tags"] = tags.DeepClone(),
            }),
            new PlannedResource("aws:cloudwatch/eventTarget:EventTarget", TargetResource(design), new JsonObject
            {
                ["rule"] = PlannedResource.Ref(RuleResource(design), "name"),
                ["arn"] = PlannedResource.Ref(QueueResource(design), "arn"),
                ["targetId"] = "rollout-intake-queue",
            })
            { DependsOn = [QueuePolicyResource(design)] });

        return new PlannedComponent(ComponentType, ComponentName(design), resources)
        {
            Outputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                ["accountIntakeQueueUrl"] = PlannedResource.Ref(QueueResource(design), "url"),
                ["accountIntakeQueueArn"] = design.QueueArn,
                ["accountIntakeDeadLetterQueueUrl"] = PlannedResource.Ref(DeadLetterQueueResource(design), "url"),
                ["accountIntakeRuleArn"] = design.RuleArn,
            }),
            Notes =
            [
                "Organizations events are recorded in us-east-1: deploy the prod stack there (its home region) or the rule sees no CreateAccountResult.",
                "Control Tower events arrive in the Control Tower home region; AcceptHandshake and LeaveOrganization are recorded in the member account. The host's reconciliation (organizations:ListAccounts) catches whatever the rule cannot see.",
                $"A message the host cannot parse goes to {design.DeadLetterQueueName} with its reason; one it fails on {design.MaxReceiveCount} times is moved there by SQS.",
            ],
        };
    }
}
