using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Query;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Query;

public class QueryLayerTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("audit");

    [Fact]
    public void The_table_projects_account_region_and_date_over_the_bucket_layout()
    {
        var d = QueryLayerDesigner.Design(Config);
        Assert.Equal("acme_audit_audit", d.DatabaseName);
        Assert.Equal("s3://acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/AWSLogs/o-a1b2c3d4e5/", d.TableLocation);
        Assert.Equal("true", d.TableParameters["projection.enabled"]);
        Assert.Equal("injected", d.TableParameters["projection.account.type"]);
        Assert.Equal("us-east-1,us-west-2,eu-west-1", d.TableParameters["projection.region.values"]);
        Assert.Equal("yyyy/MM/dd", d.TableParameters["projection.date.format"]);
        Assert.Equal("s3://acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/${region}/${date}", d.TableParameters["storage.location.template"]);
        Assert.Equal(["account", "region", "date"], d.PartitionKeys.Select(k => k.Name).ToArray());
    }

    [Fact]
    public void The_table_reads_restored_glacier_objects_in_the_design_and_the_plan()
    {
        var d = QueryLayerDesigner.Design(Config);
        Assert.Equal("true", d.TableParameters["read_restored_glacier_objects"]);
        var table = QueryLayerPlan.Render(d).Resources.Single(r => r.Type == "aws:glue/catalogTable:CatalogTable");
        Assert.Equal("true", (string?)table.Properties["parameters"]!["read_restored_glacier_objects"]);
    }

    [Fact]
    public void Every_column_the_queries_read_exists_in_the_table()
    {
        var tableColumns = QueryLayerDesigner.CloudTrailColumnsInGlue.Select(c => c.Name).ToHashSet();
        foreach (var column in CloudTrailColumns.All)
        {
            var top = column.AthenaExpression.Split('.')[0];
            Assert.True(tableColumns.Contains(top), $"{column.Name} reads {column.AthenaExpression}, but the table has no column {top}");
        }
    }

    [Fact]
    public void The_workgroup_enforces_encrypted_results_in_a_private_expiring_bucket()
    {
        var plan = QueryLayerPlan.Render(QueryLayerDesigner.Design(Config));
        var workgroup = plan.Resources.Single(r => r.Type == "aws:athena/workgroup:Workgroup").Properties["configuration"]!;
        Assert.True((bool)workgroup["enforceWorkgroupConfiguration"]!);
        Assert.Equal("SSE_S3", (string?)workgroup["resultConfiguration"]!["encryptionConfiguration"]!["encryptionOption"]);
        Assert.Equal("s3://acme-audit-athena-results-222222222222-us-east-1/", (string?)workgroup["resultConfiguration"]!["outputLocation"]);
        Assert.Contains(plan.Resources, r => r.Type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
        Assert.Contains(plan.Resources, r => r.Type == "aws:s3/bucketPolicy:BucketPolicy" && r.Properties["policy"]!.ToJsonString().Contains("aws:SecureTransport", StringComparison.Ordinal));
    }

    [Fact]
    public void The_auditor_role_can_write_query_results_and_only_there()
    {
        var results = AuditAccountDesigner.Design(Config).AuditorRole.InlinePolicy!.Find("QueryResults")!;
        Assert.Equal(["arn:aws:s3:::acme-audit-athena-results-222222222222-us-east-1", "arn:aws:s3:::acme-audit-athena-results-222222222222-us-east-1/*"], results.Resources.ToArray());
        Assert.Contains("s3:PutObject", results.Actions);
    }

    [Fact]
    public void The_audit_plan_includes_the_query_layer_and_still_holds_every_invariant()
    {
        var plan = StackPlanner.Plan(Config);
        Assert.Contains(plan.Components, c => c.Type == QueryLayerDesign.ComponentType);
        Assert.Empty(AuditInfra.Core.Checks.DesignCheck.Evaluate(plan.ToJsonNode()));
    }
}
