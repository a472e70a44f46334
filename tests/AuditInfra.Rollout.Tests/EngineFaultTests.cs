using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Tests.Support;
using Microsoft.Data.Sqlite;

namespace AuditInfra.Rollout.Tests;

/// <summary>
/// What a SIGKILL/fault-injection harness found in the engine, each reproduced on a real SQLite
/// ledger file (faults injected in front of it, or by writing the file as another host would).
/// </summary>
public class EngineFaultTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    private static RolloutEngine Engine(IRolloutLedger ledger, RecordingDeployer deployer, Moq.Mock<IAccountDirectory>? directory = null, IClock? clock = null, RolloutSpec? spec = null, RolloutEngineOptions? options = null, ListLogger? logger = null) =>
        new(ledger, deployer.Object, (directory ?? Fleet.Directory()).Object, clock ?? new ManualClock(Start), spec ?? Fleet.Spec(), options ?? Fleet.Options(), logger);

    private static async Task<LedgerEntry> Entry(IRolloutLedger ledger, string id) =>
        (await ledger.ListAsync(None)).Single(e => e.AccountId == id);

    [Fact]
    public async Task A_ledger_write_failing_after_a_successful_deploy_neither_fails_nor_redeploys_the_account()
    {
        await using var temp = await TempLedger.CreateAsync();
        var ledger = new FaultyLedger(temp.Ledger);
        var dropped = 2; // the connection drops twice while the outcome is recorded
        ledger.Fault = method => method == nameof(IRolloutLedger.CompleteAsync) && Interlocked.Decrement(ref dropped) >= 0 ? new IOException("terminating connection due to administrator command") : null;
        var deployer = new RecordingDeployer();
        var engine = Engine(ledger, deployer, Fleet.Directory(Fleet.Active(1)));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        var entry = await Entry(temp.Ledger, Fleet.AccountId(1));
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Single(deployer.Calls);
        Assert.False(ledger.Calls.ContainsKey(nameof(IRolloutLedger.FailAsync)));
        Assert.Equal(2, ledger.Faults[nameof(IRolloutLedger.CompleteAsync)]);
    }

    [Fact]
    public async Task A_worker_outlives_ledger_errors_from_fail_and_release_and_logs_them()
    {
        await using var temp = await TempLedger.CreateAsync();
        var ledger = new FaultyLedger(temp.Ledger);
        ledger.Fault = method => method is nameof(IRolloutLedger.FailAsync) or nameof(IRolloutLedger.ReleaseAsync) ? new IOException("database is locked") : null;
        var deployer = new RecordingDeployer();
        deployer.Behaviour = (r, _) => r.AccountId == Fleet.AccountId(1) ? throw new DeploymentException("AccessDenied", DeploymentFailureKind.Permanent) : Task.CompletedTask;
        var logger = new ListLogger();
        var engine = Engine(ledger, deployer, Fleet.Directory(Fleet.Active(2)), options: Fleet.Options(concurrency: 1, maxAttempts: 1), logger: logger);

        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(null, stop.Token);
        await RolloutEngineTests.WaitUntil(() => Task.FromResult(deployer.Succeeded.Any(r => r.AccountId == Fleet.AccountId(2))));
        stop.Cancel();
        await run;

        Assert.Equal(AccountRolloutState.Deployed, (await Entry(temp.Ledger, Fleet.AccountId(2))).State);
        Assert.Contains(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("recording the failure failed") && e.Message.Contains("database is locked"));

        // The unrecorded failure keeps its lease, which expires: the account is not lost.
        Assert.Equal(AccountRolloutState.InProgress, (await Entry(temp.Ledger, Fleet.AccountId(1))).State);
    }

    [Fact]
    public async Task A_duplicate_creation_event_does_not_requeue_a_failed_account()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        deployer.Behaviour = (_, _) => throw new DeploymentException("AccessDenied: cannot assume role", DeploymentFailureKind.Permanent);
        var engine = Engine(temp.Ledger, deployer, options: Fleet.Options(maxAttempts: 2));
        var intake = new FakeIntake();
        var body = Events.CreateAccountResult("333333333333");
        intake.Add(body);
        await engine.PollIntakeAsync(intake, None);
        await engine.DrainAsync(None);
        Assert.Equal(AccountRolloutState.Failed, (await Entry(temp.Ledger, "333333333333")).State);

        intake.Add(body); // SQS delivers it again
        var outcomes = await engine.PollIntakeAsync(intake, None);
        await engine.DrainAsync(None);

        Assert.Contains("StillFailed", Assert.Single(outcomes).Detail);
        Assert.Equal(2, deployer.CallsFor("333333333333"));
        Assert.Equal(AccountRolloutState.Failed, (await Entry(temp.Ledger, "333333333333")).State);
    }

    [Fact]
    public async Task Malformed_messages_are_dead_lettered_with_a_reason_not_thrown()
    {
        await using var temp = await TempLedger.CreateAsync();
        var engine = Engine(temp.Ledger, new RecordingDeployer());
        var intake = new FakeIntake();
        var valid = Events.CreateAccountResult("333333333333");
        intake.Add(
            valid.Replace("\"serviceEventDetails\":{\"createAccountStatus\":", "\"serviceEventDetails\":[{\"createAccountStatus\":", StringComparison.Ordinal).Replace("}}}}", "}}]}}", StringComparison.Ordinal),
            valid.Replace("\"serviceEventDetails\":{\"createAccountStatus\":{", "\"serviceEventDetails\":\"x\",\"ignored\":{\"a\":{", StringComparison.Ordinal),
            valid.Replace("\"accountId\":\"333333333333\"", "\"accountId\":\"333333333333\",\"accountId\":\"444444444444\"", StringComparison.Ordinal),
            Events.CreateAccountResult("500000000008\\n"));
        var outcomes = await engine.PollIntakeAsync(intake, None);

        Assert.Equal(4, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(AccountEventOutcome.Invalid, o.Outcome));
        Assert.Equal(4, intake.DeadLettered.Count);
        Assert.Contains("without serviceEventDetails.createAccountStatus", intake.DeadLettered[0].Reason);
        Assert.Contains("without serviceEventDetails.createAccountStatus", intake.DeadLettered[1].Reason);
        Assert.StartsWith("not JSON", intake.DeadLettered[2].Reason);
        Assert.Contains("accountId", intake.DeadLettered[2].Reason);
        Assert.Equal("CreateAccountResult: createAccountStatus.accountId is \"500000000008\\n\", expected a 12-digit AWS account id", intake.DeadLettered[3].Reason);
        Assert.Empty(await temp.Ledger.ListAsync(None));
    }

    [Fact]
    public async Task A_lease_that_cannot_be_renewed_cancels_the_deploy_before_it_expires()
    {
        await using var temp = await TempLedger.CreateAsync();
        var ledger = new FaultyLedger(temp.Ledger);

        // Renewals fail until the operation has been stopped and its lease handed back.
        ledger.Fault = method => method == nameof(IRolloutLedger.RenewAsync) && !ledger.Calls.ContainsKey(nameof(IRolloutLedger.ReleaseAsync)) ? new IOException("server closed the connection unexpectedly") : null;
        var deployer = new RecordingDeployer();
        var cancelled = new TaskCompletionSource<TimeSpan>();
        var first = 1;
        deployer.Behaviour = async (_, ct) =>
        {
            if (Interlocked.Exchange(ref first, 0) == 1)
            {
                var started = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), ct);
                }
                catch (OperationCanceledException)
                {
                    cancelled.TrySetResult(started.Elapsed);
                    throw;
                }

                cancelled.TrySetException(new InvalidOperationException($"ran to its end: {started.Elapsed}, token {ct.IsCancellationRequested}"));
            }
        };
        var engine = Engine(ledger, deployer, Fleet.Directory(Fleet.Active(1)), options: Fleet.Options(concurrency: 1, maxAttempts: 1) with { Lease = TimeSpan.FromSeconds(2) });
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        // Cancelled once renewals had failed until half a renewal period before the lease would expire
        // (timers run late on a loaded machine: the bound that matters is the 10 s the deployment takes);
        // the account went back to pending (not counted) and was deployed once the ledger answered again.
        var entry = await Entry(temp.Ledger, Fleet.AccountId(1));
        Assert.True(cancelled.Task.IsCompleted, $"the deploy should have been cancelled: {entry}; calls {deployer.Calls.Count}; ledger {string.Join(",", ledger.Calls)}; faults {string.Join(",", ledger.Faults)}");
        Assert.InRange(await cancelled.Task, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6));
        Assert.True(ledger.Faults[nameof(IRolloutLedger.RenewAsync)] >= 2);
        Assert.Single(deployer.Succeeded);
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Equal(1, entry.Attempts);
    }

    [Fact]
    public async Task An_operation_whose_lease_lapsed_and_was_leased_again_by_its_own_host_is_stopped_at_its_next_renewal()
    {
        await using var temp = await TempLedger.CreateAsync();
        var ledger = new FaultyLedger(temp.Ledger);
        var id = Fleet.AccountId(1);

        // The first operation's renewals stall (a starved host) until the test lets them through.
        var renewalsThrough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ledger.BeforeRenewal = held => held.Attempts == 1 ? renewalsThrough.Task : Task.CompletedTask;
        var deployer = new RecordingDeployer();
        var staleStopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finishCurrent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = 0;
        deployer.Behaviour = async (_, ct) =>
        {
            if (Interlocked.Increment(ref call) == 1)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    staleStopped.TrySetResult();
                    throw;
                }
            }

            await finishCurrent.Task;
        };
        var logger = new ListLogger();
        var engine = Engine(ledger, deployer, Fleet.Directory(Fleet.Active(1)), options: Fleet.Options(concurrency: 2, owner: "host-a") with { Lease = TimeSpan.FromSeconds(3) }, logger: logger);
        await engine.ReconcileAsync(None);
        var drain = engine.DrainAsync(None);
        await RolloutEngineTests.WaitUntil(() => Task.FromResult(deployer.Calls.Count == 1));

        // Its lease lapses by the database's clock; the host's idle worker leases the account again.
        await temp.AgeLeasesAsync("host-a", TimeSpan.FromMinutes(1));
        await RolloutEngineTests.WaitUntil(() => Task.FromResult(deployer.Calls.Count == 2));
        Assert.Equal(2, (await Entry(temp.Ledger, id)).Attempts);

        // The stalled renewal reaches the ledger: the lease is the new one's, so the stale operation stops.
        renewalsThrough.SetResult();
        await staleStopped.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await RolloutEngineTests.WaitUntil(() => Task.FromResult(logger.Entries.Any(e => e.Message.Contains("operation stopped (lease lost: it was leased again", StringComparison.Ordinal))));
        var held = await Entry(temp.Ledger, id);
        Assert.Equal(AccountRolloutState.InProgress, held.State);
        Assert.Equal("host-a", held.LeaseOwner);
        Assert.Equal(2, held.Attempts);

        finishCurrent.SetResult();
        await drain;
        var entry = await Entry(temp.Ledger, id);
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Equal(2, entry.Attempts);
        Assert.Null(entry.LeaseOwner);
        Assert.Equal(2, deployer.Calls.Count);
        Assert.Single(deployer.Succeeded);
    }

    [Fact]
    public async Task A_lease_found_lost_when_recording_an_attempt_stops_the_operation()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        deployer.Behaviour = async (r, _) =>
        {
            // Another host took the account over (as after an expiry) while this attempt ran.
            await using var connection = new SqliteConnection($"Data Source={temp.Path}");
            await connection.OpenAsync();
            await using var steal = connection.CreateCommand();
            steal.CommandText = "UPDATE rollout_accounts SET lease_owner = 'host-b' WHERE account_id = $id";
            steal.Parameters.AddWithValue("$id", r.AccountId);
            await steal.ExecuteNonQueryAsync();
            throw new DeploymentException("Throttling: rate exceeded");
        };
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(1)), options: Fleet.Options(maxAttempts: 3));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token).ContinueWith(_ => { });

        Assert.Single(deployer.Calls);
        var entry = await Entry(temp.Ledger, Fleet.AccountId(1));
        Assert.Equal("host-b", entry.LeaseOwner);
        Assert.Equal(AccountRolloutState.InProgress, entry.State);
    }

    [Fact]
    public async Task Retiring_an_account_in_progress_keeps_its_lease_until_the_operation_ends()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var release = new TaskCompletionSource();
        deployer.Behaviour = (_, _) => release.Task;
        var id = Fleet.AccountId(1);
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(1)), options: Fleet.Options(concurrency: 1));
        await engine.ReconcileAsync(None);
        var drain = engine.DrainAsync(None);
        await RolloutEngineTests.WaitUntil(() => Task.FromResult(deployer.Calls.Count == 1));

        // The account leaves, then is back (a reconciliation that sees it again): still one operation at a time.
        Assert.Equal(RetireResult.Retired, await temp.Ledger.RetireAsync(id, "left", null, Start, None));
        Assert.NotNull((await Entry(temp.Ledger, id)).LeaseOwner);
        Assert.Equal(EnqueueResult.Requeued, await temp.Ledger.EnqueueAsync(id, "1.0.0+abc", "reconciliation", true, null, Start, None));
        Assert.Null(await temp.Ledger.TryLeaseAsync("host-b", "1.0.0+abc", TimeSpan.FromMinutes(10), null, None));

        release.SetResult();
        await drain;
        var entry = await Entry(temp.Ledger, id);
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Null(entry.LeaseOwner);
        Assert.Single(deployer.Calls);
    }

    [Fact]
    public async Task Lease_expiry_is_the_databases_clock_not_a_host_clock_running_ahead()
    {
        await using var temp = await TempLedger.CreateAsync();
        var directory = Fleet.Directory(Fleet.Active(1));
        var release = new TaskCompletionSource();
        var first = new RecordingDeployer();
        first.Behaviour = (_, _) => release.Task;
        var a = Engine(await temp.ReopenAsync(), first, directory, new ManualClock(DateTimeOffset.UtcNow), options: Fleet.Options(concurrency: 1, owner: "host-a"));
        await a.ReconcileAsync(None);
        var drainA = a.DrainAsync(None);
        await RolloutEngineTests.WaitUntil(() => Task.FromResult(first.Calls.Count == 1));

        // Host B's clock is 11 minutes ahead: by its clock A's 10-minute lease has expired.
        var second = new RecordingDeployer();
        var b = Engine(await temp.ReopenAsync(), second, directory, new ManualClock(DateTimeOffset.UtcNow.AddMinutes(11)), options: Fleet.Options(concurrency: 2, owner: "host-b"));
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1.5)))
        {
            await b.RunAsync(null, stop.Token);
        }

        Assert.Empty(second.Calls);
        release.SetResult();
        await drainA;
        Assert.Equal(AccountRolloutState.Deployed, (await Entry(temp.Ledger, Fleet.AccountId(1))).State);
    }

    [Fact]
    public async Task A_deployment_that_keeps_killing_its_host_is_capped_and_marked_failed_with_the_reason()
    {
        await using var temp = await TempLedger.CreateAsync();
        var id = Fleet.AccountId(1);
        await temp.Ledger.EnqueueAsync(id, "1.0.0+abc", "event", true, null, Start, None);

        // Three hosts in turn lease the account and die mid-deployment: their leases lapse, never completed.
        for (var crash = 1; crash <= 3; crash++)
        {
            var work = await temp.Ledger.TryLeaseAsync($"host-{crash}", "1.0.0+abc", TimeSpan.FromMilliseconds(100), null, None);
            Assert.Equal(crash, work!.Attempts);
            await Task.Delay(150);
        }

        var deployer = new RecordingDeployer();
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(1)), options: Fleet.Options(maxAttempts: 3));
        await engine.DrainAsync(None);

        Assert.Empty(deployer.Calls);
        var entry = await Entry(temp.Ledger, id);
        Assert.Equal(AccountRolloutState.Failed, entry.State);
        Assert.Contains("gave up after 3 attempts (max 3)", entry.LastError);
        Assert.Contains("attempt 3 by host-3 never finished", entry.LastError);
    }

    [Fact]
    public async Task During_a_rolling_upgrade_a_host_never_deploys_an_older_version_than_the_ledgers_newest()
    {
        await using var temp = await TempLedger.CreateAsync();
        var directory = Fleet.Directory(Fleet.Active(10));
        var deployer = new RecordingDeployer(TimeSpan.FromMilliseconds(2));
        var order = new System.Collections.Concurrent.ConcurrentQueue<(string AccountId, string Version)>();
        deployer.Behaviour = (r, _) =>
        {
            order.Enqueue((r.AccountId, r.Version));
            return Task.CompletedTask;
        };
        var oldHost = Engine(await temp.ReopenAsync(), deployer, directory, spec: Fleet.Spec("1.0.0+abc"), options: Fleet.Options(owner: "old"));
        var newHost = Engine(await temp.ReopenAsync(), deployer, directory, spec: Fleet.Spec("1.1.0+def"), options: Fleet.Options(owner: "new"));
        await oldHost.ReconcileAsync(None);
        await oldHost.DrainAsync(None);

        // Both run at once, reconciling again and again, as during a rolling upgrade.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Task.WhenAll(
            oldHost.RunAsync(null, stop.Token),
            newHost.RunAsync(null, stop.Token),
            Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await Task.WhenAll(oldHost.ReconcileAsync(None), newHost.ReconcileAsync(None));
                    await Task.Delay(20);
                }
            }));

        Assert.Equal(20, deployer.Calls.Count);
        foreach (var account in order.GroupBy(o => o.AccountId))
        {
            Assert.Equal(["1.0.0+abc", "1.1.0+def"], account.Select(o => o.Version));
        }

        Assert.All(await temp.Ledger.ListAsync(None), e => Assert.Equal("1.1.0+def", e.DeployedVersion));
        var summary = await oldHost.ReconcileAsync(None);
        Assert.Equal(10, summary.Outdated);
    }

    [Fact]
    public async Task A_delayed_creation_event_does_not_bring_back_an_account_reconciliation_retired()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var id = "333333333333";
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(new OrganizationAccount(id, "member", OrganizationAccountStatus.Active)));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        // The account left (no event seen); reconciliation retires it; then its creation event arrives late.
        var later = Engine(temp.Ledger, deployer, Fleet.Directory());
        Assert.Equal(1, (await later.ReconcileAsync(None)).Retired);
        var intake = new FakeIntake();
        intake.Add(Events.CreateAccountResult(id, completed: "Sep 16, 2020 9:20:53 PM"));
        var outcomes = await later.PollIntakeAsync(intake, None);
        await later.DrainAsync(None);

        Assert.Contains("Stale", Assert.Single(outcomes).Detail);
        Assert.Equal(AccountRolloutState.Retired, (await Entry(temp.Ledger, id)).State);
        Assert.Equal(1, deployer.CallsFor(id));
    }

    [Fact]
    public async Task Accounts_at_the_current_version_are_refreshed_on_schedule_and_redeployed_only_on_drift()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var clock = new ManualClock(Start);
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(2)), clock, options: Fleet.Options() with { RefreshInterval = TimeSpan.FromHours(24) });
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);
        Assert.Equal(2, deployer.Calls.Count);

        // Within refreshHours: nothing is refreshed.
        clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal(0, (await engine.ReconcileAsync(None)).Refreshing);
        await engine.DrainAsync(None);
        Assert.Empty(deployer.Refreshes);

        // Past it: both are refreshed; the one whose forwarding rule was deleted is deployed again.
        clock.Advance(TimeSpan.FromHours(2));
        deployer.RefreshBehaviour = (r, _) => Task.FromResult(r.AccountId == Fleet.AccountId(2)
            ? new RefreshResult(true, "1 resource deleted: aws:cloudwatch:EventRule forward-us-west-2")
            : new RefreshResult(false, "no changes"));
        Assert.Equal(2, (await engine.ReconcileAsync(None)).Refreshing);
        await engine.DrainAsync(None);

        Assert.Equal(2, deployer.Refreshes.Count);
        Assert.Equal(1, deployer.CallsFor(Fleet.AccountId(1)));
        Assert.Equal(2, deployer.CallsFor(Fleet.AccountId(2)));
        var entries = await temp.Ledger.ListAsync(None);
        Assert.All(entries, e => Assert.Equal(AccountRolloutState.Deployed, e.State));
        Assert.All(entries, e => Assert.Equal(Start.AddHours(25), e.RefreshedAt));

        // Just refreshed: not again until refreshHours pass once more.
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, (await engine.ReconcileAsync(None)).Refreshing);
        await engine.DrainAsync(None);
        Assert.Equal(2, deployer.Refreshes.Count);
    }

    [Fact]
    public async Task The_refresh_interval_follows_the_setting()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var clock = new ManualClock(Start);
        var options = Fleet.Options() with { RefreshInterval = RolloutEngineOptions.From(new RolloutSettings { RefreshHours = 48 }).RefreshInterval };
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(1)), clock, options: options);
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        clock.Advance(TimeSpan.FromHours(30));
        Assert.Equal(0, (await engine.ReconcileAsync(None)).Refreshing);
        clock.Advance(TimeSpan.FromHours(19));
        Assert.Equal(1, (await engine.ReconcileAsync(None)).Refreshing);
        await engine.DrainAsync(None);
        Assert.Single(deployer.Refreshes);
        Assert.Single(deployer.Calls);
    }
}
