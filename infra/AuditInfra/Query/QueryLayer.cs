using AuditInfra.Core.Query;
using Pulumi;
using Pulumi.Aws.Athena;
using Pulumi.Aws.Glue;
using Pulumi.Aws.S3;
using AthenaInputs = Pulumi.Aws.Athena.Inputs;
using GlueInputs = Pulumi.Aws.Glue.Inputs;
using S3Inputs = Pulumi.Aws.S3.Inputs;

namespace AuditInfra.Query;

/// <summary>The Glue CloudTrail table (partition projection) and the Athena workgroup with its results bucket.</summary>
public sealed class QueryLayer : ComponentResource
{
    public Output<string> WorkgroupName { get; }

    public QueryLayer(string name, QueryLayerArgs args, ComponentResourceOptions? options = null)
        : base(QueryLayerDesign.ComponentType, name, options)
    {
        var design = args.Design;
        var child = new CustomResourceOptions { Parent = this };
        var tags = PulumiTags.From(design.Tags);

        var database = new CatalogDatabase(QueryLayerPlan.DatabaseResource(design), new CatalogDatabaseArgs
        {
            Name = design.DatabaseName,
            Description = design.DatabaseDescription,
            Tags = tags,
        }, child);

        var storage = new GlueInputs.CatalogTableStorageDescriptorArgs
        {
            Location = design.TableLocation,
            InputFormat = QueryLayerDesign.InputFormat,
            OutputFormat = QueryLayerDesign.OutputFormat,
            SerDeInfo = new GlueInputs.CatalogTableStorageDescriptorSerDeInfoArgs { SerializationLibrary = QueryLayerDesign.SerDe },
        };
        foreach (var column in design.Columns)
        {
            storage.Columns.Add(new GlueInputs.CatalogTableStorageDescriptorColumnArgs { Name = column.Name, Type = column.Type });
        }

        var table = new CatalogTableArgs
        {
            Name = design.TableName,
            DatabaseName = database.Name,
            TableType = "EXTERNAL_TABLE",
            // Partition projection, and read_restored_glacier_objects: restored Glacier logs are read, not skipped.
            Parameters = PulumiTags.From(design.TableParameters),
            StorageDescriptor = storage,
        };
        foreach (var key in design.PartitionKeys)
        {
            table.PartitionKeys.Add(new GlueInputs.CatalogTablePartitionKeyArgs { Name = key.Name, Type = key.Type });
        }

        _ = new CatalogTable(QueryLayerPlan.TableResource(design), table, child);

        var bucketName = QueryLayerPlan.ResultsBucketResource(design);
        var bucket = new Pulumi.Aws.S3.Bucket(bucketName, new BucketArgs { BucketName = design.ResultsBucket, Tags = tags }, child);
        _ = new BucketOwnershipControls($"{bucketName}-ownership", new BucketOwnershipControlsArgs
        {
            Bucket = bucket.Id,
            Rule = new S3Inputs.BucketOwnershipControlsRuleArgs { ObjectOwnership = design.ResultsObjectOwnership },
        }, child);
        var publicAccess = new BucketPublicAccessBlock($"{bucketName}-public-access", new BucketPublicAccessBlockArgs
        {
            Bucket = bucket.Id,
            BlockPublicAcls = design.ResultsPublicAccess.BlockPublicAcls,
            BlockPublicPolicy = design.ResultsPublicAccess.BlockPublicPolicy,
            IgnorePublicAcls = design.ResultsPublicAccess.IgnorePublicAcls,
            RestrictPublicBuckets = design.ResultsPublicAccess.RestrictPublicBuckets,
        }, child);
        _ = new BucketServerSideEncryptionConfiguration($"{bucketName}-encryption", new BucketServerSideEncryptionConfigurationArgs
        {
            Bucket = bucket.Id,
            Rules =
            {
                new S3Inputs.BucketServerSideEncryptionConfigurationRuleArgs
                {
                    ApplyServerSideEncryptionByDefault = new S3Inputs.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs { SseAlgorithm = design.ResultsSseAlgorithm },
                },
            },
        }, child);
        _ = new BucketLifecycleConfiguration($"{bucketName}-lifecycle", new BucketLifecycleConfigurationArgs
        {
            Bucket = bucket.Id,
            Rules =
            {
                new S3Inputs.BucketLifecycleConfigurationRuleArgs
                {
                    Id = design.ResultsLifecycleRuleId,
                    Status = "Enabled",
                    Filter = new S3Inputs.BucketLifecycleConfigurationRuleFilterArgs { Prefix = "" },
                    Expiration = new S3Inputs.BucketLifecycleConfigurationRuleExpirationArgs { Days = design.ResultsExpirationDays },
                    AbortIncompleteMultipartUpload = new S3Inputs.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs { DaysAfterInitiation = design.ResultsAbortIncompleteMultipartUploadDays },
                },
            },
        }, child);
        _ = new BucketPolicy($"{bucketName}-policy", new BucketPolicyArgs
        {
            Bucket = bucket.Id,
            Policy = design.ResultsBucketPolicy.ToJson(),
        }, new CustomResourceOptions { Parent = this, DependsOn = { publicAccess } });

        var workgroup = new Workgroup(QueryLayerPlan.WorkgroupResource(design), new WorkgroupArgs
        {
            Name = design.WorkgroupName,
            Description = design.WorkgroupDescription,
            State = design.WorkgroupState,
            Configuration = new AthenaInputs.WorkgroupConfigurationArgs
            {
                EnforceWorkgroupConfiguration = design.EnforceWorkgroupConfiguration,
                PublishCloudwatchMetricsEnabled = design.PublishCloudwatchMetrics,
                BytesScannedCutoffPerQuery = design.BytesScannedCutoffPerQuery,
                ResultConfiguration = new AthenaInputs.WorkgroupConfigurationResultConfigurationArgs
                {
                    OutputLocation = $"s3://{design.ResultsBucket}/",
                    EncryptionConfiguration = new AthenaInputs.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs { EncryptionOption = design.ResultsEncryptionOption },
                },
            },
            Tags = tags,
        }, child);

        WorkgroupName = workgroup.Name;
        RegisterOutputs(new Dictionary<string, object?> { ["workgroupName"] = WorkgroupName });
    }
}
