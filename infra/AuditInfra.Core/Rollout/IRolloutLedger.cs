namespace AuditInfra.Core.Rollout;

/// <summary>Where an account stands in the rollout.</summary>
public enum AccountRolloutState
{
    /// <summary>Waiting to be deployed at its desired version.</summary>
    Pending,

    /// <summary>A host holds its lease and is deploying it.</summary>
    InProgress,

    /// <summary>Deployed at the desired version.</summary>
    Deployed,

    /// <summary>Every attempt failed; the last error says why.</summary>
    Failed,

    /// <summary>The account left the organization or is closing; its stack is kept (its logs are evidence).</summary>
    Retired,
}

public static class AccountRolloutStates
{
    public static string Name(this AccountRolloutState state) => state switch
    {
        AccountRolloutState.Pending => "pending",
        AccountRolloutState.InProgress => "in-progress",
        AccountRolloutState.Deployed => "deployed",
        AccountRolloutState.Failed => "failed",
        AccountRolloutState.Retired => "retired",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static AccountRolloutState Parse(string name) => name switch
    {
        "pending" => AccountRolloutState.Pending,
        "in-progress" => AccountRolloutState.InProgress,
        "deployed" => AccountRolloutState.Deployed,
        "failed" => AccountRolloutState.Failed,
        "retired" => AccountRolloutState.Retired,
        _ => throw new FormatException($"unknown rollout state '{name}'"),
    };
}

/// <summary>One account's row in the ledger.</summary>
/// <remarks>
/// <see cref="LastEventAt"/>: the time of the last event applied, or of a retirement by reconciliation
/// (the database's clock), so that an older event is recognized as stale.
/// <see cref="RefreshedAt"/>: when the stack was last deployed or refreshed; <see cref="RefreshRequested"/>:
/// the pending operation is a refresh (deploying only on drift).
/// </remarks>
public sealed record LedgerEntry(
    string AccountId,
    AccountRolloutState State,
    string DesiredVersion,
    string? DeployedVersion,
    int Attempts,
    DateTimeOffset? LastAttemptAt,
    string? LastError,
    string? LeaseOwner,
    DateTimeOffset? LeaseUntil,
    DateTimeOffset? NotBefore,
    DateTimeOffset UpdatedAt,
    string Reason,
    DateTimeOffset? LastEventAt = null,
    DateTimeOffset? RefreshedAt = null,
    bool RefreshRequested = false);

/// <summary>An account a host now owns (until its lease, measured by the database's clock, expires unrenewed).</summary>
/// <param name="Attempts">This attempt's number: attempts of earlier leases that never finished (a crash) count too.</param>
/// <param name="Token">This lease's own identity, new at every lease: a lease that lapsed and was taken again, even by the same host, is told apart from the new one.</param>
/// <param name="Refresh">The operation is a refresh: read the stack back, deploy only if it drifted.</param>
/// <param name="LastError">The error of the previous attempt, or why it never finished.</param>
public sealed record LeasedWork(string AccountId, string Version, int Attempts, string Owner, string Token, bool Refresh = false, string? LastError = null);

public enum EnqueueResult
{
    /// <summary>New work: the account was unknown, or its stack is behind the version.</summary>
    Enqueued,

    /// <summary>A failed or retired account is tried again.</summary>
    Requeued,

    /// <summary>Already deployed at this version: nothing to do.</summary>
    AlreadyCurrent,

    /// <summary>Already waiting or in progress for this version: nothing to do.</summary>
    AlreadyQueued,

    /// <summary>Failed at this version and not asked to retry (or the event predates the failure: a duplicate).</summary>
    StillFailed,

    /// <summary>The event is older than one already applied to this account (events arrive out of order).</summary>
    Stale,

    /// <summary>A newer program version is deployed or asked for (an older host during a rolling upgrade): left to the newer hosts.</summary>
    Outdated,
}

public enum RetireResult
{
    Retired,
    AlreadyRetired,
    Stale,
}

/// <summary>
/// Port: the durable record of every account's rollout, and the lease that serializes operations
/// on one stack across workers and hosts. Lease times (expiry, retry backoff) are measured by the
/// ledger's own clock (the database's), never by a host's: hosts' clocks differ.
/// </summary>
public interface IRolloutLedger
{
    /// <summary>Asks for the account to be deployed at <paramref name="version"/>; does nothing when it already is or will be.</summary>
    /// <remarks><paramref name="eventTime"/>: when the event happened; an event older than the last one applied (or than a retirement) is stale and ignored. Null (reconciliation) always applies.</remarks>
    Task<EnqueueResult> EnqueueAsync(string accountId, string version, string reason, bool retryFailed, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Adds the accounts the ledger does not know yet, pending at <paramref name="version"/>, in few statements; returns those it added.</summary>
    Task<IReadOnlySet<string>> EnqueueNewAsync(IReadOnlyList<string> accountIds, string version, string reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Leases the next account pending at <paramref name="version"/> (or one whose lease expired), or the given account; null when there is none.</summary>
    Task<LeasedWork?> TryLeaseAsync(string owner, string version, TimeSpan lease, string? accountId, CancellationToken cancellationToken);

    /// <summary>Extends the lease by <paramref name="lease"/> from now; false when the account is no longer held by this lease (<see cref="LeasedWork.Token"/>).</summary>
    /// <remarks>A lease that lapsed but that nobody took again is still this one's, and is renewed.</remarks>
    Task<bool> RenewAsync(LeasedWork held, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt that will be retried under the same lease; false when the account is no longer held by this lease.</summary>
    Task<bool> RecordAttemptAsync(LeasedWork held, string error, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records the deployment (or a refresh that found no drift) of <paramref name="version"/>; the account goes back to pending when a newer version was asked for meanwhile.</summary>
    /// <remarks>Every outcome (complete, fail, release) is recorded only by the lease that holds the account: false otherwise, and nothing changes.</remarks>
    Task<bool> CompleteAsync(LeasedWork held, string version, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marks the account failed with the reason (after the last attempt).</summary>
    Task<bool> FailAsync(LeasedWork held, string version, string error, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives the lease back without counting the attempt (shutdown, stack locked): pending again after <paramref name="retryAfter"/>.</summary>
    Task<bool> ReleaseAsync(LeasedWork held, TimeSpan retryAfter, string? note, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marks an account that left the organization (or is closing) retired; its stack is not destroyed, and an operation in progress keeps its lease.</summary>
    Task<RetireResult> RetireAsync(string accountId, string reason, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Asks for a refresh of an account deployed at <paramref name="version"/> not deployed or refreshed since <paramref name="dueBefore"/>; false when it is not due (or not deployed at that version).</summary>
    Task<bool> RequestRefreshAsync(string accountId, string version, DateTimeOffset dueBefore, DateTimeOffset now, CancellationToken cancellationToken);

    Task<IReadOnlyList<LedgerEntry>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Accounts pending or in progress (at <paramref name="version"/>, when given).</summary>
    Task<int> CountOutstandingAsync(string? version, CancellationToken cancellationToken);
}

/// <summary>The enqueue decision both ledgers apply inside their transaction: a pure function of the row.</summary>
public static class LedgerRules
{
    /// <summary>The new (state, desired version, reset attempts) for an enqueue, or null to leave the row as it is.</summary>
    /// <param name="eventTime">When the asking event happened (null: reconciliation). A failed account is retried by an event only if the event happened after its last attempt: a duplicate or redelivered event is older and does not retry it.</param>
    public static (EnqueueResult Result, AccountRolloutState? State, bool ResetAttempts) Enqueue(LedgerEntry? existing, string version, bool retryFailed, DateTimeOffset? eventTime = null)
    {
        if (existing is null)
        {
            return (EnqueueResult.Enqueued, AccountRolloutState.Pending, true);
        }

        if (RolloutVersions.IsOlder(version, existing.DesiredVersion) || (existing.DeployedVersion is { } deployed && RolloutVersions.IsOlder(version, deployed)))
        {
            return (EnqueueResult.Outdated, null, false);
        }

        var retry = retryFailed && (eventTime is not { } at || existing.LastAttemptAt is not { } tried || at > tried);
        return existing.State switch
        {
            AccountRolloutState.Deployed when existing.DeployedVersion == version => (EnqueueResult.AlreadyCurrent, null, false),
            AccountRolloutState.Deployed => (EnqueueResult.Enqueued, AccountRolloutState.Pending, true),
            AccountRolloutState.Pending or AccountRolloutState.InProgress when existing.DesiredVersion == version => (EnqueueResult.AlreadyQueued, null, false),

            // Keep the state: an in-progress operation finishes and then sees the newer desired version.
            AccountRolloutState.Pending or AccountRolloutState.InProgress => (EnqueueResult.Enqueued, existing.State, existing.State == AccountRolloutState.Pending),
            AccountRolloutState.Failed when existing.DesiredVersion != version => (EnqueueResult.Enqueued, AccountRolloutState.Pending, true),
            AccountRolloutState.Failed when retry => (EnqueueResult.Requeued, AccountRolloutState.Pending, true),
            AccountRolloutState.Failed => (EnqueueResult.StillFailed, null, false),
            AccountRolloutState.Retired when existing.DeployedVersion == version && existing.LeaseOwner is null => (EnqueueResult.Requeued, AccountRolloutState.Deployed, false),
            _ => (EnqueueResult.Requeued, AccountRolloutState.Pending, true),
        };
    }
}
