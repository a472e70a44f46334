using AuditInfra.Core.Configuration;
using AuditInfra.Core.Trail;

namespace AuditInfra.Trail;

public sealed class OrganizationTrailArgs
{
    public required OrganizationTrailDesign Design { get; init; }

    /// <summary>The configuration the design came from: the trail checks the organization against it.</summary>
    public required AuditConfig Config { get; init; }
}
