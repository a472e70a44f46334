using AuditInfra.Core.AuditAccount;
using Pulumi;

namespace AuditInfra.AuditAccount;

public sealed class AuditAccountArgs
{
    public required AuditAccountDesign Design { get; init; }

    /// <summary>
    /// Builds what lives inside the audit account with the account's provider and returns it: the
    /// lock-down is attached only after all of it (<see cref="AuditAccountDesign.InAccountComponents"/>).
    /// </summary>
    public Func<ProviderResource, IReadOnlyList<Resource>> BuildInside { get; init; } = _ => [];
}
