namespace AuditInfra.Core.Planning;

/// <summary>
/// Pulumi's protect and retainOnDelete options of one resource, decided by its design: the plan
/// shows them and the Pulumi component reads them, so the two cannot disagree.
/// </summary>
public sealed record ResourceGuard(bool Protect, bool RetainOnDelete = false);
