using System.Text.Json.Nodes;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Storage;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Storage;

/// <summary>The policy documents, compared structurally with what shared/reference/policies.md requires.</summary>
public class LogArchivePolicyTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("audit");
    private static readonly ResourceNames Names = new(Config);
    private const string TrailArn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail";
    private const string Bucket = "arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1";

    private static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected:\n{expected}\nactual:\n{actual.ToJsonString(Planning.JsonFormat.Indented)}");

    [Fact]
    public void Log_bucket_policy_is_exactly_the_reference_policy()
    {
        var policy = LogArchivePolicies.LogBucketPolicy(Config, Names);
        AssertJson($$"""
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
              "Principal": { "Service": "cloudtrail.amazonaws.com" },
              "Action": "s3:GetBucketAcl", "Resource": "{{Bucket}}",
              "Condition": { "StringEquals": { "aws:SourceArn": "{{TrailArn}}" } }
            },
            {
              "Sid": "AWSCloudTrailWrite", "Effect": "Allow",
              "Principal": { "Service": "cloudtrail.amazonaws.com" },
              "Action": "s3:PutObject",
              "Resource": [ "{{Bucket}}/cloudtrail/AWSLogs/111111111111/*", "{{Bucket}}/cloudtrail/AWSLogs/o-a1b2c3d4e5/*" ],
              "Condition": { "StringEquals": { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": "{{TrailArn}}" } }
            },
            {
              "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
              "Resource": [ "{{Bucket}}", "{{Bucket}}/*" ],
              "Condition": { "Bool": { "aws:SecureTransport": "false" } }
            },
            {
              "Sid": "DenyPrincipalsOutsideOrganization", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
              "Resource": [ "{{Bucket}}", "{{Bucket}}/*" ],
              "Condition": {
                "StringNotEquals": { "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
                "Bool": { "aws:PrincipalIsAWSService": "false" }
              }
            }
          ]
        }
        """, policy.ToJsonNode());
    }

    [Fact]
    public void Without_a_key_prefix_cloudtrail_writes_directly_under_AWSLogs()
    {
        var config = Samples.Bind(Samples.With(Samples.Text("audit"), "auditinfra:s3KeyPrefix", null)).Config!;
        var write = LogArchivePolicies.LogBucketPolicy(config, new ResourceNames(config)).Find(LogArchivePolicies.CloudTrailWriteSid)!;
        Assert.Equal([$"{Bucket}/AWSLogs/111111111111/*", $"{Bucket}/AWSLogs/o-a1b2c3d4e5/*"], write.Resources.ToArray());
    }

    [Fact]
    public void The_bucket_policy_never_demands_an_sse_kms_header_on_put()
    {
        // CloudTrail's writes would fail: default encryption does the job instead.
        var json = LogArchivePolicies.LogBucketPolicy(Config, Names).ToJson();
        Assert.DoesNotContain("s3:x-amz-server-side-encryption", json);
    }

    [Fact]
    public void Trail_key_policy_is_exactly_the_reference_policy()
    {
        var policy = LogArchivePolicies.TrailKeyPolicy(Config, Names);
        var admin = string.Join(",", LogArchivePolicies.KeyAdministrationActions.Select(a => $"\"{a}\""));
        AssertJson($$"""
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AllowKeyAdministrationByDeploymentAndBreakGlassRoles", "Effect": "Allow",
              "Principal": { "AWS": [ "arn:aws:iam::222222222222:role/auditinfra-deployment", "arn:aws:iam::222222222222:role/auditinfra-break-glass" ] },
              "Action": [ {{admin}} ], "Resource": "*"
            },
            {
              "Sid": "AllowCloudTrailToEncryptLogs", "Effect": "Allow",
              "Principal": { "Service": "cloudtrail.amazonaws.com" },
              "Action": "kms:GenerateDataKey*", "Resource": "*",
              "Condition": {
                "StringEquals": { "aws:SourceArn": "{{TrailArn}}" },
                "StringLike": { "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111111111111:trail/*" }
              }
            },
            {
              "Sid": "AllowCloudTrailToDescribeKey", "Effect": "Allow",
              "Principal": { "Service": "cloudtrail.amazonaws.com" },
              "Action": "kms:DescribeKey", "Resource": "*",
              "Condition": { "StringEquals": { "aws:SourceArn": "{{TrailArn}}" } }
            },
            {
              "Sid": "AllowLogReadersToDecrypt", "Effect": "Allow",
              "Principal": { "AWS": "arn:aws:iam::222222222222:root" },
              "Action": [ "kms:Decrypt", "kms:ReEncryptFrom" ], "Resource": "*",
              "Condition": {
                "StringEquals": { "kms:CallerAccount": "222222222222" },
                "Null": { "kms:EncryptionContext:aws:cloudtrail:arn": "false" },
                "ArnLike": { "aws:PrincipalArn": [ "arn:aws:iam::222222222222:role/auditinfra-auditor", "arn:aws:iam::222222222222:role/acme-audit-integrity-task" ] }
              }
            }
          ]
        }
        """, policy.ToJsonNode());
    }

    [Fact]
    public void Without_the_integrity_monitor_only_the_configured_readers_decrypt()
    {
        var config = Samples.Bind(Samples.Text("audit").Replace("    enabled: true\n    # The CLI image", "    enabled: false\n    # The CLI image")).Config!;
        var readers = LogArchivePolicies.TrailKeyPolicy(config, new ResourceNames(config)).Find(LogArchivePolicies.ReadersDecryptSid)!;
        Assert.Equal(["arn:aws:iam::222222222222:role/auditinfra-auditor"], readers.Conditions.Single(c => c.Operator == "ArnLike").Values.ToArray());
    }

    [Fact]
    public void Nobody_but_the_two_named_roles_administers_the_key()
    {
        var policy = LogArchivePolicies.TrailKeyPolicy(Config, Names);
        var grantsAdministration = policy.Statements.Where(s => s.Actions.Any(a => a is "kms:PutKeyPolicy" or "kms:Put*" or "kms:ScheduleKeyDeletion" or "kms:Disable*" or "kms:*"));
        var statement = Assert.Single(grantsAdministration);
        Assert.Equal([Config.DeploymentRoleArn, Config.BreakGlassRoleArn], statement.Principal!.Values.ToArray());
    }

    [Fact]
    public void Without_configured_readers_decrypt_is_still_limited_to_the_audit_account_and_trail_context()
    {
        var config = Samples.Bind(Samples.Text("audit").Replace("  auditinfra:logReaderPrincipalArns:\n    - arn:aws:iam::222222222222:role/auditinfra-auditor\n", "")).Config!;
        var decrypt = LogArchivePolicies.TrailKeyPolicy(config, new ResourceNames(config)).Find(LogArchivePolicies.ReadersDecryptSid)!;
        Assert.Equal(["kms:CallerAccount", "kms:EncryptionContext:aws:cloudtrail:arn"], decrypt.Conditions.Select(c => c.Key).ToArray());
    }

    [Fact]
    public void Access_log_bucket_accepts_only_the_log_buckets_server_access_logs()
    {
        var policy = LogArchivePolicies.AccessLogBucketPolicy(Config, Names);
        var access = "arn:aws:s3:::acme-audit-s3-access-logs-222222222222-us-east-1";
        AssertJson($$"""
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
              "Principal": { "Service": "logging.s3.amazonaws.com" },
              "Action": "s3:PutObject", "Resource": "{{access}}/acme-audit-cloudtrail-222222222222-us-east-1/*",
              "Condition": {
                "ArnLike": { "aws:SourceArn": "{{Bucket}}" },
                "StringEquals": { "aws:SourceAccount": "222222222222" }
              }
            },
            {
              "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
              "Resource": [ "{{access}}", "{{access}}/*" ],
              "Condition": { "Bool": { "aws:SecureTransport": "false" } }
            }
          ]
        }
        """, policy.ToJsonNode());
    }

    [Fact]
    public void Partition_follows_the_home_region()
    {
        var text = Samples.Text("audit")
            .Replace("us-east-1", "cn-north-1").Replace("    - us-west-2\n    - eu-west-1\n", "    - cn-northwest-1\n")
            .Replace("arn:aws:iam", "arn:aws-cn:iam");
        var (config, report) = Samples.Bind(text);
        Assert.True(report.IsValid, report.ToString());
        var names = new ResourceNames(config!);
        Assert.Equal("arn:aws-cn:cloudtrail:cn-north-1:111111111111:trail/acme-org-trail", names.TrailArn);
        Assert.StartsWith("arn:aws-cn:s3:::", names.LogBucketArn);
    }

    [Fact]
    public void A_partition_mix_in_governed_regions_is_an_error()
    {
        var report = Samples.Bind(Samples.Text("audit").Replace("    - eu-west-1\n", "    - cn-north-1\n")).Report;
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:governedRegions" && e.Message.Contains("partition"));
    }
}
