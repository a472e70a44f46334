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
    private const int NewAccountBatch = 100;

    /// <summary>Outcomes one worker may still be recording while it already works on the next account.</summary>
    private const int MaxPendingRecordings = 2;

    private readonly ResiliencePipeline _ledgerWrites;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;

    /// <summary>Accounts leased ahead, in the ready pool or being leased; at most one per worker.</summary>
    private readonly ConcurrentQueue<LeasedAhead> _ready = new();
    private int _heldAhead;
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

        // A ledger write that fails (connection dropped, database busy) is retried before the engine
        // gives up on it; giving up never turns a finished deployment into a failure.
        _ledgerWrites = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(0, options.LedgerRetries),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.LedgerRetryDelay,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not (null or OperationCanceledException)),
            OnRetry = args =>
            {
                _logger.LogWarning("Ledger write failed ({Error}); retrying in {Delay}", args.Outcome.Exception!.Message, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
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
        var refreshDue = now - _options.RefreshInterval;

        // One read of the ledger spares a write transaction per account already current or queued.
        var known = (await _ledger.ListAsync(cancellationToken)).ToDictionary(e => e.AccountId, StringComparer.Ordinal);
        int active = 0, enqueued = 0, current = 0, queued = 0, failed = 0, retired = 0, excluded = 0, outdated = 0, refreshing = 0;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var unknown = new List<string>();
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
            if (!known.TryGetValue(account.Id, out var entry))
            {
                // New accounts go in by the hundred: workers start on the first while the rest are added.
                unknown.Add(account.Id);
                if (unknown.Count == NewAccountBatch)
                {
                    enqueued += await EnqueueNewAsync(unknown, now, cancellationToken);
                    unknown.Clear();
                }

                continue;
            }

            switch (LedgerRules.Enqueue(entry, _spec.Version, retryFailed: true).Result)
            {
                case EnqueueResult.AlreadyCurrent:
                    current++;
                    if ((entry.RefreshedAt ?? entry.UpdatedAt) <= refreshDue && entry.LeaseOwner is null
                        && await _ledger.RequestRefreshAsync(account.Id, _spec.Version, refreshDue, now, cancellationToken))
                    {
                        refreshing++;
                    }

                    continue;
                case EnqueueResult.AlreadyQueued:
                    queued++;
                    continue;
                case EnqueueResult.Outdated:
                    outdated++;
                    continue;
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
                case EnqueueResult.Outdated:
                    outdated++;
                    break;
                default:
                    queued++;
                    break;
            }
        }

        enqueued += await EnqueueNewAsync(unknown, now, cancellationToken);
        foreach (var entry in known.Values)
        {
            if (!listed.Contains(entry.AccountId) && entry.State != AccountRolloutState.Retired
                && await _ledger.RetireAsync(entry.AccountId, "no longer in the organization", null, now, cancellationToken) == RetireResult.Retired)
            {
                retired++;
            }
        }

        var summary = new ReconcileSummary(accounts.Count, active, enqueued, current, queued, failed, retired, excluded, outdated, refreshing);
        _logger.LogInformation("Reconciliation: {Summary} (version {Version})", summary, _spec.Version);
        return summary;
    }

    /// <summary>Adds accounts the ledger did not know; one another host added meanwhile goes through the ordinary enqueue.</summary>
    private async Task<int> EnqueueNewAsync(IReadOnlyList<string> accountIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (accountIds.Count == 0)
        {
            return 0;
        }

        var added = await _ledger.EnqueueNewAsync(accountIds, _spec.Version, "reconciliation", now, cancellationToken);
        Wake();
        var enqueued = added.Count;
        foreach (var id in accountIds.Where(id => !added.Contains(id)))
        {
            if (await _ledger.EnqueueAsync(id, _spec.Version, "reconciliation", retryFailed: true, null, now, cancellationToken) is EnqueueResult.Enqueued or EnqueueResult.Requeued)
            {
                enqueued++;
            }
        }

        return enqueued;
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
                var leasedAt = Stopwatch.GetTimestamp();
                var work = await _ledger.TryLeaseAsync(_options.Owner, _spec.Version, _options.Lease, id, cancellationToken);
                if (work is not null)
                {
                    await ProcessAsync(work, leasedAt, null, cancellationToken);
                    queue.Enqueue(id); // look again: a newer version may have been asked for meanwhile
                    continue;
                }

                var entry = (await _ledger.ListAsync(cancellationToken)).FirstOrDefault(e => e.AccountId == id);
                if (entry is null || entry.State is AccountRolloutState.Deployed or AccountRolloutState.Failed or AccountRolloutState.Retired || entry.DesiredVersion != _spec.Version)
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
            var request = new DeploymentRequest(_spec.InputsFor(id), _spec.Version);
            var attempts = 1;
            var lockRetries = 0;
            // A preview's errors are judged as an update's: a locked stack waits without counting, a transient
            // error is retried up to the attempt limit, and what remains is reported with its kind, not as a
            // policy verdict.
            var pipeline = new ResiliencePipelineBuilder().AddRetry(WithOperationBackoff(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception switch
                {
                    DeploymentException { Kind: DeploymentFailureKind.ConcurrentUpdate } => lockRetries++ < _options.LockRetries,
                    DeploymentException { Kind: DeploymentFailureKind.Transient } => attempts++ < _options.MaxAttempts,
                    _ => false,
                }),
                OnRetry = args =>
                {
                    _logger.LogWarning("Preview of {Stack} failed: {Error}; retrying in {Delay}", request.StackName, Describe(args.Outcome.Exception!), args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })).Build();

            PreviewResult result;
            try
            {
                result = await pipeline.ExecuteAsync(async token => await _deployer.PreviewAsync(request, policyPack, token), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                result = new PreviewResult(false, $"preview error: {Describe(e)}", []);
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
        var recordings = new List<Task>();

        // While its deployment runs, a worker leases the next account into the engine's ready pool: the
        // lease's round trip stays off the path between two deployments, and whichever worker is free
        // first takes it. One lease ahead at a time per worker, at most one per worker in all.
        Task? leasingAhead = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                LeasedWork? work;
                long leasedAt;
                if (_ready.TryDequeue(out var ahead))
                {
                    Interlocked.Decrement(ref _heldAhead);
                    (work, leasedAt) = (ahead.Work, ahead.LeasedAt);
                    if (Stopwatch.GetElapsedTime(leasedAt) >= RenewalPeriod)
                    {
                        // It waited as long as a renewal period: its lease may have expired and been
                        // taken meanwhile (by another host, or by this one's next lease: the lease's own
                        // token tells them apart), so it starts only once renewed. A lease that expired
                        // but nobody took is still this one's: renewed, not left behind as an in-progress
                        // row whose lease must lapse before the account is taken up again.
                        var renewedAt = Stopwatch.GetTimestamp();
                        if (!await RenewLeasedAheadAsync(work))
                        {
                            continue;
                        }

                        leasedAt = renewedAt;
                    }
                }
                else if (leasingAhead is { IsCompleted: false })
                {
                    await leasingAhead;
                    continue;
                }
                else
                {
                    leasedAt = Stopwatch.GetTimestamp();
                    try
                    {
                        work = await _ledger.TryLeaseAsync(_options.Owner, _spec.Version, _options.Lease, null, cancellationToken);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception e) when (!drain)
                    {
                        _logger.LogError(e, "Ledger: leasing failed: {Error}", e.Message);
                        await WaitForWorkAsync(cancellationToken);
                        continue;
                    }
                }

                if (work is null)
                {
                    if (drain && Volatile.Read(ref _inFlight) == 0 && Volatile.Read(ref _reconciling) == 0 && await _ledger.CountOutstandingAsync(_spec.Version, cancellationToken) == 0)
                    {
                        break;
                    }

                    await WaitForWorkAsync(cancellationToken);
                    continue;
                }

                // The outcome is recorded while this worker starts its next account: the ledger's round
                // trips stay off the path between two deployments. A few recordings at most are pending.
                Interlocked.Increment(ref _inFlight);
                var operated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var processing = TrackAsync(work, ProcessAsync(work, leasedAt, operated, cancellationToken));
                recordings.Add(processing);
                if (!cancellationToken.IsCancellationRequested && leasingAhead is not { IsCompleted: false })
                {
                    if (Interlocked.Increment(ref _heldAhead) <= _options.Concurrency)
                    {
                        leasingAhead = LeaseAheadAsync();
                    }
                    else
                    {
                        Interlocked.Decrement(ref _heldAhead);
                    }
                }

                await Task.WhenAny(operated.Task, processing);
                recordings.RemoveAll(r => r.IsCompleted);
                if (recordings.Count > MaxPendingRecordings)
                {
                    await Task.WhenAny(recordings);
                }
            }
        }
        finally
        {
            // Stopped (or the ledger failed a drain): accounts leased ahead are handed back at once, not
            // counted as attempts, so no other host waits out their leases. A lease ahead still in flight
            // is waited for first: it is in the pool once it ends.
            if (leasingAhead is not null)
            {
                await leasingAhead;
            }

            while (_ready.TryDequeue(out var unused))
            {
                Interlocked.Decrement(ref _heldAhead);
                var released = await ReleaseNowAsync(unused.Work, "the lease taken ahead");
                _logger.LogInformation("Account {AccountId} was leased ahead but not started (worker stopped); lease {Released}", unused.Work.AccountId, released == true ? "released" : "already gone");
            }

            await Task.WhenAll(recordings);
        }
    }

    private TimeSpan RenewalPeriod => _options.Lease / 3;

    private sealed record LeasedAhead(LeasedWork Work, long LeasedAt);

    /// <summary>Leases an account into the ready pool; nothing when there is none or the ledger failed (a free worker then leases as usual).</summary>
    private async Task LeaseAheadAsync()
    {
        var leasedAt = Stopwatch.GetTimestamp();
        LeasedWork? work;
        try
        {
            // Not cancelled with the worker: a lease granted while the worker stops must reach the pool,
            // to be released, rather than be lost in flight and left to expire.
            work = await _ledger.TryLeaseAsync(_options.Owner, _spec.Version, _options.Lease, null, CancellationToken.None);
        }
        catch (Exception e)
        {
            _logger.LogWarning("Ledger: leasing ahead failed: {Error}; leasing again once a worker is free", e.Message);
            work = null;
        }

        if (work is null)
        {
            Interlocked.Decrement(ref _heldAhead);
            return;
        }

        _ready.Enqueue(new LeasedAhead(work, leasedAt));
        Wake();
    }

    /// <summary>Renews a lease taken ahead that waited long; false (the account is left alone) when it was leased again meanwhile or the ledger could not say.</summary>
    private async Task<bool> RenewLeasedAheadAsync(LeasedWork work)
    {
        try
        {
            if (await _ledger.RenewAsync(work, _options.Lease, CancellationToken.None))
            {
                return true;
            }

            _logger.LogWarning("Account {AccountId} was leased ahead but its lease was lost while it waited; it was leased again (by another host, or by this one once the lease lapsed)", work.AccountId);
            return false;
        }
        catch (Exception e)
        {
            // Unconfirmed: handed back (not counted) rather than deployed on a lease that may be another's.
            var released = await ReleaseNowAsync(work, "the lease taken ahead");
            _logger.LogWarning("Renewing the lease taken ahead on account {AccountId} failed: {Error}; lease {Released}", work.AccountId, e.Message, released == true ? "released" : "left to expire");
            return false;
        }
    }

    private async Task TrackAsync(LeasedWork work, Task processing)
    {
        try
        {
            await processing;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The worker outlives a ledger that fails: the account's lease expires and it is taken up again.
            _logger.LogError(e, "Worker: the operation on account {AccountId} ended with an error its outcome could not be recorded past: {Error}", work.AccountId, e.Message);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Deploys (or refreshes) one leased account: retries, then records the outcome, releasing on shutdown or a lost lease.</summary>
    private async Task ProcessAsync(LeasedWork work, long leasedAt, TaskCompletionSource? operated, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var request = new DeploymentRequest(_spec.InputsFor(work.AccountId), work.Version);
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["AccountId"] = work.AccountId, ["Stack"] = request.StackName, ["Version"] = work.Version });

        // Earlier leases that never finished (the host was killed mid-deployment) count as attempts:
        // an operation that kills its host is not run again and again.
        if (work.Attempts > _options.MaxAttempts)
        {
            var reason = $"gave up after {work.Attempts - 1} attempts (max {_options.MaxAttempts}); the last: {work.LastError ?? "no outcome recorded"}";
            await RecordAsync(ct => _ledger.FailAsync(work, work.Version, reason, _clock.UtcNow, ct), "its failure");
            _logger.LogError("{Stack} FAILED: {Error}", request.StackName, reason);
            Finish(new OperationOutcome(work.AccountId, AccountRolloutState.Failed, work.Version, work.Attempts - 1, stopwatch.Elapsed, reason));
            return;
        }

        using var operation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var renewalStop = new CancellationTokenSource();
        var lease = new LeaseWatch();
        var renewal = RenewLeaseAsync(work, leasedAt, operation, lease, renewalStop.Token);
        var attempts = work.Attempts;
        var lockRetries = 0;
        var drifted = false;
        _logger.LogInformation("{Operation} {Stack} (attempt {Attempt} of {MaxAttempts})", work.Refresh ? "Refreshing" : "Deploying", request.StackName, attempts, _options.MaxAttempts);

        var pipeline = new ResiliencePipelineBuilder().AddRetry(WithOperationBackoff(new RetryStrategyOptions
        {
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
                if (await RecordAsync(ct => _ledger.RecordAttemptAsync(work, Describe(error), _clock.UtcNow, ct), "the failed attempt") == false)
                {
                    // Another host owns the account now: this one must not operate on the stack again.
                    lease.Lose("it was taken over while the failed attempt was being recorded");
                    await operation.CancelAsync();
                }
            },
        })).Build();

        string? summary = null;
        Exception? failure = null;
        try
        {
            summary = await pipeline.ExecuteAsync(
                async ct =>
                {
                    if (work.Refresh && !drifted)
                    {
                        var refresh = await _deployer.RefreshAsync(request, ct);
                        if (!refresh.Drifted)
                        {
                            return $"refreshed, no drift: {refresh.Summary}";
                        }

                        drifted = true;
                        _logger.LogWarning("{Stack} drifted from its deployment ({Summary}): deploying it again", request.StackName, refresh.Summary);
                    }

                    return (await _deployer.DeployAsync(request, ct)).Summary;
                },
                operation.Token);
        }
        catch (OperationCanceledException) when (operation.IsCancellationRequested)
        {
            // Stopped: shutdown or a lost lease (below).
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            await renewalStop.CancelAsync();
            await renewal;
            operated?.TrySetResult();
        }

        // The outcome is recorded after the operation, outside its error handling: a ledger that
        // fails now must not make a finished deployment look failed (and deployed again).
        OperationOutcome outcome;
        if (summary is not null)
        {
            var recorded = await RecordAsync(ct => _ledger.CompleteAsync(work, work.Version, _clock.UtcNow, ct), "the deployment");
            switch (recorded)
            {
                case true:
                    _logger.LogInformation("{Done} {Stack} at {Version} in {Duration} after {Attempts} attempt(s): {Summary}", work.Refresh && !drifted ? "Refreshed" : "Deployed", request.StackName, work.Version, stopwatch.Elapsed, attempts, summary);
                    break;
                case false:
                    _logger.LogWarning("Deployed {Stack} but its lease was lost meanwhile: the outcome is left to the lease's new owner", request.StackName);
                    break;
                default:
                    _logger.LogError("Deployed {Stack} but the ledger could not record it: the lease expires and the account is deployed again (an up-to-date stack changes nothing)", request.StackName);
                    break;
            }

            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Deployed, work.Version, attempts, stopwatch.Elapsed, recorded == true ? null : "deployed; not recorded");
        }
        else if (failure is null)
        {
            var released = await ReleaseNowAsync(work, "the released lease");
            var why = cancellationToken.IsCancellationRequested ? "shutdown" : $"lease lost: {lease.Why}";
            _logger.Log(lease.Lost ? LogLevel.Warning : LogLevel.Information, "{Stack}: operation stopped ({Why}); lease {Released}", request.StackName, why, released == true ? "released" : "already gone");
            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Pending, work.Version, attempts, stopwatch.Elapsed, $"stopped ({why})");
        }
        else if (failure is DeploymentException { Kind: DeploymentFailureKind.ConcurrentUpdate })
        {
            await RecordAsync(ct => _ledger.ReleaseAsync(work, _options.MaxRetryDelay, $"stack locked by another update: {failure.Message}", _clock.UtcNow, ct), "the locked stack");
            _logger.LogWarning("{Stack} still locked after {Retries} retries; handed back as pending for {Delay}", request.StackName, lockRetries, _options.MaxRetryDelay);
            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Pending, work.Version, attempts, stopwatch.Elapsed, failure.Message);
        }
        else
        {
            var error = Describe(failure);
            await RecordAsync(ct => _ledger.FailAsync(work, work.Version, error, _clock.UtcNow, ct), "the failure");
            _logger.LogError("{Stack} FAILED after {Attempts} attempt(s): {Error}", request.StackName, attempts, error);
            outcome = new OperationOutcome(work.AccountId, AccountRolloutState.Failed, work.Version, attempts, stopwatch.Elapsed, error);
        }

        Finish(outcome);
    }

    private void Finish(OperationOutcome outcome)
    {
        OperationCompleted?.Invoke(outcome);
        Wake();
    }

    /// <summary>One ledger write, retried; null (logged) when it still fails: the lease then expires and the account is taken up again.</summary>
    private async Task<bool?> RecordAsync(Func<CancellationToken, Task<bool>> write, string what)
    {
        try
        {
            return await _ledgerWrites.ExecuteAsync(async ct => await write(ct), CancellationToken.None);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Ledger: recording {What} failed after {Retries} retries: {Error}", what, _options.LedgerRetries, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Renews the lease every third of its length. The lease is known to be held until the start of
    /// the last successful renewal (or of the lease) plus its length; when renewals fail until
    /// half a period before that, or the ledger says the account is held by another lease (another
    /// host's, or this host's own once this one lapsed), the operation is cancelled, leaving it time
    /// to stop before another host may take the account.
    /// </summary>
    private async Task RenewLeaseAsync(LeasedWork work, long leasedAt, CancellationTokenSource operation, LeaseWatch lease, CancellationToken stop)
    {
        var length = _options.Lease;
        var period = RenewalPeriod;
        var margin = period / 2;
        var heldFrom = leasedAt;
        string? lastError = null;
        while (!stop.IsCancellationRequested)
        {
            var held = Stopwatch.GetElapsedTime(heldFrom);
            var remaining = length - margin - held;
            if (lastError is not null && remaining <= TimeSpan.Zero)
            {
                lease.Lose($"it could not be renewed before it expired ({lastError})");
                _logger.LogError("Lease on account {AccountId} could not be renewed before it expired ({Error}); stopping its operation", work.AccountId, lastError);
                await operation.CancelAsync();
                return;
            }

            // Due a period after the lease was taken or last renewed, not a period from now: a lease
            // taken ahead may have waited most of a period before its operation started.
            var wait = lastError is null ? period - held : period / 4;
            try
            {
                await Task.Delay(TimeSpan.FromTicks(Math.Max(0, Math.Min(remaining.Ticks, wait.Ticks))), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var requestedAt = Stopwatch.GetTimestamp();
            try
            {
                if (!await _ledger.RenewAsync(work, length, stop))
                {
                    lease.Lose("it was leased again (by another host, or by this one once it lapsed)");
                    _logger.LogWarning("Lease on account {AccountId} lost; stopping its operation", work.AccountId);
                    await operation.CancelAsync();
                    return;
                }

                heldFrom = requestedAt;
                lastError = null;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                lastError = e.Message;
                _logger.LogWarning("Renewing the lease on account {AccountId} failed: {Error}; retrying until it expires", work.AccountId, e.Message);
            }
        }
    }

    /// <summary>Why an operation's lease was lost, set by whoever found out.</summary>
    private sealed class LeaseWatch
    {
        private string? _why;

        public bool Lost => Volatile.Read(ref _why) is not null;

        public string Why => Volatile.Read(ref _why) ?? "";

        public void Lose(string why) => Interlocked.CompareExchange(ref _why, why, null);
    }

    private void Wake() => Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        var wake = Volatile.Read(ref _wake).Task;
        await Task.WhenAny(wake, Task.Delay(_options.PollInterval, cancellationToken));
    }

    /// <summary>Hands an account back at once, without counting an attempt; null when the ledger could not record it.</summary>
    private Task<bool?> ReleaseNowAsync(LeasedWork work, string what) =>
        RecordAsync(ct => _ledger.ReleaseAsync(work, TimeSpan.Zero, null, _clock.UtcNow, ct), what);

    /// <summary>The backoff of stack operations (updates, refreshes, previews); what is retried is each caller's own.</summary>
    private RetryStrategyOptions WithOperationBackoff(RetryStrategyOptions retry)
    {
        retry.MaxRetryAttempts = int.MaxValue;
        retry.BackoffType = DelayBackoffType.Exponential;
        retry.UseJitter = true;
        retry.Delay = _options.RetryBaseDelay;
        retry.MaxDelay = _options.MaxRetryDelay;
        return retry;
    }

    private static string Describe(Exception e) => e switch
    {
        DeploymentException d => $"{d.Kind}: {d.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
