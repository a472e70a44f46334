using System.Collections.Immutable;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.Trail;

/// <summary>One field condition of an advanced event selector, as CloudTrail spells its operators.</summary>
public sealed record FieldSelector(string Field)
{
    public ImmutableArray<string> EqualTo { get; init; } = [];

    public ImmutableArray<string> NotEqualTo { get; init; } = [];

    public ImmutableArray<string> StartsWith { get; init; } = [];
}

public sealed record AdvancedEventSelector(string Name, ImmutableArray<FieldSelector> FieldSelectors);

/// <summary>CloudWatch Logs delivery: a log group (own KMS key, retention) and the role CloudTrail assumes to write it.</summary>
public sealed record TrailCloudWatchDesign(
    string LogGroupName,
    int RetentionInDays,
    PolicyDocument LogKeyPolicy,
    string RoleName,
    PolicyDocument RoleTrustPolicy,
    PolicyDocument RolePolicy)
{
    /// <summary>The log group's own key: rotated, and a month to notice a scheduled deletion.</summary>
    public bool LogKeyRotation { get; init; } = true;

    public int LogKeyDeletionWindowInDays { get; init; } = 30;
}

/// <summary>The organization trail in the management account, writing to the audit account's archive.</summary>
public sealed record OrganizationTrailDesign(
    ResourceNames Names,
    string Name,
    string TrailArn,
    bool IsOrganizationTrail,
    bool IsMultiRegionTrail,
    bool IncludeGlobalServiceEvents,
    bool EnableLogFileValidation,
    bool EnableLogging,
    string S3KeyPrefix,
    ImmutableArray<AdvancedEventSelector> Selectors,
    ImmutableArray<string> InsightTypes,
    TrailCloudWatchDesign? CloudWatch,
    TrailSettings Settings,
    ImmutableSortedDictionary<string, string> Tags)
{
    /// <summary>Deleting or replacing the trail stops the organization's audit record.</summary>
    public ResourceGuard Guard { get; init; } = new(Protect: true);

    /// <summary>What the audit stack must export for this trail, by output name.</summary>
    public static readonly ImmutableArray<string> RequiredAuditOutputs = ["logBucketName", "trailKeyArn", "logArchiveReady"];
}

public static class OrganizationTrailDesigner
{
    public static OrganizationTrailDesign Design(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var settings = config.Trail;
        return new OrganizationTrailDesign(
            names,
            config.TrailName,
            names.TrailArn,
            IsOrganizationTrail: true,
            IsMultiRegionTrail: true,
            IncludeGlobalServiceEvents: true,
            EnableLogFileValidation: true,
            EnableLogging: true,
            config.S3KeyPrefix,
            Selectors(config, names),
            settings.Insights,
            settings.CloudWatchLogs ? CloudWatch(config, names) : null,
            settings,
            DesignTags.For(config, "OrganizationTrail"));
    }

    /// <summary>
    /// Advanced event selectors: management events (read and write: no readOnly field) always, minus
    /// the sources the user excluded; S3 object and Lambda invoke data events when asked for.
    /// </summary>
    public static ImmutableArray<AdvancedEventSelector> Selectors(AuditConfig config, ResourceNames names)
    {
        var settings = config.Trail;
        var management = ImmutableArray.Create(new FieldSelector("eventCategory") { EqualTo = ["Management"] });
        if (!settings.ExcludeManagementEventSources.IsEmpty)
        {
            management = management.Add(new FieldSelector("eventSource") { NotEqualTo = settings.ExcludeManagementEventSources });
        }

        var selectors = ImmutableArray.CreateBuilder<AdvancedEventSelector>();
        selectors.Add(new AdvancedEventSelector("Management events (read and write)", management));
        switch (settings.S3DataEvents)
        {
            case S3DataEvents.All:
                selectors.Add(new AdvancedEventSelector("S3 object events, all buckets",
                [
                    new FieldSelector("eventCategory") { EqualTo = ["Data"] },
                    new FieldSelector("resources.type") { EqualTo = ["AWS::S3::Object"] },
                ]));
                break;
            case S3DataEvents.Buckets:
                selectors.Add(new AdvancedEventSelector("S3 object events, listed buckets",
                [
                    new FieldSelector("eventCategory") { EqualTo = ["Data"] },
                    new FieldSelector("resources.type") { EqualTo = ["AWS::S3::Object"] },
                    new FieldSelector("resources.ARN") { StartsWith = [.. settings.S3DataEventBuckets.Select(b => names.BucketArn(b) + "/")] },
                ]));
                break;
        }

        if (settings.LambdaDataEvents)
        {
            selectors.Add(new AdvancedEventSelector("Lambda invocations",
            [
                new FieldSelector("eventCategory") { EqualTo = ["Data"] },
                new FieldSelector("resources.type") { EqualTo = ["AWS::Lambda::Function"] },
            ]));
        }

        return selectors.ToImmutable();
    }

    private static TrailCloudWatchDesign CloudWatch(AuditConfig config, ResourceNames names)
    {
        var mgmt = config.Organization.ManagementAccountId;
        var logGroupArn = $"arn:{names.Partition}:logs:{config.HomeRegion}:{mgmt}:log-group:{names.TrailLogGroupName}";
        var keyPolicy = new PolicyDocument(
            new PolicyStatement
            {
                // The key lives in the management account beside the log group; its administrators are that account's.
                Sid = "AllowManagementAccountAdministration",
                Principal = PolicyPrincipal.Aws(names.AccountRootArn(mgmt)),
                Actions = ["kms:*"],
                Resources = ["*"],
            },
            new PolicyStatement
            {
                Sid = "AllowCloudWatchLogsForTheTrailLogGroup",
                Principal = PolicyPrincipal.Service($"logs.{config.HomeRegion}.amazonaws.com"),
                Actions = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resources = ["*"],
                Conditions = [new PolicyCondition("ArnEquals", "kms:EncryptionContext:aws:logs:arn", logGroupArn)],
            });
        var trust = new PolicyDocument(new PolicyStatement
        {
            Sid = "AllowCloudTrailForThisTrail",
            Principal = PolicyPrincipal.Service(names.ServicePrincipal("cloudtrail")),
            Actions = ["sts:AssumeRole"],
            Conditions = [new PolicyCondition("StringEquals", "aws:SourceArn", names.TrailArn)],
        });
        var rolePolicy = new PolicyDocument(new PolicyStatement
        {
            Sid = "WriteTrailEventsToItsLogGroup",
            Actions = ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resources = [$"{logGroupArn}:log-stream:*"],
        });
        return new TrailCloudWatchDesign(names.TrailLogGroupName, config.Trail.CloudWatchLogsRetentionDays, keyPolicy, names.Logical("trail-cloudwatch-delivery"), trust, rolePolicy);
    }
}
