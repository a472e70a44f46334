using System.Collections.Immutable;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;

namespace AuditInfra.Core.Storage;

/// <summary>Builds the log archive from configuration: a pure function, rendered offline and deployed alike.</summary>
public static class LogArchiveDesigner
{
    public const int KeyRotationPeriodDays = 365;

    public static LogArchiveDesign Design(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var key = new TrailKeyDesign(
            $"Encrypts the organization trail '{config.TrailName}' of {config.Organization.OrganizationId}",
            config.KmsDeletionWindowDays,
            EnableKeyRotation: true,
            KeyRotationPeriodDays,
            names.TrailKeyAlias,
            LogArchivePolicies.TrailKeyPolicy(config, names));

        var logBucket = new BucketDesign(
            names.LogBucket,
            ObjectLockEnabled: true,
            ForceDestroy: false,
            VersioningEnabled: true,
            new EncryptionDesign("aws:kms", UsesTrailKey: true, BucketKeyEnabled: true),
            PublicAccessBlockDesign.All,
            "BucketOwnerEnforced",
            new ObjectLockDesign(config.ObjectLock.ModeName, config.ObjectLock.RetentionDays),
            LogLifecycle(config),
            LogArchivePolicies.LogBucketPolicy(config, names),
            new BucketLoggingDesign(names.AccessLogBucket, LogArchivePolicies.AccessLogPrefix(names)));

        // S3 server access logging cannot deliver to a bucket with SSE-KMS default encryption or
        // an Object Lock default retention, so this bucket has neither.
        var accessLogBucket = new BucketDesign(
            names.AccessLogBucket,
            ObjectLockEnabled: false,
            ForceDestroy: false,
            VersioningEnabled: true,
            new EncryptionDesign("AES256", UsesTrailKey: false, BucketKeyEnabled: false),
            PublicAccessBlockDesign.All,
            "BucketOwnerEnforced",
            ObjectLock: null,
            new LifecycleDesign(
                [new LifecycleRuleDesign("expire-access-logs", "", [], config.RetentionDays, config.Lifecycle.NoncurrentVersionExpirationDays, config.Lifecycle.AbortIncompleteMultipartUploadDays)],
                "all_storage_classes_128K"),
            LogArchivePolicies.AccessLogBucketPolicy(config, names),
            Logging: null);

        return new LogArchiveDesign(names, key, logBucket, accessLogBucket, DesignTags.For(config, "LogArchive"));
    }

    public static LifecycleDesign LogLifecycle(AuditConfig config)
    {
        var lifecycle = config.Lifecycle;
        var rule = new LifecycleRuleDesign(
            "cloudtrail-logs-tiering-and-retention",
            "",
            [.. lifecycle.Tiers().Select(t => new LifecycleTransition(t.Tier, t.Days))],
            config.RetentionDays,
            lifecycle.NoncurrentVersionExpirationDays,
            lifecycle.AbortIncompleteMultipartUploadDays);
        return new LifecycleDesign([rule], lifecycle.TransitionSmallObjects ? "varies_by_storage_class" : "all_storage_classes_128K");
    }

    /// <summary>Which tier an object of a given age is in: the timeline auditors read in the docs.</summary>
    public static IReadOnlyList<(int FromDay, string StorageClass)> Timeline(AuditConfig config)
    {
        var timeline = new List<(int, string)> { (0, "STANDARD") };
        timeline.AddRange(config.Lifecycle.Tiers().Select(t => (t.Days, t.Tier.StorageClass())));
        timeline.Add((config.RetentionDays, "EXPIRED"));
        return timeline;
    }
}

/// <summary>Tags every resource carries: the user's, plus what tells an operator where it came from.</summary>
public static class DesignTags
{
    public static ImmutableSortedDictionary<string, string> For(AuditConfig config, string component) =>
        config.Tags
            .SetItem("auditinfra:component", component)
            .SetItem("auditinfra:stack", config.StackName)
            .SetItem("managed-by", "auditinfra");
}
