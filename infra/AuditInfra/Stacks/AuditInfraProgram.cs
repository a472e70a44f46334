using AuditInfra.Configuration;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Stacks;
using Pulumi;

namespace AuditInfra.Stacks;

/// <summary>The program Pulumi runs: picks the stack's side of the organization and builds it.</summary>
public static class AuditInfraProgram
{
    public static IDictionary<string, object?> Run() => Build(PulumiStackConfig.Load());

    public static IDictionary<string, object?> Build(AuditConfig config) => StackRoles.FromStackName(config.StackName) switch
    {
        StackRole.Audit => AuditStack.Build(config),
        StackRole.Management => ProdStack.Build(config),
        _ => throw new RunException(
            $"Stack '{config.StackName}' is not one this program deploys: use 'audit' (log archive and detection hub) or 'prod' " +
            "(organization trail and guardrails). Member-account stacks (account-<id>) are deployed by the AuditInfra.Automation host."),
    };
}
