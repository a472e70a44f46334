using AuditInfra.Core.Rollout;

namespace AuditInfra.Detection;

/// <summary>The account baseline's inputs: the design Core built for one account.</summary>
public sealed class AccountBaselineArgs
{
    public required AccountBaselineDesign Design { get; init; }
}
