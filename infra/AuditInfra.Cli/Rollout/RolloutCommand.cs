using System.CommandLine;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Ledger;
using AuditInfra.Rollout.Status;
using Spectre.Console;

namespace AuditInfra.Cli.Rollout;

/// <summary>
/// <c>auditinfra rollout status</c>: the account-baseline rollout ledger kept by the
/// AuditInfra.Automation host, readable without Pulumi (a SQLite file or a PostgreSQL ledger).
/// </summary>
public static class RolloutCommand
{
    public static Command Create(CliIo io)
    {
        var command = new Command("rollout", "The account-baseline rollout to member accounts (kept by the AuditInfra.Automation host).");
        command.Subcommands.Add(Status(io));
        return command;
    }

    private static Command Status(CliIo io)
    {
        var ledger = new Option<FileInfo?>("--ledger")
        {
            Description = $"The host's SQLite ledger file (default {RolloutLedgers.DefaultSqlitePath})",
        };
        var postgres = new Option<string?>("--postgres")
        {
            Description = $"A PostgreSQL ledger's connection string instead (default from ${RolloutLedgers.PostgresEnvironmentVariable})",
        };
        var json = new Option<bool>("--json") { Description = "Print the ledger as JSON" };
        var status = new Command("status", "The fleet: every account's state, program version, attempts, last attempt and error. Exit 1 when an account failed.");
        status.Options.Add(ledger);
        status.Options.Add(postgres);
        status.Options.Add(json);
        status.SetAction(async (parse, ct) =>
        {
            var connection = parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable(RolloutLedgers.PostgresEnvironmentVariable);
            IReadOnlyList<LedgerEntry> entries;
            try
            {
                if (connection is { Length: > 0 })
                {
                    await using var pg = await PostgresRolloutLedger.OpenAsync(connection, ct);
                    entries = await pg.ListAsync(ct);
                }
                else
                {
                    var path = parse.GetValue(ledger)?.FullName ?? Path.GetFullPath(RolloutLedgers.DefaultSqlitePath);
                    if (await SqliteRolloutLedger.OpenExistingAsync(path, ct) is not { } sqlite)
                    {
                        await io.Err.WriteLineAsync($"No rollout ledger at {path}: give the host's ledger with --ledger FILE (or --postgres).");
                        return ExitCodes.UsageOrInput;
                    }

                    entries = await sqlite.ListAsync(ct);
                }
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException or FormatException or ArgumentException)
            {
                await io.Err.WriteLineAsync($"Cannot read the rollout ledger: {e.Message}");
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(json))
            {
                await io.Out.WriteLineAsync(RolloutStatusReport.JsonText(entries));
            }
            else if (io.IsTerminal)
            {
                var table = new Table().Border(TableBorder.Rounded);
                foreach (var header in RolloutStatusReport.Headers)
                {
                    table.AddColumn(header);
                }

                foreach (var row in RolloutStatusReport.Rows(entries))
                {
                    var color = row[1] switch { "deployed" => "green", "failed" => "red", "retired" => "grey", _ => "yellow" };
                    table.AddRow([.. row.Select((c, i) => i == 1 ? $"[{color}]{Markup.Escape(c)}[/]" : Markup.Escape(c))]);
                }

                // Account ids, versions and times are what gets copied into the next command: never wrapped.
                io.Write(table, 0, 2, 4);
                io.Console.WriteLine(RolloutStatusReport.Summary(entries));
            }
            else
            {
                await io.Out.WriteAsync(RolloutStatusReport.Table(entries));
            }

            return entries.Any(e => e.State == AccountRolloutState.Failed) ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return status;
    }
}
