using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Ledger;
using AuditInfra.Rollout.Tests.Support;

namespace AuditInfra.Rollout.Tests;

/// <summary>
/// All of one host's leases share its owner name, so a lease is also told apart by its own token: a
/// holder whose lease lapsed and was taken again, by another host or by its own host's next lease,
/// can no longer renew it or record an outcome over the new holder's. On SQLite and PostgreSQL.
/// </summary>
public class LeaseTokenTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;
    private const string Version = "1.0.0+abc";

    [Fact]
    public async Task On_SQLite_a_lapsed_lease_taken_again_by_the_same_host_cannot_renew_or_record_an_outcome()
    {
        await using var temp = await TempLedger.CreateAsync();
        await A_lapsed_lease_taken_again_by_the_same_host_cannot_renew_or_record_an_outcome(temp.Ledger);
    }

    [SkippableFact]
    [Trait("Category", "Postgres")]
    public async Task On_PostgreSQL_a_lapsed_lease_taken_again_by_the_same_host_cannot_renew_or_record_an_outcome()
    {
        var connectionString = await PostgresLedgerTests.FreshDatabaseAsync();
        await using var ledger = await PostgresRolloutLedger.OpenAsync(connectionString);
        await A_lapsed_lease_taken_again_by_the_same_host_cannot_renew_or_record_an_outcome(ledger);
    }

    [Fact]
    public async Task On_SQLite_a_lapsed_lease_nobody_took_is_still_its_holders()
    {
        await using var temp = await TempLedger.CreateAsync();
        await A_lapsed_lease_nobody_took_is_still_its_holders(temp.Ledger);
    }

    [SkippableFact]
    [Trait("Category", "Postgres")]
    public async Task On_PostgreSQL_a_lapsed_lease_nobody_took_is_still_its_holders()
    {
        var connectionString = await PostgresLedgerTests.FreshDatabaseAsync();
        await using var ledger = await PostgresRolloutLedger.OpenAsync(connectionString);
        await A_lapsed_lease_nobody_took_is_still_its_holders(ledger);
    }

    [Fact]
    public async Task A_ledger_file_from_before_lease_tokens_gains_the_column_and_its_leases_work()
    {
        await using var temp = await TempLedger.CreateAsync();
        var id = Fleet.AccountId(1);
        await temp.Ledger.EnqueueAsync(id, Version, "test", true, null, Start, None);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={temp.Path}"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "ALTER TABLE rollout_accounts DROP COLUMN lease_token";
            await drop.ExecuteNonQueryAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var ledger = await temp.ReopenAsync();
        var work = await ledger.TryLeaseAsync("host-a", Version, TimeSpan.FromMinutes(10), id, None);
        Assert.NotNull(work);
        Assert.True(await ledger.RenewAsync(work, TimeSpan.FromMinutes(10), None));
        Assert.True(await ledger.CompleteAsync(work, Version, Start, None));
        Assert.Equal(AccountRolloutState.Deployed, (await ledger.ListAsync(None)).Single().State);
    }

    private static async Task A_lapsed_lease_taken_again_by_the_same_host_cannot_renew_or_record_an_outcome(IRolloutLedger ledger)
    {
        var id = Fleet.AccountId(1);
        await ledger.EnqueueAsync(id, Version, "test", true, null, Start, None);

        // A millisecond's lease has surely lapsed (by the database's clock) 50 ms later; the same host leases the account again.
        var stale = await ledger.TryLeaseAsync("host-a", Version, TimeSpan.FromMilliseconds(1), id, None);
        Assert.NotNull(stale);
        await Task.Delay(50);
        var current = await ledger.TryLeaseAsync("host-a", Version, TimeSpan.FromMinutes(10), id, None);
        Assert.NotNull(current);
        Assert.Equal(2, current.Attempts);
        Assert.Equal(stale.Owner, current.Owner);
        Assert.NotEqual(stale.Token, current.Token);

        // The stale holder changes nothing: not the expiry, not the attempts, not the state.
        Assert.False(await ledger.RenewAsync(stale, TimeSpan.FromMinutes(10), None));
        Assert.False(await ledger.RecordAttemptAsync(stale, "Throttling: rate exceeded", Start, None));
        Assert.False(await ledger.ReleaseAsync(stale, TimeSpan.Zero, "stopped", Start, None));
        Assert.False(await ledger.FailAsync(stale, Version, "Permanent: AccessDenied", Start, None));
        Assert.False(await ledger.CompleteAsync(stale, Version, Start, None));
        var held = (await ledger.ListAsync(None)).Single();
        Assert.Equal(AccountRolloutState.InProgress, held.State);
        Assert.Equal("host-a", held.LeaseOwner);
        Assert.Equal(2, held.Attempts);
        Assert.Equal("attempt 1 by host-a never finished (the host stopped or lost its lease during the operation)", held.LastError);

        // The current holder still renews and records.
        Assert.True(await ledger.RenewAsync(current, TimeSpan.FromMinutes(10), None));
        Assert.True(await ledger.CompleteAsync(current, Version, Start, None));
        var done = (await ledger.ListAsync(None)).Single();
        Assert.Equal(AccountRolloutState.Deployed, done.State);
        Assert.Null(done.LeaseOwner);
        Assert.False(await ledger.RenewAsync(current, TimeSpan.FromMinutes(10), None));
    }

    private static async Task A_lapsed_lease_nobody_took_is_still_its_holders(IRolloutLedger ledger)
    {
        var id = Fleet.AccountId(1);
        await ledger.EnqueueAsync(id, Version, "test", true, null, Start, None);
        var work = await ledger.TryLeaseAsync("host-a", Version, TimeSpan.FromMilliseconds(1), id, None);
        Assert.NotNull(work);
        await Task.Delay(50);

        // Renewed, it is held again: nobody else takes it, and its holder records the outcome.
        Assert.True(await ledger.RenewAsync(work, TimeSpan.FromMinutes(10), None));
        Assert.Null(await ledger.TryLeaseAsync("host-b", Version, TimeSpan.FromMinutes(10), null, None));
        Assert.True(await ledger.CompleteAsync(work, Version, Start, None));
        var entry = (await ledger.ListAsync(None)).Single();
        Assert.Equal(AccountRolloutState.Deployed, entry.State);
        Assert.Equal(1, entry.Attempts);
    }
}
