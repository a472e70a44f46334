using System.Collections.Immutable;
using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Guardrails;
using AuditInfra.Core.Integrity.Monitor;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Query;
using AuditInfra.Core.Rollout;
using AuditInfra.Core.Storage;
using AuditInfra.Core.Trail;

namespace AuditInfra.Core.Stacks;

/// <summary>Which side of the organization a stack deploys.</summary>
public enum StackRole
{
    /// <summary>The <c>audit</c> stack: log archive and detection hub in the audit account.</summary>
    Audit,

    /// <summary>The <c>prod</c> stack: organization trail and guardrails in the management account.</summary>
    Management,
}

public static class StackRoles
{
    public static StackRole? FromStackName(string stack) => stack switch
    {
        "audit" => StackRole.Audit,
        "prod" => StackRole.Management,
        _ => null,
    };
}

/// <summary>Renders every component a stack deploys, from the same designs the Pulumi program maps.</summary>
public static class StackPlanner
{
    public static StackPlan Plan(AuditConfig config, ValidationReport? report = null)
    {
        var role = StackRoles.FromStackName(config.StackName)
            ?? throw new ArgumentException($"stack '{config.StackName}' is neither 'audit' nor 'prod'");
        var components = ImmutableArray.CreateBuilder<PlannedComponent>();
        string account;
        switch (role)
        {
            case StackRole.Audit:
                account = config.Organization.AuditAccountId;
                var auditAccount = AuditAccountDesigner.Design(config);
                components.Add(AuditAccountPlan.Render(auditAccount));

                // Built inside the audit account: through the provider that assumes the deployment role.
                components.Add(LogArchivePlan.Render(LogArchiveDesigner.Design(config)) with { Provider = auditAccount.ProviderName });
                components.Add(DetectionHubPlan.Render(DetectionHubDesigner.Design(config)) with { Provider = auditAccount.ProviderName });
                components.Add(QueryLayerPlan.Render(QueryLayerDesigner.Design(config)) with { Provider = auditAccount.ProviderName });
                if (config.Integrity.Enabled)
                {
                    components.Add(IntegrityMonitorPlan.Render(IntegrityMonitorDesigner.Design(config)) with { Provider = auditAccount.ProviderName });
                }

                break;
            default:
                account = config.Organization.ManagementAccountId;
                components.Add(OrganizationTrailPlan.Render(OrganizationTrailDesigner.Design(config)));
                components.Add(GuardrailsPlan.Render(GuardrailsDesigner.Design(config)));
                components.Add(AccountIntakePlan.Render(AccountIntakeDesigner.Design(config)));
                components.Add(AccountBaselinePlan.Render(ManagementBaseline(config)));
                break;
        }

        return new StackPlan(config.StackName, account, config.HomeRegion, components.ToImmutable())
        {
            Warnings = [.. (report?.Warnings ?? []).Select(w => w.ToString())],
        };
    }

    /// <summary>
    /// The management account gets the same forwarding baseline as every member account, from the
    /// prod stack (the rollout host never deploys to the management account).
    /// </summary>
    public static AccountBaselineDesign ManagementBaseline(AuditConfig config) =>
        AccountBaselineDesigner.Design(new RolloutTarget(config, config.Rollout, "prod-stack").InputsFor(config.Organization.ManagementAccountId));
}
