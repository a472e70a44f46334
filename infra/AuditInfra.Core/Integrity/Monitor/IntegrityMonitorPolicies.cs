using System.Collections.Immutable;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.Integrity.Monitor;

/// <summary>
/// The integrity monitor's policy documents. Least privilege: the task reads the logs, writes
/// only state and attestations (never deletes), signs only with the attestation key, and puts
/// only its own findings on the central bus; the scheduler runs only the monitor's task families.
/// </summary>
public static class IntegrityMonitorPolicies
{
    public const string SignSid = "AllowSigningByTheIntegrityMonitorOnly";
    public const string VerifySid = "AllowAuditorsToVerifyAttestations";
    public const string FindingSource = "auditinfra.integrity";
    public const string FindingDetailType = "integrity-finding";

    /// <summary>
    /// Attestations are written with SSE-S3: they hold no log content, and the trail key lets only
    /// CloudTrail encrypt (the log bucket's default would ask the task for kms:GenerateDataKey on it).
    /// </summary>
    public const string AttestationEncryption = "AES256";

    public static PolicyDocument EcsTasksTrust(AuditConfig config, ResourceNames names) => new(new PolicyStatement
    {
        Sid = "EcsAndBatchTasksOfTheAuditAccount",
        Principal = PolicyPrincipal.Service(names.ServicePrincipal("ecs-tasks")),
        Actions = ["sts:AssumeRole"],
        Conditions = [new PolicyCondition("StringEquals", "aws:SourceAccount", config.Organization.AuditAccountId)],
    });

    public static PolicyDocument SchedulerTrust(AuditConfig config, ResourceNames names) => new(new PolicyStatement
    {
        Sid = "SchedulerOfTheAuditAccount",
        Principal = PolicyPrincipal.Service(names.ServicePrincipal("scheduler")),
        Actions = ["sts:AssumeRole"],
        Conditions = [new PolicyCondition("StringEquals", "aws:SourceAccount", config.Organization.AuditAccountId)],
    });

    public static PolicyDocument TaskPermissions(AuditConfig config, ResourceNames names, IntegrityMonitorNames monitor)
    {
        var audit = config.Organization.AuditAccountId;
        var logs = $"{names.KeyPrefixPath}AWSLogs/";
        var stateBucketArn = names.BucketArn(monitor.StateBucket);
        return new PolicyDocument(
            new PolicyStatement
            {
                Sid = "ListTheLogsAndAttestations",
                Actions = ["s3:ListBucket"],
                Resources = [names.LogBucketArn],
                Conditions = [new PolicyCondition("StringLike", "s3:prefix", names.KeyPrefixPath, $"{logs}*", $"{names.AttestationsPrefix}*")],
            },
            new PolicyStatement
            {
                Sid = "ReadTheLogsAndAttestations",
                Actions = ["s3:GetObject"],
                Resources = [$"{names.LogBucketArn}/{logs}*", $"{names.LogBucketArn}/{names.AttestationsPrefix}*"],
            },
            new PolicyStatement
            {
                Sid = "DecryptTrailLogs",
                Actions = ["kms:Decrypt"],
                Resources = [$"arn:{names.Partition}:kms:{config.HomeRegion}:{audit}:key/*"],
                Conditions =
                [
                    new PolicyCondition("StringEquals", "kms:CallerAccount", audit),
                    new PolicyCondition("Null", "kms:EncryptionContext:aws:cloudtrail:arn", "false"),
                ],
            },
            new PolicyStatement
            {
                Sid = "WriteAttestations",
                Actions = ["s3:PutObject"],
                Resources = [$"{names.LogBucketArn}/{names.AttestationsPrefix}*"],
                Conditions = [new PolicyCondition("StringEquals", "s3:x-amz-server-side-encryption", AttestationEncryption)],
            },
            new PolicyStatement
            {
                Sid = "ListState",
                Actions = ["s3:ListBucket"],
                Resources = [stateBucketArn],
            },
            new PolicyStatement
            {
                Sid = "ReadAndWriteState",
                Actions = ["s3:GetObject", "s3:PutObject"],
                Resources = [$"{stateBucketArn}/{IntegrityMonitorNames.StatePrefix}*"],
            },
            new PolicyStatement
            {
                Sid = "SignAttestations",
                Actions = ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"],
                Resources = [$"arn:{names.Partition}:kms:{config.HomeRegion}:{audit}:key/*"],
                Conditions = [new PolicyCondition("ForAnyValue:StringEquals", "kms:ResourceAliases", monitor.AttestationKeyAlias)],
            },
            new PolicyStatement
            {
                Sid = "PublishFindingsToTheCentralBus",
                Actions = ["events:PutEvents"],
                Resources = [names.DetectionBusArn],
                Conditions = [new PolicyCondition("StringEquals", "events:source", FindingSource)],
            },
            new PolicyStatement
            {
                Sid = "ReadCloudTrailPublicKeys",
                Actions = ["cloudtrail:ListPublicKeys", "cloudtrail:DescribeTrails"],
                Resources = ["*"],
            });
    }

    public static PolicyDocument ExecutionPermissions(AuditConfig config, ResourceNames names, IntegrityMonitorNames monitor)
    {
        var audit = config.Organization.AuditAccountId;
        return new PolicyDocument(
            new PolicyStatement
            {
                // GetAuthorizationToken has no resource-level permissions.
                Sid = "EcrLogin",
                Actions = ["ecr:GetAuthorizationToken"],
                Resources = ["*"],
            },
            new PolicyStatement
            {
                Sid = "PullTheCliImage",
                Actions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                Resources = [monitor.RepositoryArn],
            },
            new PolicyStatement
            {
                Sid = "WriteTaskLogs",
                Actions = ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resources = [$"arn:{names.Partition}:logs:{config.HomeRegion}:{audit}:log-group:{monitor.TaskLogGroup}:*"],
            });
    }

    public static PolicyDocument SchedulerPermissions(ResourceNames names, IntegrityMonitorNames monitor) => new(
        new PolicyStatement
        {
            Sid = "RunTheMonitorTasksOnly",
            Actions = ["ecs:RunTask"],
            Resources = [.. monitor.TaskFamilies.Select(f => $"{monitor.TaskDefinitionArnPrefix}{f}:*")],
            Conditions = [new PolicyCondition("ArnEquals", "ecs:cluster", monitor.ClusterArn)],
        },
        new PolicyStatement
        {
            Sid = "PassTheTaskRolesOnly",
            Actions = ["iam:PassRole"],
            Resources = [names.IntegrityTaskRoleArn, monitor.ExecutionRoleArn],
            Conditions = [new PolicyCondition("StringEquals", "iam:PassedToService", names.ServicePrincipal("ecs-tasks"))],
        });

    /// <summary>kms:Sign for the task role alone; the public key and Verify for the audit account's principals (auditors).</summary>
    public static PolicyDocument AttestationKeyPolicy(AuditConfig config, ResourceNames names) => new(
        new PolicyStatement
        {
            Sid = LogArchivePolicies.KeyAdministrationSid,
            Principal = PolicyPrincipal.Aws(config.DeploymentRoleArn, config.BreakGlassRoleArn),
            Actions = LogArchivePolicies.KeyAdministrationActions,
            Resources = ["*"],
        },
        new PolicyStatement
        {
            Sid = SignSid,
            Principal = PolicyPrincipal.Aws(names.IntegrityTaskRoleArn),
            Actions = ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"],
            Resources = ["*"],
        },
        new PolicyStatement
        {
            Sid = VerifySid,
            Principal = PolicyPrincipal.Aws(names.AccountRootArn(config.Organization.AuditAccountId)),
            Actions = ["kms:GetPublicKey", "kms:Verify", "kms:DescribeKey"],
            Resources = ["*"],
            Conditions = [new PolicyCondition("StringEquals", "kms:CallerAccount", config.Organization.AuditAccountId)],
        });

    public static PolicyDocument StateBucketPolicy(AuditConfig config, ResourceNames names, IntegrityMonitorNames monitor)
    {
        var arn = names.BucketArn(monitor.StateBucket);
        return new PolicyDocument(
            new PolicyStatement
            {
                Sid = LogArchivePolicies.DenyInsecureTransportSid,
                Effect = PolicyEffect.Deny,
                Principal = PolicyPrincipal.Anyone,
                Actions = ["s3:*"],
                Resources = [arn, $"{arn}/*"],
                Conditions = [new PolicyCondition("Bool", "aws:SecureTransport", "false")],
            },
            new PolicyStatement
            {
                // The monitor only ever overwrites its state (a conditional put); a deleted state
                // would silently restart every chain's proof from its next digest.
                Sid = "DenyStateDeletion",
                Effect = PolicyEffect.Deny,
                Principal = PolicyPrincipal.Anyone,
                Actions = ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                Resources = [$"{arn}/*"],
                Conditions = [new PolicyCondition("ArnNotLike", "aws:PrincipalArn", config.DeploymentRoleArn, config.BreakGlassRoleArn)],
            });
    }

    /// <summary>EventBridge writes the monitor's completed runs into the runs log group (counted by a metric filter).</summary>
    public static PolicyDocument RunsLogGroupPolicy(AuditConfig config, ResourceNames names, IntegrityMonitorNames monitor) => new(new PolicyStatement
    {
        Sid = "EventBridgeWritesCompletedRuns",
        Principal = PolicyPrincipal.Service(names.ServicePrincipal("events"), names.ServicePrincipal("delivery.logs")),
        Actions = ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resources = [$"arn:{names.Partition}:logs:{config.HomeRegion}:{config.Organization.AuditAccountId}:log-group:{monitor.RunsLogGroup}:*"],
        Conditions = [new PolicyCondition("ArnEquals", "aws:SourceArn", monitor.RunsRuleArn)],
    });

    /// <summary>The lock-down's carve-out: the task role may put (not delete) attestations in the log bucket, nothing under AWSLogs/.</summary>
    public static ImmutableArray<string> LockdownPutExemptions(AuditConfig config, ResourceNames names) =>
        [.. Guardrails.GuardrailPolicies.ExemptPrincipals(config), names.IntegrityTaskRoleArn];
}
