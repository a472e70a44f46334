using System.Collections.Immutable;
using System.Globalization;
using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.Integrity.Monitor;

/// <summary>Every name and ARN of the monitor, known before deployment (policies name them before they exist).</summary>
public sealed record IntegrityMonitorNames(ResourceNames Names)
{
    public const string StatePrefix = "state/";

    /// <summary>The state object the monitor's runs share (verify --state takes an object, not a folder).</summary>
    public const string StateKey = StatePrefix + "verify-state.json";

    private AuditConfig Config => Names.Config;

    private string Audit => Config.Organization.AuditAccountId;

    private string Prefix => Config.NamePrefix;

    public string RepositoryName => $"{Prefix}/auditinfra";

    public string RepositoryArn => $"arn:{Names.Partition}:ecr:{Config.HomeRegion}:{Audit}:repository/{RepositoryName}";

    /// <summary>ECR's registry host: the account's, in the home region (China's partition has its own domain).</summary>
    public string RepositoryUrl => $"{Audit}.dkr.ecr.{Config.HomeRegion}.amazonaws.com{(Names.Partition == "aws-cn" ? ".cn" : "")}/{RepositoryName}";

    public string ClusterName => $"{Prefix}-integrity";

    public string ClusterArn => $"arn:{Names.Partition}:ecs:{Config.HomeRegion}:{Audit}:cluster/{ClusterName}";

    public string IncrementalFamily => $"{Prefix}-integrity-verify";

    public string FullFamily => $"{Prefix}-integrity-verify-full";

    public ImmutableArray<string> TaskFamilies => [IncrementalFamily, FullFamily];

    public string TaskDefinitionArnPrefix => $"arn:{Names.Partition}:ecs:{Config.HomeRegion}:{Audit}:task-definition/";

    public string ExecutionRoleName => $"{Prefix}-integrity-execution";

    public string ExecutionRoleArn => $"arn:{Names.Partition}:iam::{Audit}:role/{ExecutionRoleName}";

    public string SchedulerRoleName => $"{Prefix}-integrity-scheduler";

    public string TaskLogGroup => $"/auditinfra/{Prefix}/integrity";

    public string StateBucket => $"{Prefix}-integrity-state-{Audit}-{Config.HomeRegion}";

    public string AttestationKeyAlias => $"alias/{Prefix}/integrity-attestations";

    /// <summary>On the central bus, under the detection rules' prefix: the topic and DLQ policies already admit it.</summary>
    public string FindingRuleName => $"{Names.DetectionRuleNamePrefix}{IntegrityMonitorPolicies.FindingDetailType}";

    public string RunsRuleName => $"{Prefix}-integrity-run-completed";

    public string RunsRuleArn => $"arn:{Names.Partition}:events:{Config.HomeRegion}:{Audit}:rule/{RunsRuleName}";

    /// <summary>EventBridge delivers to log groups named /aws/events/… only.</summary>
    public string RunsLogGroup => $"/aws/events/{Prefix}-integrity-runs";

    public string AlarmName => $"{Prefix}-integrity-missed-run";

    public string BackfillName => $"{Prefix}-integrity-backfill";

    public string DetectionTopicArn => Names.DetectionTopicArn;

    public string DetectionDeadLetterQueueArn => Names.DetectionDeadLetterQueueArn;
}

public sealed record AttestationKeyDesign(string Description, string KeySpec, string KeyUsage, int DeletionWindowInDays, PolicyDocument Policy, string AliasName)
{
    /// <summary>KMS rotates symmetric keys only; an attestation key is replaced, never rotated, so old attestations keep verifying.</summary>
    public bool EnableKeyRotation => false;
}

public sealed record MonitorScheduleDesign(string LogicalName, string Name, string Expression, string Description, string TaskFamily);

public sealed record MonitorTaskDesign(string LogicalName, string Family, ImmutableArray<string> Command);

/// <summary>
/// The continuous integrity monitor in the audit account: the CLI image in ECR, an ECS Fargate
/// task running <c>verify</c> incrementally every hour and in full every day (EventBridge
/// Scheduler), a least-privilege task role, an asymmetric KMS key that signs attestations,
/// findings on the central bus as detection events, an alarm when no run completes, and an AWS
/// Batch job definition for backfills as array jobs (its queue disabled unless configured).
/// </summary>
public sealed record IntegrityMonitorDesign(
    ResourceNames Names,
    IntegrityMonitorNames Monitor,
    IntegrityMonitorSettings Settings,
    string Image,
    RoleDesign TaskRole,
    RoleDesign ExecutionRole,
    RoleDesign SchedulerRole,
    AttestationKeyDesign AttestationKey,
    PolicyDocument StateBucketPolicy,
    ImmutableArray<MonitorTaskDesign> Tasks,
    ImmutableArray<MonitorScheduleDesign> Schedules,
    string FindingRulePatternJson,
    string RunsRulePatternJson,
    PolicyDocument RunsLogGroupPolicy,
    ImmutableArray<string> BackfillCommand,
    ImmutableSortedDictionary<string, string> Tags)
{
    public const string ComponentType = "auditinfra:integrity:IntegrityMonitor";
    public const string ContainerName = "verify";
    public const string MetricNamespace = "AuditInfra/Integrity";
    public const string MetricName = "CompletedRuns";

    /// <summary>Batch sets it in each child of an array job: the backfill's shard index.</summary>
    public const string ArrayIndexVariable = "AWS_BATCH_JOB_ARRAY_INDEX";

    /// <summary>The Batch parameter holding verify's whole --shard value: auto/N, k taken from <see cref="ArrayIndexVariable"/>.</summary>
    public const string ShardParameter = "shard";

    /// <summary>
    /// The shard a backfill job verifies when submitted without --parameters: every chain in one job. Not auto/1: a
    /// job that is not an array has no AWS_BATCH_JOB_ARRAY_INDEX (and an array has at least two children).
    /// </summary>
    public const string DefaultShard = "0/1";

    public string ImageTagMutability { get; init; } = "IMMUTABLE";

    public bool ScanOnPush { get; init; } = true;

    public string RepositoryEncryption { get; init; } = "AES256";

    /// <summary>Scheduler retries a launch that failed (capacity, throttling) within the run's hour.</summary>
    public int ScheduleMaximumEventAgeSeconds { get; init; } = 3600;

    public int ScheduleMaximumRetryAttempts { get; init; } = 3;

    public string ScheduleState { get; init; } = "ENABLED";

    public string FlexibleTimeWindowMode { get; init; } = "OFF";

    public string StateObjectOwnership { get; init; } = "BucketOwnerEnforced";

    public PublicAccessBlockDesign StatePublicAccess { get; init; } = PublicAccessBlockDesign.All;

    /// <summary>Old states are kept a month: enough to roll a chain's state back by hand.</summary>
    public int StateNoncurrentVersionExpirationDays { get; init; } = 30;

    public string FindingRuleDescription => "[HIGH] Integrity finding: the continuous monitor found missing, altered or unverifiable logs or digests";

    public string QueueState => Settings.Backfill.Enabled ? "ENABLED" : "DISABLED";

    public int BackfillRetryAttempts { get; init; } = 2;

    /// <summary>Batch's Fargate vCPU value for the configured CPU units (1024 units = 1 vCPU).</summary>
    public string BackfillVcpus => (Settings.Cpu / 1024.0).ToString(CultureInfo.InvariantCulture);

    public int AlarmPeriodSeconds => Settings.AlarmAfterHours * 3600;
}

public static class IntegrityMonitorDesigner
{
    public static IntegrityMonitorDesign Design(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var monitor = new IntegrityMonitorNames(names);
        var settings = config.Integrity;
        var image = $"{monitor.RepositoryUrl}:{settings.ImageTag}";

        var taskRole = new RoleDesign(
            names.Logical("integrity-task-role"),
            names.IntegrityTaskRoleName,
            IntegrityMonitorPolicies.EcsTasksTrust(config, names),
            IntegrityMonitorPolicies.TaskPermissions(config, names, monitor),
            [],
            3600);
        var executionRole = new RoleDesign(
            names.Logical("integrity-execution-role"),
            monitor.ExecutionRoleName,
            IntegrityMonitorPolicies.EcsTasksTrust(config, names),
            IntegrityMonitorPolicies.ExecutionPermissions(config, names, monitor),
            [],
            3600);
        var schedulerRole = new RoleDesign(
            names.Logical("integrity-scheduler-role"),
            monitor.SchedulerRoleName,
            IntegrityMonitorPolicies.SchedulerTrust(config, names),
            IntegrityMonitorPolicies.SchedulerPermissions(names, monitor),
            [],
            3600);
        var key = new AttestationKeyDesign(
            "Signs AuditInfra integrity attestations (RSASSA_PSS_SHA_256)",
            "RSA_3072",
            "SIGN_VERIFY",
            30,
            IntegrityMonitorPolicies.AttestationKeyPolicy(config, names),
            monitor.AttestationKeyAlias);

        // The command line as data, in verify's own flags (a test parses it with the CLI's parser):
        // the monitor only decides where each points. One state object for the whole source.
        var source = $"s3://{names.LogBucket}" + (config.S3KeyPrefix.Length == 0 ? "" : "/" + config.S3KeyPrefix);
        string[] verify =
        [
            "verify", "--source", source,
            "--state", $"s3://{monitor.StateBucket}/{IntegrityMonitorNames.StateKey}",
            "--publish-findings", names.DetectionBusArn,
        ];
        string[] common = [.. verify, "--attest", "--kms-key-id", monitor.AttestationKeyAlias];
        var tasks = ImmutableArray.Create(
            new MonitorTaskDesign(names.Logical("integrity-task"), monitor.IncrementalFamily, [.. common]),
            new MonitorTaskDesign(names.Logical("integrity-task-full"), monitor.FullFamily, [.. common, "--full"]));
        var schedules = ImmutableArray.Create(
            new MonitorScheduleDesign(names.Logical("integrity-schedule"), $"{config.NamePrefix}-integrity-incremental", settings.ScheduleExpression, "AuditInfra: verify what is new since the last state, attest, publish findings", monitor.IncrementalFamily),
            new MonitorScheduleDesign(names.Logical("integrity-schedule-full"), $"{config.NamePrefix}-integrity-full", settings.FullScheduleExpression, "AuditInfra: verify the whole archive (catches digests deleted or altered before the state point)", monitor.FullFamily));

        var findingPattern = (new System.Text.Json.Nodes.JsonObject
        {
            ["source"] = new System.Text.Json.Nodes.JsonArray(IntegrityMonitorPolicies.FindingSource),
            ["detail-type"] = new System.Text.Json.Nodes.JsonArray(IntegrityMonitorPolicies.FindingDetailType),
        }).ToJsonString(Planning.JsonFormat.Compact);

        // A run completed when its container stopped with 0 (verified) or 1 (findings, published):
        // exit 2 (bad input, crash), an OOM kill or a task that never started counts as missed.
        var runsPattern = (new System.Text.Json.Nodes.JsonObject
        {
            ["source"] = new System.Text.Json.Nodes.JsonArray("aws.ecs"),
            ["detail-type"] = new System.Text.Json.Nodes.JsonArray("ECS Task State Change"),
            ["detail"] = new System.Text.Json.Nodes.JsonObject
            {
                ["clusterArn"] = new System.Text.Json.Nodes.JsonArray(monitor.ClusterArn),
                ["lastStatus"] = new System.Text.Json.Nodes.JsonArray("STOPPED"),
                ["containers"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["name"] = new System.Text.Json.Nodes.JsonArray(IntegrityMonitorDesign.ContainerName),
                    ["exitCode"] = new System.Text.Json.Nodes.JsonArray(0, 1),
                },
            },
        }).ToJsonString(Planning.JsonFormat.Compact);

        // verify refuses --attest with --shard (a shard sees only some regions of an account-day), so the backfill
        // verifies and publishes; the daily full run attests. Batch substitutes only a whole argument, so the
        // shard is one parameter (default 0/1; an array job of N children is submitted with --parameters shard=auto/N).
        string[] backfill = [.. verify, "--shard", $"Ref::{IntegrityMonitorDesign.ShardParameter}"];
        return new IntegrityMonitorDesign(
            names,
            monitor,
            settings,
            image,
            taskRole,
            executionRole,
            schedulerRole,
            key,
            IntegrityMonitorPolicies.StateBucketPolicy(config, names, monitor),
            tasks,
            schedules,
            findingPattern,
            runsPattern,
            IntegrityMonitorPolicies.RunsLogGroupPolicy(config, names, monitor),
            [.. backfill],
            DesignTags.For(config, "IntegrityMonitor"));
    }
}
