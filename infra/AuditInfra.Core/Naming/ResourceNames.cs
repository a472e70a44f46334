using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Naming;

/// <summary>
/// Every deterministic name and ARN of the design, computed from configuration so the whole
/// design renders offline and policies can name resources before they exist.
/// </summary>
public sealed record ResourceNames(AuditConfig Config)
{
    private OrganizationSettings Org => Config.Organization;

    public string Partition => Config.Partition;

    /// <summary>Bucket names are global: account and region make them unique, the prefix makes them ours.</summary>
    public string LogBucket => $"{Config.NamePrefix}-cloudtrail-{Org.AuditAccountId}-{Config.HomeRegion}";

    public string AccessLogBucket => $"{Config.NamePrefix}-s3-access-logs-{Org.AuditAccountId}-{Config.HomeRegion}";

    public string LogBucketArn => BucketArn(LogBucket);

    public string AccessLogBucketArn => BucketArn(AccessLogBucket);

    public string TrailKeyAlias => $"alias/{Config.NamePrefix}/cloudtrail";

    public string TrailKeyAliasArn => $"arn:{Partition}:kms:{Config.HomeRegion}:{Org.AuditAccountId}:{TrailKeyAlias}";

    /// <summary>The management account owns organization trails, also when a delegated administrator created it.</summary>
    public string TrailArn => $"arn:{Partition}:cloudtrail:{Config.HomeRegion}:{Org.ManagementAccountId}:trail/{Config.TrailName}";

    /// <summary>The key prefix the trail writes under, with its trailing slash ("" or "prefix/").</summary>
    public string KeyPrefixPath => Config.S3KeyPrefix.Length == 0 ? "" : Config.S3KeyPrefix + "/";

    /// <summary>Where an organization trail writes member accounts' logs.</summary>
    public string OrganizationLogsPrefix => $"{KeyPrefixPath}AWSLogs/{Org.OrganizationId}/";

    /// <summary>Where it writes the management account's own logs (the path peers forget the other one of).</summary>
    public string ManagementLogsPrefix => $"{KeyPrefixPath}AWSLogs/{Org.ManagementAccountId}/";

    /// <summary>The central detection bus in the audit account that every account forwards to.</summary>
    public string DetectionBusName => $"{Config.NamePrefix}-central";

    public string DetectionBusArn => $"arn:{Partition}:events:{Config.HomeRegion}:{Org.AuditAccountId}:event-bus/{DetectionBusName}";

    /// <summary>The detection hub's topic and dead-letter queue: the integrity monitor's rule and alarm deliver to them too.</summary>
    public string DetectionTopicName => $"{Config.NamePrefix}-detections";

    public string DetectionTopicArn => $"arn:{Partition}:sns:{Config.HomeRegion}:{Org.AuditAccountId}:{DetectionTopicName}";

    public string DetectionDeadLetterQueueName => $"{Config.NamePrefix}-detections-dlq";

    public string DetectionDeadLetterQueueArn => $"arn:{Partition}:sqs:{Config.HomeRegion}:{Org.AuditAccountId}:{DetectionDeadLetterQueueName}";

    /// <summary>Rules on the central bus, one per detection, share this prefix.</summary>
    public string DetectionRuleNamePrefix => $"{Config.NamePrefix}-detect-";

    /// <summary>The per-account, per-region rule on the default bus forwarding catalog events to the central bus.</summary>
    public string ForwardingRuleName => $"{Config.NamePrefix}-forward-to-central-bus";

    /// <summary>The role EventBridge assumes in each account to put events on the central bus.</summary>
    public string ForwardingRoleName => $"{Config.NamePrefix}-event-forwarding";

    /// <summary>The CloudWatch Logs group the trail delivers to when that delivery is on.</summary>
    public string TrailLogGroupName => $"/aws/cloudtrail/{Config.TrailName}";

    /// <summary>The integrity monitor's task role: named here because the trail key and the lock-down name it before it exists.</summary>
    public string IntegrityTaskRoleName => $"{Config.NamePrefix}-integrity-task";

    public string IntegrityTaskRoleArn => $"arn:{Partition}:iam::{Org.AuditAccountId}:role/{IntegrityTaskRoleName}";

    /// <summary>
    /// Where the integrity monitor writes its signed attestations in the log bucket (Object Lock applies): beside
    /// AWSLogs/ under the trail's key prefix, where <c>verify --attest</c> puts them for a source of s3://bucket/prefix.
    /// </summary>
    public string AttestationsPrefix => $"{KeyPrefixPath}{Integrity.Attestations.AttestationLayout.Folder}";

    public string BucketArn(string bucket) => $"arn:{Partition}:s3:::{bucket}";

    public string ServicePrincipal(string service) => $"{service}.amazonaws.com";

    public string AccountRootArn(string accountId) => $"arn:{Partition}:iam::{accountId}:root";

    /// <summary>A logical (Pulumi) resource name: prefix-qualified so several designs can share a stack.</summary>
    public string Logical(string name) => $"{Config.NamePrefix}-{name}";
}
