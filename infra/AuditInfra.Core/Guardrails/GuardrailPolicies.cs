using System.Collections.Immutable;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Guardrails;

/// <summary>
/// The guardrail SCP statements (shared/reference/policies.md, Guardrails). Every deny exempts
/// exactly the configured deployment and break-glass roles; the forwarding baseline additionally
/// exempts the role the Automation host deploys it with, by name, in every account.
/// </summary>
public static class GuardrailPolicies
{
    public const string ProtectLogBucketSid = "DenyLogBucketTampering";
    public const string ProtectTrailKeySid = "DenyTrailKeyTampering";
    public const string ProtectDetectionHubSid = "DenyDetectionHubTampering";
    public const string ProtectForwardingSid = "DenyForwardingRuleTampering";
    public const string ProtectTrailSid = "DenyOrganizationTrailTampering";
    public const string ProtectCanarySid = "DenyDetectionCanaryTampering";
    public const string DenyLeaveOrganizationSid = "DenyLeavingTheOrganization";

    public static readonly ImmutableArray<string> BucketTamperingActions =
    [
        "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketOwnershipControls",
        "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning", "s3:PutBucketObjectLockConfiguration", "s3:PutLifecycleConfiguration",
        "s3:PutBucketLogging", "s3:PutEncryptionConfiguration", "s3:PutReplicationConfiguration",
        "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention",
    ];

    public static readonly ImmutableArray<string> KeyTamperingActions =
    [
        "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKeyRotation", "kms:CreateGrant",
        "kms:DeleteAlias", "kms:UpdateAlias", "kms:TagResource", "kms:UntagResource",
    ];

    public static readonly ImmutableArray<string> EventsTamperingActions =
    [
        "events:DeleteRule", "events:DisableRule", "events:PutRule", "events:PutTargets", "events:RemoveTargets",
        "events:DeleteEventBus", "events:PutPermission", "events:RemovePermission",
    ];

    public static readonly ImmutableArray<string> CanaryTamperingActions = ["scheduler:DeleteSchedule", "scheduler:UpdateSchedule"];

    public static readonly ImmutableArray<string> RoleTamperingActions =
    [
        "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
    ];

    public static readonly ImmutableArray<string> TrailTamperingActions =
    [
        "cloudtrail:DeleteTrail", "cloudtrail:StopLogging", "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors",
    ];

    /// <summary>The principals exempt from every guardrail.</summary>
    public static ImmutableArray<string> ExemptPrincipals(AuditConfig config) => [config.DeploymentRoleArn, config.BreakGlassRoleArn];

    public static ImmutableArray<PolicyStatement> Statements(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var p = names.Partition;
        var audit = config.Organization.AuditAccountId;
        var exempt = ExemptPrincipals(config);
        var exemptWithHost = exempt.Add($"arn:{p}:iam::*:role/{config.Rollout.ExecutionRoleName}");

        return
        [
            Deny(ProtectLogBucketSid, BucketTamperingActions,
                [names.LogBucketArn, $"{names.LogBucketArn}/*", names.AccessLogBucketArn, $"{names.AccessLogBucketArn}/*"], exempt),
            Deny(ProtectTrailKeySid, KeyTamperingActions, [$"arn:{p}:kms:*:{audit}:key/*", $"arn:{p}:kms:*:{audit}:{names.TrailKeyAlias}"], exempt,
                // Keys have random ids: the log archive's key is the one tagged as its component's.
                new PolicyCondition("StringEquals", "aws:ResourceTag/auditinfra:component", "LogArchive")),
            Deny(ProtectDetectionHubSid, EventsTamperingActions,
                [names.DetectionBusArn, $"arn:{p}:events:*:{audit}:rule/{names.DetectionBusName}/{names.DetectionRuleNamePrefix}*"], exempt),
            Deny(ProtectForwardingSid, [.. EventsTamperingActions, .. RoleTamperingActions],
                [$"arn:{p}:events:*:*:rule/{names.ForwardingRuleName}", $"arn:{p}:iam::*:role/{names.ForwardingRoleName}"], exemptWithHost),
            // The canary stays honest only if nobody but its deployers can stop it or change its role.
            Deny(ProtectCanarySid, [.. CanaryTamperingActions, .. RoleTamperingActions],
                [$"arn:{p}:scheduler:*:*:schedule/{Rollout.CanaryBaselineDesign.GroupName}/{Detection.CanaryNames.Schedule(config.NamePrefix)}", $"arn:{p}:iam::*:role/{Detection.CanaryNames.Role(config.NamePrefix)}"], exemptWithHost),
            Deny(ProtectTrailSid, TrailTamperingActions, [names.TrailArn], exempt),
            Deny(DenyLeaveOrganizationSid, ["organizations:LeaveOrganization"], ["*"], exempt),
        ];
    }

    private static PolicyStatement Deny(string sid, ImmutableArray<string> actions, ImmutableArray<string> resources, ImmutableArray<string> exempt, params PolicyCondition[] extra) => new()
    {
        Sid = sid,
        Effect = PolicyEffect.Deny,
        Actions = actions,
        Resources = resources,
        Conditions = [.. extra, new PolicyCondition("ArnNotLike", "aws:PrincipalArn", exempt)],
    };
}
