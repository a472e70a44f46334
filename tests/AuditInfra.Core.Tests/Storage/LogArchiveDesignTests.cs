using AuditInfra.Core.Configuration;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Storage;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Storage;

public class LogArchiveDesignTests
{
    private static readonly AuditConfig Config = Samples.Config("audit");

    [Fact]
    public void Names_are_deterministic_and_fit_S3_limits()
    {
        var design = LogArchiveDesigner.Design(Config);
        Assert.Equal("acme-audit-cloudtrail-222222222222-us-east-1", design.LogBucket.Name);
        Assert.Equal("acme-audit-s3-access-logs-222222222222-us-east-1", design.AccessLogBucket.Name);
        Assert.Equal("alias/acme-audit/cloudtrail", design.Key.AliasName);

        // The longest prefix and region the validation accepts still make a legal bucket name.
        var longest = Samples.Bind(Samples.Text("audit")
            .Replace("auditinfra:namePrefix: acme-audit", "auditinfra:namePrefix: abcdefghijklmnopqrst")).Config!;
        Assert.True(LogArchiveDesigner.Design(longest).AccessLogBucket.Name.Length <= 63 - ("ap-southeast-7".Length - "us-east-1".Length));
    }

    [Fact]
    public void Log_bucket_is_versioned_locked_kms_encrypted_private_and_owner_enforced()
    {
        var bucket = LogArchiveDesigner.Design(Config).LogBucket;
        Assert.True(bucket.VersioningEnabled);
        Assert.True(bucket.ObjectLockEnabled);
        Assert.Equal(new ObjectLockDesign("GOVERNANCE", 365), bucket.ObjectLock);
        Assert.Equal(new EncryptionDesign("aws:kms", true, true), bucket.Encryption);
        Assert.True(bucket.PublicAccess.BlocksEverything);
        Assert.Equal("BucketOwnerEnforced", bucket.ObjectOwnership);
        Assert.False(bucket.ForceDestroy);
        Assert.Equal(new BucketLoggingDesign("acme-audit-s3-access-logs-222222222222-us-east-1", "acme-audit-cloudtrail-222222222222-us-east-1/"), bucket.Logging);
    }

    [Fact]
    public void Access_log_bucket_has_what_server_access_logging_allows()
    {
        var bucket = LogArchiveDesigner.Design(Config).AccessLogBucket;
        Assert.Equal("AES256", bucket.Encryption.SseAlgorithm);
        Assert.False(bucket.Encryption.UsesTrailKey);
        Assert.Null(bucket.ObjectLock);
        Assert.False(bucket.ObjectLockEnabled);
        Assert.True(bucket.PublicAccess.BlocksEverything);
        Assert.Null(bucket.Logging);
    }

    [Fact]
    public void Lifecycle_renders_the_configured_tiers_expiration_and_cleanup()
    {
        var lifecycle = LogArchiveDesigner.LogLifecycle(Config);
        var rule = Assert.Single(lifecycle.Rules);
        Assert.Equal(
            [new LifecycleTransition(StorageTier.StandardIa, 30), new LifecycleTransition(StorageTier.GlacierIr, 90), new LifecycleTransition(StorageTier.Glacier, 180), new LifecycleTransition(StorageTier.DeepArchive, 365)],
            rule.Transitions.ToArray());
        Assert.Equal(2555, rule.ExpirationDays);
        Assert.Equal(90, rule.NoncurrentVersionExpirationDays);
        Assert.Equal(7, rule.AbortIncompleteMultipartUploadDays);
        Assert.Equal("all_storage_classes_128K", lifecycle.TransitionDefaultMinimumObjectSize);
    }

    [Fact]
    public void Small_objects_transition_only_when_configured()
    {
        var config = Samples.Bind(Samples.With(Samples.Text("audit"), "    transitionSmallObjects", "    transitionSmallObjects: true")).Config!;
        Assert.Equal("varies_by_storage_class", LogArchiveDesigner.LogLifecycle(config).TransitionDefaultMinimumObjectSize);
    }

    [Fact]
    public void Timeline_tells_which_tier_on_which_day_and_when_logs_are_deleted()
    {
        Assert.Equal(
            [(0, "STANDARD"), (30, "STANDARD_IA"), (90, "GLACIER_IR"), (180, "GLACIER"), (365, "DEEP_ARCHIVE"), (2555, "EXPIRED")],
            LogArchiveDesigner.Timeline(Config).ToArray());
    }

    [Fact]
    public void Tags_merge_the_users_with_the_designs_own()
    {
        var tags = LogArchiveDesigner.Design(Config).Tags;
        Assert.Equal("security", tags["cost-center"]);
        Assert.Equal("LogArchive", tags["auditinfra:component"]);
        Assert.Equal("audit", tags["auditinfra:stack"]);
        Assert.Equal("auditinfra", tags["managed-by"]);
    }

    [Fact]
    public void Plan_of_the_audit_stack_has_every_log_archive_resource_with_wire_names()
    {
        var plan = StackPlanner.Plan(Config);
        Assert.Equal("222222222222", plan.AccountId);
        var component = Assert.Single(plan.Components, c => c.Type == "auditinfra:storage:LogArchive");
        Assert.Equal(
            [
                "aws:kms/key:Key", "aws:kms/alias:Alias",
                "aws:s3/bucket:Bucket", "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketPolicy:BucketPolicy",
                "aws:s3/bucket:Bucket", "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketLogging:BucketLogging",
            ],
            component.Resources.Select(r => r.Type).ToArray());
        Assert.True(plan.Resource("acme-audit-log-bucket").Protect);
        Assert.True(plan.Resource("acme-audit-trail-key").Protect);
        var lifecycle = plan.Resource("acme-audit-log-bucket-lifecycle").Properties;
        Assert.Equal("DEEP_ARCHIVE", (string?)lifecycle["rules"]![0]!["transitions"]![3]!["storageClass"]);
        Assert.Equal(2555, (int)lifecycle["rules"]![0]!["expiration"]!["days"]!);
        Assert.Equal("${acme-audit-trail-key.arn}", (string?)plan.Resource("acme-audit-log-bucket-encryption").Properties["rules"]![0]!["applyServerSideEncryptionByDefault"]!["kmsMasterKeyId"]);
        Assert.Equal("${acme-audit-trail-key.arn}", component.Outputs["trailKeyArn"]);
    }
}
