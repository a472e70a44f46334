using System.Data.Common;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Ledger;

/// <summary>
/// The ledger over one table, shared by SQLite and PostgreSQL. Every change is one statement or
/// one transaction; an operation is owned through a lease (owner + expiry) so that no two workers
/// or hosts ever operate on the same stack at once, and a crashed host's work is resumed once its
/// lease expires. Times are stored as Unix milliseconds.
/// </summary>
public abstract class SqlRolloutLedger : IRolloutLedger
{
    protected const string Table = "rollout_accounts";

    private const string Columns = "account_id, state, desired_version, deployed_version, attempts, last_attempt_at, last_error, lease_owner, lease_until, not_before, updated_at, reason, last_event_at";

    protected static string SchemaSql => $"""
        CREATE TABLE IF NOT EXISTS {Table} (
            account_id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            desired_version TEXT NOT NULL,
            deployed_version TEXT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_attempt_at BIGINT NULL,
            last_error TEXT NULL,
            lease_owner TEXT NULL,
            lease_until BIGINT NULL,
            not_before BIGINT NOT NULL DEFAULT 0,
            updated_at BIGINT NOT NULL,
            reason TEXT NOT NULL,
            last_event_at BIGINT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_{Table}_work ON {Table} (state, not_before);
        """;

    /// <summary>Opens a connection ready for use (schema ensured once by the subclass).</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Starts a transaction that takes the write lock at once (SQLite IMMEDIATE; PostgreSQL row locks).</summary>
    protected abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Row lock suffix for a read-then-write (PostgreSQL: FOR UPDATE; SQLite: none, the transaction holds the lock).</summary>
    protected abstract string ForUpdate { get; }

    /// <summary>Suffix of the lease candidate subquery (PostgreSQL: FOR UPDATE SKIP LOCKED).</summary>
    protected abstract string SkipLocked { get; }

    public async Task<EnqueueResult> EnqueueAsync(string accountId, string version, string reason, bool retryFailed, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // A new account (the common case of reconciling a fresh organization): one autocommit insert.
        var nowMs = now.ToUnixTimeMilliseconds();
        var eventAt = eventTime is { } t ? t.ToUnixTimeMilliseconds() : (long?)null;
        if (await ExecuteAsync($"""
                INSERT INTO {Table} ({Columns}) VALUES (@id, 'pending', @version, NULL, 0, NULL, NULL, NULL, NULL, 0, @now, @reason, @event)
                ON CONFLICT (account_id) DO NOTHING
                """, cancellationToken, ("id", accountId), ("version", version), ("now", nowMs), ("reason", reason), ("event", eventAt)) == 1)
        {
            return EnqueueResult.Enqueued;
        }

        for (var attempt = 0; ; attempt++)
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var tx = await BeginWriteAsync(connection, cancellationToken);
            var existing = await ReadAsync(connection, tx, accountId, cancellationToken);
            if (existing is not null && eventTime is { } et && existing.LastEventAt is { } last && et < last)
            {
                await tx.CommitAsync(cancellationToken);
                return EnqueueResult.Stale;
            }

            var (result, state, reset) = LedgerRules.Enqueue(existing, version, retryFailed);
            var eventMs = eventTime is { } e ? e.ToUnixTimeMilliseconds() : (long?)null;
            if (existing is null)
            {
                var inserted = await ExecuteAsync(connection, tx, $"""
                    INSERT INTO {Table} ({Columns}) VALUES (@id, @state, @version, NULL, 0, NULL, NULL, NULL, NULL, 0, @now, @reason, @event)
                    ON CONFLICT (account_id) DO NOTHING
                    """, cancellationToken, ("id", accountId), ("state", state!.Value.Name()), ("version", version), ("now", now.ToUnixTimeMilliseconds()), ("reason", reason), ("event", eventMs));
                if (inserted == 0 && attempt < 3)
                {
                    await tx.RollbackAsync(cancellationToken);
                    continue; // created meanwhile by another host: decide again on the real row
                }
            }
            else if (state is { } newState)
            {
                await ExecuteAsync(connection, tx, $"""
                    UPDATE {Table} SET state = @state, desired_version = @version, reason = @reason, updated_at = @now,
                        attempts = CASE WHEN @reset = 1 THEN 0 ELSE attempts END,
                        last_error = CASE WHEN @reset = 1 THEN NULL ELSE last_error END,
                        not_before = CASE WHEN @reset = 1 THEN 0 ELSE not_before END,
                        last_event_at = COALESCE(@event, last_event_at)
                    WHERE account_id = @id
                    """, cancellationToken, ("id", accountId), ("state", newState.Name()), ("version", version), ("reason", reason), ("now", now.ToUnixTimeMilliseconds()), ("reset", reset ? 1 : 0), ("event", eventMs));
            }
            else if (eventMs is not null)
            {
                await ExecuteAsync(connection, tx, $"UPDATE {Table} SET last_event_at = @event WHERE account_id = @id AND (last_event_at IS NULL OR last_event_at < @event)", cancellationToken, ("id", accountId), ("event", eventMs));
            }

            await tx.CommitAsync(cancellationToken);
            return result;
        }
    }

    public async Task<LeasedWork?> TryLeaseAsync(string owner, DateTimeOffset now, TimeSpan lease, string? accountId, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var until = now + lease;
        var candidate = $"((state = 'pending' AND not_before <= @now) OR (state = 'in-progress' AND lease_until < @now))";
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"""
            UPDATE {Table} SET state = 'in-progress', lease_owner = @owner, lease_until = @until, attempts = attempts + 1, last_attempt_at = @now, updated_at = @now
            WHERE account_id = (SELECT account_id FROM {Table} WHERE {candidate}{(accountId is null ? "" : " AND account_id = @id")} ORDER BY not_before, updated_at, account_id LIMIT 1{SkipLocked})
              AND {candidate}
            RETURNING account_id, desired_version, attempts
            """, [("owner", owner), ("until", until.ToUnixTimeMilliseconds()), ("now", nowMs), .. (accountId is null ? Array.Empty<(string, object?)>() : [("id", accountId)])]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new LeasedWork(reader.GetString(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2)), owner, until);
    }

    public async Task<bool> RenewAsync(string accountId, string owner, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        await ExecuteAsync($"UPDATE {Table} SET lease_until = @until WHERE account_id = @id AND lease_owner = @owner AND state = 'in-progress'", cancellationToken,
            ("until", leaseUntil.ToUnixTimeMilliseconds()), ("id", accountId), ("owner", owner)) == 1;

    public async Task<bool> RecordAttemptAsync(string accountId, string owner, string error, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"UPDATE {Table} SET attempts = attempts + 1, last_error = @error, last_attempt_at = @now, updated_at = @now WHERE account_id = @id AND lease_owner = @owner AND state = 'in-progress'", cancellationToken,
            ("error", error), ("now", now.ToUnixTimeMilliseconds()), ("id", accountId), ("owner", owner)) == 1;

    public async Task<bool> CompleteAsync(string accountId, string owner, string version, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {Table} SET deployed_version = @version,
                state = CASE WHEN desired_version = @version THEN 'deployed' ELSE 'pending' END,
                attempts = CASE WHEN desired_version = @version THEN attempts ELSE 0 END,
                lease_owner = NULL, lease_until = NULL, last_error = NULL, not_before = 0, updated_at = @now
            WHERE account_id = @id AND lease_owner = @owner AND state = 'in-progress'
            """, cancellationToken, ("version", version), ("now", now.ToUnixTimeMilliseconds()), ("id", accountId), ("owner", owner)) == 1;

    public async Task<bool> FailAsync(string accountId, string owner, string version, string error, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {Table} SET state = CASE WHEN desired_version = @version THEN 'failed' ELSE 'pending' END,
                attempts = CASE WHEN desired_version = @version THEN attempts ELSE 0 END,
                last_error = @error, lease_owner = NULL, lease_until = NULL, updated_at = @now
            WHERE account_id = @id AND lease_owner = @owner AND state = 'in-progress'
            """, cancellationToken, ("version", version), ("error", error), ("now", now.ToUnixTimeMilliseconds()), ("id", accountId), ("owner", owner)) == 1;

    public async Task<bool> ReleaseAsync(string accountId, string owner, DateTimeOffset notBefore, string? note, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {Table} SET state = 'pending', lease_owner = NULL, lease_until = NULL,
                attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                not_before = @notBefore, last_error = COALESCE(@note, last_error), updated_at = @notBefore
            WHERE account_id = @id AND lease_owner = @owner AND state = 'in-progress'
            """, cancellationToken, ("notBefore", notBefore.ToUnixTimeMilliseconds()), ("note", note), ("id", accountId), ("owner", owner)) == 1;

    public async Task<RetireResult> RetireAsync(string accountId, string reason, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await BeginWriteAsync(connection, cancellationToken);
        var existing = await ReadAsync(connection, tx, accountId, cancellationToken);
        var eventMs = eventTime is { } e ? e.ToUnixTimeMilliseconds() : (long?)null;
        RetireResult result;
        if (existing is not null && eventTime is { } et && existing.LastEventAt is { } last && et < last)
        {
            result = RetireResult.Stale;
        }
        else if (existing is null)
        {
            // Remember the departure, so that a delayed creation event does not bring the account back.
            await ExecuteAsync(connection, tx, $"""
                INSERT INTO {Table} ({Columns}) VALUES (@id, 'retired', '', NULL, 0, NULL, NULL, NULL, NULL, 0, @now, @reason, @event)
                ON CONFLICT (account_id) DO NOTHING
                """, cancellationToken, ("id", accountId), ("now", now.ToUnixTimeMilliseconds()), ("reason", reason), ("event", eventMs));
            result = RetireResult.Retired;
        }
        else if (existing.State == AccountRolloutState.Retired)
        {
            await ExecuteAsync(connection, tx, $"UPDATE {Table} SET last_event_at = COALESCE(@event, last_event_at) WHERE account_id = @id", cancellationToken, ("id", accountId), ("event", eventMs));
            result = RetireResult.AlreadyRetired;
        }
        else
        {
            await ExecuteAsync(connection, tx, $"""
                UPDATE {Table} SET state = 'retired', lease_owner = NULL, lease_until = NULL, reason = @reason, updated_at = @now,
                    last_event_at = COALESCE(@event, last_event_at)
                WHERE account_id = @id
                """, cancellationToken, ("id", accountId), ("reason", reason), ("now", now.ToUnixTimeMilliseconds()), ("event", eventMs));
            result = RetireResult.Retired;
        }

        await tx.CommitAsync(cancellationToken);
        return result;
    }

    public async Task<IReadOnlyList<LedgerEntry>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT {Columns} FROM {Table} ORDER BY account_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(Map(reader));
        }

        return entries;
    }

    public async Task<int> CountOutstandingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT COUNT(*) FROM {Table} WHERE state IN ('pending', 'in-progress')");
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
    }

    private async Task<LedgerEntry?> ReadAsync(DbConnection connection, DbTransaction tx, string accountId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, tx, $"SELECT {Columns} FROM {Table} WHERE account_id = @id{ForUpdate}", ("id", accountId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Map(reader) : null;
    }

    private static LedgerEntry Map(DbDataReader r) => new(
        r.GetString(0),
        AccountRolloutStates.Parse(r.GetString(1)),
        r.GetString(2),
        r.IsDBNull(3) ? null : r.GetString(3),
        Convert.ToInt32(r.GetValue(4)),
        Time(r, 5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.IsDBNull(7) ? null : r.GetString(7),
        Time(r, 8),
        Time(r, 9) is { } nb && nb.ToUnixTimeMilliseconds() > 0 ? nb : null,
        Time(r, 10) ?? DateTimeOffset.UnixEpoch,
        r.GetString(11),
        Time(r, 12));

    private static DateTimeOffset? Time(DbDataReader r, int i) =>
        r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(i)));

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }

        return command;
    }
}
