using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Status;
using AuditInfra.Rollout.Tests.Support;
using Moq;

namespace AuditInfra.Rollout.Tests;

public class RolloutEngineTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    private static RolloutEngine Engine(IRolloutLedger ledger, RecordingDeployer deployer, Mock<IAccountDirectory>? directory = null, IClock? clock = null, RolloutSpec? spec = null, RolloutEngineOptions? options = null) =>
        new(ledger, deployer.Object, (directory ?? Fleet.Directory()).Object, clock ?? new ManualClock(Start), spec ?? Fleet.Spec(), options ?? Fleet.Options());

    private static async Task<LedgerEntry> Entry(IRolloutLedger ledger, string id) =>
        (await ledger.ListAsync(None)).Single(e => e.AccountId == id);

    [Fact]
    public async Task A_simulated_organization_of_1000_accounts_converges_with_bounded_concurrency()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer(TimeSpan.FromMilliseconds(1));
        var accounts = Fleet.Active(1000).Append(new OrganizationAccount(Fleet.Management, "management", OrganizationAccountStatus.Active)).ToArray();
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(accounts), options: Fleet.Options(concurrency: 16));

        var summary = await engine.ReconcileAsync(None);
        Assert.Equal(new ReconcileSummary(1001, 1000, 1000, 0, 0, 0, 0, 1), summary);
        await engine.DrainAsync(None);

        var entries = await temp.Ledger.ListAsync(None);
        Assert.Equal(1000, entries.Count);
        Assert.All(entries, e => Assert.Equal(AccountRolloutState.Deployed, e.State));
        Assert.All(entries, e => Assert.Equal("1.0.0+abc", e.DeployedVersion));
        Assert.Equal(1000, deployer.Calls.Count);
        Assert.Equal(1000, deployer.Calls.Select(c => c.AccountId).Distinct().Count());
        Assert.DoesNotContain(deployer.Calls, c => c.AccountId == Fleet.Management);
        Assert.InRange(deployer.Peak, 2, 16);
        Assert.Empty(deployer.Overlaps);

        // Reconciling again finds everything current: nothing is deployed.
        var again = await engine.ReconcileAsync(None);
        Assert.Equal(1000, again.Current);
        Assert.Equal(0, again.Enqueued);
        await engine.DrainAsync(None);
        Assert.Equal(1000, deployer.Calls.Count);
    }

    [Fact]
    public async Task Concurrency_is_bounded_by_the_option()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer(TimeSpan.FromMilliseconds(15));
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(24)), options: Fleet.Options(concurrency: 3));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);
        Assert.Equal(3, deployer.Peak);
        Assert.Equal(24, deployer.Calls.Count);
    }

    [Fact]
    public async Task A_duplicate_or_replayed_event_deploys_once()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var engine = Engine(temp.Ledger, deployer);
        var intake = new FakeIntake();
        var body = Events.CreateAccountResult("333333333333");
        intake.Add(body, body);
        await engine.PollIntakeAsync(intake, None);
        await engine.DrainAsync(None);

        intake.Add(body); // replayed after deployment
        await engine.PollIntakeAsync(intake, None);
        await engine.DrainAsync(None);

        Assert.Equal(1, deployer.CallsFor("333333333333"));
        Assert.Equal(3, intake.Acknowledged.Count);
        Assert.Equal(AccountRolloutState.Deployed, (await Entry(temp.Ledger, "333333333333")).State);
    }

    [Fact]
    public async Task Out_of_order_events_do_not_resurrect_an_account_that_left()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var engine = Engine(temp.Ledger, deployer);
        var intake = new FakeIntake();

        // The removal (22:00) arrives before the delayed creation (21:20).
        intake.Add(Events.RemoveAccount("333333333333", "2020-09-16T22:00:00Z"), Events.CreateAccountResult("333333333333", completed: "Sep 16, 2020 9:20:53 PM"));
        var outcomes = await engine.PollIntakeAsync(intake, None);
        await engine.DrainAsync(None);

        Assert.Contains("Stale", outcomes[1].Detail);
        Assert.Equal(0, deployer.CallsFor("333333333333"));
        Assert.Equal(AccountRolloutState.Retired, (await Entry(temp.Ledger, "333333333333")).State);

        // A later move (the account was invited back and moved) does bring it back.
        intake.Add(Events.MoveAccount("333333333333", "2020-09-17T10:00:00Z"));
        await engine.PollIntakeAsync(intake, None);
        await engine.DrainAsync(None);
        Assert.Equal(1, deployer.CallsFor("333333333333"));
    }

    [Fact]
    public async Task Transient_failures_are_retried_until_success()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var failures = 2;
        deployer.Behaviour = (_, _) => Interlocked.Decrement(ref failures) >= 0 ? throw new DeploymentException("Throttling: rate exceeded") : Task.CompletedTask;
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(1)), options: Fleet.Options(maxAttempts: 5));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        var entry = await Entry(temp.Ledger, Fleet.AccountId(1));
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Equal(3, entry.Attempts);
        Assert.Null(entry.LastError);
        Assert.Equal(3, deployer.Calls.Count);
    }

    [Fact]
    public async Task A_permanent_failure_is_marked_failed_with_its_reason_after_the_attempts_and_shown_by_status()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        deployer.Behaviour = (r, _) => throw new DeploymentException($"AccessDenied: cannot assume {r.Inputs.ExecutionRoleArn}", DeploymentFailureKind.Permanent);
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(2)), options: Fleet.Options(maxAttempts: 3));
        deployer.Behaviour = (r, _) => r.AccountId == Fleet.AccountId(2)
            ? throw new DeploymentException($"AccessDenied: cannot assume {r.Inputs.ExecutionRoleArn}", DeploymentFailureKind.Permanent)
            : Task.CompletedTask;
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        var failed = await Entry(temp.Ledger, Fleet.AccountId(2));
        Assert.Equal(AccountRolloutState.Failed, failed.State);
        Assert.Equal(3, failed.Attempts);
        Assert.Equal(3, deployer.CallsFor(Fleet.AccountId(2)));
        Assert.Contains("cannot assume arn:aws:iam::300000000002:role/OrganizationAccountAccessRole", failed.LastError);

        var table = RolloutStatusReport.Table(await temp.Ledger.ListAsync(None));
        Assert.Contains("300000000002  failed", table);
        Assert.Contains("Permanent: AccessDenied: cannot assume", table);
        Assert.Contains("2 account(s): 1 deployed, 1 failed", table);

        // A duplicate event does not retry it; reconciliation does.
        Assert.Equal(EnqueueResult.StillFailed, await temp.Ledger.EnqueueAsync(Fleet.AccountId(2), "1.0.0+abc", "replay", retryFailed: false, null, Start, None));
        deployer.Behaviour = (_, _) => Task.CompletedTask;
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);
        Assert.Equal(AccountRolloutState.Deployed, (await Entry(temp.Ledger, Fleet.AccountId(2))).State);
    }

    [Fact]
    public async Task A_locked_stack_is_retried_not_failed_and_not_counted()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var locked = 4;
        deployer.Behaviour = (_, _) => Interlocked.Decrement(ref locked) >= 0
            ? throw new DeploymentException("the stack is currently locked by 1 lock(s)", DeploymentFailureKind.ConcurrentUpdate)
            : Task.CompletedTask;
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(1)), options: Fleet.Options(maxAttempts: 2));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        var entry = await Entry(temp.Ledger, Fleet.AccountId(1));
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Equal(1, entry.Attempts);
        Assert.Equal(5, deployer.Calls.Count);
    }

    [Fact]
    public async Task A_stack_locked_beyond_the_lock_retries_goes_back_to_pending_never_failed()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        deployer.Behaviour = (_, _) => throw new DeploymentException("conflict: Another update is currently in progress.", DeploymentFailureKind.ConcurrentUpdate);
        var clock = new ManualClock(Start);
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(1)), clock, options: Fleet.Options(maxAttempts: 1) with { MaxRetryDelay = TimeSpan.FromMinutes(5) });
        await engine.ReconcileAsync(None);
        var work = await temp.Ledger.TryLeaseAsync("probe", "1.0.0+abc", TimeSpan.FromMinutes(1), null, None);
        Assert.NotNull(work);
        await temp.Ledger.ReleaseAsync(work, TimeSpan.Zero, null, clock.UtcNow, None);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await engine.RunAsync(null, stop.Token);
        var entry = await Entry(temp.Ledger, Fleet.AccountId(1));
        Assert.Equal(AccountRolloutState.Pending, entry.State);
        Assert.Equal(6, deployer.Calls.Count); // 1 + 5 lock retries, then handed back until the backoff passes
        Assert.Equal(0, entry.Attempts);
        Assert.Contains("locked", entry.LastError);
    }

    [Fact]
    public async Task A_version_bump_redeploys_every_account_once()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var directory = Fleet.Directory(Fleet.Active(5));
        var v1 = Engine(temp.Ledger, deployer, directory, spec: Fleet.Spec("1.0.0+abc"));
        await v1.ReconcileAsync(None);
        await v1.DrainAsync(None);

        var v2 = Engine(temp.Ledger, deployer, directory, spec: Fleet.Spec("1.1.0+abc"));
        var summary = await v2.ReconcileAsync(None);
        Assert.Equal(5, summary.Enqueued);
        await v2.DrainAsync(None);
        await v2.ReconcileAsync(None);
        await v2.DrainAsync(None);

        Assert.Equal(10, deployer.Calls.Count);
        Assert.Equal(5, deployer.Calls.Count(c => c.Version == "1.1.0+abc"));
        Assert.All(await temp.Ledger.ListAsync(None), e => Assert.Equal("1.1.0+abc", e.DeployedVersion));
    }

    [Fact]
    public async Task Accounts_that_left_or_are_closing_are_retired_and_their_stacks_kept()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(3)));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(None);

        var later = Fleet.Directory(
            new OrganizationAccount(Fleet.AccountId(1), "member-1", OrganizationAccountStatus.Active),
            new OrganizationAccount(Fleet.AccountId(2), "member-2", OrganizationAccountStatus.PendingClosure));
        var summary = await Engine(temp.Ledger, deployer, later).ReconcileAsync(None);
        Assert.Equal(2, summary.Retired);
        var entries = await temp.Ledger.ListAsync(None);
        Assert.Equal(AccountRolloutState.Retired, entries.Single(e => e.AccountId == Fleet.AccountId(2)).State);
        Assert.Equal("no longer in the organization", entries.Single(e => e.AccountId == Fleet.AccountId(3)).Reason);
        Assert.Equal("1.0.0+abc", entries.Single(e => e.AccountId == Fleet.AccountId(3)).DeployedVersion);
        deployer.Mock.Verify(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>()), Times.Exactly(3));
        deployer.Mock.VerifyNoOtherCalls(); // no destroy, no preview
    }

    [Fact]
    public async Task An_engine_abandoned_mid_run_is_resumed_by_a_new_one_on_the_same_ledger_file()
    {
        await using var temp = await TempLedger.CreateAsync();
        var clock = new ManualClock(Start);
        var directory = Fleet.Directory(Fleet.Active(20));

        // Engine A ("killed"): its deployments of the last four accounts never return; it never records or releases them.
        // Its leases are the usual 10 minutes: while A is alive they never lapse, however long the
        // machine stalls. (With a 1 s lease, a stall of a second on a loaded CI machine let A's leases
        // lapse while A ran, and A leased its own hung accounts again: two workers hung on one account
        // and the fourth stayed pending, so "4 in progress, 0 pending" was never reached.)
        var hang = new TaskCompletionSource();
        var first = new RecordingDeployer();
        var hung = Enumerable.Range(17, 4).Select(Fleet.AccountId).ToHashSet();
        first.Behaviour = (r, _) => hung.Contains(r.AccountId) ? hang.Task : Task.CompletedTask;
        var ledgerA = new FaultyLedger(await temp.ReopenAsync());
        var a = Engine(ledgerA, first, directory, clock, options: Fleet.Options(concurrency: 4, owner: "host-a"));
        await a.ReconcileAsync(None);
        using var killA = new CancellationTokenSource();
        var abandoned = a.DrainAsync(killA.Token);
        await WaitUntil(async () => (await temp.Ledger.ListAsync(None)).Count(e => e.State == AccountRolloutState.InProgress) == 4
                                    && (await temp.Ledger.ListAsync(None)).Count(e => e.State == AccountRolloutState.Pending) == 0);
        var inFlight = (await temp.Ledger.ListAsync(None)).Where(e => e.State == AccountRolloutState.InProgress).Select(e => e.AccountId).ToHashSet();
        Assert.Equal(hung, inFlight);
        var doneByA = first.Succeeded.Select(c => c.AccountId).ToHashSet();
        Assert.Equal(16, doneByA.Count);

        // A dies: it reaches the ledger no more. While its leases run, nobody may take its accounts;
        // then they lapse by the database's clock (its expiries moved past, as 11 minutes would).
        ledgerA.Fault = _ => new IOException("host killed");
        Assert.Null(await temp.Ledger.TryLeaseAsync("probe", "1.0.0+abc", TimeSpan.FromMinutes(10), null, None));
        await temp.AgeLeasesAsync("host-a", TimeSpan.FromMinutes(11));

        // Engine B starts on the same file.
        var second = new RecordingDeployer();
        var b = Engine(await temp.ReopenAsync(), second, directory, clock, options: Fleet.Options(concurrency: 4, owner: "host-b"));
        await b.ReconcileAsync(None);
        await b.DrainAsync(None);

        var entries = await temp.Ledger.ListAsync(None);
        Assert.All(entries, e => Assert.Equal(AccountRolloutState.Deployed, e.State));
        Assert.Equal(inFlight, second.Calls.Select(c => c.AccountId).ToHashSet());
        Assert.DoesNotContain(second.Calls, c => doneByA.Contains(c.AccountId));
        Assert.Equal(20, doneByA.Count + second.Succeeded.Count);
        Assert.All(entries.Where(e => hung.Contains(e.AccountId)), e => Assert.Equal(2, e.Attempts)); // the crashed attempt counts

        // A's hung operations finally return: it cannot record them, and nothing changes.
        hang.SetResult();
        killA.Cancel();
        await Task.WhenAny(abandoned, Task.Delay(5000));
        Assert.All(await temp.Ledger.ListAsync(None), e => Assert.Equal(AccountRolloutState.Deployed, e.State));
    }

    [Fact]
    public async Task Graceful_shutdown_stops_taking_work_and_releases_leases()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        deployer.Behaviour = (_, ct) => Task.Delay(Timeout.Infinite, ct);
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(6)), options: Fleet.Options(concurrency: 2));
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(null, stop.Token);
        await WaitUntil(() => Task.FromResult(deployer.Calls.Count == 2));
        stop.Cancel();
        await run;

        var entries = await temp.Ledger.ListAsync(None);
        Assert.All(entries, e => Assert.Equal(AccountRolloutState.Pending, e.State));
        Assert.All(entries, e => Assert.Null(e.LeaseOwner));
        Assert.All(entries, e => Assert.Equal(0, e.Attempts));
        Assert.Equal(2, deployer.Calls.Count);
    }

    [Fact]
    public async Task An_unparseable_message_goes_to_the_dead_letter_queue_with_its_reason()
    {
        await using var temp = await TempLedger.CreateAsync();
        var engine = Engine(temp.Ledger, new RecordingDeployer());
        var intake = new FakeIntake();
        intake.Add("{not json", Events.CreateAccountResult("12345"), Events.CreateAccountResult("333333333333", state: "FAILED"));
        var outcomes = await engine.PollIntakeAsync(intake, None);

        Assert.Equal([AccountEventOutcome.Invalid, AccountEventOutcome.Invalid, AccountEventOutcome.Ignored], outcomes.Select(o => o.Outcome));
        Assert.Equal(2, intake.DeadLettered.Count);
        Assert.StartsWith("not JSON", intake.DeadLettered[0].Reason);
        Assert.Contains("expected a 12-digit AWS account id", intake.DeadLettered[1].Reason);
        Assert.Single(intake.Acknowledged);
        Assert.Empty(await temp.Ledger.ListAsync(None));
    }

    [Fact]
    public async Task A_message_is_not_acknowledged_before_its_outcome_is_recorded()
    {
        var ledger = new Mock<IRolloutLedger>();
        ledger.Setup(l => l.EnqueueAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<DateTimeOffset?>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new IOException("database is locked"));
        var engine = new RolloutEngine(ledger.Object, new RecordingDeployer().Object, Fleet.Directory().Object, new ManualClock(Start), Fleet.Spec(), Fleet.Options());
        var intake = new FakeIntake();
        intake.Add(Events.CreateAccountResult("333333333333"));
        var outcomes = await engine.PollIntakeAsync(intake, None);

        Assert.Empty(outcomes);
        Assert.Empty(intake.Acknowledged);
        Assert.Empty(intake.DeadLettered);
    }

    [Fact]
    public async Task A_one_shot_rollout_deploys_only_the_named_accounts_and_reports_them()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var engine = Engine(temp.Ledger, deployer, Fleet.Directory(Fleet.Active(5)));
        await temp.Ledger.EnqueueAsync(Fleet.AccountId(5), "1.0.0+abc", "event", true, null, Start, None);
        var results = await engine.RolloutAsync([Fleet.AccountId(1), Fleet.AccountId(2)], None);

        Assert.Equal([Fleet.AccountId(1), Fleet.AccountId(2)], results.Select(r => r.AccountId));
        Assert.All(results, r => Assert.Equal(AccountRolloutState.Deployed, r.State));
        Assert.Equal(2, deployer.Calls.Count);
        Assert.Equal(AccountRolloutState.Pending, (await Entry(temp.Ledger, Fleet.AccountId(5))).State);
    }

    internal static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached in 20 s");
            }

            await Task.Delay(10);
        }
    }
}
