using AuditInfra.Core.Configuration;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout;

namespace AuditInfra.Stacks;

/// <summary>The <c>prod</c> stack: what lives in the management account.</summary>
public static class ProdStack
{
    public static IDictionary<string, object?> Build(AuditConfig config)
    {
        var intakeDesign = AccountIntakeDesigner.Design(config);
        var intake = new AccountIntake(AccountIntakePlan.ComponentName(intakeDesign), new AccountIntakeArgs { Design = intakeDesign });

        return new Dictionary<string, object?>
        {
            ["organizationId"] = config.Organization.OrganizationId,
            ["accountIntakeQueueUrl"] = intake.QueueUrl,
            ["accountIntakeQueueArn"] = intake.QueueArn,
            ["accountIntakeDeadLetterQueueUrl"] = intake.DeadLetterQueueUrl,
            ["accountIntakeRuleArn"] = intake.RuleArn,
        };
    }
}
