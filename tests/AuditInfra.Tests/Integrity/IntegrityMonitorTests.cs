using AuditInfra.Core.Integrity.Monitor;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Integrity;

[Collection(PulumiCollection.Name)]
public class IntegrityMonitorTests
{
    [Fact]
    public async Task The_monitor_equals_the_plan_and_lives_in_the_audit_account()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, outputs) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(PulumiTests.PlannedComponent(config, IntegrityMonitorDesign.ComponentType), mocks);
        Assert.Contains("acme-audit-audit-account-provider", mocks.Named("acme-audit-integrity-task").Provider);
        Assert.Contains("acme-audit-audit-account-provider", mocks.Named("acme-audit-integrity-backfill-job").Provider);
        Assert.Equal("222222222222.dkr.ecr.us-east-1.amazonaws.com/acme-audit/auditinfra", outputs["integrityImageRepositoryUrl"]);
        Assert.Equal("arn:aws:kms:us-east-1:222222222222:key/acme-audit-integrity-attestation-key-keyid", await PulumiTests.ValueAsync((Pulumi.Output<string>)outputs["integrityAttestationKeyArn"]!));
    }

    [Fact]
    public async Task Without_integrity_enabled_the_stack_has_no_monitor()
    {
        var config = PulumiTests.Sample("audit", text => text.Replace("    enabled: true\n    # The CLI image", "    enabled: false\n    # The CLI image"));
        var (mocks, outputs) = await PulumiTests.RunAsync(config);
        Assert.DoesNotContain(mocks.Resources.Values, r => r.Type == IntegrityMonitorDesign.ComponentType || r.Name.Contains("integrity", StringComparison.Ordinal));
        Assert.False(outputs.ContainsKey("integrityImageRepositoryUrl"));
    }
}
