using System.Collections.Immutable;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Trail;

public enum S3DataEvents
{
    None,
    All,
    Buckets,
}

/// <summary>
/// The organization trail's options (section <c>auditinfra:trail</c>, optional). Management events,
/// read and write, from every region and account are always on: that is the design's coverage.
/// </summary>
public sealed record TrailSettings
{
    /// <summary>Management event sources CloudTrail lets a trail leave out (high volume, low audit value).</summary>
    public static readonly ImmutableArray<string> ExcludableSources = ["kms.amazonaws.com", "rdsdata.amazonaws.com"];

    public static readonly ImmutableArray<string> InsightTypes = ["ApiCallRateInsight", "ApiErrorRateInsight"];

    /// <summary>The retention periods CloudWatch Logs accepts.</summary>
    public static readonly ImmutableArray<int> LogRetentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

    public S3DataEvents S3DataEvents { get; init; } = S3DataEvents.None;

    public ImmutableArray<string> S3DataEventBuckets { get; init; } = [];

    public bool LambdaDataEvents { get; init; }

    public ImmutableArray<string> ExcludeManagementEventSources { get; init; } = [];

    public ImmutableArray<string> Insights { get; init; } = [];

    public bool CloudWatchLogs { get; init; }

    public int CloudWatchLogsRetentionDays { get; init; } = 365;

    /// <summary>A member account registered as CloudTrail's delegated administrator, or null.</summary>
    public string? DelegatedAdministratorAccountId { get; init; }

    /// <summary>The audit stack to read the bucket and key from (org/project/stack); null means &lt;this org&gt;/&lt;this project&gt;/audit.</summary>
    public string? AuditStackReference { get; init; }

    public static TrailSettings Bind(ConfigScope scope, OrganizationSettings organization)
    {
        var s3 = scope.Enum("s3DataEvents", S3DataEvents.None, v => v.ToString().ToLowerInvariant());
        var buckets = scope.StringList("s3DataEventBuckets", check: BucketName);
        if (s3 == S3DataEvents.Buckets && buckets.IsEmpty)
        {
            scope.Error("s3DataEventBuckets", "is required when s3DataEvents is 'buckets': the bucket names whose object-level events the trail records");
        }
        else if (s3 != S3DataEvents.Buckets && !buckets.IsEmpty)
        {
            scope.Error("s3DataEventBuckets", $"is only used when s3DataEvents is 'buckets' (it is '{s3.ToString().ToLowerInvariant()}')");
        }

        var cloudWatch = scope.Section("cloudWatchLogs");
        var delegated = scope.String("delegatedAdministratorAccountId", check: AwsFormats.AccountId);
        if (delegated is not null && delegated == organization.ManagementAccountId)
        {
            scope.Error("delegatedAdministratorAccountId", "must be a member account: the management account administers CloudTrail already");
        }

        return new TrailSettings
        {
            S3DataEvents = s3,
            S3DataEventBuckets = buckets,
            LambdaDataEvents = scope.Bool("lambdaDataEvents", false),
            ExcludeManagementEventSources = scope.StringList("excludeManagementEventSources", check: v => ExcludableSources.Contains(v) ? null : "one of " + string.Join(", ", ExcludableSources)),
            Insights = scope.StringList("insights", check: v => InsightTypes.Contains(v) ? null : "one of " + string.Join(", ", InsightTypes)),
            CloudWatchLogs = cloudWatch.Bool("enabled", false),
            CloudWatchLogsRetentionDays = cloudWatch.OptionalInt("retentionDays", 1, 3653, "days") is { } days
                ? LogRetentionDays.Contains(days) ? days : Invalid(cloudWatch, days)
                : 365,
            DelegatedAdministratorAccountId = delegated,
            AuditStackReference = scope.String("auditStackReference", check: v => v.Split('/').Length == 3 && v.Split('/').All(p => p.Length > 0) ? null : "a stack reference '<organization>/<project>/<stack>'"),
        };
    }

    private static int Invalid(ConfigScope scope, int days)
    {
        scope.Error("retentionDays", $"expected one of CloudWatch Logs' retention periods: {string.Join(", ", LogRetentionDays)} (found {days})");
        return 365;
    }

    private static string? BucketName(string value) =>
        System.Text.RegularExpressions.Regex.IsMatch(value, "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\z") ? null : "an S3 bucket name (3 to 63 lowercase letters, digits, '.' or '-')";
}
