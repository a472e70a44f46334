using AuditInfra.Core.Query;

namespace AuditInfra.Query;

public sealed class QueryLayerArgs
{
    public required QueryLayerDesign Design { get; init; }
}
