using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Status;

/// <summary>The ledger as the fleet's status: a table for people, JSON for scripts.</summary>
public static class RolloutStatusReport
{
    public static readonly string[] Headers = ["ACCOUNT", "STATE", "PROGRAM VERSION", "ATTEMPTS", "LAST ATTEMPT", "ERROR"];

    public static IReadOnlyList<string[]> Rows(IEnumerable<LedgerEntry> entries) =>
        [.. entries.OrderBy(e => e.AccountId, StringComparer.Ordinal).Select(e => new[]
        {
            e.AccountId,
            e.State.Name(),
            VersionText(e),
            e.Attempts.ToString(CultureInfo.InvariantCulture),
            e.LastAttemptAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-",
            e.State is AccountRolloutState.Failed or AccountRolloutState.Pending or AccountRolloutState.InProgress ? e.LastError ?? "" : e.State == AccountRolloutState.Retired ? e.Reason : "",
        })];

    /// <summary>The deployed version, and the desired one when it differs.</summary>
    public static string VersionText(LedgerEntry e) =>
        e.DeployedVersion is null ? (e.DesiredVersion.Length == 0 ? "-" : $"- (wants {e.DesiredVersion})")
        : e.DeployedVersion == e.DesiredVersion || e.State == AccountRolloutState.Retired ? e.DeployedVersion
        : $"{e.DeployedVersion} (wants {e.DesiredVersion})";

    public static string Summary(IReadOnlyList<LedgerEntry> entries) =>
        $"{entries.Count} account(s): " + string.Join(", ", Enum.GetValues<AccountRolloutState>()
            .Select(s => (s, n: entries.Count(e => e.State == s))).Where(x => x.n > 0).Select(x => $"{x.n} {x.s.Name()}"));

    public static string Table(IReadOnlyList<LedgerEntry> entries)
    {
        var rows = Rows(entries);
        var widths = Headers.Select((h, i) => Math.Max(h.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells) => text.AppendLine(string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd());
        Line(Headers);
        foreach (var row in rows)
        {
            Line(row);
        }

        text.AppendLine(Summary(entries));
        return text.ToString();
    }

    public static JsonObject Json(IReadOnlyList<LedgerEntry> entries) => new()
    {
        ["accounts"] = new JsonArray([.. entries.OrderBy(e => e.AccountId, StringComparer.Ordinal).Select(e => (JsonNode)new JsonObject
        {
            ["account"] = e.AccountId,
            ["stack"] = StackNames.ForAccount(e.AccountId),
            ["state"] = e.State.Name(),
            ["deployedVersion"] = e.DeployedVersion,
            ["desiredVersion"] = e.DesiredVersion.Length == 0 ? null : e.DesiredVersion,
            ["attempts"] = e.Attempts,
            ["lastAttempt"] = e.LastAttemptAt?.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
            ["error"] = e.LastError,
            ["reason"] = e.Reason,
            ["leaseOwner"] = e.LeaseOwner,
            ["updated"] = e.UpdatedAt.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
        })]),
        ["counts"] = new JsonObject(Enum.GetValues<AccountRolloutState>().Select(s => new KeyValuePair<string, JsonNode?>(s.Name(), entries.Count(e => e.State == s)))),
    };

    public static string JsonText(IReadOnlyList<LedgerEntry> entries) => Json(entries).ToJsonString(JsonFormat.Indented);
}
