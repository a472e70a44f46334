using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Tests.Support;

namespace AuditInfra.Rollout.Tests;

/// <summary>
/// A worker leases its next account while its deployment runs (off the path between two
/// deployments). Those leases keep every guarantee of the others, on a real SQLite ledger.
/// </summary>
public class EngineLeaseAheadTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;
    private const string Version = "1.0.0+abc";

    private static RolloutEngine Engine(IRolloutLedger ledger, RecordingDeployer deployer, int accounts, RolloutEngineOptions options, ListLogger? logger = null) =>
        new(ledger, deployer.Object, Fleet.Directory(Fleet.Active(accounts)).Object, new ManualClock(Start), Fleet.Spec(Version), options, logger);

    private static async Task<LedgerEntry> Entry(IRolloutLedger ledger, string id) =>
        (await ledger.ListAsync(None)).Single(e => e.AccountId == id);

    private static async Task<List<LedgerEntry>> HeldBy(IRolloutLedger ledger, string owner) =>
        [.. (await ledger.ListAsync(None)).Where(e => e.LeaseOwner == owner)];

    [Fact]
    public async Task An_account_leased_ahead_whose_lease_was_lost_while_it_waited_is_not_deployed()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        var release = new TaskCompletionSource();
        deployer.Behaviour = (_, _) => release.Task;
        var logger = new ListLogger();
        var options = Fleet.Options(concurrency: 1, owner: "host-a") with { Lease = TimeSpan.FromSeconds(1) };
        var engine = Engine(temp.Ledger, deployer, 2, options, logger);
        await engine.ReconcileAsync(None);
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(null, stop.Token);

        // The first account deploys (its lease renewed meanwhile); the second is leased ahead, waiting.
        await RolloutEngineTests.WaitUntil(async () => deployer.Calls.Count == 1 && (await HeldBy(temp.Ledger, "host-a")).Count == 2);
        var first = deployer.Calls.Single().AccountId;
        var second = (await HeldBy(temp.Ledger, "host-a")).Single(e => e.AccountId != first).AccountId;

        // The waiting lease expires (it is renewed only once started) and another host takes the account.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.NotNull(await temp.Ledger.TryLeaseAsync("host-b", Version, TimeSpan.FromMinutes(10), second, None));

        release.SetResult();
        await RolloutEngineTests.WaitUntil(async () => (await Entry(temp.Ledger, first)).State == AccountRolloutState.Deployed
                                                       && logger.Entries.Any(e => e.Message.Contains("lease was lost while it waited", StringComparison.Ordinal)));
        await Task.Delay(200);
        await stop.CancelAsync();
        await run;

        Assert.Equal([first], deployer.Calls.Select(c => c.AccountId));
        var taken = await Entry(temp.Ledger, second);
        Assert.Equal("host-b", taken.LeaseOwner);
        Assert.Equal(AccountRolloutState.InProgress, taken.State);
    }

    [Fact]
    public async Task An_account_leased_ahead_and_renewed_after_a_long_wait_is_deployed()
    {
        await using var temp = await TempLedger.CreateAsync();
        var ledger = new FaultyLedger(temp.Ledger);
        var deployer = new RecordingDeployer();
        var release = new TaskCompletionSource();
        var first = 1;
        deployer.Behaviour = (_, _) => Interlocked.Exchange(ref first, 0) == 1 ? release.Task : Task.CompletedTask;
        var options = Fleet.Options(concurrency: 1, owner: "host-a") with { Lease = TimeSpan.FromSeconds(1.5) };
        var engine = Engine(ledger, deployer, 2, options);
        await engine.ReconcileAsync(None);
        var drain = engine.DrainAsync(None);
        await RolloutEngineTests.WaitUntil(async () => deployer.Calls.Count == 1 && (await HeldBy(temp.Ledger, "host-a")).Count == 2);

        // Waiting longer than a renewal period (a third of the lease): renewed before it starts.
        await Task.Delay(TimeSpan.FromSeconds(0.8));
        var renewalsBefore = ledger.Calls.GetValueOrDefault(nameof(IRolloutLedger.RenewAsync));
        release.SetResult();
        await drain;

        Assert.Equal(2, deployer.Succeeded.Count);
        Assert.All(await temp.Ledger.ListAsync(None), e => Assert.Equal(AccountRolloutState.Deployed, e.State));
        Assert.True(ledger.Calls[nameof(IRolloutLedger.RenewAsync)] > renewalsBefore);
    }

    [Fact]
    public async Task An_account_leased_ahead_that_waited_past_its_lease_and_was_not_taken_is_renewed_and_deployed_as_the_same_attempt()
    {
        await using var temp = await TempLedger.CreateAsync();
        var ledger = new FaultyLedger(temp.Ledger);
        var deployer = new RecordingDeployer();
        var release = new TaskCompletionSource();
        var first = 1;
        deployer.Behaviour = (_, _) => Interlocked.Exchange(ref first, 0) == 1 ? release.Task : Task.CompletedTask;
        var options = Fleet.Options(concurrency: 1, owner: "host-a") with { Lease = TimeSpan.FromSeconds(1) };
        var engine = Engine(ledger, deployer, 2, options);
        await engine.ReconcileAsync(None);
        var drain = engine.DrainAsync(None);
        await RolloutEngineTests.WaitUntil(async () => deployer.Calls.Count == 1 && (await HeldBy(temp.Ledger, "host-a")).Count == 2);
        var waiting = (await HeldBy(temp.Ledger, "host-a")).Single(e => e.AccountId != deployer.Calls.Single().AccountId).AccountId;

        // It waits longer than its whole lease (nobody else is there to take it), then its worker is free.
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        var renewalsBefore = ledger.Calls.GetValueOrDefault(nameof(IRolloutLedger.RenewAsync));
        release.SetResult();
        await drain;

        // Still this lease's: renewed and deployed, not left in progress to lapse and be counted again.
        Assert.Equal(2, deployer.Succeeded.Count);
        Assert.True(ledger.Calls[nameof(IRolloutLedger.RenewAsync)] > renewalsBefore);
        var entry = await Entry(temp.Ledger, waiting);
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Equal(1, entry.Attempts);
        Assert.Equal(1, (await ledger.ListAsync(None)).Single(e => e.AccountId != waiting).Attempts);
    }

    [Fact]
    public async Task An_account_leased_ahead_is_renewed_a_renewal_period_after_its_lease_not_after_its_start()
    {
        await using var temp = await TempLedger.CreateAsync();
        var ledger = new FaultyLedger(temp.Ledger);
        var leasedAt = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var firstRenewal = new System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<TimeSpan>>();
        TaskCompletionSource<TimeSpan> RenewalOf(string id) => firstRenewal.GetOrAdd(id, _ => new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously));
        ledger.Leased = work => leasedAt.TryAdd(work.AccountId, System.Diagnostics.Stopwatch.GetTimestamp());
        ledger.BeforeRenewal = work =>
        {
            RenewalOf(work.AccountId).TrySetResult(System.Diagnostics.Stopwatch.GetElapsedTime(leasedAt[work.AccountId]));
            return Task.CompletedTask;
        };

        // The first account deploys until released; the second, leased ahead meanwhile, deploys until its lease is renewed.
        var deployer = new RecordingDeployer();
        var release = new TaskCompletionSource();
        var first = 1;
        deployer.Behaviour = (r, _) => Interlocked.Exchange(ref first, 0) == 1 ? release.Task : RenewalOf(r.AccountId).Task.WaitAsync(TimeSpan.FromSeconds(10));
        var options = Fleet.Options(concurrency: 1, owner: "host-a") with { Lease = TimeSpan.FromSeconds(6) };
        var engine = Engine(ledger, deployer, 2, options);
        await engine.ReconcileAsync(None);
        var drain = engine.DrainAsync(None);
        await RolloutEngineTests.WaitUntil(async () => deployer.Calls.Count == 1 && (await HeldBy(temp.Ledger, "host-a")).Count == 2);
        var ahead = (await HeldBy(temp.Ledger, "host-a")).Single(e => e.AccountId != deployer.Calls.Single().AccountId).AccountId;

        // It waits 1.5 s of the 2 s renewal period before it starts. Renewed a period after its lease
        // (2 s), it keeps two thirds of the lease in hand; a period after its start (3.5 s), barely a third.
        var waited = System.Diagnostics.Stopwatch.GetElapsedTime(leasedAt[ahead]);
        await Task.Delay(waited < TimeSpan.FromSeconds(1.5) ? TimeSpan.FromSeconds(1.5) - waited : TimeSpan.Zero);
        release.SetResult();
        await drain;

        Assert.Equal(2, deployer.Succeeded.Count);
        Assert.InRange(await RenewalOf(ahead).Task, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(2.9));
    }

    [Fact]
    public async Task Accounts_leased_ahead_are_released_at_once_on_stop_without_counting_an_attempt()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer();
        deployer.Behaviour = (_, ct) => Task.Delay(Timeout.Infinite, ct);
        var engine = Engine(temp.Ledger, deployer, 5, Fleet.Options(concurrency: 2, owner: "host-a"));
        await engine.ReconcileAsync(None);
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(null, stop.Token);

        // Two deploying, and one or two leased ahead (a worker free first may take another's): never
        // more than one per worker.
        await RolloutEngineTests.WaitUntil(async () => deployer.Calls.Count == 2 && (await HeldBy(temp.Ledger, "host-a")).Count >= 3);
        await Task.Delay(200);
        var deploying = deployer.Calls.Select(c => c.AccountId).ToHashSet();
        var ahead = (await HeldBy(temp.Ledger, "host-a")).Select(e => e.AccountId).Where(id => !deploying.Contains(id)).ToList();
        Assert.InRange(ahead.Count, 1, 2);
        Assert.Equal(2, deployer.Calls.Count);

        await stop.CancelAsync();
        await run;

        // Another host takes them at once (their 10-minute leases are not waited out), and nothing was counted.
        foreach (var id in ahead)
        {
            var entry = await Entry(temp.Ledger, id);
            Assert.Null(entry.LeaseOwner);
            Assert.Equal(AccountRolloutState.Pending, entry.State);
            Assert.Equal(0, entry.Attempts);
            Assert.NotNull(await temp.Ledger.TryLeaseAsync("host-b", Version, TimeSpan.FromMinutes(10), id, None));
        }

        Assert.Equal(2, deployer.Calls.Count);
    }

    [Fact]
    public async Task Leasing_ahead_keeps_the_concurrency_limit_and_a_drain_ends_with_every_account_deployed_once()
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new RecordingDeployer(TimeSpan.FromMilliseconds(5));
        var engine = Engine(temp.Ledger, deployer, 40, Fleet.Options(concurrency: 3));
        await engine.ReconcileAsync(None);
        await engine.DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.InRange(deployer.Peak, 1, 3);
        Assert.Empty(deployer.Overlaps);
        Assert.Equal(40, deployer.Calls.Select(c => c.AccountId).Distinct().Count());
        Assert.Equal(40, deployer.Calls.Count);
        var entries = await temp.Ledger.ListAsync(None);
        Assert.All(entries, e => Assert.Equal(AccountRolloutState.Deployed, e.State));
        Assert.All(entries, e => Assert.Null(e.LeaseOwner));
        Assert.All(entries, e => Assert.Equal(1, e.Attempts));
    }
}
