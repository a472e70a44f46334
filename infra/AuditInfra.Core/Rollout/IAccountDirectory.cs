namespace AuditInfra.Core.Rollout;

/// <summary>An account's status as <c>organizations:ListAccounts</c> reports it.</summary>
public enum OrganizationAccountStatus
{
    Active,
    Suspended,
    PendingClosure,
}

public sealed record OrganizationAccount(string Id, string Name, OrganizationAccountStatus Status);

/// <summary>Port: the organization's member accounts (Organizations ListAccounts).</summary>
public interface IAccountDirectory
{
    Task<IReadOnlyList<OrganizationAccount>> ListAccountsAsync(CancellationToken cancellationToken);
}
