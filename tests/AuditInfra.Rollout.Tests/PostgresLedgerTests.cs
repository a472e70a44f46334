using System.Collections.Concurrent;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Ledger;
using AuditInfra.Rollout.Tests.Support;
using Npgsql;

namespace AuditInfra.Rollout.Tests;

/// <summary>
/// The scale-out ledger against a real PostgreSQL server (started on loopback by test.sh through
/// .ci/postgres.sh; connection string in AUDITINFRA_TEST_POSTGRES). Without it these tests fail in
/// CI (CI=true) and are reported as skipped elsewhere.
/// </summary>
[Trait("Category", "Postgres")]
public class PostgresLedgerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task Two_engines_sharing_one_ledger_never_deploy_the_same_account_twice_at_once()
    {
        var connectionString = await FreshDatabaseAsync();

        var directory = Fleet.Directory(Fleet.Active(200));
        var deployer = new RecordingDeployer(TimeSpan.FromMilliseconds(3)); // one deployer observes both hosts
        var perHost = new ConcurrentDictionary<string, int>();
        await using var ledgerA = await PostgresRolloutLedger.OpenAsync(connectionString);
        await using var ledgerB = await PostgresRolloutLedger.OpenAsync(connectionString);
        var a = new RolloutEngine(ledgerA, deployer.Object, directory.Object, SystemClock.Instance, Fleet.Spec(), Fleet.Options(concurrency: 4, owner: "host-a"));
        var b = new RolloutEngine(ledgerB, deployer.Object, directory.Object, SystemClock.Instance, Fleet.Spec(), Fleet.Options(concurrency: 4, owner: "host-b"));
        a.OperationCompleted += o => perHost.AddOrUpdate("a", 1, (_, n) => n + 1);
        b.OperationCompleted += o => perHost.AddOrUpdate("b", 1, (_, n) => n + 1);

        // Both reconcile (as two hosts starting together would), then both work.
        await Task.WhenAll(a.ReconcileAsync(CancellationToken.None), b.ReconcileAsync(CancellationToken.None));
        await Task.WhenAll(a.DrainAsync(CancellationToken.None), b.DrainAsync(CancellationToken.None));

        Assert.Empty(deployer.Overlaps);
        Assert.Equal(200, deployer.Calls.Count);
        Assert.Equal(200, deployer.Calls.Select(c => c.AccountId).Distinct().Count());
        Assert.True(perHost.GetValueOrDefault("a") > 0 && perHost.GetValueOrDefault("b") > 0, $"both hosts should work: {string.Join(", ", perHost)}");
        Assert.InRange(deployer.Peak, 5, 8);
        Assert.All(await ledgerA.ListAsync(CancellationToken.None), e => Assert.Equal(AccountRolloutState.Deployed, e.State));
    }

    [SkippableFact]
    public async Task Racing_leases_hand_each_account_to_exactly_one_owner()
    {
        var connectionString = await FreshDatabaseAsync();

        await using var ledger = await PostgresRolloutLedger.OpenAsync(connectionString);
        for (var i = 1; i <= 60; i++)
        {
            await ledger.EnqueueAsync(Fleet.AccountId(i), "v1", "test", true, null, Start, CancellationToken.None);
        }

        var leased = new ConcurrentBag<LeasedWork>();
        await Task.WhenAll(Enumerable.Range(0, 12).Select(async worker =>
        {
            while (await ledger.TryLeaseAsync($"owner-{worker}", "v1", TimeSpan.FromSeconds(1), null, CancellationToken.None) is { } work)
            {
                leased.Add(work);
            }
        }));

        Assert.Equal(60, leased.Count);
        Assert.Equal(60, leased.Select(w => w.AccountId).Distinct().Count());

        // Nothing more until the leases expire (the server's clock); then a new owner takes an abandoned one over.
        Assert.Null(await ledger.TryLeaseAsync("late", "v1", TimeSpan.FromMinutes(5), null, CancellationToken.None));
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var takeover = await ledger.TryLeaseAsync("late", "v1", TimeSpan.FromMinutes(5), null, CancellationToken.None);
        Assert.NotNull(takeover);
        Assert.Equal(2, takeover.Attempts);
        var previous = leased.Single(w => w.AccountId == takeover.AccountId);
        Assert.False(await ledger.CompleteAsync(previous, "v1", Start.AddMinutes(7), CancellationToken.None));
        Assert.True(await ledger.CompleteAsync(takeover, "v1", Start.AddMinutes(7), CancellationToken.None));
    }

    [SkippableFact]
    public async Task Enqueue_is_idempotent_and_follows_versions()
    {
        var connectionString = await FreshDatabaseAsync();

        await using var ledger = await PostgresRolloutLedger.OpenAsync(connectionString);
        var id = Fleet.AccountId(1);
        Assert.Equal(EnqueueResult.Enqueued, await ledger.EnqueueAsync(id, "v1", "e1", true, Start, Start, CancellationToken.None));
        Assert.Equal(EnqueueResult.AlreadyQueued, await ledger.EnqueueAsync(id, "v1", "e1", true, Start, Start, CancellationToken.None));
        var work = await ledger.TryLeaseAsync("h", "v1", TimeSpan.FromMinutes(1), id, CancellationToken.None);
        Assert.NotNull(work);
        Assert.True(await ledger.CompleteAsync(work, "v1", Start, CancellationToken.None));
        Assert.Equal(EnqueueResult.AlreadyCurrent, await ledger.EnqueueAsync(id, "v1", "replay", true, Start, Start, CancellationToken.None));
        Assert.Equal(EnqueueResult.Enqueued, await ledger.EnqueueAsync(id, "v2", "bump", true, null, Start, CancellationToken.None));
        Assert.Equal(RetireResult.Retired, await ledger.RetireAsync(id, "left", Start.AddHours(1), Start, CancellationToken.None));
        Assert.Equal(EnqueueResult.Stale, await ledger.EnqueueAsync(id, "v2", "late create", true, Start.AddMinutes(30), Start, CancellationToken.None));
        var entry = Assert.Single(await ledger.ListAsync(CancellationToken.None));
        Assert.Equal(AccountRolloutState.Retired, entry.State);
        Assert.Equal("v1", entry.DeployedVersion);
    }

    [SkippableFact]
    public async Task Leases_crashes_retirement_versions_and_refreshes_follow_the_same_rules_as_on_SQLite()
    {
        var connectionString = await FreshDatabaseAsync();
        await using var ledger = await PostgresRolloutLedger.OpenAsync(connectionString);
        var ct = CancellationToken.None;
        var added = await ledger.EnqueueNewAsync([.. Enumerable.Range(1, 250).Select(Fleet.AccountId)], "1.1.0+a", "reconciliation", Start, ct);
        Assert.Equal(250, added.Count);
        Assert.Empty(await ledger.EnqueueNewAsync([Fleet.AccountId(1)], "1.1.0+a", "reconciliation", Start, ct));
        Assert.Equal(0, await ledger.CountOutstandingAsync("1.0.0+a", ct));
        Assert.Equal(250, await ledger.CountOutstandingAsync("1.1.0+a", ct));

        // An older program's host finds nothing to lease and may not ask for its version.
        Assert.Null(await ledger.TryLeaseAsync("old", "1.0.0+a", TimeSpan.FromMinutes(5), null, ct));
        Assert.Equal(EnqueueResult.Outdated, await ledger.EnqueueAsync(Fleet.AccountId(1), "1.0.0+a", "old host", true, null, Start, ct));

        // A crashed lease is taken over with the crash counted and said.
        var id = Fleet.AccountId(1);
        // (A second's lease: a 200 ms one lapsed before the next statement when the shared machine stalled.)
        Assert.NotNull(await ledger.TryLeaseAsync("crashed", "1.1.0+a", TimeSpan.FromSeconds(1), id, ct));
        Assert.Null(await ledger.TryLeaseAsync("other", "1.1.0+a", TimeSpan.FromMinutes(5), id, ct));
        await Task.Delay(1200);
        var work = await ledger.TryLeaseAsync("host", "1.1.0+a", TimeSpan.FromMinutes(5), id, ct);
        Assert.Equal(2, work!.Attempts);
        Assert.Equal("attempt 1 by crashed never finished (the host stopped or lost its lease during the operation)", work.LastError);

        // Retired while in progress: the lease stays; requeued, nobody else may lease it until the operation ends.
        Assert.Equal(RetireResult.Retired, await ledger.RetireAsync(id, "left", null, Start, ct));
        Assert.Equal(EnqueueResult.Requeued, await ledger.EnqueueAsync(id, "1.1.0+a", "back", true, null, Start, ct));
        Assert.Null(await ledger.TryLeaseAsync("other", "1.1.0+a", TimeSpan.FromMinutes(5), id, ct));
        Assert.True(await ledger.RenewAsync(work, TimeSpan.FromMinutes(5), ct));
        Assert.True(await ledger.CompleteAsync(work, "1.1.0+a", Start, ct));
        var entry = (await ledger.ListAsync(ct)).Single(e => e.AccountId == id);
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Equal(Start, entry.RefreshedAt);

        // Refresh: due only after the interval; a refresh request is pending work flagged as such.
        Assert.False(await ledger.RequestRefreshAsync(id, "1.1.0+a", Start.AddHours(-1), Start.AddHours(1), ct));
        Assert.True(await ledger.RequestRefreshAsync(id, "1.1.0+a", Start.AddHours(1), Start.AddHours(25), ct));
        var refresh = await ledger.TryLeaseAsync("host", "1.1.0+a", TimeSpan.FromMinutes(5), id, ct);
        Assert.True(refresh!.Refresh);

        // A delayed creation event after a retirement by reconciliation (the server's clock) is stale.
        var other = Fleet.AccountId(2);
        Assert.Equal(RetireResult.Retired, await ledger.RetireAsync(other, "no longer in the organization", null, Start, ct));
        Assert.Equal(EnqueueResult.Stale, await ledger.EnqueueAsync(other, "1.1.0+a", "CreateAccountResult", true, DateTimeOffset.UtcNow.AddMinutes(-5), Start, ct));
    }

    /// <summary>A new database on the test server; without a server the test is skipped (outside CI) or fails (in CI).</summary>
    internal static async Task<string> FreshDatabaseAsync()
    {
        var server = Environment.GetEnvironmentVariable(RolloutLedgers.PostgresTestEnvironmentVariable);
        if (string.IsNullOrEmpty(server))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"{RolloutLedgers.PostgresTestEnvironmentVariable} is not set: CI must run the PostgreSQL ledger tests (test.sh starts a server with .ci/postgres.sh; apt-get install -y postgresql)");
            }

            Skip.If(true, $"no PostgreSQL server: {RolloutLedgers.PostgresTestEnvironmentVariable} is not set (test.sh starts one with .ci/postgres.sh)");
        }

        var name = "ledger_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }
}
