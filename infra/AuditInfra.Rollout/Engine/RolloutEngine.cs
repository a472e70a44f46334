using System.Collections.Concurrent;
using System.Diagnostics;
using AuditInfra.Core.Rollout;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace AuditInfra.Rollout.Engine;

/// <summary>
/// Keeps every governed account's stack deployed at the desired version. Pulumi-free: it drives the
/// ports (ledger, deployer, directory, intake, clock).
/// <list type="bullet">
/// <item>Idempotent: a duplicate or replayed event, or an account already at the version, changes nothing.</item>
/// <item>Bounded: at most <see cref="RolloutEngineOptions.Concurrency"/> operations at once; one per account, across hosts (ledger leases).</item>
/// <item>Retries with exponential backoff and jitter; a locked stack is retried, never failed.</item>
/// <item>Crash-safe: the ledger is the only state; an abandoned lease expires and the work resumes; a message is acknowledged only once recorded.</item>
/// </list>
/// </summary>
public sealed class RolloutEngine
{
    private readonly IRolloutLedger _ledger;
    private readonly IStackDeployer _deployer;
    private readonly IAccountDirectory _directory;
    private readonly IClock _clock;
    private readonly RolloutSpec _spec;
    private readonly RolloutEngineOptions _options;
    private readonly ILogger _logger;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _reconciling;

    public RolloutEngine(IRolloutLedger ledger, IStackDeployer deployer, IAccountDirectory directory, IClock clock, RolloutSpec spec, RolloutEngineOptions options, ILogger? logger = null)
    {
        _ledger = ledger;
        _deployer = deployer;
        _directory = directory;
        _clock = clock;
        _spec = spec;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised after each account operation ends in this process (progress of one-shot rollouts).</summary>
    public event Action<OperationOutcome>? OperationCompleted;

    public RolloutEngineOptions Options => _options;

    /// <summary>
    /// Lists the organization; enqueues every governed ACTIVE account whose stack is missing,
    /// failed or behind the version; retires accounts that left or are closing.
    /// </summary>
    public async Task<ReconcileSummary> ReconcileAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reconciling);
        try
        {
            return await ReconcileCoreAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _reconciling);
            Wake();
        }
    }

    private async Task<ReconcileSummary> ReconcileCoreAsync(CancellationToken cancellationToken)
    {
        var accounts = await _directory.ListAccountsAsync(cancellationToken);
        var now = _clock.UtcNow;

        // One read of the ledger spares a write transaction per account already current or queued.
        var known = (await _ledger.ListAsync(cancellationToken)).ToDictionary(e => e.AccountId, StringComparer.Ordinal);
        int active = 0, enqueued = 0, current = 0, queued = 0, failed = 0, retired = 0, excluded = 0;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var account in accounts)
        {
            listed.Add(account.Id);
            if (!_spec.Governs(account.Id))
            {
                excluded++;
                continue;
            }

            if (account.Status != OrganizationAccountStatus.Active)
            {
                if (await _ledger.RetireAsync(account.Id, $"account is {account.Status} in the organization", null, now, cancellationToken) == RetireResult.Retired)
                {
                    retired++;
                }

                continue;
            }

            active++;
            if (known.TryGetValue(account.Id, out var entry) && LedgerRules.Enqueue(entry, _spec.Version, retryFailed: true).Result is EnqueueResult.AlreadyCurrent or EnqueueResult.AlreadyQueued)
            {
                _ = entry.State == AccountRolloutState.Deployed ? current++ : queued++;
                continue;
            }

            if (active % 50 == 0)
            {
                Wake(); // workers start on the first accounts while the rest are enqueued
            }

            switch (await _ledger.EnqueueAsync(account.Id, _spec.Version, "reconciliation", retryFailed: true, null, now, cancellationToken))
            {
                case EnqueueResult.Enqueued or EnqueueResult.Requeued:
                    enqueued++;
                    break;
                case EnqueueResult.AlreadyCurrent:
                    current++;
                    break;
                case EnqueueResult.StillFailed:
                    failed++;
                    break;
                default:
                    queued++;
                    break;
            }
        }

        foreach (var entry in known.Values)
        {
            if (!listed.Contains(entry.AccountId) && entry.State != AccountRolloutState.Retired
                && await _ledger.RetireAsync(entry.AccountId, "no longer in the organization", null, now, cancellationToken) == RetireResult.Retired)
            {
                retired++;
            }
        }

        var summary = new ReconcileSummary(accounts.Count, active, enqueued, current, queued, failed, retired, excluded);
        _logger.LogInformation("Reconciliation: {Summary} (version {Version})", summary, _spec.Version);
        return summary;
    }

    /// <summary>Applies one parsed account event to the ledger (durably) and returns what it did.</summary>
    public async Task<string> ApplySignalAsync(AccountSignal signal, CancellationToken cancellationToken)
    {
        if (!_spec.Governs(signal.AccountId))
        {
            return $"account {signal.AccountId} is not governed (management account or excluded)";
        }

        var reason = $"{signal.EventName} {signal.EventId}".Trim();
        var now = _clock.UtcNow;
        if (signal.Kind.KeepsAccount())
        {
            var result = await _ledger.EnqueueAsync(signal.AccountId, _spec.Version, reason, retryFailed: signal.Kind != AccountSignalKind.Moved, signal.OccurredAt, now, cancellationToken);
            Wake();
            return $"account {signal.AccountId}: {result}";
        }

        var retired = await _ledger.RetireAsync(signal.AccountId, reason, signal.OccurredAt, now, cancellationToken);
        return $"account {signal.AccountId}: {retired}";
    }

    /// <summary>
    /// Handles one queue message: records its outcome in the ledger, then acknowledges it. An
    /// unparseable message goes to the dead-letter queue with its reason. If recording fails the
    /// message is not acknowledged: the queue delivers it again.
    /// </summary>
    public async Task<IntakeOutcome> HandleMessageAsync(IAccountIntake intake, IntakeMessage message, CancellationToken cancellationToken)
    {
        var parsed = AccountEventParser.Parse(message.Body);
        switch (parsed.Outcome)
        {
            case AccountEventOutcome.Invalid:
                _logger.LogWarning("Intake: message {MessageId} dead-lettered: {Reason}", message.MessageId, parsed.Reason);
                await intake.DeadLetterAsync(message, parsed.Reason, cancellationToken);
                return new IntakeOutcome(message.MessageId, parsed.Outcome, parsed.Reason);
            case AccountEventOutcome.Ignored:
                _logger.LogInformation("Intake: message {MessageId} ignored: {Reason}", message.MessageId, parsed.Reason);
                await intake.AcknowledgeAsync(message, cancellationToken);
                return new IntakeOutcome(message.MessageId, parsed.Outcome, parsed.Reason);
            default:
                var detail = await ApplySignalAsync(parsed.Signal!, cancellationToken);
                _logger.LogInformation("Intake: {EventName} for account {AccountId} ({Kind}): {Detail}", parsed.Signal!.EventName, parsed.Signal.AccountId, parsed.Signal.Kind, detail);
                await intake.AcknowledgeAsync(message, cancellationToken);
                return new IntakeOutcome(message.MessageId, parsed.Outcome, detail);
        }
    }

    /// <summary>Receives one batch (long poll) and handles every message of it.</summary>
    public async Task<IReadOnlyList<IntakeOutcome>> PollIntakeAsync(IAccountIntake intake, CancellationToken cancellationToken)
    {
        var outcomes = new List<IntakeOutcome>();
        foreach (var message in await intake.ReceiveAsync(10, cancellationToken))
        {
            try
            {
                outcomes.Add(await HandleMessageAsync(intake, message, cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Intake: message {MessageId} not handled (it will be delivered again): {Error}", message.MessageId, e.Message);
            }
        }

        return outcomes;
    }

    /// <summary>
    /// The service: reconciles on start and on schedule, drains the intake queue, and runs the
    /// workers until <paramref name="stoppingToken"/> fires; then stops taking work and releases leases.
    /// </summary>
    public async Task RunAsync(IAccountIntake? intake, CancellationToken stoppingToken)
    {
        _logger.LogInformation("Rollout host {Owner} starting: concurrency {Concurrency}, version {Version}", _options.Owner, _options.Concurrency, _spec.Version);
        var tasks = new List<Task> { ReconcileLoopAsync(stoppingToken) };
        if (intake is not null)
        {
            tasks.Add(IntakeLoopAsync(intake, stoppingToken));
        }

        tasks.AddRange(Enumerable.Range(0, _options.Concurrency).Select(_ => WorkerAsync(drain: false, stoppingToken)));
        await Task.WhenAll(tasks);
        _logger.LogInformation("Rollout host {Owner} stopped; leases released", _options.Owner);
    }

    /// <summary>Works until nothing is pending or in progress anywhere and no reconciliation of this engine is running (one-shot runs, tests, benchmarks).</summary>
    public Task DrainAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Concurrency).Select(_ => WorkerAsync(drain: true, cancellationToken)));

    /// <summary>
    /// One-shot rollout of the given accounts: enqueues each, then deploys them (bounded, leased)
    /// and returns each account's ledger entry once it is deployed or failed.
    /// </summary>
    public async Task<IReadOnlyList<LedgerEntry>> RolloutAsync(IReadOnlyList<string> accountIds, CancellationToken cancellationToken)
    {
        var now = _clock.UtcNow;
        foreach (var id in accountIds)
        {
            await _ledger.EnqueueAsync(id, _spec.Version, "one-shot rollout", retryFailed: true, null, now, cancellationToken);
        }

        var queue = new ConcurrentQueue<string>(accountIds);
        await Task.WhenAll(Enumerable.Range(0, Math.Min(_options.Concurrency, Math.Max(1, accountIds.Count))).Select(async _ =>
        {
            while (queue.TryDequeue(out var id))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var work = await _ledger.TryLeaseAsync(_options.Owner, _clock.UtcNow, _options.Lease, id, cancellationToken);
                if (work is not null)
                {
                    await ProcessAsync(work, cancellationToken);
                    queue.Enqueue(id); // look again: a newer version may have been asked for meanwhile
                    continue;
                }

                var entry = (await _ledger.ListAsync(cancellationToken)).FirstOrDefault(e => e.AccountId == id);
                if (entry is null || entry.State is AccountRolloutState.Deployed or AccountRolloutState.Failed or AccountRolloutState.Retired)
                {
                    continue;
                }

                // Held by another host, or waiting out a backoff: come back to it.
                queue.Enqueue(id);
                await Task.Delay(_options.PollInterval, cancellationToken);
            }
        }));

        var wanted = accountIds.ToHashSet(StringComparer.Ordinal);
        return [.. (await _ledger.ListAsync(cancellationToken)).Where(e => wanted.Contains(e.AccountId))];
    }

    /// <summary>Previews the accounts (optionally under a policy pack), bounded; nothing is recorded.</summary>
    public async Task<IReadOnlyList<(string AccountId, PreviewResult Result)>> PreviewAsync(IReadOnlyList<string> accountIds, string? policyPack, CancellationToken cancellationToken)
    {
        var results = new ConcurrentBag<(string, PreviewResult)>();
        await Parallel.ForEachAsync(accountIds, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            PreviewResult result;
            try
            {
                result = await _deployer.PreviewAsync(new DeploymentRequest(_spec.InputsFor(id), _spec.Version), policyPack, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                result = new PreviewResult(false, e.Message, []);
            }

            _logger.LogInformation("Preview of account {AccountId}: {Outcome} {Summary}", id, result.Succeeded ? "ok" : "FAILED", result.Summary);
            results.Add((id, result));
        });
        return [.. results.OrderBy(r => r.Item1, StringComparer.Ordinal)];
    }

    /// <summary>The governed ACTIVE accounts of the organization.</summary>
    public async Task<IReadOnlyList<string>> ActiveAccountsAsync(CancellationToken cancellationToken) =>
        [.. (await _directory.ListAccountsAsync(cancellationToken)).Where(a => a.Status == OrganizationAccountStatus.Active && _spec.Governs(a.Id)).Select(a => a.Id).Order(StringComparer.Ordinal)];

    private async Task ReconcileLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Reconciliation failed (next in {Interval}): {Error}", _options.ReconcileInterval, e.Message);
            }

            try
            {
                await Task.Delay(_options.ReconcileInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task IntakeLoopAsync(IAccountIntake intake, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollIntakeAsync(intake, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Intake: receiving failed: {Error}", e.Message);
                try
                {
                    await Task.Delay(_options.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task WorkerAsync(bool drain, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            LeasedWork? work;
            try
            {
                work = await _ledger.TryLeaseAsync(_options.Owner, _clock.UtcNow, _options.Lease, null, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!drain)
            {
                _logger.LogError(e, "Ledger: leasing failed: {Error}", e.Message);
                await WaitForWorkAsync(cancellationToken);
                continue;
            }

            if (work is null)
            {
                if (drain && Volatile.Read(ref _inFlight) == 0 && Volatile.Read(ref _reconciling) == 0 && await _ledger.CountOutstandingAsync(cancellationToken) == 0)
                {
                    return;
                }

                await WaitForWorkAsync(cancellationToken);
                continue;
            }

            Interlocked.Increment(ref _inFlight);
            try
            {
                await ProcessAsync(work, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <summary>Deploys one leased account: retries, records the outcome, releases on shutdown.</summary>
    private async Task ProcessAsync(LeasedWork work, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var request = new DeploymentRequest(_spec.InputsFor(work.AccountId), work.Version);
        using var operation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var renewalStop = new CancellationTokenSource();
        var renewal = RenewLeaseAsync(work, operation, renewalStop.Token);
        var attempts = work.Attempts;
        var lockRetries = 0;
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["AccountId"] = work.AccountId, ["Stack"] = request.StackName, ["Version"] = work.Version });
        _logger.LogInformation("Deploying {Stack} (attempt {Attempt} of {MaxAttempts})", request.StackName, attempts, _options.MaxAttempts);

        var pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.RetryBaseDelay,
            MaxDelay = _options.MaxRetryDelay,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception switch
            {
                null or OperationCanceledException => false,
                DeploymentException { Kind: DeploymentFailureKind.ConcurrentUpdate } => lockRetries < _options.LockRetries,
                _ => attempts < _options.MaxAttempts,
            }),
            OnRetry = async args =>
            {
                var error = args.Outcome.Exception!;
                if (error is DeploymentException { Kind: DeploymentFailureKind.ConcurrentUpdate })
                {
                    lockRetries++;
                    _logger.LogWarning("{Stack} is locked by another update; retrying in {Delay} (not counted as an attempt)", request.StackName, args.RetryDelay);
                    return;
                }

                attempts++;
                _logger.LogWarning("{Stack} attempt {Attempt} failed: {Error}; retrying in {Delay}", request.StackName, attempts - 1, Describe(error), args.RetryDelay);
                await _ledger.RecordAttemptAsync(work.AccountId, work.Owner, Describe(error), _clock.UtcNow, CancellationToken.None);
            },
        }).Build();

        OperationOutcome outcome;
        try
        {
            var result = await pipeline.ExecuteAsync(async ct => await _deployer.DeployAsync(request, ct), operation.Token);
            var recorded = await _ledger.CompleteAsync(work.AccountId, work.Owner, work.Version, _clock.UtcNow, CancellationToken.None);
            if (recorded)
            {
                _logger.LogInformation("Deployed {Stack} at {Version} in {Duration} after {Attempts} attempt(s): {Summary}", request.StackName, work.Version, stopwatch.Elapsed, attempts, result.Summary);
            }
            else
            {
                _logger.LogWarning("Deployed {Stack} but its lease was lost meanwhile: the outcome is left to the lease's new owner", request.StackName);
            }

            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Deployed, work.Version, attempts, stopwatch.Elapsed, null);
        }
        catch (DeploymentException e) when (e.Kind == DeploymentFailureKind.ConcurrentUpdate)
        {
            var retryAt = _clock.UtcNow + _options.MaxRetryDelay;
            await _ledger.ReleaseAsync(work.AccountId, work.Owner, retryAt, $"stack locked by another update: {e.Message}", CancellationToken.None);
            _logger.LogWarning("{Stack} still locked after {Retries} retries; handed back as pending until {RetryAt}", request.StackName, lockRetries, retryAt);
            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Pending, work.Version, attempts, stopwatch.Elapsed, e.Message);
        }
        catch (OperationCanceledException) when (operation.IsCancellationRequested)
        {
            var released = await _ledger.ReleaseAsync(work.AccountId, work.Owner, _clock.UtcNow, null, CancellationToken.None);
            _logger.LogInformation("{Stack}: operation stopped ({Why}); lease {Released}", request.StackName, cancellationToken.IsCancellationRequested ? "shutdown" : "lease lost", released ? "released" : "already gone");
            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Pending, work.Version, attempts, stopwatch.Elapsed, "stopped");
        }
        catch (Exception e)
        {
            var error = Describe(e);
            await _ledger.FailAsync(work.AccountId, work.Owner, work.Version, error, _clock.UtcNow, CancellationToken.None);
            _logger.LogError("{Stack} FAILED after {Attempts} attempt(s): {Error}", request.StackName, attempts, error);
            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Failed, work.Version, attempts, stopwatch.Elapsed, error);
        }
        finally
        {
            await renewalStop.CancelAsync();
            await renewal;
        }

        OperationCompleted?.Invoke(outcome);
        Wake();
    }

    /// <summary>Renews the lease every third of its length; when renewal fails, the operation is stopped.</summary>
    private async Task RenewLeaseAsync(LeasedWork work, CancellationTokenSource operation, CancellationToken stop)
    {
        var period = _options.Lease / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, stop);
                if (!await _ledger.RenewAsync(work.AccountId, work.Owner, _clock.UtcNow + _options.Lease, stop))
                {
                    _logger.LogWarning("Lease on account {AccountId} lost; stopping its operation", work.AccountId);
                    await operation.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning("Renewing the lease on account {AccountId} failed: {Error}", work.AccountId, e.Message);
            }
        }
    }

    private void Wake() => Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        var wake = Volatile.Read(ref _wake).Task;
        await Task.WhenAny(wake, Task.Delay(_options.PollInterval, cancellationToken));
    }

    private static string Describe(Exception e) => e switch
    {
        DeploymentException d => $"{d.Kind}: {d.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
