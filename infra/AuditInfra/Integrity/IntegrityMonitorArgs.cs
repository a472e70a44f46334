using AuditInfra.Core.Integrity.Monitor;

namespace AuditInfra.Integrity;

public sealed class IntegrityMonitorArgs
{
    public required IntegrityMonitorDesign Design { get; init; }

    /// <summary>The detection hub: the finding rule lives on its bus and the alarm notifies its topic, so both wait for it.</summary>
    public required Pulumi.Resource DetectionHub { get; init; }
}
