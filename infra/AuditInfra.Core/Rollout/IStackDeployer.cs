namespace AuditInfra.Core.Rollout;

/// <summary>One account's stack operation: its inputs and the version they amount to.</summary>
public sealed record DeploymentRequest(AccountBaselineInputs Inputs, string Version)
{
    public string AccountId => Inputs.AccountId;

    public string StackName => Inputs.StackName;
}

public sealed record DeploymentResult(string Summary, IReadOnlyDictionary<string, int>? ResourceChanges = null);

public sealed record PreviewResult(bool Succeeded, string Summary, IReadOnlyList<string> PolicyViolations);

/// <summary>What a refresh found: whether the stack's real resources drifted from its last deployment.</summary>
public sealed record RefreshResult(bool Drifted, string Summary);

/// <summary>
/// Why a stack operation failed. A concurrent update (another operation holds the stack's lock)
/// is retried without counting as an attempt; everything else counts, and after the configured
/// number of attempts the account is marked failed with the message.
/// </summary>
public sealed class DeploymentException(string message, DeploymentFailureKind kind = DeploymentFailureKind.Transient, Exception? inner = null)
    : Exception(message, inner)
{
    public DeploymentFailureKind Kind { get; } = kind;
}

public enum DeploymentFailureKind
{
    /// <summary>Throttling, network, a provider hiccup: likely to pass on retry.</summary>
    Transient,

    /// <summary>The stack is locked by another update: wait and retry, never fail for it.</summary>
    ConcurrentUpdate,

    /// <summary>Will not pass by itself (role cannot be assumed, invalid program): still retried up to the attempt limit, as new accounts' roles can take a while to appear.</summary>
    Permanent,
}

/// <summary>Port: creates or selects <c>account-&lt;id&gt;</c>, sets its configuration and runs the baseline program.</summary>
public interface IStackDeployer
{
    Task<DeploymentResult> DeployAsync(DeploymentRequest request, CancellationToken cancellationToken);

    Task<PreviewResult> PreviewAsync(DeploymentRequest request, string? policyPackDirectory, CancellationToken cancellationToken);

    /// <summary>Reads the stack's real resources back (pulumi refresh) and says whether anything drifted.</summary>
    Task<RefreshResult> RefreshAsync(DeploymentRequest request, CancellationToken cancellationToken);
}
