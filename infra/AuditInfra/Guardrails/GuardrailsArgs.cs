using AuditInfra.Core.Guardrails;

namespace AuditInfra.Guardrails;

public sealed class GuardrailsArgs
{
    public required GuardrailsDesign Design { get; init; }
}
