using System.Text.Json.Nodes;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Tests.Support;
using AuditInfra.Core.Trail;

namespace AuditInfra.Core.Tests.Trail;

public class OrganizationTrailTests
{
    private static string Prod => Samples.Text("prod");

    private static OrganizationTrailDesign Design(Func<string, string>? edit = null)
    {
        var (config, report) = Samples.Bind(edit is null ? Prod : edit(Prod), "prod");
        Assert.True(report.IsValid, report.ToString());
        return OrganizationTrailDesigner.Design(config!);
    }

    private static string TrailSection(string body) => Prod.Replace(
        "    s3DataEvents: none\n", body);

    [Fact]
    public void The_trail_covers_the_organization_every_region_and_is_validated_and_encrypted()
    {
        var d = Design();
        Assert.True(d.IsOrganizationTrail);
        Assert.True(d.IsMultiRegionTrail);
        Assert.True(d.IncludeGlobalServiceEvents);
        Assert.True(d.EnableLogFileValidation);
        Assert.True(d.EnableLogging);
        Assert.Equal("arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail", d.TrailArn);
        Assert.Equal("cloudtrail", d.S3KeyPrefix);
        Assert.Null(d.CloudWatch);
    }

    [Fact]
    public void By_default_only_management_events_read_and_write_are_selected()
    {
        var selector = Assert.Single(Design().Selectors);
        var field = Assert.Single(selector.FieldSelectors);
        Assert.Equal("eventCategory", field.Field);
        Assert.Equal(["Management"], field.EqualTo.ToArray());
        Assert.DoesNotContain(selector.FieldSelectors, f => f.Field == "readOnly");
    }

    [Fact]
    public void Excluded_sources_become_a_not_equals_on_event_source()
    {
        var d = Design(t => t.Replace("    excludeManagementEventSources: []", "    excludeManagementEventSources: [kms.amazonaws.com, rdsdata.amazonaws.com]"));
        var source = d.Selectors[0].FieldSelectors.Single(f => f.Field == "eventSource");
        Assert.Equal(["kms.amazonaws.com", "rdsdata.amazonaws.com"], source.NotEqualTo.ToArray());
    }

    [Fact]
    public void S3_data_events_for_all_buckets_or_listed_buckets_and_lambda()
    {
        var all = Design(t => t.Replace("    s3DataEvents: none\n", "    s3DataEvents: all\n").Replace("    lambdaDataEvents: false", "    lambdaDataEvents: true"));
        Assert.Equal(3, all.Selectors.Length);
        Assert.Contains(all.Selectors, s => s.FieldSelectors.Any(f => f.Field == "resources.type" && f.EqualTo.Contains("AWS::S3::Object")) && s.FieldSelectors.All(f => f.Field != "resources.ARN"));
        Assert.Contains(all.Selectors, s => s.FieldSelectors.Any(f => f.Field == "resources.type" && f.EqualTo.Contains("AWS::Lambda::Function")));

        var listed = Design(t => TrailSection("    s3DataEvents: buckets\n    s3DataEventBuckets: [payroll-data, secrets.example]\n"));
        var arn = listed.Selectors[1].FieldSelectors.Single(f => f.Field == "resources.ARN");
        Assert.Equal(["arn:aws:s3:::payroll-data/", "arn:aws:s3:::secrets.example/"], arn.StartsWith.ToArray());
    }

    [Theory]
    [InlineData("    s3DataEvents: buckets\n", "auditinfra:trail.s3DataEventBuckets", "is required when s3DataEvents is 'buckets'")]
    [InlineData("    s3DataEvents: none\n    s3DataEventBuckets: [a-bucket]\n", "auditinfra:trail.s3DataEventBuckets", "only used when")]
    [InlineData("    s3DataEvents: some\n", "auditinfra:trail.s3DataEvents", "one of none, all, buckets")]
    [InlineData("    s3DataEvents: none\n    excludeManagementEventSources: [s3.amazonaws.com]\n", "auditinfra:trail.excludeManagementEventSources[0]", "kms.amazonaws.com")]
    [InlineData("    s3DataEvents: none\n    delegatedAdministratorAccountId: \"111111111111\"\n", "auditinfra:trail.delegatedAdministratorAccountId", "must be a member account")]
    public void Bad_trail_settings_are_reported(string replacement, string key, string expected)
    {
        var yaml = TrailSection(replacement).Replace("    excludeManagementEventSources: []\n", replacement.Contains("excludeManagement") ? "" : "    excludeManagementEventSources: []\n");
        var (_, report) = Samples.Bind(yaml, "prod");
        Assert.Contains(report.Errors, e => e.Key == key && e.Message.Contains(expected));
    }

    [Fact]
    public void Audit_stack_reference_must_name_organization_project_and_stack()
    {
        var (_, report) = Samples.Bind(Prod.Replace("    auditStackReference: acme/auditinfra/audit", "    auditStackReference: audit"), "prod");
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:trail.auditStackReference" && e.Message.Contains("<organization>/<project>/<stack>"));
    }

    [Fact]
    public void Cloudwatch_retention_must_be_one_cloudwatch_accepts()
    {
        var (_, report) = Samples.Bind(Prod.Replace("      retentionDays: 365", "      retentionDays: 100"), "prod");
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:trail.cloudWatchLogs.retentionDays" && e.Message.Contains("400"));
    }

    [Fact]
    public void Cloudwatch_delivery_adds_an_encrypted_log_group_and_a_role_scoped_to_this_trail()
    {
        var d = Design(t => t.Replace("      enabled: false", "      enabled: true").Replace("      retentionDays: 365", "      retentionDays: 731"));
        var cw = d.CloudWatch!;
        Assert.Equal("/aws/cloudtrail/acme-org-trail", cw.LogGroupName);
        Assert.Equal(731, cw.RetentionInDays);
        var trust = cw.RoleTrustPolicy.Statements.Single();
        Assert.Equal(["cloudtrail.amazonaws.com"], trust.Principal!.Values.ToArray());
        Assert.Contains(trust.Conditions, c => c.Key == "aws:SourceArn" && c.Values.Single() == d.TrailArn);
        Assert.Equal(["arn:aws:logs:us-east-1:111111111111:log-group:/aws/cloudtrail/acme-org-trail:log-stream:*"], cw.RolePolicy.Statements.Single().Resources.ToArray());
        Assert.Contains(cw.LogKeyPolicy.Statements, s => s.Principal!.Values.Contains("logs.us-east-1.amazonaws.com"));

        var plan = OrganizationTrailPlan.Render(d);
        var trail = plan.Resources.Single(r => r.Type == "aws:cloudtrail/trail:Trail");
        Assert.Equal("${acme-audit-trail-log-group.arn}:*", (string?)trail.Properties["cloudWatchLogsGroupArn"]);
        Assert.Equal(["acme-audit-trail-cloudwatch-role-policy"], trail.DependsOn.ToArray());
    }

    [Fact]
    public void Prod_plan_reads_bucket_and_key_from_the_audit_stack_and_warns_about_duplicate_trails()
    {
        var plan = StackPlanner.Plan(Samples.Config("prod"));
        Assert.Equal("111111111111", plan.AccountId);
        var reference = plan.Resource("acme-audit-audit-stack");
        Assert.Equal("pulumi:pulumi:StackReference", reference.Type);
        Assert.Equal("acme/auditinfra/audit", (string?)reference.Properties["name"]);
        var trail = plan.Resource("acme-audit-organization-trail");
        Assert.True(trail.Protect);
        Assert.Equal("${acme-audit-audit-stack.logBucketName}", (string?)trail.Properties["s3BucketName"]);
        Assert.Equal("${acme-audit-audit-stack.trailKeyArn}", (string?)trail.Properties["kmsKeyId"]);
        var notes = plan.Components.Single(c => c.Type == OrganizationTrailPlan.ComponentType).Notes;
        Assert.Contains(notes, n => n.Contains("Member accounts need no trail of their own") && n.Contains("billed"));
        Assert.Contains(notes, n => n.Contains("enable-aws-service-access --service-principal cloudtrail.amazonaws.com"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"name":"Management events (read and write)","fieldSelectors":[{"field":"eventCategory","equals":["Management"]}]}]"""), trail.Properties["advancedEventSelectors"]));
    }

    [Fact]
    public void Delegated_administrator_is_documented_with_its_pitfall()
    {
        var d = Design(t => t.Replace("    # delegatedAdministratorAccountId: \"333333333333\"", "    delegatedAdministratorAccountId: \"333333333333\""));
        Assert.Contains(OrganizationTrailPlan.Notes(d), n => n.Contains("333333333333") && n.Contains("management account still owns it"));
    }
}
