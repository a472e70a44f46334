using AuditInfra.Core.AuditAccount;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.AuditAccount;

[Collection(PulumiCollection.Name)]
public class AuditAccountTests
{
    private static string Create(string yaml) => yaml
        .Replace("    mode: adopt", "    mode: create")
        .Replace("    # accountName: Audit Log Archive", "    accountName: Audit Log Archive")
        .Replace("    # email: aws-audit@example.com", "    email: aws-audit@example.com");

    [Fact]
    public async Task Adoption_equals_the_plan_and_creates_no_account()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(AuditAccountPlan.Render(AuditAccountDesigner.Design(config)), mocks);
        Assert.Empty(mocks.OfType("aws:organizations/account:Account"));
    }

    [Fact]
    public async Task Everything_inside_the_audit_account_uses_the_assumed_role_provider()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        var provider = mocks.Named("acme-audit-audit-account-provider");
        Assert.Equal("pulumi:providers:aws", provider.Type);
        // The deployment role: the role every deny of the lock-down exempts.
        Assert.Contains("arn:aws:iam::222222222222:role/auditinfra-deployment", provider.Inputs["assumeRoles"].ToString());
        Assert.DoesNotContain("OrganizationAccountAccessRole", provider.Inputs["assumeRoles"].ToString());
        foreach (var name in new[] { "acme-audit-log-bucket", "acme-audit-trail-key", "acme-audit-detection-bus", "acme-audit-auditor-role", "acme-audit-break-glass-role" })
        {
            Assert.Contains("acme-audit-audit-account-provider", mocks.Named(name).Provider);
        }

        // The lock-down SCP is an Organizations resource of the management account: default provider.
        Assert.DoesNotContain("acme-audit-audit-account-provider", mocks.Named("acme-audit-audit-account-lockdown-1").Provider ?? "");
    }

    [Fact]
    public async Task Creation_creates_the_account_and_stops_until_its_id_is_configured()
    {
        var matching = PulumiTests.Sample("audit", Create);
        var (mocks, _) = await PulumiTests.RunAsync(matching, new RecordingMocks { NewAccountId = "222222222222" });
        var account = mocks.Named("acme-audit-audit-account");
        Assert.Equal("DENY", account.Inputs["iamUserAccessToBilling"]);
        Assert.Equal(false, account.Inputs["closeOnDeletion"]);

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => PulumiTests.RunAsync(matching, new RecordingMocks { NewAccountId = "999999999999" }));
        Assert.Contains("The audit account was created with id 999999999999, but auditinfra:auditAccountId is 222222222222", ex.ToString());
    }

    [Fact]
    public async Task The_lockdown_is_attached_only_after_everything_inside_the_account()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        // With the integrity monitor's carve-out the lock-down packs into two SCPs: each waits.
        foreach (var name in new[] { "acme-audit-audit-account-lockdown-1-attachment", "acme-audit-audit-account-lockdown-2-attachment" })
        {
            var attachment = mocks.Options.Named(name);
            Assert.Equal(
                ["acme-audit-auditor-role", "acme-audit-auditor-role-policy", "acme-audit-break-glass-role", "acme-audit-break-glass-role-managed-1", "acme-audit-detection-hub", "acme-audit-integrity-monitor", "acme-audit-log-archive", "acme-audit-query-layer"],
                attachment.DependsOn.Order().ToArray());
            Assert.Equal(AuditAccountDesigner.Design(config).LockdownDependsOn.Order(), attachment.DependsOn.Order());
        }
    }

    [Fact]
    public async Task A_created_account_is_protected_retained_and_reached_through_the_deployment_role()
    {
        var config = PulumiTests.Sample("audit", t => Create(t).Replace("    roleName: auditinfra-deployment\n", ""));
        var (mocks, _) = await PulumiTests.RunAsync(config);
        Assert.Equal("auditinfra-deployment", mocks.Named("acme-audit-audit-account").Inputs["roleName"]);
        var options = mocks.Options.Named("acme-audit-audit-account");
        Assert.True(options.Protect);
        Assert.True(options.RetainOnDelete);
        PlanComparison.AssertMatches(AuditAccountPlan.Render(AuditAccountDesigner.Design(config)), mocks);
    }
}
