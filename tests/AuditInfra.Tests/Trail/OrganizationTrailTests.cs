using System.Text.Json.Nodes;
using AuditInfra.Core.Trail;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Trail;

[Collection(PulumiCollection.Name)]
public class OrganizationTrailTests
{
    private const string Trail = "acme-audit-organization-trail";

    [Fact]
    public async Task Every_resource_and_input_equals_the_offline_plan()
    {
        var config = PulumiTests.Sample("prod");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(OrganizationTrailPlan.Render(OrganizationTrailDesigner.Design(config)), mocks);
        Assert.Single(mocks.OfType(OrganizationTrailPlan.ComponentType));
    }

    [Fact]
    public async Task The_trail_is_an_encrypted_validated_multi_region_organization_trail_on_the_audit_bucket()
    {
        var (mocks, outputs) = await PulumiTests.RunAsync(PulumiTests.Sample("prod"));
        var trail = mocks.Named(Trail).Inputs;
        Assert.Equal(true, trail["isOrganizationTrail"]);
        Assert.Equal(true, trail["isMultiRegionTrail"]);
        Assert.Equal(true, trail["enableLogFileValidation"]);
        Assert.Equal(true, trail["includeGlobalServiceEvents"]);
        Assert.Equal("arn:aws:kms:us-east-1:222222222222:key/trail-key-id", trail["kmsKeyId"]);
        Assert.Equal("acme-audit-cloudtrail-222222222222-us-east-1", trail["s3BucketName"]);
        Assert.Equal("cloudtrail", trail["s3KeyPrefix"]);
        Assert.Equal("acme/auditinfra/audit", mocks.Named("acme-audit-audit-stack").Inputs["name"]);
        Assert.Contains("aws:organizations/getOrganization:getOrganization", mocks.Invokes);
        Assert.Equal($"arn:aws:mock:::aws:cloudtrail/trail:Trail/{Trail}", await PulumiTests.ValueAsync((Pulumi.Output<string>)outputs["trailArn"]!));
    }

    [Fact]
    public async Task Cloudwatch_delivery_wires_log_group_role_and_suffix()
    {
        var config = PulumiTests.Sample("prod", t => t.Replace("      enabled: false", "      enabled: true"));
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(OrganizationTrailPlan.Render(OrganizationTrailDesigner.Design(config)), mocks);
        Assert.Equal(mocks.Named("acme-audit-trail-log-group").Outputs["arn"] + ":*", mocks.Named(Trail).Inputs["cloudWatchLogsGroupArn"]);
        var trust = JsonNode.Parse((string)mocks.Named("acme-audit-trail-cloudwatch-role").Inputs["assumeRolePolicy"])!;
        Assert.Equal("cloudtrail.amazonaws.com", (string?)trust["Statement"]![0]!["Principal"]!["Service"]);
    }

    [Fact]
    public async Task A_missing_audit_stack_output_is_a_clear_error()
    {
        var mocks = new RecordingMocks();
        mocks.StackOutputs!.Remove("logArchiveReady");
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => PulumiTests.RunAsync(PulumiTests.Sample("prod"), mocks));
        Assert.Contains("The audit stack 'acme/auditinfra/audit' has no output 'logArchiveReady': deploy it first", ex.ToString());
        Assert.False(mocks.Resources.ContainsKey(Trail) && mocks.Resources[Trail].Inputs.ContainsKey("s3BucketName"));
    }

    [Fact]
    public async Task An_audit_stack_that_exports_another_bucket_means_the_stack_files_disagree()
    {
        var mocks = new RecordingMocks();
        mocks.StackOutputs!["logBucketName"] = "someone-elses-bucket";
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => PulumiTests.RunAsync(PulumiTests.Sample("prod"), mocks));
        Assert.Contains("Pulumi.audit.yaml and Pulumi.prod.yaml disagree", ex.ToString());
    }

    [Fact]
    public async Task Without_trusted_access_the_program_stops_with_the_command_that_enables_it()
    {
        var mocks = new RecordingMocks { ServiceAccessPrincipals = ["config.amazonaws.com"] };
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => PulumiTests.RunAsync(PulumiTests.Sample("prod"), mocks));
        Assert.Contains("aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com", ex.ToString());
    }

    [Fact]
    public async Task Credentials_of_another_organization_are_refused()
    {
        var mocks = new RecordingMocks { OrganizationId = "o-zzzzzzzzzz" };
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => PulumiTests.RunAsync(PulumiTests.Sample("prod"), mocks));
        Assert.Contains("belong to organization 'o-zzzzzzzzzz', but auditinfra:organizationId is 'o-a1b2c3d4e5'", ex.ToString());
    }
}
