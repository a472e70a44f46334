using AuditInfra.Core.AuditAccount;

namespace AuditInfra.AuditAccount;

public sealed class AuditAccountArgs
{
    public required AuditAccountDesign Design { get; init; }
}
