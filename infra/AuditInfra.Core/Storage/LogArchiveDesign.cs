using System.Collections.Immutable;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Storage;

/// <summary>The trail's KMS key: CloudTrail may only encrypt for this organization's trail; readers only decrypt.</summary>
public sealed record TrailKeyDesign(
    string Description,
    int DeletionWindowInDays,
    bool EnableKeyRotation,
    int RotationPeriodInDays,
    string AliasName,
    PolicyDocument Policy)
{
    /// <summary>Deleting or replacing the key would make every log unreadable: updates that would fail.</summary>
    public ResourceGuard Guard { get; init; } = new(Protect: true);
}

public sealed record PublicAccessBlockDesign(bool BlockPublicAcls, bool BlockPublicPolicy, bool IgnorePublicAcls, bool RestrictPublicBuckets)
{
    public static readonly PublicAccessBlockDesign All = new(true, true, true, true);

    public bool BlocksEverything => BlockPublicAcls && BlockPublicPolicy && IgnorePublicAcls && RestrictPublicBuckets;
}

/// <summary>Default encryption: "aws:kms" with the trail key, or "AES256" (SSE-S3).</summary>
public sealed record EncryptionDesign(string SseAlgorithm, bool UsesTrailKey, bool BucketKeyEnabled);

public sealed record ObjectLockDesign(string Mode, int Days);

public sealed record LifecycleTransition(StorageTier Tier, int Days);

public sealed record LifecycleRuleDesign(
    string Id,
    string Prefix,
    ImmutableArray<LifecycleTransition> Transitions,
    int? ExpirationDays,
    int NoncurrentVersionExpirationDays,
    int AbortIncompleteMultipartUploadDays);

/// <summary>
/// Lifecycle rules plus S3's TransitionDefaultMinimumObjectSize: "all_storage_classes_128K"
/// (S3's default since 2024: objects under 128 KB never move) or "varies_by_storage_class"
/// (small objects move too).
/// </summary>
public sealed record LifecycleDesign(ImmutableArray<LifecycleRuleDesign> Rules, string TransitionDefaultMinimumObjectSize);

public sealed record BucketLoggingDesign(string TargetBucket, string TargetPrefix);

public sealed record BucketDesign(
    string Name,
    bool ObjectLockEnabled,
    bool ForceDestroy,
    bool VersioningEnabled,
    EncryptionDesign Encryption,
    PublicAccessBlockDesign PublicAccess,
    string ObjectOwnership,
    ObjectLockDesign? ObjectLock,
    LifecycleDesign Lifecycle,
    PolicyDocument Policy,
    BucketLoggingDesign? Logging)
{
    /// <summary>The buckets hold the evidence: an update that deletes or replaces one fails.</summary>
    public ResourceGuard Guard { get; init; } = new(Protect: true);
}

/// <summary>The audit account's log archive: the trail key, the log bucket and its access-log bucket.</summary>
public sealed record LogArchiveDesign(
    ResourceNames Names,
    TrailKeyDesign Key,
    BucketDesign LogBucket,
    BucketDesign AccessLogBucket,
    ImmutableSortedDictionary<string, string> Tags);
