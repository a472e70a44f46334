using AuditInfra.Core.Rollout;
using Pulumi;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Iam;

namespace AuditInfra.Detection;

/// <summary>The forwarding baseline of one account: one role, and a rule and target per governed region.</summary>
public sealed class AccountBaseline : ComponentResource
{
    public Output<string> RoleArn { get; }

    public AccountBaseline(string name, AccountBaselineArgs args, ComponentResourceOptions? options = null)
        : base(AccountBaselineDesign.ComponentType, name, options)
    {
        var design = args.Design;
        var tags = PulumiTags.From(design.Tags);

        var role = new Role(design.RoleLogicalName, new RoleArgs
        {
            Name = design.RoleName,
            Description = "Lets EventBridge forward this account's CloudTrail events to the central bus",
            AssumeRolePolicy = design.TrustPolicy.ToJson(),
            Tags = tags,
        }, new CustomResourceOptions { Parent = this });

        _ = new RolePolicy(design.RolePolicyLogicalName, new RolePolicyArgs
        {
            Role = role.Id,
            Policy = design.PutEventsPolicy.ToJson(),
        }, new CustomResourceOptions { Parent = this });

        foreach (var rule in design.Rules)
        {
            var eventRule = new EventRule(rule.LogicalName, new EventRuleArgs
            {
                Name = rule.RuleName,
                Region = rule.Region,
                Description = AccountBaselinePlan.RuleDescription,
                EventPattern = AccountBaselineDesigner.PatternJson(design),
                State = "ENABLED",
                Tags = tags,
            }, new CustomResourceOptions { Parent = this });

            _ = new EventTarget(AccountBaselinePlan.TargetName(rule), new EventTargetArgs
            {
                Rule = eventRule.Name,
                Region = rule.Region,
                Arn = design.Inputs.CentralBusArn,
                RoleArn = role.Arn,
                TargetId = rule.TargetId,
            }, new CustomResourceOptions { Parent = this });
        }

        RoleArn = role.Arn;
        RegisterOutputs(new Dictionary<string, object?> { ["roleArn"] = RoleArn });
    }
}
