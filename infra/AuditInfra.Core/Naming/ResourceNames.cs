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

    public string BucketArn(string bucket) => $"arn:{Partition}:s3:::{bucket}";

    public string ServicePrincipal(string service) => $"{service}.amazonaws.com";

    public string AccountRootArn(string accountId) => $"arn:{Partition}:iam::{accountId}:root";

    /// <summary>A logical (Pulumi) resource name: prefix-qualified so several designs can share a stack.</summary>
    public string Logical(string name) => $"{Config.NamePrefix}-{name}";
}
