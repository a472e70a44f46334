using System.Text.Json.Nodes;
using AuditInfra.Core.Storage;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Storage;

[Collection(PulumiCollection.Name)]
public class LogArchiveTests
{
    [Fact]
    public async Task Every_resource_and_input_equals_the_offline_plan()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(PulumiTests.PlannedComponent(config, LogArchivePlan.ComponentType), mocks);
    }

    [Fact]
    public async Task The_component_and_every_planned_child_are_registered()
    {
        // Pulumi's mock monitor keeps only the root type when it builds a child's URN, so the
        // parent chain is not observable here; the plan equality above covers every child.
        var config = PulumiTests.Sample("audit");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        var component = Assert.Single(mocks.OfType("auditinfra:storage:LogArchive"));
        Assert.Equal("acme-audit-log-archive", component.Name);
        foreach (var planned in LogArchivePlan.Render(LogArchiveDesigner.Design(config)).Resources)
        {
            Assert.Equal(planned.Type, mocks.Named(planned.Name).Type);
        }
    }

    [Fact]
    public async Task The_log_bucket_is_locked_encrypted_with_the_trail_key_and_private()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, outputs) = await PulumiTests.RunAsync(config);
        var bucket = mocks.Named("acme-audit-log-bucket");
        Assert.Equal("acme-audit-cloudtrail-222222222222-us-east-1", bucket.Inputs["bucket"]);
        Assert.Equal(true, bucket.Inputs["objectLockEnabled"]);

        var encryption = PlanComparison.ToJson(mocks.Named("acme-audit-log-bucket-encryption").Inputs);
        Assert.Equal("aws:kms", (string?)encryption["rules"]![0]!["applyServerSideEncryptionByDefault"]!["sseAlgorithm"]);
        Assert.Equal(mocks.Named("acme-audit-trail-key").Outputs["arn"], (string?)encryption["rules"]![0]!["applyServerSideEncryptionByDefault"]!["kmsMasterKeyId"]);

        var accessEncryption = PlanComparison.ToJson(mocks.Named("acme-audit-access-log-bucket-encryption").Inputs);
        Assert.Equal("AES256", (string?)accessEncryption["rules"]![0]!["applyServerSideEncryptionByDefault"]!["sseAlgorithm"]);
        Assert.Null(accessEncryption["rules"]![0]!["applyServerSideEncryptionByDefault"]!["kmsMasterKeyId"]);

        var pab = mocks.Named("acme-audit-log-bucket-public-access").Inputs;
        Assert.All(new[] { "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets" }, k => Assert.Equal(true, pab[k]));

        var policy = JsonNode.Parse((string)mocks.Named("acme-audit-log-bucket-policy").Inputs["policy"])!;
        Assert.Contains(policy["Statement"]!.AsArray(), s => (string?)s!["Sid"] == LogArchivePolicies.DenyInsecureTransportSid);

        var keyPolicy = JsonNode.Parse((string)mocks.Named("acme-audit-trail-key").Inputs["policy"])!;
        Assert.True(JsonNode.DeepEquals(LogArchivePolicies.TrailKeyPolicy(config, new AuditInfra.Core.Naming.ResourceNames(config)).ToJsonNode(), keyPolicy));

        Assert.Equal("acme-audit-cloudtrail-222222222222-us-east-1", await PulumiTests.ValueAsync((Pulumi.Output<string>)outputs["logBucketName"]!));
        Assert.Equal(mocks.Named("acme-audit-trail-key").Outputs["arn"], await PulumiTests.ValueAsync((Pulumi.Output<string>)outputs["trailKeyArn"]!));
    }

    [Fact]
    public async Task Object_lock_uses_the_configured_mode_and_days()
    {
        var config = PulumiTests.Sample("audit", t => t.Replace("    mode: GOVERNANCE", "    mode: COMPLIANCE").Replace("    retentionDays: 365", "    retentionDays: 400"));
        var (mocks, _) = await PulumiTests.RunAsync(config);
        var objectLock = PlanComparison.ToJson(mocks.Named("acme-audit-log-bucket-object-lock").Inputs);
        Assert.Equal("COMPLIANCE", (string?)objectLock["rule"]!["defaultRetention"]!["mode"]);
        Assert.Equal(400, (long)objectLock["rule"]!["defaultRetention"]!["days"]!);
        Assert.Throws<KeyNotFoundException>(() => mocks.Named("acme-audit-access-log-bucket-object-lock"));
    }
}
