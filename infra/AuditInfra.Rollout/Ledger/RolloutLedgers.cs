using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Ledger;

/// <summary>Opens the ledger a host or the CLI names: a SQLite file path, or a PostgreSQL connection string.</summary>
public static class RolloutLedgers
{
    public const string PostgresEnvironmentVariable = "AUDITINFRA_ROLLOUT_POSTGRES";

    /// <summary>The throwaway server the tests use (set by test.sh through .ci/postgres.sh).</summary>
    public const string PostgresTestEnvironmentVariable = "AUDITINFRA_TEST_POSTGRES";

    public static async Task<IRolloutLedger> OpenAsync(string? sqlitePath, string? postgresConnectionString, CancellationToken cancellationToken = default) =>
        postgresConnectionString is { Length: > 0 }
            ? await PostgresRolloutLedger.OpenAsync(postgresConnectionString, cancellationToken)
            : await SqliteRolloutLedger.OpenAsync(sqlitePath ?? DefaultSqlitePath, cancellationToken);

    /// <summary>The embedded default: .auditinfra/rollout-ledger.db in the working folder.</summary>
    public static string DefaultSqlitePath => Path.Combine(".auditinfra", "rollout-ledger.db");
}
