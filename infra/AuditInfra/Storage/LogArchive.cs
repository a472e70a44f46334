using AuditInfra.Core.Configuration;
using AuditInfra.Core.Storage;
using Pulumi;
using Pulumi.Aws.Kms;
using Pulumi.Aws.S3;
using KmsAlias = Pulumi.Aws.Kms.Alias;
using S3Inputs = Pulumi.Aws.S3.Inputs;

namespace AuditInfra.Storage;

/// <summary>
/// The audit account's log archive: the trail's KMS key and alias, the locked-down log bucket and
/// its access-log bucket. Maps <see cref="LogArchiveDesign"/> one to one onto Pulumi.Aws; child
/// names equal the planned resource names of <see cref="LogArchivePlan"/>.
/// </summary>
public sealed class LogArchive : ComponentResource
{
    public const string TypeToken = LogArchivePlan.ComponentType;

    public Output<string> TrailKeyArn { get; }

    public Output<string> TrailKeyId { get; }

    public Output<string> LogBucketName { get; }

    public Output<string> LogBucketArn { get; }

    public Output<string> AccessLogBucketName { get; }

    /// <summary>
    /// Resolves once the log bucket's policy and the trail key (with its policy) exist: the
    /// organization trail waits for it, because CloudTrail checks both when it is created.
    /// </summary>
    public Output<string> Ready { get; }

    /// <summary>The log bucket's policy: the trail depends on it (CloudTrail checks it at creation).</summary>
    public BucketPolicy LogBucketPolicy { get; }

    /// <summary>The trail key: the trail depends on its policy too.</summary>
    public Key TrailKey { get; }

    public LogArchive(string name, LogArchiveArgs args, ComponentResourceOptions? options = null)
        : base(TypeToken, name, options)
    {
        var design = args.Design;
        var tags = Tags(design);

        TrailKey = new Key(LogArchivePlan.KeyName(design), new KeyArgs
        {
            Description = design.Key.Description,
            DeletionWindowInDays = design.Key.DeletionWindowInDays,
            EnableKeyRotation = design.Key.EnableKeyRotation,
            RotationPeriodInDays = design.Key.RotationPeriodInDays,
            Policy = design.Key.Policy.ToJson(),
            Tags = tags,
        }, new CustomResourceOptions { Parent = this, Protect = design.Key.Guard.Protect, RetainOnDelete = design.Key.Guard.RetainOnDelete });

        _ = new KmsAlias(design.Names.Logical("trail-key-alias"), new AliasArgs
        {
            Name = design.Key.AliasName,
            TargetKeyId = TrailKey.KeyId,
        }, new CustomResourceOptions { Parent = this });

        var accessLogs = CreateBucket(design, design.AccessLogBucket, tags, dependsOnForLogging: null);
        var logs = CreateBucket(design, design.LogBucket, tags, dependsOnForLogging: accessLogs.Policy);
        LogBucketPolicy = logs.Policy;

        TrailKeyArn = TrailKey.Arn;
        TrailKeyId = TrailKey.KeyId;
        LogBucketName = logs.Bucket.BucketName;
        LogBucketArn = logs.Bucket.Arn;
        AccessLogBucketName = accessLogs.Bucket.BucketName;
        Ready = Output.Tuple(LogBucketPolicy.Id, TrailKey.Arn).Apply(t => $"{t.Item1}|{t.Item2}");

        RegisterOutputs(new Dictionary<string, object?>
        {
            ["trailKeyArn"] = TrailKeyArn,
            ["logBucketName"] = LogBucketName,
            ["logBucketArn"] = LogBucketArn,
            ["accessLogBucketName"] = AccessLogBucketName,
            ["ready"] = Ready,
        });
    }

    private (Pulumi.Aws.S3.Bucket Bucket, BucketPolicy Policy) CreateBucket(LogArchiveDesign design, BucketDesign bucket, InputMap<string> tags, BucketPolicy? dependsOnForLogging)
    {
        var name = LogArchivePlan.BucketResourceName(design, bucket);
        var child = new CustomResourceOptions { Parent = this };

        var resource = new Pulumi.Aws.S3.Bucket(name, new BucketArgs
        {
            BucketName = bucket.Name,
            ObjectLockEnabled = bucket.ObjectLockEnabled,
            ForceDestroy = bucket.ForceDestroy,
            Tags = tags,
        }, new CustomResourceOptions { Parent = this, Protect = bucket.Guard.Protect, RetainOnDelete = bucket.Guard.RetainOnDelete });

        _ = new BucketOwnershipControls($"{name}-ownership", new BucketOwnershipControlsArgs
        {
            Bucket = resource.Id,
            Rule = new S3Inputs.BucketOwnershipControlsRuleArgs { ObjectOwnership = bucket.ObjectOwnership },
        }, child);

        var publicAccess = new BucketPublicAccessBlock($"{name}-public-access", new BucketPublicAccessBlockArgs
        {
            Bucket = resource.Id,
            BlockPublicAcls = bucket.PublicAccess.BlockPublicAcls,
            BlockPublicPolicy = bucket.PublicAccess.BlockPublicPolicy,
            IgnorePublicAcls = bucket.PublicAccess.IgnorePublicAcls,
            RestrictPublicBuckets = bucket.PublicAccess.RestrictPublicBuckets,
        }, child);

        var versioning = new BucketVersioning($"{name}-versioning", new BucketVersioningArgs
        {
            Bucket = resource.Id,
            VersioningConfiguration = new S3Inputs.BucketVersioningVersioningConfigurationArgs
            {
                Status = bucket.VersioningEnabled ? "Enabled" : "Suspended",
            },
        }, child);

        var byDefault = new S3Inputs.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
        {
            SseAlgorithm = bucket.Encryption.SseAlgorithm,
        };
        if (bucket.Encryption.UsesTrailKey)
        {
            byDefault.KmsMasterKeyId = TrailKey.Arn;
        }

        _ = new BucketServerSideEncryptionConfiguration($"{name}-encryption", new BucketServerSideEncryptionConfigurationArgs
        {
            Bucket = resource.Id,
            Rules =
            {
                new S3Inputs.BucketServerSideEncryptionConfigurationRuleArgs
                {
                    ApplyServerSideEncryptionByDefault = byDefault,
                    BucketKeyEnabled = bucket.Encryption.BucketKeyEnabled,
                },
            },
        }, child);

        if (bucket.ObjectLock is { } objectLock)
        {
            _ = new BucketObjectLockConfiguration($"{name}-object-lock", new BucketObjectLockConfigurationArgs
            {
                Bucket = resource.Id,
                ObjectLockEnabled = "Enabled",
                Rule = new S3Inputs.BucketObjectLockConfigurationRuleArgs
                {
                    DefaultRetention = new S3Inputs.BucketObjectLockConfigurationRuleDefaultRetentionArgs
                    {
                        Mode = objectLock.Mode,
                        Days = objectLock.Days,
                    },
                },
            }, new CustomResourceOptions { Parent = this, DependsOn = { versioning } });
        }

        var lifecycle = new BucketLifecycleConfigurationArgs
        {
            Bucket = resource.Id,
            TransitionDefaultMinimumObjectSize = bucket.Lifecycle.TransitionDefaultMinimumObjectSize,
        };
        foreach (var rule in bucket.Lifecycle.Rules)
        {
            lifecycle.Rules.Add(LifecycleRule(rule));
        }

        _ = new BucketLifecycleConfiguration($"{name}-lifecycle", lifecycle, new CustomResourceOptions { Parent = this, DependsOn = { versioning } });

        var policy = new BucketPolicy($"{name}-policy", new BucketPolicyArgs
        {
            Bucket = resource.Id,
            Policy = bucket.Policy.ToJson(),
        }, new CustomResourceOptions { Parent = this, DependsOn = { publicAccess } });

        if (bucket.Logging is { } logging)
        {
            _ = new BucketLogging($"{name}-logging", new BucketLoggingArgs
            {
                Bucket = resource.Id,
                TargetBucket = logging.TargetBucket,
                TargetPrefix = logging.TargetPrefix,
            }, new CustomResourceOptions { Parent = this, DependsOn = dependsOnForLogging is null ? new InputList<Resource>() : new InputList<Resource> { dependsOnForLogging } });
        }

        return (resource, policy);
    }

    private static S3Inputs.BucketLifecycleConfigurationRuleArgs LifecycleRule(LifecycleRuleDesign rule)
    {
        var args = new S3Inputs.BucketLifecycleConfigurationRuleArgs
        {
            Id = rule.Id,
            Status = "Enabled",
            Filter = new S3Inputs.BucketLifecycleConfigurationRuleFilterArgs { Prefix = rule.Prefix },
            NoncurrentVersionExpiration = new S3Inputs.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs
            {
                NoncurrentDays = rule.NoncurrentVersionExpirationDays,
            },
            AbortIncompleteMultipartUpload = new S3Inputs.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs
            {
                DaysAfterInitiation = rule.AbortIncompleteMultipartUploadDays,
            },
        };
        foreach (var transition in rule.Transitions)
        {
            args.Transitions.Add(new S3Inputs.BucketLifecycleConfigurationRuleTransitionArgs
            {
                Days = transition.Days,
                StorageClass = transition.Tier.StorageClass(),
            });
        }

        if (rule.ExpirationDays is { } days)
        {
            args.Expiration = new S3Inputs.BucketLifecycleConfigurationRuleExpirationArgs { Days = days };
        }

        return args;
    }

    private static InputMap<string> Tags(LogArchiveDesign design) => PulumiTags.From(design.Tags);
}
