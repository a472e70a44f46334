using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Planning;

namespace AuditInfra.Core.Storage;

/// <summary>
/// The LogArchive component's resources with their Pulumi inputs. Resource names here are the
/// logical names the Pulumi component gives its children.
/// </summary>
public static class LogArchivePlan
{
    public const string ComponentType = "auditinfra:storage:LogArchive";

    public static string KeyName(LogArchiveDesign d) => d.Names.Logical("trail-key");

    public static string BucketResourceName(LogArchiveDesign d, BucketDesign bucket) =>
        d.Names.Logical(bucket == d.LogBucket ? "log-bucket" : "access-log-bucket");

    public static PlannedComponent Render(LogArchiveDesign design)
    {
        var keyName = KeyName(design);
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        resources.Add(new PlannedResource("aws:kms/key:Key", keyName, new JsonObject
        {
            ["description"] = design.Key.Description,
            ["deletionWindowInDays"] = design.Key.DeletionWindowInDays,
            ["enableKeyRotation"] = design.Key.EnableKeyRotation,
            ["rotationPeriodInDays"] = design.Key.RotationPeriodInDays,
            ["policy"] = design.Key.Policy.ToJsonNode(),
            ["tags"] = Tags(design),
        })
        { Protect = design.Key.Guard.Protect, RetainOnDelete = design.Key.Guard.RetainOnDelete });
        resources.Add(new PlannedResource("aws:kms/alias:Alias", design.Names.Logical("trail-key-alias"), new JsonObject
        {
            ["name"] = design.Key.AliasName,
            ["targetKeyId"] = PlannedResource.Ref(keyName, "keyId"),
        }));

        // The access-log bucket first: the log bucket's logging refers to it.
        AddBucket(resources, design, design.AccessLogBucket, keyName);
        AddBucket(resources, design, design.LogBucket, keyName);

        return new PlannedComponent(ComponentType, design.Names.Logical(AuditAccount.InAccountComponentNames.LogArchive), resources.ToImmutable())
        {
            Outputs = Outputs(design),
            Notes =
            [
                $"Logs are kept {design.LogBucket.Lifecycle.Rules[0].ExpirationDays} days, locked ({design.LogBucket.ObjectLock!.Mode}) for {design.LogBucket.ObjectLock.Days} days after they are written.",
                design.LogBucket.Lifecycle.TransitionDefaultMinimumObjectSize == "varies_by_storage_class"
                    ? "Log objects under 128 KB move to colder tiers too (most CloudTrail files are that small): cheaper storage, paid per transition request and per-object overhead in Glacier tiers."
                    : "Log objects under 128 KB (most CloudTrail files) stay in STANDARD until they expire: S3's default since 2024, which avoids per-object transition and Glacier overhead costs.",
                "The log bucket and the trail key are protected: a Pulumi update that would delete or replace them fails.",
            ],
        };
    }

    public static ImmutableSortedDictionary<string, string> Outputs(LogArchiveDesign design) =>
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["logBucketName"] = design.LogBucket.Name,
            ["logBucketArn"] = design.Names.LogBucketArn,
            ["accessLogBucketName"] = design.AccessLogBucket.Name,
            ["trailKeyArn"] = PlannedResource.Ref(KeyName(design), "arn"),
            ["trailKeyAliasArn"] = design.Names.TrailKeyAliasArn,
            ["trailArn"] = design.Names.TrailArn,
            ["s3KeyPrefix"] = design.Names.Config.S3KeyPrefix,
        });

    private static void AddBucket(ImmutableArray<PlannedResource>.Builder resources, LogArchiveDesign design, BucketDesign bucket, string keyName)
    {
        var name = BucketResourceName(design, bucket);
        var bucketRef = PlannedResource.Ref(name, "bucket");
        resources.Add(new PlannedResource("aws:s3/bucket:Bucket", name, new JsonObject
        {
            ["bucket"] = bucket.Name,
            ["objectLockEnabled"] = bucket.ObjectLockEnabled,
            ["forceDestroy"] = bucket.ForceDestroy,
            ["tags"] = Tags(design),
        })
        { Protect = bucket.Guard.Protect, RetainOnDelete = bucket.Guard.RetainOnDelete });
        resources.Add(new PlannedResource("aws:s3/bucketOwnershipControls:BucketOwnershipControls", $"{name}-ownership", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rule"] = new JsonObject { ["objectOwnership"] = bucket.ObjectOwnership },
        }));
        resources.Add(new PlannedResource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", $"{name}-public-access", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["blockPublicAcls"] = bucket.PublicAccess.BlockPublicAcls,
            ["blockPublicPolicy"] = bucket.PublicAccess.BlockPublicPolicy,
            ["ignorePublicAcls"] = bucket.PublicAccess.IgnorePublicAcls,
            ["restrictPublicBuckets"] = bucket.PublicAccess.RestrictPublicBuckets,
        }));
        resources.Add(new PlannedResource("aws:s3/bucketVersioning:BucketVersioning", $"{name}-versioning", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["versioningConfiguration"] = new JsonObject { ["status"] = bucket.VersioningEnabled ? "Enabled" : "Suspended" },
        }));
        var byDefault = new JsonObject { ["sseAlgorithm"] = bucket.Encryption.SseAlgorithm };
        if (bucket.Encryption.UsesTrailKey)
        {
            byDefault["kmsMasterKeyId"] = PlannedResource.Ref(keyName, "arn");
        }

        resources.Add(new PlannedResource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", $"{name}-encryption", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rules"] = new JsonArray(new JsonObject
            {
                ["applyServerSideEncryptionByDefault"] = byDefault,
                ["bucketKeyEnabled"] = bucket.Encryption.BucketKeyEnabled,
            }),
        }));
        if (bucket.ObjectLock is { } objectLock)
        {
            resources.Add(new PlannedResource("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", $"{name}-object-lock", new JsonObject
            {
                ["bucket"] = bucketRef,
                ["objectLockEnabled"] = "Enabled",
                ["rule"] = new JsonObject
                {
                    ["defaultRetention"] = new JsonObject { ["mode"] = objectLock.Mode, ["days"] = objectLock.Days },
                },
            })
            { DependsOn = [$"{name}-versioning"] });
        }

        resources.Add(new PlannedResource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", $"{name}-lifecycle", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["transitionDefaultMinimumObjectSize"] = bucket.Lifecycle.TransitionDefaultMinimumObjectSize,
            ["rules"] = new JsonArray([.. bucket.Lifecycle.Rules.Select(r => (JsonNode)LifecycleRule(r))]),
        })
        { DependsOn = [$"{name}-versioning"] });
        resources.Add(new PlannedResource("aws:s3/bucketPolicy:BucketPolicy", $"{name}-policy", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["policy"] = bucket.Policy.ToJsonNode(),
        })
        { DependsOn = [$"{name}-public-access"] });
        if (bucket.Logging is { } logging)
        {
            resources.Add(new PlannedResource("aws:s3/bucketLogging:BucketLogging", $"{name}-logging", new JsonObject
            {
                ["bucket"] = bucketRef,
                ["targetBucket"] = logging.TargetBucket,
                ["targetPrefix"] = logging.TargetPrefix,
            })
            { DependsOn = [design.Names.Logical("access-log-bucket-policy")] });
        }
    }

    private static JsonObject LifecycleRule(LifecycleRuleDesign rule)
    {
        var node = new JsonObject
        {
            ["id"] = rule.Id,
            ["status"] = "Enabled",
            ["filter"] = new JsonObject { ["prefix"] = rule.Prefix },
        };
        if (!rule.Transitions.IsEmpty)
        {
            node["transitions"] = new JsonArray([.. rule.Transitions.Select(t => (JsonNode)new JsonObject
            {
                ["days"] = t.Days,
                ["storageClass"] = Configuration.StorageTiers.StorageClass(t.Tier),
            })]);
        }

        if (rule.ExpirationDays is { } days)
        {
            node["expiration"] = new JsonObject { ["days"] = days };
        }

        node["noncurrentVersionExpiration"] = new JsonObject { ["noncurrentDays"] = rule.NoncurrentVersionExpirationDays };
        node["abortIncompleteMultipartUpload"] = new JsonObject { ["daysAfterInitiation"] = rule.AbortIncompleteMultipartUploadDays };
        return node;
    }

    private static JsonObject Tags(LogArchiveDesign design) =>
        new(design.Tags.Select(t => new KeyValuePair<string, JsonNode?>(t.Key, t.Value)));
}
