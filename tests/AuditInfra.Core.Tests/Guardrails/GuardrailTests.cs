using AuditInfra.Core.Guardrails;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Guardrails;

public class GuardrailTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("prod");
    private static readonly string[] Exempt = ["arn:aws:iam::222222222222:role/auditinfra-deployment", "arn:aws:iam::222222222222:role/auditinfra-break-glass"];

    private static PolicyStatement Statement(string sid) => GuardrailPolicies.Statements(Config).Single(s => s.Sid == sid);

    [Fact]
    public void Every_statement_is_a_deny_exempting_only_the_named_roles()
    {
        foreach (var s in GuardrailPolicies.Statements(Config))
        {
            Assert.Equal(PolicyEffect.Deny, s.Effect);
            var exemption = s.Conditions.Single(c => c.Operator == "ArnNotLike" && c.Key == "aws:PrincipalArn");
            var extra = exemption.Values.Except(Exempt).ToArray();
            Assert.Equal(Exempt, exemption.Values.Take(2).ToArray());
            if (s.Sid is GuardrailPolicies.ProtectForwardingSid or GuardrailPolicies.ProtectCanarySid)
            {
                Assert.Equal(["arn:aws:iam::*:role/OrganizationAccountAccessRole"], extra);
            }
            else
            {
                Assert.Empty(extra);
            }
        }
    }

    [Fact]
    public void The_log_bucket_and_its_access_logs_cannot_be_weakened_or_emptied()
    {
        var s = Statement(GuardrailPolicies.ProtectLogBucketSid);
        Assert.Equal(
            ["arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1", "arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1/*", "arn:aws:s3:::acme-audit-s3-access-logs-222222222222-us-east-1", "arn:aws:s3:::acme-audit-s3-access-logs-222222222222-us-east-1/*"],
            s.Resources.ToArray());
        foreach (var action in new[] { "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:PutBucketObjectLockConfiguration", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:DeleteBucket" })
        {
            Assert.Contains(action, s.Actions);
        }
    }

    [Fact]
    public void The_trail_key_cannot_be_disabled_scheduled_for_deletion_or_repoliced()
    {
        var s = Statement(GuardrailPolicies.ProtectTrailKeySid);
        Assert.Contains("kms:ScheduleKeyDeletion", s.Actions);
        Assert.Contains("kms:DisableKey", s.Actions);
        Assert.Contains("kms:PutKeyPolicy", s.Actions);
        Assert.Contains("kms:UntagResource", s.Actions);
        Assert.Contains(s.Conditions, c => c.Key == "aws:ResourceTag/auditinfra:component" && c.Values.Single() == "LogArchive");
        Assert.Contains("arn:aws:kms:*:222222222222:key/*", s.Resources);
    }

    [Fact]
    public void Detection_bus_rules_and_forwarding_rules_are_protected_by_name()
    {
        var hub = Statement(GuardrailPolicies.ProtectDetectionHubSid);
        Assert.Equal(["arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central", "arn:aws:events:*:222222222222:rule/acme-audit-central/acme-audit-detect-*"], hub.Resources.ToArray());
        Assert.Contains("events:DisableRule", hub.Actions);
        var forwarding = Statement(GuardrailPolicies.ProtectForwardingSid);
        Assert.Equal(["arn:aws:events:*:*:rule/acme-audit-forward-to-central-bus", "arn:aws:iam::*:role/acme-audit-event-forwarding"], forwarding.Resources.ToArray());
        Assert.Contains("events:RemoveTargets", forwarding.Actions);
        Assert.Contains("iam:UpdateAssumeRolePolicy", forwarding.Actions);
    }

    [Fact]
    public void The_detection_canary_schedule_and_role_are_protected_by_name()
    {
        var canary = Statement(GuardrailPolicies.ProtectCanarySid);
        Assert.Equal(["arn:aws:scheduler:*:*:schedule/default/acme-audit-detection-canary", "arn:aws:iam::*:role/acme-audit-detection-canary"], canary.Resources.ToArray());
        Assert.Contains("scheduler:DeleteSchedule", canary.Actions);
        Assert.Contains("scheduler:UpdateSchedule", canary.Actions);
        Assert.Contains("iam:PutRolePolicy", canary.Actions);
    }

    [Fact]
    public void Leaving_the_organization_is_denied()
    {
        var s = Statement(GuardrailPolicies.DenyLeaveOrganizationSid);
        Assert.Equal(["organizations:LeaveOrganization"], s.Actions.ToArray());
        Assert.Equal(["*"], s.Resources.ToArray());
    }

    [Fact]
    public void Sample_guardrails_fit_one_scp_attached_to_each_target()
    {
        var design = GuardrailsDesigner.Design(Config);
        var policy = Assert.Single(design.Policies);
        Assert.True(policy.Document.ToJson().Length <= ScpSizing.MaxCharacters);
        var plan = GuardrailsPlan.Render(design);
        var attachment = Assert.Single(plan.Resources, r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment");
        Assert.Equal("r-ab12", (string?)attachment.Properties["targetId"]);
        Assert.Equal("${acme-audit-audit-guardrails.id}", (string?)attachment.Properties["policyId"]);
        Assert.Equal("SERVICE_CONTROL_POLICY", (string?)plan.Resources.Single(r => r.Type == "aws:organizations/policy:Policy").Properties["type"]);
    }

    [Fact]
    public void Statements_too_large_for_one_scp_are_split_in_order_never_truncated()
    {
        var statements = GuardrailPolicies.Statements(Config);
        var parts = ScpSizing.Pack("test", statements, maxCharacters: 1500, maxPolicies: 10);
        Assert.True(parts.Length > 1);
        Assert.All(parts, p => Assert.True(p.ToJson().Length <= 1500));
        Assert.Equal(statements.Select(s => s.Sid), parts.SelectMany(p => p.Statements).Select(s => s.Sid));
    }

    [Fact]
    public void A_statement_larger_than_the_limit_is_a_clear_error()
    {
        var ex = Assert.Throws<ScpTooLargeException>(() => ScpSizing.Pack("big", GuardrailPolicies.Statements(Config), maxCharacters: 300));
        Assert.Contains("alone is", ex.Message);
        Assert.Contains("300-character limit", ex.Message);
    }

    [Fact]
    public void More_parts_than_a_target_can_take_is_a_clear_error()
    {
        var ex = Assert.Throws<ScpTooLargeException>(() => ScpSizing.Pack("many", GuardrailPolicies.Statements(Config), maxCharacters: 1200, maxPolicies: 2));
        Assert.Contains("a target takes only 2", ex.Message);
    }

    [Fact]
    public void Several_targets_get_one_attachment_each_per_policy()
    {
        var config = Samples.Bind(Samples.Text("prod").Replace("      - r-ab12\n", "      - ou-ab12-abcdefgh\n      - ou-ab12-ijklmnop\n"), "prod").Config!;
        var plan = GuardrailsPlan.Render(GuardrailsDesigner.Design(config));
        Assert.Equal(["ou-ab12-abcdefgh", "ou-ab12-ijklmnop"], plan.Resources.Where(r => r.Type.EndsWith("PolicyAttachment", StringComparison.Ordinal)).Select(r => (string)r.Properties["targetId"]!).ToArray());
    }

    [Fact]
    public void Targets_are_required_for_prod_and_checked()
    {
        var missing = Samples.Bind(Samples.Text("prod").Replace("    targetIds:\n      - r-ab12\n", ""), "prod").Report;
        Assert.Contains(missing.Errors, e => e.Key == "auditinfra:guardrails.targetIds" && e.Message.Contains("is required"));
        var bad = Samples.Bind(Samples.Text("prod").Replace("      - r-ab12\n", "      - root\n"), "prod").Report;
        Assert.Contains(bad.Errors, e => e.Key == "auditinfra:guardrails.targetIds[0]" && e.Message.Contains("root id (r-…) or an OU id"));
        Assert.True(Samples.Bind(Samples.Text("audit").Replace("    targetIds:\n      - r-ab12\n", "")).Report.IsValid);
    }
}
