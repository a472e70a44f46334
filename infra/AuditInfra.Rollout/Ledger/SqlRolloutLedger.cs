using System.Data.Common;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Ledger;

/// <summary>
/// The ledger over one table, shared by SQLite and PostgreSQL. Every change is one statement or
/// one transaction; an operation is owned through a lease (owner, token, expiry) so that no two workers
/// or hosts ever operate on the same stack at once, and a crashed host's work is resumed once its
/// lease expires. Times are stored as Unix milliseconds. Lease expiry and retry backoff are measured
/// by the database's clock (<see cref="NowMs"/>): hosts' clocks differ, and a host whose clock runs
/// ahead would otherwise take over live leases. Bookkeeping times (updated, attempted, refreshed)
/// come from the caller. Each lease has its own token: a holder whose lease lapsed and was taken
/// again (by another host, or by its own host's next lease) can no longer renew it or record an
/// outcome, since all of one host's leases share its owner name.
/// </summary>
public abstract class SqlRolloutLedger : IRolloutLedger
{
    protected const string Table = "rollout_accounts";

    private const string Columns = "account_id, state, desired_version, deployed_version, attempts, last_attempt_at, last_error, lease_owner, lease_until, not_before, updated_at, reason, last_event_at, refreshed_at, refresh";

    /// <summary>Accounts added by one statement of <see cref="EnqueueNewAsync"/>.</summary>
    private const int InsertBatch = 100;

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
            last_event_at BIGINT NULL,
            refreshed_at BIGINT NULL,
            refresh INTEGER NOT NULL DEFAULT 0,
            lease_token TEXT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_{Table}_work ON {Table} (state, not_before);
        CREATE INDEX IF NOT EXISTS ix_{Table}_lease ON {Table} (state, desired_version, not_before, updated_at, account_id);
        """;

    /// <summary>Columns added after the first release, with their definitions: ledgers created before gain them on open.</summary>
    private static readonly (string Name, string Definition)[] AddedColumns =
    [
        ("refreshed_at", "BIGINT NULL"),
        ("refresh", "INTEGER NOT NULL DEFAULT 0"),
        ("lease_token", "TEXT NULL"),
    ];

    /// <summary>The database's current time in Unix milliseconds, as an SQL expression.</summary>
    protected abstract string NowMs { get; }

    /// <summary>Opens a connection ready for use (schema ensured once by the subclass).</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Starts a transaction that takes the write lock at once (SQLite IMMEDIATE; PostgreSQL row locks).</summary>
    protected abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Row lock suffix for a read-then-write (PostgreSQL: FOR UPDATE; SQLite: none, the transaction holds the lock).</summary>
    protected abstract string ForUpdate { get; }

    /// <summary>Suffix of the lease candidate subquery (PostgreSQL: FOR UPDATE SKIP LOCKED).</summary>
    protected abstract string SkipLocked { get; }

    /// <summary>Adds the columns a ledger created by an earlier release lacks.</summary>
    protected static async Task UpgradeSchemaAsync(DbConnection connection, DbTransaction? tx, CancellationToken cancellationToken)
    {
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await using (var probe = Command(connection, tx, $"SELECT * FROM {Table} LIMIT 0"))
        await using (var reader = await probe.ExecuteReaderAsync(cancellationToken))
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                present.Add(reader.GetName(i));
            }
        }

        foreach (var (name, definition) in AddedColumns.Where(c => !present.Contains(c.Name)))
        {
            await using var alter = Command(connection, tx, $"ALTER TABLE {Table} ADD COLUMN {name} {definition}");
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<EnqueueResult> EnqueueAsync(string accountId, string version, string reason, bool retryFailed, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // A new account (the common case of reconciling a fresh organization): one autocommit insert.
        var nowMs = now.ToUnixTimeMilliseconds();
        var eventMs = eventTime is { } t ? t.ToUnixTimeMilliseconds() : (long?)null;
        if (await ExecuteAsync($"""
                INSERT INTO {Table} ({Columns}) VALUES (@id, 'pending', @version, NULL, 0, NULL, NULL, NULL, NULL, 0, @now, @reason, @event, NULL, 0)
                ON CONFLICT (account_id) DO NOTHING
                """, cancellationToken, ("id", accountId), ("version", version), ("now", nowMs), ("reason", reason), ("event", eventMs)) == 1)
        {
            return EnqueueResult.Enqueued;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await BeginWriteAsync(connection, cancellationToken);
        var existing = await ReadAsync(connection, tx, accountId, cancellationToken)
            ?? throw new InvalidOperationException($"account {accountId} vanished from the ledger while being enqueued");
        if (eventTime is { } et && existing.LastEventAt is { } last && et < last)
        {
            await tx.CommitAsync(cancellationToken);
            return EnqueueResult.Stale;
        }

        var (result, state, reset) = LedgerRules.Enqueue(existing, version, retryFailed, eventTime);
        if (state is { } newState)
        {
            await ExecuteAsync(connection, tx, $"""
                UPDATE {Table} SET state = @state, desired_version = @version, reason = @reason, updated_at = @now,
                    attempts = CASE WHEN @reset = 1 THEN 0 ELSE attempts END,
                    last_error = CASE WHEN @reset = 1 THEN NULL ELSE last_error END,
                    not_before = CASE WHEN @reset = 1 THEN 0 ELSE not_before END,
                    refresh = CASE WHEN @reset = 1 THEN 0 ELSE refresh END,
                    last_event_at = COALESCE(@event, last_event_at)
                WHERE account_id = @id
                """, cancellationToken, ("id", accountId), ("state", newState.Name()), ("version", version), ("reason", reason), ("now", nowMs), ("reset", reset ? 1 : 0), ("event", eventMs));
        }
        else if (eventMs is not null)
        {
            await ExecuteAsync(connection, tx, $"UPDATE {Table} SET last_event_at = @event WHERE account_id = @id AND (last_event_at IS NULL OR last_event_at < @event)", cancellationToken, ("id", accountId), ("event", eventMs));
        }

        await tx.CommitAsync(cancellationToken);
        return result;
    }

    public async Task<IReadOnlySet<string>> EnqueueNewAsync(IReadOnlyList<string> accountIds, string version, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var added = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in accountIds.Chunk(InsertBatch))
        {
            var values = string.Join(", ", batch.Select((_, i) => $"(@id{i}, 'pending', @version, NULL, 0, NULL, NULL, NULL, NULL, 0, @now, @reason, NULL, NULL, 0)"));
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = Command(connection, null, $"INSERT INTO {Table} ({Columns}) VALUES {values} ON CONFLICT (account_id) DO NOTHING RETURNING account_id",
                [("version", version), ("now", now.ToUnixTimeMilliseconds()), ("reason", reason), .. batch.Select((id, i) => ($"id{i}", (object?)id))]);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                added.Add(reader.GetString(0));
            }
        }

        return added;
    }

    public async Task<LeasedWork?> TryLeaseAsync(string owner, string version, TimeSpan lease, string? accountId, CancellationToken cancellationToken)
    {
        // Pending and nobody's lease alive (a retired-then-requeued account may still be held by its
        // operation), or in progress under an expired lease (a crash). Each branch takes its first
        // row in index order, so a lease costs the same with one account waiting or thousands.
        var account = accountId is null ? "" : " AND account_id = @id";
        var pending = $"state = 'pending' AND desired_version = @version AND not_before <= {NowMs} AND (lease_owner IS NULL OR lease_until < {NowMs})";
        var abandoned = $"state = 'in-progress' AND desired_version = @version AND lease_until < {NowMs}";
        var token = Guid.NewGuid().ToString("N");
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"""
            UPDATE {Table} SET state = 'in-progress', lease_owner = @owner, lease_token = @token, lease_until = {NowMs} + @lease, attempts = attempts + 1, last_attempt_at = {NowMs}, updated_at = {NowMs},
                last_error = CASE WHEN state = 'in-progress' THEN 'attempt ' || attempts || ' by ' || lease_owner || ' never finished (the host stopped or lost its lease during the operation)' ELSE last_error END
            WHERE account_id = (
                SELECT account_id FROM (SELECT account_id FROM {Table} WHERE {abandoned}{account} ORDER BY lease_until LIMIT 1{SkipLocked}) AS a
                UNION ALL
                SELECT account_id FROM (SELECT account_id FROM {Table} WHERE {pending}{account} ORDER BY not_before, updated_at, account_id LIMIT 1{SkipLocked}) AS p
                LIMIT 1)
              AND (({pending}) OR ({abandoned}))
            RETURNING account_id, desired_version, attempts, refresh, last_error
            """, [("owner", owner), ("token", token), ("lease", (long)lease.TotalMilliseconds), ("version", version), .. (accountId is null ? Array.Empty<(string, object?)>() : [("id", accountId)])]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new LeasedWork(reader.GetString(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2)), owner, token, Convert.ToInt32(reader.GetValue(3)) != 0, reader.IsDBNull(4) ? null : reader.GetString(4));
    }

    /// <summary>The rows a lease still holds: its owner's and its own token's (each statement below ends with it).</summary>
    private const string HeldBy = "account_id = @id AND lease_owner = @owner AND lease_token = @token";

    private static (string, object?)[] Held(LeasedWork held, params (string, object?)[] parameters) =>
        [("id", held.AccountId), ("owner", held.Owner), ("token", held.Token), .. parameters];

    public async Task<bool> RenewAsync(LeasedWork held, TimeSpan lease, CancellationToken cancellationToken) =>
        await ExecuteAsync($"UPDATE {Table} SET lease_until = {NowMs} + @lease WHERE {HeldBy}", cancellationToken,
            Held(held, ("lease", (long)lease.TotalMilliseconds))) == 1;

    public async Task<bool> RecordAttemptAsync(LeasedWork held, string error, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"UPDATE {Table} SET attempts = attempts + 1, last_error = @error, last_attempt_at = @now, updated_at = @now WHERE {HeldBy}", cancellationToken,
            Held(held, ("error", error), ("now", now.ToUnixTimeMilliseconds()))) == 1;

    // The lease holder's outcome: a retired account stays retired (its deployed version is still recorded).
    public async Task<bool> CompleteAsync(LeasedWork held, string version, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {Table} SET deployed_version = @version,
                state = CASE WHEN state = 'retired' THEN 'retired' WHEN desired_version = @version THEN 'deployed' ELSE 'pending' END,
                attempts = CASE WHEN state = 'retired' OR desired_version = @version THEN attempts ELSE 0 END,
                lease_owner = NULL, lease_token = NULL, lease_until = NULL, last_error = NULL, not_before = 0, updated_at = @now, refreshed_at = @now, refresh = 0
            WHERE {HeldBy}
            """, cancellationToken, Held(held, ("version", version), ("now", now.ToUnixTimeMilliseconds()))) == 1;

    public async Task<bool> FailAsync(LeasedWork held, string version, string error, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {Table} SET state = CASE WHEN state = 'retired' THEN 'retired' WHEN state = 'in-progress' AND desired_version = @version THEN 'failed' ELSE 'pending' END,
                attempts = CASE WHEN desired_version = @version THEN attempts ELSE 0 END,
                last_error = @error, lease_owner = NULL, lease_token = NULL, lease_until = NULL, refresh = 0, updated_at = @now
            WHERE {HeldBy}
            """, cancellationToken, Held(held, ("version", version), ("error", error), ("now", now.ToUnixTimeMilliseconds()))) == 1;

    public async Task<bool> ReleaseAsync(LeasedWork held, TimeSpan retryAfter, string? note, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {Table} SET state = CASE WHEN state = 'retired' THEN 'retired' ELSE 'pending' END, lease_owner = NULL, lease_token = NULL, lease_until = NULL,
                attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                not_before = {NowMs} + @after, last_error = COALESCE(@note, last_error), updated_at = @now
            WHERE {HeldBy}
            """, cancellationToken, Held(held, ("after", (long)retryAfter.TotalMilliseconds), ("note", note), ("now", now.ToUnixTimeMilliseconds()))) == 1;

    public async Task<RetireResult> RetireAsync(string accountId, string reason, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await BeginWriteAsync(connection, cancellationToken);
        var existing = await ReadAsync(connection, tx, accountId, cancellationToken);
        var eventMs = eventTime is { } e ? e.ToUnixTimeMilliseconds() : (long?)null;

        // When the departure happened: the event's time, or (reconciliation) now by the database's clock;
        // a creation event older than that is stale and does not bring the account back.
        var departedAt = $"COALESCE(@event, {NowMs})";
        RetireResult result;
        if (existing is not null && eventTime is { } et && existing.LastEventAt is { } last && et < last)
        {
            result = RetireResult.Stale;
        }
        else if (existing is null)
        {
            await ExecuteAsync(connection, tx, $"""
                INSERT INTO {Table} ({Columns}) VALUES (@id, 'retired', '', NULL, 0, NULL, NULL, NULL, NULL, 0, @now, @reason, {departedAt}, NULL, 0)
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
            // An operation in progress keeps its lease: nobody else may operate on the stack until it ends.
            await ExecuteAsync(connection, tx, $"""
                UPDATE {Table} SET state = 'retired', refresh = 0, reason = @reason, updated_at = @now,
                    last_event_at = CASE WHEN last_event_at IS NULL OR last_event_at < {departedAt} THEN {departedAt} ELSE last_event_at END
                WHERE account_id = @id
                """, cancellationToken, ("id", accountId), ("reason", reason), ("now", now.ToUnixTimeMilliseconds()), ("event", eventMs));
            result = RetireResult.Retired;
        }

        await tx.CommitAsync(cancellationToken);
        return result;
    }

    public async Task<bool> RequestRefreshAsync(string accountId, string version, DateTimeOffset dueBefore, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync($"""
            UPDATE {Table} SET state = 'pending', refresh = 1, attempts = 0, not_before = 0, reason = 'refresh', updated_at = @now
            WHERE account_id = @id AND state = 'deployed' AND deployed_version = @version AND desired_version = @version
              AND lease_owner IS NULL AND COALESCE(refreshed_at, updated_at) <= @due
            """, cancellationToken, ("id", accountId), ("version", version), ("now", now.ToUnixTimeMilliseconds()), ("due", dueBefore.ToUnixTimeMilliseconds())) == 1;

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

    public async Task<int> CountOutstandingAsync(string? version, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = version is null
            ? Command(connection, null, $"SELECT COUNT(*) FROM {Table} WHERE state IN ('pending', 'in-progress')")
            : Command(connection, null, $"SELECT COUNT(*) FROM {Table} WHERE state IN ('pending', 'in-progress') AND desired_version = @version", ("version", version));
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
        Time(r, 12),
        Time(r, 13),
        Convert.ToInt32(r.GetValue(14)) != 0);

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
