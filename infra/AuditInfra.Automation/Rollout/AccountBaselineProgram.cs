using System.Collections.Immutable;
using AuditInfra.Core.Rollout;
using Pulumi;
using Pulumi.Aws;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Iam;
using Pulumi.Aws.Inputs;

namespace AuditInfra.Automation.Rollout;

/// <summary>
/// The inline program of every <c>account-&lt;id&gt;</c> stack: a provider that assumes the
/// execution role in the member account, and the forwarding baseline of
/// <see cref="AccountBaselineDesigner"/> in every governed region (Pulumi.Aws 7 resources take a
/// Region input, so one stack covers them all).
/// </summary>
public static class AccountBaselineProgram
{
    /// <summary>Bump when the program changes: every account is redeployed at the new version.</summary>
    public const string ProgramVersion = "1.0.0";

    public static IDictionary<string, object?> Run(AccountBaselineInputs inputs)
    {
        var design = AccountBaselineDesigner.Design(inputs);
        var tags = new InputMap<string>();
        foreach (var (key, value) in design.Tags)
        {
            tags.Add(key, value);
        }

        var provider = new Provider($"account-{inputs.AccountId}", new ProviderArgs
        {
            Region = inputs.HomeRegion,
            AllowedAccountIds = { inputs.AccountId },
            AssumeRoles =
            {
                new ProviderAssumeRoleArgs { RoleArn = inputs.ExecutionRoleArn, SessionName = "auditinfra-rollout" },
            },
        });

        var baseline = new AccountBaseline($"{inputs.NamePrefix}-account-baseline", design, tags, new ComponentResourceOptions { Providers = { provider } });
        return new Dictionary<string, object?>
        {
            ["accountId"] = inputs.AccountId,
            ["forwardingRoleArn"] = baseline.RoleArn,
            ["regions"] = design.Rules.Select(r => r.Region).ToImmutableArray(),
        };
    }
}

/// <summary>The forwarding baseline of one account: one role, and a rule and target per governed region.</summary>
public sealed class AccountBaseline : ComponentResource
{
    public Output<string> RoleArn { get; }

    public AccountBaseline(string name, AccountBaselineDesign design, InputMap<string> tags, ComponentResourceOptions? options = null)
        : base(AccountBaselineDesign.ComponentType, name, options)
    {
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
                Description = "Forwards CloudTrail events to the AuditInfra central bus",
                EventPattern = AccountBaselineDesigner.PatternJson(design),
                State = "ENABLED",
                Tags = tags,
            }, new CustomResourceOptions { Parent = this });

            _ = new EventTarget($"{rule.LogicalName}-target", new EventTargetArgs
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
