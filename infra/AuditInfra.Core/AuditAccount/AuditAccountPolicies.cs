using System.Collections.Immutable;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Guardrails;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.AuditAccount;

/// <summary>
/// The audit account's lock-down SCP and its roles' policies. Every deny exempts exactly the
/// deployment and break-glass roles: nobody else has a write path to anything that holds or
/// protects the logs.
/// </summary>
public static class AuditAccountPolicies
{
    public const string DenyIamUsersSid = "DenyIamUsersAndAccessKeys";
    public const string DenyLogWritesSid = "DenyWritesToTheLogArchive";
    public const string DenyLogBucketChangesSid = "DenyDeletingOrUnlockingAttestations";
    public const string DenyLogBucketPutsSid = "DenyPutsOutsideTheIntegrityMonitor";
    public const string DenyMonitorPutsSid = "DenyMonitorPutsOutsideAttestationsAndState";
    public const string DenyCloudTrailChangesSid = "DenyCloudTrailChanges";
    public const string DenySecurityServicesSid = "DenyDisablingSecurityServices";
    public const string DenyOutsideRegionsSid = "DenyRegionsOutsideGoverned";

    /// <summary>Services that are global or answer only in us-east-1: never region-denied.</summary>
    public static readonly ImmutableArray<string> GlobalServiceActions =
    [
        "iam:*", "organizations:*", "sts:*", "support:*", "account:*", "budgets:*", "ce:*", "cloudfront:*", "route53:*",
        "health:*", "trustedadvisor:*", "waf:*", "shield:*", "kms:Decrypt", "s3:GetBucketLocation", "s3:ListAllMyBuckets",
    ];

    public static ImmutableArray<PolicyStatement> LockdownStatements(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var exempt = GuardrailPolicies.ExemptPrincipals(config);
        PolicyCondition Exempt() => new("ArnNotLike", "aws:PrincipalArn", exempt);
        var guardrails = GuardrailPolicies.Statements(config);
        var statements = ImmutableArray.CreateBuilder<PolicyStatement>();
        statements.Add(new PolicyStatement
        {
            Sid = DenyIamUsersSid,
            Effect = PolicyEffect.Deny,
            Actions = ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:AttachUserPolicy", "iam:PutUserPolicy"],
            Resources = ["*"],
            Conditions = [Exempt()],
        });
        ImmutableArray<string> logWrites = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention", "s3:RestoreObject"];
        statements.Add(new PolicyStatement
        {
            // CloudTrail writes as a service principal, which SCPs do not restrict. With the
            // integrity monitor, this covers what CloudTrail writes (AWSLogs/) and the two
            // statements below the rest of the bucket, where the monitor may add attestations.
            Sid = DenyLogWritesSid,
            Effect = PolicyEffect.Deny,
            Actions = logWrites,
            Resources = config.Integrity.Enabled
                ? [$"{names.LogBucketArn}/{names.KeyPrefixPath}AWSLogs/*", $"{names.AccessLogBucketArn}/*"]
                : [$"{names.LogBucketArn}/*", $"{names.AccessLogBucketArn}/*"],
            Conditions = [Exempt()],
        });
        if (config.Integrity.Enabled)
        {
            statements.Add(new PolicyStatement
            {
                Sid = DenyLogBucketChangesSid,
                Effect = PolicyEffect.Deny,
                Actions = logWrites.Remove("s3:PutObject"),
                Resources = [$"{names.LogBucketArn}/*"],
                Conditions = [Exempt()],
            });
            statements.Add(new PolicyStatement
            {
                Sid = DenyLogBucketPutsSid,
                Effect = PolicyEffect.Deny,
                Actions = ["s3:PutObject"],
                Resources = [$"{names.LogBucketArn}/*"],
                Conditions = [new PolicyCondition("ArnNotLike", "aws:PrincipalArn", Integrity.Monitor.IntegrityMonitorPolicies.LockdownPutExemptions(config, names))],
            });
            var monitor = new Integrity.Monitor.IntegrityMonitorNames(names);
            statements.Add(new PolicyStatement
            {
                // The monitor's role puts exactly where verify writes: attestations beside AWSLogs/ under the
                // trail's key prefix, and its state object. Nothing else in the account, whatever its IAM says.
                Sid = DenyMonitorPutsSid,
                Effect = PolicyEffect.Deny,
                Actions = ["s3:PutObject"],
                NotResources = [$"{names.LogBucketArn}/{names.AttestationsPrefix}*", $"{names.BucketArn(monitor.StateBucket)}/{Integrity.Monitor.IntegrityMonitorNames.StatePrefix}*"],
                Conditions = [new PolicyCondition("ArnLike", "aws:PrincipalArn", names.IntegrityTaskRoleArn), Exempt()],
            });
        }

        statements.Add(guardrails.Single(s => s.Sid == GuardrailPolicies.ProtectLogBucketSid));
        statements.Add(guardrails.Single(s => s.Sid == GuardrailPolicies.ProtectTrailKeySid));
        statements.Add(guardrails.Single(s => s.Sid == GuardrailPolicies.ProtectDetectionHubSid));
        statements.Add(new PolicyStatement
        {
            Sid = DenyCloudTrailChangesSid,
            Effect = PolicyEffect.Deny,
            Actions = ["cloudtrail:CreateTrail", "cloudtrail:DeleteTrail", "cloudtrail:StopLogging", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors", "cloudtrail:DeleteEventDataStore"],
            Resources = ["*"],
            Conditions = [Exempt()],
        });
        statements.Add(new PolicyStatement
        {
            Sid = DenySecurityServicesSid,
            Effect = PolicyEffect.Deny,
            Actions =
            [
                "guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount", "guardduty:UpdateDetector",
                "securityhub:DisableSecurityHub", "securityhub:DisassociateFromAdministratorAccount",
                "config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel",
                "access-analyzer:DeleteAnalyzer",
            ],
            Resources = ["*"],
            Conditions = [Exempt()],
        });
        statements.Add(guardrails.Single(s => s.Sid == GuardrailPolicies.DenyLeaveOrganizationSid));
        if (config.AuditAccount.DenyRegionsOutsideGoverned)
        {
            statements.Add(new PolicyStatement
            {
                Sid = DenyOutsideRegionsSid,
                Effect = PolicyEffect.Deny,
                NotActions = GlobalServiceActions,
                Resources = ["*"],
                Conditions = [new PolicyCondition("StringNotEquals", "aws:RequestedRegion", config.GovernedRegions), Exempt()],
            });
        }

        return statements.ToImmutable();
    }

    /// <summary>Who may become the auditor: people with MFA, automation without.</summary>
    public static PolicyDocument AuditorTrust(AuditConfig config)
    {
        var settings = config.AuditAccount;
        var statements = new List<PolicyStatement>();
        if (!settings.AuditorHumanPrincipals.IsEmpty)
        {
            statements.Add(new PolicyStatement
            {
                Sid = "AuditorsWithMfa",
                Principal = PolicyPrincipal.Aws([.. settings.AuditorHumanPrincipals]),
                Actions = ["sts:AssumeRole"],
                Conditions =
                [
                    new PolicyCondition("Bool", "aws:MultiFactorAuthPresent", "true"),
                    new PolicyCondition("StringEquals", "aws:PrincipalOrgID", config.Organization.OrganizationId),
                ],
            });
        }

        if (!settings.AuditorAutomationPrincipals.IsEmpty)
        {
            statements.Add(new PolicyStatement
            {
                Sid = "AuditAutomation",
                Principal = PolicyPrincipal.Aws([.. settings.AuditorAutomationPrincipals]),
                Actions = ["sts:AssumeRole"],
                Conditions = [new PolicyCondition("StringEquals", "aws:PrincipalOrgID", config.Organization.OrganizationId)],
            });
        }

        if (statements.Count == 0)
        {
            // Nobody configured: the role exists but can be assumed only by the break-glass role.
            statements.Add(new PolicyStatement
            {
                Sid = "BreakGlassOnlyUntilAuditorsAreConfigured",
                Principal = PolicyPrincipal.Aws(config.BreakGlassRoleArn),
                Actions = ["sts:AssumeRole"],
            });
        }

        return new PolicyDocument(statements.ToImmutableArray());
    }

    /// <summary>Read-only on the logs, decrypt per policies.md, and read access for the query layer.</summary>
    public static PolicyDocument AuditorPermissions(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var audit = config.Organization.AuditAccountId;
        var statements = new List<PolicyStatement>
        {
            new()
            {
                Sid = "ReadTheLogs",
                Actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetObjectRetention", "s3:GetBucketObjectLockConfiguration"],
                Resources = [names.LogBucketArn, $"{names.LogBucketArn}/*", names.AccessLogBucketArn, $"{names.AccessLogBucketArn}/*"],
            },
            new PolicyStatement
            {
                Sid = "DecryptTrailLogs",
                Actions = ["kms:Decrypt", "kms:DescribeKey"],
                Resources = [$"arn:{names.Partition}:kms:{config.HomeRegion}:{audit}:key/*"],
                Conditions =
                [
                    new PolicyCondition("StringEquals", "kms:CallerAccount", audit),
                    new PolicyCondition("Null", "kms:EncryptionContext:aws:cloudtrail:arn", "false"),
                ],
            },
            new PolicyStatement
            {
                Sid = "QueryLayerRead",
                Actions =
                [
                    "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup", "athena:ListWorkGroups",
                    "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions",
                ],
                Resources = ["*"],
            },
            new PolicyStatement
            {
                // Athena writes each query's results here, as the caller.
                Sid = "QueryResults",
                Actions = ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                Resources = [names.BucketArn(Query.QueryLayerDesigner.Design(config).ResultsBucket), $"{names.BucketArn(Query.QueryLayerDesigner.Design(config).ResultsBucket)}/*"],
            },
            new PolicyStatement
            {
                Sid = "ReadTheDesign",
                Actions = ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:ListPublicKeys", "events:DescribeRule", "events:ListRules", "events:ListTargetsByRule"],
                Resources = ["*"],
            },
        };
        if (config.Integrity.Enabled)
        {
            statements.Insert(statements.Count - 1, new PolicyStatement
            {
                // Attestations are verified offline with the key's public half.
                Sid = "VerifyAttestations",
                Actions = ["kms:GetPublicKey", "kms:Verify", "kms:DescribeKey"],
                Resources = [$"arn:{names.Partition}:kms:{config.HomeRegion}:{audit}:key/*"],
                Conditions = [new PolicyCondition("ForAnyValue:StringEquals", "kms:ResourceAliases", new Integrity.Monitor.IntegrityMonitorNames(names).AttestationKeyAlias)],
            });
        }

        return new PolicyDocument(statements.ToImmutableArray());
    }

    /// <summary>Break-glass: people of the management account, with MFA; sessions of one hour.</summary>
    public static PolicyDocument BreakGlassTrust(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var principals = config.AuditAccount.BreakGlassPrincipals.IsEmpty
            ? [names.AccountRootArn(config.Organization.ManagementAccountId)]
            : config.AuditAccount.BreakGlassPrincipals;
        return new PolicyDocument(new PolicyStatement
        {
            Sid = "BreakGlassWithMfa",
            Principal = PolicyPrincipal.Aws([.. principals]),
            Actions = ["sts:AssumeRole"],
            Conditions = [new PolicyCondition("Bool", "aws:MultiFactorAuthPresent", "true")],
        });
    }
}
