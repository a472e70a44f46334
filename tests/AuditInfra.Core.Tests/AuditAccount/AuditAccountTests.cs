using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Guardrails;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.AuditAccount;

public class AuditAccountTests
{
    private static readonly string Audit = Samples.Text("audit");
    private static readonly string[] Exempt = ["arn:aws:iam::222222222222:role/auditinfra-deployment", "arn:aws:iam::222222222222:role/auditinfra-break-glass"];

    private static AuditAccountDesign Design(string yaml)
    {
        var (config, report) = Samples.Bind(yaml);
        Assert.True(report.IsValid, report.ToString());
        return AuditAccountDesigner.Design(config!);
    }

    private static string Create(string yaml) => yaml
        .Replace("    mode: adopt", "    mode: create")
        .Replace("    # accountName: Audit Log Archive", "    accountName: Audit Log Archive")
        .Replace("    # email: aws-audit@example.com", "    email: aws-audit@example.com");

    [Fact]
    public void Every_lockdown_statement_denies_and_exempts_only_the_two_named_roles()
    {
        var statements = Design(WithoutMonitor(Audit)).LockdownPolicies.SelectMany(p => p.Document.Statements).ToList();
        Assert.All(statements, s =>
        {
            Assert.Equal(PolicyEffect.Deny, s.Effect);
            Assert.Equal(Exempt, s.Conditions.Single(c => c.Operator == "ArnNotLike").Values.ToArray());
        });
        Assert.Equal(
            new string?[] { AuditAccountPolicies.DenyIamUsersSid, AuditAccountPolicies.DenyLogWritesSid, GuardrailPolicies.ProtectLogBucketSid, GuardrailPolicies.ProtectTrailKeySid, GuardrailPolicies.ProtectDetectionHubSid, AuditAccountPolicies.DenyCloudTrailChangesSid, AuditAccountPolicies.DenySecurityServicesSid, GuardrailPolicies.DenyLeaveOrganizationSid, AuditAccountPolicies.DenyOutsideRegionsSid },
            statements.Select(s => s.Sid).ToArray());
    }

    [Fact]
    public void With_the_integrity_monitor_only_its_task_role_is_added_and_only_to_put_objects()
    {
        var statements = Design(Audit).LockdownPolicies.SelectMany(p => p.Document.Statements).ToList();
        Assert.All(statements.Where(s => s.Sid != AuditAccountPolicies.DenyLogBucketPutsSid), s => Assert.Equal(Exempt, s.Conditions.Single(c => c.Operator == "ArnNotLike").Values.ToArray()));
        var puts = statements.Single(s => s.Sid == AuditAccountPolicies.DenyLogBucketPutsSid);
        Assert.Equal(["s3:PutObject"], puts.Actions.ToArray());
        Assert.Equal([.. Exempt, "arn:aws:iam::222222222222:role/acme-audit-integrity-task"], puts.Conditions.Single(c => c.Operator == "ArnNotLike").Values.ToArray());
        var changes = statements.Single(s => s.Sid == AuditAccountPolicies.DenyLogBucketChangesSid);
        Assert.DoesNotContain("s3:PutObject", changes.Actions);
        Assert.Equal(["arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1/*"], changes.Resources.ToArray());
        Assert.Equal(["arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1/*"], puts.Resources.ToArray());

        // The task role itself puts only where verify writes: attestations beside AWSLogs/ under the key prefix
        // (the sample's s3KeyPrefix is cloudtrail), and its state.
        var monitorPuts = statements.Single(s => s.Sid == AuditAccountPolicies.DenyMonitorPutsSid);
        Assert.Equal(["s3:PutObject"], monitorPuts.Actions.ToArray());
        Assert.Empty(monitorPuts.Resources);
        Assert.Equal(["arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/attestations/*", "arn:aws:s3:::acme-audit-integrity-state-222222222222-us-east-1/state/*"], monitorPuts.NotResources.ToArray());
        Assert.Equal(["arn:aws:iam::222222222222:role/acme-audit-integrity-task"], monitorPuts.Conditions.Single(c => c.Operator == "ArnLike").Values.ToArray());
        var writerKey = Core.Integrity.Attestations.AttestationLayout.Key("cloudtrail/", null, "111111111111", new DateOnly(2026, 11, 20));
        Assert.StartsWith("cloudtrail/attestations/", writerKey, StringComparison.Ordinal);
    }

    private static string WithoutMonitor(string yaml) => yaml.Replace("    enabled: true\n    # The CLI image", "    enabled: false\n    # The CLI image");

    [Fact]
    public void Nobody_else_can_write_or_delete_log_objects()
    {
        var writes = Design(WithoutMonitor(Audit)).LockdownPolicies.SelectMany(p => p.Document.Statements).Single(s => s.Sid == AuditAccountPolicies.DenyLogWritesSid);
        Assert.Equal(["arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1/*", "arn:aws:s3:::acme-audit-s3-access-logs-222222222222-us-east-1/*"], writes.Resources.ToArray());
        foreach (var action in new[] { "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention" })
        {
            Assert.Contains(action, writes.Actions);
        }

        // With the monitor, what CloudTrail writes stays closed to everyone else, the task role included.
        var withMonitor = Design(Audit).LockdownPolicies.SelectMany(p => p.Document.Statements).Single(s => s.Sid == AuditAccountPolicies.DenyLogWritesSid);
        Assert.Equal(["arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/AWSLogs/*", "arn:aws:s3:::acme-audit-s3-access-logs-222222222222-us-east-1/*"], withMonitor.Resources.ToArray());
        Assert.Equal(writes.Actions.ToArray(), withMonitor.Actions.ToArray());
        Assert.Equal(Exempt, withMonitor.Conditions.Single(c => c.Operator == "ArnNotLike").Values.ToArray());
    }

    [Fact]
    public void No_iam_users_or_keys_and_security_services_stay_on()
    {
        var statements = Design(Audit).LockdownPolicies.SelectMany(p => p.Document.Statements).ToList();
        Assert.Contains("iam:CreateAccessKey", statements.Single(s => s.Sid == AuditAccountPolicies.DenyIamUsersSid).Actions);
        Assert.Contains("iam:CreateUser", statements.Single(s => s.Sid == AuditAccountPolicies.DenyIamUsersSid).Actions);
        var services = statements.Single(s => s.Sid == AuditAccountPolicies.DenySecurityServicesSid).Actions;
        Assert.Contains("guardduty:DeleteDetector", services);
        Assert.Contains("config:StopConfigurationRecorder", services);
    }

    [Fact]
    public void Region_deny_uses_not_action_for_global_services_and_is_optional()
    {
        var region = Design(Audit).LockdownPolicies.SelectMany(p => p.Document.Statements).Single(s => s.Sid == AuditAccountPolicies.DenyOutsideRegionsSid);
        Assert.Contains("iam:*", region.NotActions);
        Assert.Equal(["us-east-1", "us-west-2", "eu-west-1"], region.Conditions.Single(c => c.Key == "aws:RequestedRegion").Values.ToArray());
        var without = Design(Audit.Replace("    denyRegionsOutsideGoverned: true", "    denyRegionsOutsideGoverned: false"));
        Assert.DoesNotContain(without.LockdownPolicies.SelectMany(p => p.Document.Statements), s => s.Sid == AuditAccountPolicies.DenyOutsideRegionsSid);
        Assert.All(without.LockdownPolicies, p => Assert.True(p.Document.ToJson().Length <= ScpSizing.MaxCharacters));
    }

    [Fact]
    public void Auditor_trust_requires_mfa_for_people_and_the_organization_for_everyone()
    {
        var trust = Design(Audit.Replace("    auditorAutomationPrincipals: []", "    auditorAutomationPrincipals: [arn:aws:iam::222222222222:role/query-jobs]")).AuditorRole.Trust;
        var people = trust.Find("AuditorsWithMfa")!;
        Assert.Equal(["arn:aws:iam::111111111111:role/SecurityAuditors"], people.Principal!.Values.ToArray());
        Assert.Contains(people.Conditions, c => c.Key == "aws:MultiFactorAuthPresent" && c.Values.Single() == "true");
        var automation = trust.Find("AuditAutomation")!;
        Assert.DoesNotContain(automation.Conditions, c => c.Key == "aws:MultiFactorAuthPresent");
        Assert.All(trust.Statements, s => Assert.Contains(s.Conditions, c => c.Key == "aws:PrincipalOrgID"));
    }

    [Fact]
    public void Auditor_reads_and_decrypts_but_never_writes()
    {
        var permissions = Design(Audit).AuditorRole.InlinePolicy!;
        // The only writes are Athena's query results, in their own bucket: nothing reaches the logs.
        var writes = permissions.Statements.Where(s => s.Actions.Any(a => a.StartsWith("s3:Put", StringComparison.Ordinal) || a.StartsWith("s3:Delete", StringComparison.Ordinal) || a == "s3:*" || a == "*")).ToList();
        var write = Assert.Single(writes);
        Assert.Equal("QueryResults", write.Sid);
        Assert.All(write.Resources, r => Assert.Contains("athena-results", r));
        Assert.DoesNotContain(permissions.Statements.SelectMany(s => s.Actions), a => a.StartsWith("s3:Delete", StringComparison.Ordinal) || a == "s3:*" || a == "*");
        var decrypt = permissions.Find("DecryptTrailLogs")!;
        Assert.Contains(decrypt.Conditions, c => c.Operator == "Null" && c.Key == "kms:EncryptionContext:aws:cloudtrail:arn" && c.Values.Single() == "false");
        Assert.Contains(decrypt.Conditions, c => c.Key == "kms:CallerAccount" && c.Values.Single() == "222222222222");
    }

    [Fact]
    public void Break_glass_role_is_created_in_the_audit_account_with_mfa()
    {
        var breakGlass = Design(Audit).BreakGlassRole!;
        Assert.Equal("auditinfra-break-glass", breakGlass.Name);
        Assert.Equal(["arn:aws:iam::aws:policy/AdministratorAccess"], breakGlass.ManagedPolicyArns.ToArray());
        var trust = breakGlass.Trust.Statements.Single();
        Assert.Equal(["arn:aws:iam::111111111111:root"], trust.Principal!.Values.ToArray());
        Assert.Contains(trust.Conditions, c => c.Key == "aws:MultiFactorAuthPresent");
    }

    [Fact]
    public void Adoption_plans_no_account_and_creation_plans_a_retained_protected_one()
    {
        var adopt = AuditAccountPlan.Render(Design(Audit));
        Assert.DoesNotContain(adopt.Resources, r => r.Type == "aws:organizations/account:Account");
        Assert.Contains(adopt.Notes, n => n.StartsWith("Adopts account 222222222222", StringComparison.Ordinal));

        var create = AuditAccountPlan.Render(Design(Create(Audit)));
        var account = Assert.Single(create.Resources, r => r.Type == "aws:organizations/account:Account");
        Assert.True(account.RetainOnDelete);
        Assert.True(account.Protect);
        Assert.Equal("DENY", (string?)account.Properties["iamUserAccessToBilling"]);
        Assert.False((bool)account.Properties["closeOnDeletion"]!);
        Assert.Equal("ou-ab12-security1", (string?)account.Properties["parentId"]);
        Assert.Contains(create.Notes, n => n.Contains("First run") && n.Contains("auditinfra:auditAccountId"));
    }

    [Fact]
    public void A_created_security_ou_is_where_the_account_and_the_lockdown_go()
    {
        var yaml = Create(Audit).Replace("    securityOuId: ou-ab12-security1", "    createSecurityOuName: Security\n    securityOuParentId: r-ab12");
        var plan = AuditAccountPlan.Render(Design(yaml));
        var ou = Assert.Single(plan.Resources, r => r.Type == "aws:organizations/organizationalUnit:OrganizationalUnit");
        Assert.Equal("r-ab12", (string?)ou.Properties["parentId"]);
        Assert.Equal($"${{{ou.Name}.id}}", (string?)plan.Resources.Single(r => r.Type == "aws:organizations/account:Account").Properties["parentId"]);
        Assert.All(plan.Resources.Where(r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment"), a => Assert.Equal($"${{{ou.Name}.id}}", (string?)a.Properties["targetId"]));
    }

    [Theory]
    [InlineData("    mode: adopt", "    mode: create", "auditinfra:auditAccount.accountName", "is required")]
    [InlineData("    mode: adopt", "    mode: borrow", "auditinfra:auditAccount.mode", "one of adopt, create")]
    [InlineData("    securityOuId: ou-ab12-security1", "    securityOuId: security", "auditinfra:auditAccount.securityOuId", "an OU id")]
    [InlineData("    securityOuId: ou-ab12-security1", "", "auditinfra:auditAccount.securityOuId", "exactly one of")]
    [InlineData("    securityOuId: ou-ab12-security1", "    createSecurityOuName: Security", "auditinfra:auditAccount.securityOuParentId", "is required with createSecurityOuName")]
    [InlineData("    roleName: auditinfra-deployment", "    roleName: bad role!", "auditinfra:auditAccount.roleName", "IAM role name")]
    [InlineData("    roleName: auditinfra-deployment", "    roleName: OrganizationAccountAccessRole", "auditinfra:auditAccount.roleName", "must be 'auditinfra-deployment', the deployment role's name")]
    [InlineData("auditinfra:deploymentRoleArn: arn:aws:iam::222222222222:role/auditinfra-deployment", "auditinfra:deploymentRoleArn: arn:aws:iam::111111111111:role/auditinfra-deployment", "auditinfra:deploymentRoleArn", "must be a role in the audit account 222222222222")]
    [InlineData("      - arn:aws:iam::111111111111:role/SecurityAuditors", "      - SecurityAuditors", "auditinfra:auditAccount.auditorHumanPrincipals[0]", "principal ARN")]
    public void Bad_audit_account_settings_are_reported(string line, string replacement, string key, string expected)
    {
        var (_, report) = Samples.Bind(Audit.Replace(line, replacement));
        Assert.Contains(report.Errors, e => e.Key == key && e.Message.Contains(expected));
    }

    [Fact]
    public void Bad_email_in_create_mode_is_reported()
    {
        var (_, report) = Samples.Bind(Create(Audit).Replace("    email: aws-audit@example.com", "    email: not-an-email"));
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:auditAccount.email" && e.Message.Contains("email address"));
    }

    [Fact]
    public void The_audit_plan_shows_account_ou_scp_and_roles()
    {
        var plan = StackPlanner.Plan(Samples.Config("audit"));
        var component = plan.Components.Single(c => c.Type == AuditAccountDesign.ComponentType);
        Assert.Contains(component.Resources, r => r.Type == "aws:organizations/policy:Policy");
        Assert.Contains(component.Resources, r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment" && (string?)r.Properties["targetId"] == "ou-ab12-security1");
        Assert.Contains(component.Resources, r => r.Type == "aws:iam/role:Role" && (string?)r.Properties["name"] == "auditinfra-auditor");
        Assert.Contains(component.Resources, r => r.Type == "pulumi:providers:aws");
        Assert.Contains(component.Notes, n => n.Contains("Lock-down: only arn:aws:iam::222222222222:role/auditinfra-deployment and arn:aws:iam::222222222222:role/auditinfra-break-glass"));
    }

    [Fact]
    public void The_provider_assumes_exactly_the_role_the_lockdown_exempts()
    {
        var design = Design(Audit);
        Assert.Equal("arn:aws:iam::222222222222:role/auditinfra-deployment", design.DeploymentRoleArn);
        var provider = AuditAccountPlan.Render(design).Resources.Single(r => r.Type == "pulumi:providers:aws");
        Assert.Equal(design.DeploymentRoleArn, (string?)provider.Properties["assumeRoles"]![0]!["roleArn"]);
        Assert.All(design.LockdownPolicies.SelectMany(p => p.Document.Statements), s =>
            Assert.Contains(design.DeploymentRoleArn, s.Conditions.Single(c => c.Operator == "ArnNotLike" && c.Key == "aws:PrincipalArn").Values));
    }

    [Fact]
    public void Without_a_role_name_a_new_account_is_created_with_the_deployment_role()
    {
        var design = Design(Create(Audit).Replace("    roleName: auditinfra-deployment\n", ""));
        Assert.Null(design.Settings.RoleName);
        var account = AuditAccountPlan.Render(design).Resources.Single(r => r.Type == "aws:organizations/account:Account");
        Assert.Equal("auditinfra-deployment", (string?)account.Properties["roleName"]);
    }

    [Fact]
    public void A_new_account_cannot_be_reached_through_a_deployment_role_with_a_path()
    {
        var yaml = Create(Audit).Replace("role/auditinfra-deployment", "role/ci/auditinfra-deployment");
        var (_, report) = Samples.Bind(yaml);
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:deploymentRoleArn" && e.Message.Contains("must have no path"));
    }

    [Fact]
    public void The_lockdown_attaches_after_everything_inside_the_account()
    {
        var config = Samples.Config("audit");
        var plan = StackPlanner.Plan(config);
        var account = plan.Components.Single(c => c.Type == AuditAccountDesign.ComponentType);
        var attachments = account.Resources.Where(r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment").ToList();
        var inside = account.Resources.Where(r => account.ProviderOf(r) is not null).Select(r => r.Name)
            .Concat(plan.Components.Where(c => c.Provider is not null).Select(c => c.Name))
            .Order().ToArray();
        Assert.Equal(8, inside.Length);
        Assert.Contains("acme-audit-integrity-monitor", inside);
        Assert.NotEmpty(attachments);
        Assert.All(attachments, attachment => Assert.Equal(inside, attachment.DependsOn.Order().ToArray()));
        Assert.All(plan.Components.Where(c => c.Type != AuditAccountDesign.ComponentType), c => Assert.Equal("acme-audit-audit-account-provider", c.Provider));
    }
}
