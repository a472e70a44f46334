using System.Collections.Immutable;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Storage;

/// <summary>
/// The log archive's policy documents, as shared/reference/policies.md requires them. Statement
/// ids are stable: tests, the offline check and auditors refer to statements by Sid.
/// </summary>
public static class LogArchivePolicies
{
    public const string KeyAdministrationSid = "AllowKeyAdministrationByDeploymentAndBreakGlassRoles";
    public const string CloudTrailEncryptSid = "AllowCloudTrailToEncryptLogs";
    public const string CloudTrailDescribeKeySid = "AllowCloudTrailToDescribeKey";
    public const string ReadersDecryptSid = "AllowLogReadersToDecrypt";
    public const string AclCheckSid = "AWSCloudTrailAclCheck";
    public const string CloudTrailWriteSid = "AWSCloudTrailWrite";
    public const string DenyInsecureTransportSid = "DenyInsecureTransport";
    public const string DenyOutsideOrganizationSid = "DenyPrincipalsOutsideOrganization";
    public const string AccessLogsWriteSid = "S3ServerAccessLogsPolicy";

    /// <summary>Every KMS action that changes the key, its policy or its life: kept for two named roles.</summary>
    public static readonly ImmutableArray<string> KeyAdministrationActions =
    [
        "kms:CancelKeyDeletion", "kms:Create*", "kms:Delete*", "kms:Describe*", "kms:Disable*", "kms:Enable*",
        "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
        "kms:TagResource", "kms:UntagResource", "kms:Update*",
    ];

    public static PolicyDocument TrailKeyPolicy(AuditConfig config, ResourceNames names)
    {
        var org = config.Organization;
        var readerConditions = ImmutableArray.Create(
            new PolicyCondition("StringEquals", "kms:CallerAccount", org.AuditAccountId),
            new PolicyCondition("Null", "kms:EncryptionContext:aws:cloudtrail:arn", "false"));
        if (!config.LogReaderPrincipalArns.IsEmpty)
        {
            // The integrity monitor reads every log it proves.
            var readers = config.Integrity.Enabled && !config.LogReaderPrincipalArns.Contains(names.IntegrityTaskRoleArn)
                ? config.LogReaderPrincipalArns.Add(names.IntegrityTaskRoleArn)
                : config.LogReaderPrincipalArns;
            readerConditions = readerConditions.Add(new PolicyCondition("ArnLike", "aws:PrincipalArn", readers));
        }

        return new PolicyDocument(
            new PolicyStatement
            {
                // Administration is not delegated to the account root: nobody else in the audit
                // account can grant themselves control of the key that protects the logs.
                Sid = KeyAdministrationSid,
                Principal = PolicyPrincipal.Aws(config.DeploymentRoleArn, config.BreakGlassRoleArn),
                Actions = KeyAdministrationActions,
                Resources = ["*"],
            },
            new PolicyStatement
            {
                Sid = CloudTrailEncryptSid,
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("cloudtrail")),
                Actions = ["kms:GenerateDataKey*"],
                Resources = ["*"],
                Conditions =
                [
                    new PolicyCondition("StringEquals", "aws:SourceArn", names.TrailArn),
                    new PolicyCondition("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn", $"arn:{names.Partition}:cloudtrail:*:{org.ManagementAccountId}:trail/*"),
                ],
            },
            new PolicyStatement
            {
                Sid = CloudTrailDescribeKeySid,
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("cloudtrail")),
                Actions = ["kms:DescribeKey"],
                Resources = ["*"],
                Conditions = [new PolicyCondition("StringEquals", "aws:SourceArn", names.TrailArn)],
            },
            new PolicyStatement
            {
                Sid = ReadersDecryptSid,
                Principal = PolicyPrincipal.Aws(names.AccountRootArn(org.AuditAccountId)),
                Actions = ["kms:Decrypt", "kms:ReEncryptFrom"],
                Resources = ["*"],
                Conditions = readerConditions,
            });
    }

    public static PolicyDocument LogBucketPolicy(AuditConfig config, ResourceNames names)
    {
        var bucketArn = names.LogBucketArn;
        return new PolicyDocument(
            new PolicyStatement
            {
                Sid = AclCheckSid,
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("cloudtrail")),
                Actions = ["s3:GetBucketAcl"],
                Resources = [bucketArn],
                Conditions = [new PolicyCondition("StringEquals", "aws:SourceArn", names.TrailArn)],
            },
            new PolicyStatement
            {
                Sid = CloudTrailWriteSid,
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("cloudtrail")),
                Actions = ["s3:PutObject"],
                Resources = [$"{bucketArn}/{names.ManagementLogsPrefix}*", $"{bucketArn}/{names.OrganizationLogsPrefix}*"],
                Conditions =
                [
                    new PolicyCondition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
                    new PolicyCondition("StringEquals", "aws:SourceArn", names.TrailArn),
                ],
            },
            DenyInsecureTransport(bucketArn),
            new PolicyStatement
            {
                Sid = DenyOutsideOrganizationSid,
                Effect = PolicyEffect.Deny,
                Principal = PolicyPrincipal.Anyone,
                Actions = ["s3:*"],
                Resources = [bucketArn, $"{bucketArn}/*"],
                Conditions =
                [
                    new PolicyCondition("StringNotEquals", "aws:PrincipalOrgID", config.Organization.OrganizationId),
                    new PolicyCondition("Bool", "aws:PrincipalIsAWSService", "false"),
                ],
            });
    }

    public static PolicyDocument AccessLogBucketPolicy(AuditConfig config, ResourceNames names)
    {
        var bucketArn = names.AccessLogBucketArn;
        return new PolicyDocument(
            new PolicyStatement
            {
                Sid = AccessLogsWriteSid,
                Principal = PolicyPrincipal.Service(names.ServicePrincipal("logging.s3")),
                Actions = ["s3:PutObject"],
                Resources = [$"{bucketArn}/{AccessLogPrefix(names)}*"],
                Conditions =
                [
                    new PolicyCondition("ArnLike", "aws:SourceArn", names.LogBucketArn),
                    new PolicyCondition("StringEquals", "aws:SourceAccount", config.Organization.AuditAccountId),
                ],
            },
            DenyInsecureTransport(bucketArn));
    }

    public static string AccessLogPrefix(ResourceNames names) => $"{names.LogBucket}/";

    private static PolicyStatement DenyInsecureTransport(string bucketArn) => new()
    {
        Sid = DenyInsecureTransportSid,
        Effect = PolicyEffect.Deny,
        Principal = PolicyPrincipal.Anyone,
        Actions = ["s3:*"],
        Resources = [bucketArn, $"{bucketArn}/*"],
        Conditions = [new PolicyCondition("Bool", "aws:SecureTransport", "false")],
    };
}
