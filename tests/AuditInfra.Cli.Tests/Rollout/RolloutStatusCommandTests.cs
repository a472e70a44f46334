using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Rollout.Ledger;

namespace AuditInfra.Cli.Tests.Rollout;

public class RolloutStatusCommandTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 25, 1, 2, 3, TimeSpan.Zero);

    /// <summary>A real ledger file with a deployed, a failed, a pending-on-new-version and a retired account.</summary>
    private static async Task<string> FleetLedgerAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), "auditinfra-cli-" + Guid.NewGuid().ToString("N")[..8], "ledger.db");
        var ledger = await SqliteRolloutLedger.OpenAsync(path);
        var none = CancellationToken.None;
        var leases = new Dictionary<string, AuditInfra.Core.Rollout.LeasedWork>();
        foreach (var id in new[] { "333333333333", "444444444444", "555555555555", "666666666666" })
        {
            await ledger.EnqueueAsync(id, "1.0.0+aaa", "reconciliation", true, null, T, none);
            leases[id] = (await ledger.TryLeaseAsync("host", "1.0.0+aaa", TimeSpan.FromMinutes(5), id, none))!;
        }

        await ledger.CompleteAsync(leases["333333333333"], "1.0.0+aaa", T, none);
        await ledger.FailAsync(leases["444444444444"], "1.0.0+aaa", "Permanent: AccessDenied: cannot assume role", T, none);
        await ledger.CompleteAsync(leases["555555555555"], "1.0.0+aaa", T, none);
        await ledger.EnqueueAsync("555555555555", "1.1.0+bbb", "reconciliation", true, null, T, none);
        await ledger.CompleteAsync(leases["666666666666"], "1.0.0+aaa", T, none);
        await ledger.RetireAsync("666666666666", "account is PendingClosure in the organization", null, T, none);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        return path;
    }

    [Fact]
    public async Task Status_shows_the_fleet_as_a_table_and_exits_1_when_an_account_failed()
    {
        var path = await FleetLedgerAsync();
        var result = await CliRunner.RunAsync("rollout", "status", "--ledger", path);
        Assert.Equal(1, result.ExitCode);
        var lines = result.Out.Split('\n');
        Assert.StartsWith("ACCOUNT       STATE", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("333333333333  deployed", StringComparison.Ordinal) && l.Contains("1.0.0+aaa") && System.Text.RegularExpressions.Regex.IsMatch(l, @"  \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z")); // last attempt: the ledger's clock
        Assert.Contains(lines, l => l.StartsWith("444444444444  failed", StringComparison.Ordinal) && l.Contains("Permanent: AccessDenied: cannot assume role"));
        Assert.Contains(lines, l => l.StartsWith("555555555555  pending", StringComparison.Ordinal) && l.Contains("1.0.0+aaa (wants 1.1.0+bbb)"));
        Assert.Contains(lines, l => l.StartsWith("666666666666  retired", StringComparison.Ordinal) && l.Contains("PendingClosure"));
        Assert.Contains("4 account(s): 1 pending, 1 deployed, 1 failed, 1 retired", result.Out);
    }

    [Fact]
    public async Task On_an_80_column_terminal_account_ids_versions_and_times_stay_whole()
    {
        var path = Path.Combine(CliRunner.TempDir(), "ledger.db");
        var ledger = await SqliteRolloutLedger.OpenAsync(path);
        const string version = "1.4.2+3f9c2a7d81e0b6c45a1f";
        const string newer = "1.5.0+9e8d7c6b5a4f3e2d1c0b";
        var none = CancellationToken.None;
        await ledger.EnqueueAsync("444444444444", version, "reconciliation", true, null, T, none);
        var deployed = await ledger.TryLeaseAsync("host", version, TimeSpan.FromMinutes(5), "444444444444", none);
        await ledger.CompleteAsync(deployed!, version, T, none);
        await ledger.EnqueueAsync("444444444444", newer, "reconciliation", true, null, T, none);
        var failed = await ledger.TryLeaseAsync("host", newer, TimeSpan.FromMinutes(5), "444444444444", none);
        await ledger.FailAsync(failed!, newer, "Permanent: AccessDenied: User arn:aws:sts::444444444444:assumed-role/deployer/ci is not authorized to perform sts:AssumeRole on resource arn:aws:iam::444444444444:role/OrganizationAccountAccessRole", T, none);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var (_, output) = await TerminalOutput.RunAsync(80, "rollout", "status", "--ledger", path);
        TerminalOutput.AssertWhole(output, "444444444444", version, newer);

        // The last attempt's time comes from the ledger's clock: whole, whatever it reads.
        Assert.Contains(TerminalOutput.Lines(output), l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z"));
    }

    [Fact]
    public async Task Status_json_is_parseable()
    {
        var path = await FleetLedgerAsync();
        var result = await CliRunner.RunAsync("rollout", "status", "--ledger", path, "--json");
        var json = JsonNode.Parse(result.Out)!;
        Assert.Equal(4, json["accounts"]!.AsArray().Count);
        Assert.Equal("account-444444444444", (string?)json["accounts"]![1]!["stack"]);
        Assert.Equal("failed", (string?)json["accounts"]![1]!["state"]);
        Assert.Equal(1, (int)json["counts"]!["deployed"]!);
    }

    [Fact]
    public async Task A_missing_ledger_is_a_clear_error_and_no_file_is_created()
    {
        var path = Path.Combine(Path.GetTempPath(), "auditinfra-none-" + Guid.NewGuid().ToString("N")[..8], "ledger.db");
        var result = await CliRunner.RunAsync("rollout", "status", "--ledger", path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"No rollout ledger at {path}", result.Err);
        Assert.False(File.Exists(path));
    }
}
