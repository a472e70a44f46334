using AuditInfra.Core.Storage;

namespace AuditInfra.Storage;

/// <summary>The log archive's inputs: the design Core rendered from configuration, nothing else.</summary>
public sealed class LogArchiveArgs
{
    public required LogArchiveDesign Design { get; init; }
}
