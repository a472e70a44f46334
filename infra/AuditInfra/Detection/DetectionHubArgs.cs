using AuditInfra.Core.Detection;

namespace AuditInfra.Detection;

public sealed class DetectionHubArgs
{
    public required DetectionHubDesign Design { get; init; }
}
