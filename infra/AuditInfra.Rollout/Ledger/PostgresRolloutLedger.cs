using System.Data.Common;
using Npgsql;

namespace AuditInfra.Rollout.Ledger;

/// <summary>
/// The scale-out ledger for several hosts: one PostgreSQL table; a host leases an account with
/// <c>FOR UPDATE SKIP LOCKED</c>, so hosts never pick the same account, and a crashed host's
/// lease expires and is taken over.
/// </summary>
public sealed class PostgresRolloutLedger : SqlRolloutLedger, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgresRolloutLedger(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public static async Task<PostgresRolloutLedger> OpenAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        // The same few statements run for every account: prepared once per connection, the server
        // does not plan the lease query again for each of them.
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        // The ledger sets no session state (its only lock is transaction-scoped): a pooled
        // connection needs no reset statements each time it is taken.
        builder.ConnectionStringBuilder.NoResetOnClose = true;

        var ledger = new PostgresRolloutLedger(builder.Build());
        await using var connection = await ledger.OpenAsync(cancellationToken);
        // Two hosts starting at once both create the schema: serialize that with an advisory lock.
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = Command(connection, tx, "SELECT pg_advisory_xact_lock(727274)"))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var schema = Command(connection, tx, SchemaSql))
        {
            await schema.ExecuteNonQueryAsync(cancellationToken);
        }

        await UpgradeSchemaAsync(connection, tx, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return ledger;
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);

    protected override string NowMs => "(SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))";

    protected override string ForUpdate => " FOR UPDATE";

    protected override string SkipLocked => " FOR UPDATE SKIP LOCKED";

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
