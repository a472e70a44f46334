using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Engine;

/// <summary>How the engine runs: concurrency, attempts, backoff, leases. Built from <see cref="RolloutSettings"/>.</summary>
public sealed record RolloutEngineOptions
{
    public int Concurrency { get; init; } = 4;

    public int MaxAttempts { get; init; } = 5;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Retries of a locked stack (concurrent update) before the account is handed back as pending; they never count as attempts.</summary>
    public int LockRetries { get; init; } = 10;

    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often idle workers look for work another host (or a retry backoff) makes available.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How long an account at the current version goes unrefreshed before reconciliation refreshes it (drift).</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Retries of a ledger write that failed (connection dropped, database busy) before the engine gives up on recording it.</summary>
    public int LedgerRetries { get; init; } = 5;

    /// <summary>First delay between ledger write retries; it doubles, with jitter.</summary>
    public TimeSpan LedgerRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>This host's name in leases: unique per process.</summary>
    public string Owner { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    public static RolloutEngineOptions From(RolloutSettings settings) => new()
    {
        Concurrency = settings.Concurrency,
        MaxAttempts = settings.MaxAttempts,
        RetryBaseDelay = TimeSpan.FromSeconds(settings.RetryBaseDelaySeconds),
        Lease = TimeSpan.FromSeconds(settings.LeaseSeconds),
        ReconcileInterval = TimeSpan.FromMinutes(settings.ReconcileIntervalMinutes),
        RefreshInterval = TimeSpan.FromHours(settings.RefreshHours),
    };
}

/// <summary>What to deploy: the desired version, each account's inputs, and which accounts are governed.</summary>
public sealed record RolloutSpec(string Version, Func<string, AccountBaselineInputs> InputsFor, Func<string, bool> Governs)
{
    public static RolloutSpec From(RolloutTarget target) => new(target.Version, target.InputsFor, target.Governs);
}

/// <param name="Outdated">Accounts a newer program version is deployed to or asked for: left to the hosts running it.</param>
/// <param name="Refreshing">Accounts at the current version whose refresh was due (redeployed if they drifted).</param>
public sealed record ReconcileSummary(int Listed, int Active, int Enqueued, int Current, int Queued, int StillFailed, int Retired, int Excluded, int Outdated = 0, int Refreshing = 0)
{
    public override string ToString() =>
        $"{Listed} accounts listed, {Active} active: {Enqueued} enqueued, {Current} already current ({Refreshing} refreshing), {Queued} already queued, {StillFailed} failed, {Outdated} at a newer version; {Retired} retired; {Excluded} excluded";
}

/// <summary>The outcome of one account's operation in this process.</summary>
public sealed record OperationOutcome(string AccountId, AccountRolloutState State, string Version, int Attempts, TimeSpan Duration, string? Error);

public sealed record IntakeOutcome(string MessageId, AccountEventOutcome Outcome, string Detail);
