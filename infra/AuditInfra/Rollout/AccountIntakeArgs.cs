using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout;

/// <summary>The account intake's inputs: the design Core rendered from configuration, nothing else.</summary>
public sealed class AccountIntakeArgs
{
    public required AccountIntakeDesign Design { get; init; }
}
