using AuditInfra.Core.Configuration;
using AuditInfra.Core.Guardrails;
using AuditInfra.Core.Rollout;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Trail;
using AuditInfra.Detection;
using AuditInfra.Guardrails;
using AuditInfra.Rollout;
using AuditInfra.Trail;

namespace AuditInfra.Stacks;

/// <summary>The <c>prod</c> stack: what lives in the management account.</summary>
public static class ProdStack
{
    public static IDictionary<string, object?> Build(AuditConfig config)
    {
        var trailDesign = OrganizationTrailDesigner.Design(config);
        var trail = new OrganizationTrail(trailDesign.Names.Logical("organization-trail-component"), new OrganizationTrailArgs { Design = trailDesign, Config = config });
        var guardrailsDesign = GuardrailsDesigner.Design(config);
        var guardrails = new AuditInfra.Guardrails.Guardrails(guardrailsDesign.Names.Logical("guardrails"), new GuardrailsArgs { Design = guardrailsDesign });

        var baselineDesign = StackPlanner.ManagementBaseline(config);
        var baseline = new AccountBaseline(AccountBaselinePlan.ComponentName(baselineDesign), new AccountBaselineArgs { Design = baselineDesign });

        var intakeDesign = AccountIntakeDesigner.Design(config);
        var intake = new AccountIntake(AccountIntakePlan.ComponentName(intakeDesign), new AccountIntakeArgs { Design = intakeDesign });

        return new Dictionary<string, object?>
        {
            ["organizationId"] = config.Organization.OrganizationId,
            ["trailArn"] = trail.TrailArn,
            ["forwardingRoleArn"] = baseline.RoleArn,
            ["guardrailPolicyIds"] = guardrails.PolicyIds,
            ["accountIntakeQueueUrl"] = intake.QueueUrl,
            ["accountIntakeQueueArn"] = intake.QueueArn,
            ["accountIntakeDeadLetterQueueUrl"] = intake.DeadLetterQueueUrl,
            ["accountIntakeRuleArn"] = intake.RuleArn,
        };
    }
}
