using System.Collections.Immutable;
using AuditInfra.Core.Rollout;
using AuditInfra.Detection;
using Pulumi;
using Pulumi.Aws;
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
    public const string ProgramVersion = "1.1.0";

    public static IDictionary<string, object?> Run(AccountBaselineInputs inputs)
    {
        var design = AccountBaselineDesigner.Design(inputs);
        var provider = new Provider($"account-{inputs.AccountId}", new ProviderArgs
        {
            Region = inputs.HomeRegion,
            AllowedAccountIds = { inputs.AccountId },
            AssumeRoles =
            {
                new ProviderAssumeRoleArgs { RoleArn = inputs.ExecutionRoleArn, SessionName = "auditinfra-rollout" },
            },
        });

        var baseline = new AccountBaseline(AccountBaselinePlan.ComponentName(design), new AccountBaselineArgs { Design = design }, new ComponentResourceOptions { Providers = { provider } });
        return new Dictionary<string, object?>
        {
            ["accountId"] = inputs.AccountId,
            ["forwardingRoleArn"] = baseline.RoleArn,
            ["regions"] = design.Rules.Select(r => r.Region).ToImmutableArray(),
        };
    }
}
