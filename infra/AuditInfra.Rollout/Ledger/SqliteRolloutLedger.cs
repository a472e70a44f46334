using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace AuditInfra.Rollout.Ledger;

/// <summary>
/// The embedded default: one SQLite file in WAL mode. Several workers (and several processes on
/// the same machine) share it; writes serialize on SQLite's write lock with a busy timeout.
/// </summary>
public sealed class SqliteRolloutLedger : SqlRolloutLedger
{
    private readonly string _connectionString;

    private SqliteRolloutLedger(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 60,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>Opens (creating when absent) the ledger file and its schema.</summary>
    public static async Task<SqliteRolloutLedger> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var ledger = new SqliteRolloutLedger(path);
        await using var connection = await ledger.OpenAsync(cancellationToken);
        await using (var wal = Command(connection, null, "PRAGMA journal_mode=WAL;"))
        {
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var schema = Command(connection, null, SchemaSql))
        {
            await schema.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await UpgradeSchemaAsync(connection, null, cancellationToken);
        }
        catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
        {
            // Another process opening the same file added the column first.
        }

        return ledger;
    }

    /// <summary>Opens an existing ledger file read-only use (status); null when the file does not exist.</summary>
    public static async Task<SqliteRolloutLedger?> OpenExistingAsync(string path, CancellationToken cancellationToken = default) =>
        File.Exists(path) ? await OpenAsync(path, cancellationToken) : null;

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = Command(connection, null, "PRAGMA busy_timeout=60000; PRAGMA synchronous=NORMAL;");
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await Task.FromResult(((SqliteConnection)connection).BeginTransaction(deferred: false));

    // julianday('now') is the time of the statement; as a non-correlated subquery it is computed once, not per row scanned.
    protected override string NowMs => "(SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER))";

    protected override string ForUpdate => "";

    protected override string SkipLocked => "";
}
