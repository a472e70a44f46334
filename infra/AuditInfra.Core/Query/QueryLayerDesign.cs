using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.Query;

public sealed record GlueColumn(string Name, string Type);

/// <summary>
/// The organization-scale query layer in the audit account: a Glue database and a CloudTrail
/// table over the log bucket with partition projection on account, region and date (no crawler,
/// no MSCK REPAIR), and an Athena workgroup whose results go, encrypted, to a private bucket.
/// The auditor role reads through it.
/// </summary>
public sealed record QueryLayerDesign(
    ResourceNames Names,
    string DatabaseName,
    string TableName,
    string TableLocation,
    ImmutableSortedDictionary<string, string> TableParameters,
    ImmutableArray<GlueColumn> Columns,
    ImmutableArray<GlueColumn> PartitionKeys,
    string WorkgroupName,
    string ResultsBucket,
    PolicyDocument ResultsBucketPolicy,
    int ResultsExpirationDays,
    int BytesScannedCutoffPerQuery,
    ImmutableSortedDictionary<string, string> Tags)
{
    public const string ComponentType = "auditinfra:query:QueryLayer";
    public const string SerDe = "org.apache.hive.serde2.JsonSerDe";
    public const string InputFormat = "com.amazon.emr.cloudtrail.CloudTrailInputFormat";
    public const string OutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

    public string DatabaseDescription { get; init; } = "AuditInfra: the organization's CloudTrail logs";

    public string WorkgroupDescription { get; init; } = "AuditInfra: queries over the organization's CloudTrail logs";

    /// <summary>Query results hold log excerpts: private, owner-enforced, encrypted at rest and in Athena.</summary>
    public PublicAccessBlockDesign ResultsPublicAccess { get; init; } = PublicAccessBlockDesign.All;

    public string ResultsObjectOwnership { get; init; } = "BucketOwnerEnforced";

    /// <summary>SSE-S3: Athena's SSE_S3 result encryption writes objects this default accepts, with no key policy to keep.</summary>
    public string ResultsSseAlgorithm { get; init; } = "AES256";

    public string ResultsEncryptionOption { get; init; } = "SSE_S3";

    public string ResultsLifecycleRuleId { get; init; } = "expire-query-results";

    /// <summary>Athena's multipart uploads of results finish within minutes: a day is generous.</summary>
    public int ResultsAbortIncompleteMultipartUploadDays { get; init; } = 1;

    /// <summary>Clients cannot override the result location or encryption.</summary>
    public bool EnforceWorkgroupConfiguration { get; init; } = true;

    public bool PublishCloudwatchMetrics { get; init; } = true;

    public string WorkgroupState { get; init; } = "ENABLED";
}

public static class QueryLayerDesigner
{
    /// <summary>The Glue table property by which Athena reads restored Glacier objects (engine v3).</summary>
    public const string ReadRestoredGlacierObjects = "read_restored_glacier_objects";

    /// <summary>The CloudTrail record's fields, as Athena's CloudTrail table declares them.</summary>
    public static readonly ImmutableArray<GlueColumn> CloudTrailColumnsInGlue =
    [
        new("eventversion", "string"),
        new("useridentity", "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,onbehalfof:struct<userid:string,identitystorearn:string>,sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>,sourceidentity:string,ec2roledelivery:string>>"),
        new("eventtime", "string"), new("eventsource", "string"), new("eventname", "string"), new("awsregion", "string"),
        new("sourceipaddress", "string"), new("useragent", "string"), new("errorcode", "string"), new("errormessage", "string"),
        new("requestparameters", "string"), new("responseelements", "string"), new("additionaleventdata", "string"),
        new("requestid", "string"), new("eventid", "string"), new("readonly", "string"),
        new("resources", "array<struct<arn:string,accountid:string,type:string>>"),
        new("eventtype", "string"), new("apiversion", "string"), new("managementevent", "string"), new("recipientaccountid", "string"),
        new("serviceeventdetails", "string"), new("sharedeventid", "string"), new("vpcendpointid", "string"), new("eventcategory", "string"),
    ];

    /// <summary>The Glue database of a stack whose namePrefix is <paramref name="namePrefix"/>.</summary>
    public static string DatabaseNameFor(string namePrefix) => namePrefix.Replace('-', '_') + "_audit";

    /// <summary>The Athena workgroup of a stack whose namePrefix is <paramref name="namePrefix"/>.</summary>
    public static string WorkgroupNameFor(string namePrefix) => $"{namePrefix}-audit";

    public static QueryLayerDesign Design(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var location = $"s3://{names.LogBucket}/{names.OrganizationLogsPrefix}";
        var results = $"{config.NamePrefix}-athena-results-{config.Organization.AuditAccountId}-{config.HomeRegion}";
        var resultsArn = names.BucketArn(results);
        var parameters = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["EXTERNAL"] = "TRUE",
            ["classification"] = "cloudtrail",
            ["projection.enabled"] = "true",
            // Accounts join the organization over time: the query names the account (injected).
            ["projection.account.type"] = "injected",
            ["projection.region.type"] = "enum",
            ["projection.region.values"] = string.Join(",", config.GovernedRegions),
            ["projection.date.type"] = "date",
            ["projection.date.format"] = "yyyy/MM/dd",
            ["projection.date.range"] = "2020/01/01,NOW",
            ["projection.date.interval"] = "1",
            ["projection.date.interval.unit"] = "DAYS",
            ["storage.location.template"] = location + "${account}/CloudTrail/${region}/${date}",
            // Lifecycle moves old logs to Glacier Flexible Retrieval and Deep Archive, which Athena skips
            // silently; with this set it reads such objects once they are restored (a restored copy is
            // otherwise skipped too). Objects not restored stay skipped: `auditinfra query` names them.
            [ReadRestoredGlacierObjects] = "true",
        });
        var resultsPolicy = new PolicyDocument(new PolicyStatement
        {
            Sid = LogArchivePolicies.DenyInsecureTransportSid,
            Effect = PolicyEffect.Deny,
            Principal = PolicyPrincipal.Anyone,
            Actions = ["s3:*"],
            Resources = [resultsArn, $"{resultsArn}/*"],
            Conditions = [new PolicyCondition("Bool", "aws:SecureTransport", "false")],
        });
        return new QueryLayerDesign(
            names,
            DatabaseNameFor(config.NamePrefix),
            "cloudtrail",
            location,
            parameters,
            CloudTrailColumnsInGlue,
            [new("account", "string"), new("region", "string"), new("date", "string")],
            WorkgroupNameFor(config.NamePrefix),
            results,
            resultsPolicy,
            30,
            2_000_000_000,
            DesignTags.For(config, "QueryLayer"));
    }
}

public static class QueryLayerPlan
{
    public static string DatabaseResource(QueryLayerDesign d) => d.Names.Logical("query-database");

    public static string TableResource(QueryLayerDesign d) => d.Names.Logical("query-cloudtrail-table");

    public static string WorkgroupResource(QueryLayerDesign d) => d.Names.Logical("query-workgroup");

    public static string ResultsBucketResource(QueryLayerDesign d) => d.Names.Logical("query-results-bucket");

    public static PlannedComponent Render(QueryLayerDesign design)
    {
        var tags = PlannedResource.Tags(design.Tags);
        var bucket = ResultsBucketResource(design);
        var bucketRef = PlannedResource.Ref(bucket, "bucket");
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        resources.Add(new PlannedResource("aws:glue/catalogDatabase:CatalogDatabase", DatabaseResource(design), new JsonObject
        {
            ["name"] = design.DatabaseName,
            ["description"] = design.DatabaseDescription,
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:glue/catalogTable:CatalogTable", TableResource(design), new JsonObject
        {
            ["name"] = design.TableName,
            ["databaseName"] = PlannedResource.Ref(DatabaseResource(design), "name"),
            ["tableType"] = "EXTERNAL_TABLE",
            ["parameters"] = PlannedResource.Tags(design.TableParameters),
            ["partitionKeys"] = new JsonArray([.. design.PartitionKeys.Select(k => (JsonNode)new JsonObject { ["name"] = k.Name, ["type"] = k.Type })]),
            ["storageDescriptor"] = new JsonObject
            {
                ["location"] = design.TableLocation,
                ["inputFormat"] = QueryLayerDesign.InputFormat,
                ["outputFormat"] = QueryLayerDesign.OutputFormat,
                ["serDeInfo"] = new JsonObject { ["serializationLibrary"] = QueryLayerDesign.SerDe },
                ["columns"] = new JsonArray([.. design.Columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type })]),
            },
        }));
        resources.Add(new PlannedResource("aws:s3/bucket:Bucket", bucket, new JsonObject { ["bucket"] = design.ResultsBucket, ["tags"] = tags.DeepClone() }));
        resources.Add(new PlannedResource("aws:s3/bucketOwnershipControls:BucketOwnershipControls", $"{bucket}-ownership", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rule"] = new JsonObject { ["objectOwnership"] = design.ResultsObjectOwnership },
        }));
        resources.Add(new PlannedResource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", $"{bucket}-public-access", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["blockPublicAcls"] = design.ResultsPublicAccess.BlockPublicAcls,
            ["blockPublicPolicy"] = design.ResultsPublicAccess.BlockPublicPolicy,
            ["ignorePublicAcls"] = design.ResultsPublicAccess.IgnorePublicAcls,
            ["restrictPublicBuckets"] = design.ResultsPublicAccess.RestrictPublicBuckets,
        }));
        resources.Add(new PlannedResource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", $"{bucket}-encryption", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rules"] = new JsonArray(new JsonObject { ["applyServerSideEncryptionByDefault"] = new JsonObject { ["sseAlgorithm"] = design.ResultsSseAlgorithm } }),
        }));
        resources.Add(new PlannedResource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", $"{bucket}-lifecycle", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rules"] = new JsonArray(new JsonObject
            {
                ["id"] = design.ResultsLifecycleRuleId,
                ["status"] = "Enabled",
                ["filter"] = new JsonObject { ["prefix"] = "" },
                ["expiration"] = new JsonObject { ["days"] = design.ResultsExpirationDays },
                ["abortIncompleteMultipartUpload"] = new JsonObject { ["daysAfterInitiation"] = design.ResultsAbortIncompleteMultipartUploadDays },
            }),
        }));
        resources.Add(new PlannedResource("aws:s3/bucketPolicy:BucketPolicy", $"{bucket}-policy", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["policy"] = design.ResultsBucketPolicy.ToJsonNode(),
        })
        { DependsOn = [$"{bucket}-public-access"] });
        resources.Add(new PlannedResource("aws:athena/workgroup:Workgroup", WorkgroupResource(design), new JsonObject
        {
            ["name"] = design.WorkgroupName,
            ["description"] = design.WorkgroupDescription,
            ["state"] = design.WorkgroupState,
            ["configuration"] = new JsonObject
            {
                ["enforceWorkgroupConfiguration"] = design.EnforceWorkgroupConfiguration,
                ["publishCloudwatchMetricsEnabled"] = design.PublishCloudwatchMetrics,
                ["bytesScannedCutoffPerQuery"] = design.BytesScannedCutoffPerQuery,
                ["resultConfiguration"] = new JsonObject
                {
                    ["outputLocation"] = $"s3://{design.ResultsBucket}/",
                    ["encryptionConfiguration"] = new JsonObject { ["encryptionOption"] = design.ResultsEncryptionOption },
                },
            },
            ["tags"] = tags.DeepClone(),
        }));
        return new PlannedComponent(QueryLayerDesign.ComponentType, design.Names.Logical(AuditAccount.InAccountComponentNames.QueryLayer), resources.ToImmutable())
        {
            Notes =
            [
                $"Athena: `auditinfra query --athena --athena-database {design.DatabaseName} --athena-table {design.TableName} ...` prints the SQL; partitions are projected (account injected by the query, region from the governed regions, date by day), so nothing needs a crawler or MSCK REPAIR.",
                $"Workgroup {design.WorkgroupName} enforces its configuration: results encrypted in {design.ResultsBucket}, kept {design.ResultsExpirationDays} days; at most {design.BytesScannedCutoffPerQuery / 1_000_000_000.0:0.#} GB scanned per query (the SDK types the cutoff as int; queries always pin account and day partitions).",
                "Readers use the auditor role (read-only on the logs, kms:Decrypt per the trail key policy, Glue/Athena read, and the results bucket).",
            ],
        };
    }
}
