using System.Text.Json.Nodes;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Query;

namespace AuditInfra.Cli.Query;

/// <summary>Rows (or events) of an answer by the integrity of the files they were read from.</summary>
public sealed record IntegrityCounts(long Verified, long Unverifiable, long Tampered)
{
    public string Line(string unit) => $"integrity: {Verified} {unit} verified, {Unverifiable} unverifiable, {Tampered} tampered";
}

/// <summary>
/// <c>query --verify</c>: the log files behind an answer, judged by the verifier against the digests of their
/// hours, so that each row can say whether the file it was read from is proven. Logs are named by their keys in
/// the source (<see cref="TimelineSql.SourceKeyColumn"/>), as the verifier names them.
/// </summary>
internal sealed class QueryVerification(ILogFileVerifier verifier)
{
    /// <summary>How many unproven files are named one by one on standard error; all of them are in the JSON.</summary>
    private const int FilesNamed = 20;

    public const string Column = "integrity";

    private readonly Dictionary<string, LogIntegrity> byKey = new(StringComparer.Ordinal);

    public static string Text(LogIntegrityStatus status) => status switch
    {
        LogIntegrityStatus.Verified => "verified",
        LogIntegrityStatus.Tampered => "TAMPERED",
        _ => "unverifiable",
    };

    /// <summary>
    /// The verification over the source's store (a local copy's root, or the bucket), or null after saying in one line
    /// why it cannot be done. Without --public-keys the keys are fetched as verify fetches them (list-public-keys over
    /// the span of the asked days' digests, through the AWS CLI); a failed fetch names the command to run by hand.
    /// </summary>
    public static async Task<QueryVerification?> OpenAsync(CliIo io, IObjectStore store, string account, DateOnly from, DateOnly until, IReadOnlyCollection<string> regions, FileInfo? publicKeys, string? cloudTrailEndpoint, CancellationToken cancellationToken)
    {
        try
        {
            PublicKeySet keys;
            if (publicKeys is not null)
            {
                keys = PublicKeySet.Load(publicKeys.FullName);
            }
            else
            {
                // The digests of a day's last hours are delivered the next day, within two hours. Days far outside
                // CloudTrail's life leave the span to the digests themselves (and keep its arithmetic in range).
                var options = new VerifyOptions
                {
                    Accounts = new HashSet<string>([account], StringComparer.Ordinal),
                    Regions = regions.ToHashSet(StringComparer.Ordinal),
                    Start = from.Year < 2000 ? null : new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
                    End = until.Year > 2999 ? null : new DateTimeOffset(until.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(1).AddHours(2),
                };
                keys = await PublicKeyFetcher.FetchAsync(new Core.Aws.AwsCli { EndpointUrl = cloudTrailEndpoint }, store, options, cancellationToken);
            }

            return new QueryVerification(LogFileVerifiers.For(store, keys));
        }
        catch (IntegrityInputException e)
        {
            await io.Err.WriteLineAsync($"--verify: {Core.Messages.Flatten(e.Message)}");
            return null;
        }
    }

    /// <summary>Judges these logs (by key); each keeps its verdict for the rows read from it.</summary>
    public async Task VerifyAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var pending = keys.Where(k => !byKey.ContainsKey(k)).Distinct(StringComparer.Ordinal).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        IReadOnlyDictionary<string, LogIntegrity> verdicts;
        try
        {
            verdicts = await verifier.VerifyAsync(pending, cancellationToken);
        }
        catch (IntegrityInputException e)
        {
            throw new IntegrityInputException($"--verify: {Core.Messages.Flatten(e.Message)}", e);
        }
        foreach (var key in pending)
        {
            byKey[key] = verdicts.TryGetValue(key, out var verdict) ? verdict : new LogIntegrity(LogIntegrityStatus.Unverifiable, null, "the verifier gave no verdict for it");
        }
    }

    public LogIntegrity VerdictOf(string? key) =>
        key is not null && byKey.TryGetValue(key, out var verdict) ? verdict : new LogIntegrity(LogIntegrityStatus.Unverifiable, null, "its log is not known");

    /// <summary>Each log's integrity as text, for the table the summary joins.</summary>
    public IEnumerable<(string Key, string Integrity)> Logs => byKey.Select(f => (f.Key, Text(f.Value.Status)));

    /// <summary>
    /// The rows with an <c>integrity</c> column, from the column that names their log; that column is dropped when
    /// it was only added to find the log (the timeline), kept when the user selected it (--sql).
    /// </summary>
    public (QueryResult Result, IntegrityCounts Counts) Mark(QueryResult result, int fileColumn, bool dropFileColumn)
    {
        long verified = 0, unverifiable = 0, tampered = 0;
        var rows = new List<object?[]>(result.Rows.Count);
        foreach (var row in result.Rows)
        {
            var integrity = VerdictOf(row[fileColumn] as string).Status;
            _ = integrity switch
            {
                LogIntegrityStatus.Verified => verified++,
                LogIntegrityStatus.Tampered => tampered++,
                _ => unverifiable++,
            };
            var kept = dropFileColumn ? row.Where((_, i) => i != fileColumn) : row;
            rows.Add([.. kept, Text(integrity)]);
        }

        var columns = dropFileColumn ? result.Columns.Where((_, i) => i != fileColumn) : result.Columns;
        return (new QueryResult([.. columns, Column], rows), new IntegrityCounts(verified, unverifiable, tampered));
    }

    /// <summary>The files behind the answer that are not verified, tampered first, each with why.</summary>
    private List<(string Key, LogIntegrity Verdict)> Unproven() =>
        [.. byKey.Where(f => f.Value.Status != LogIntegrityStatus.Verified)
            .Select(f => (f.Key, Verdict: f.Value))
            .OrderBy(f => f.Verdict.Status == LogIntegrityStatus.Tampered ? 0 : 1)
            .ThenBy(f => f.Key, StringComparer.Ordinal)];

    /// <summary>The integrity line, and the unproven files by name (the first few), on standard error.</summary>
    public void WriteSummary(CliIo io, IntegrityCounts counts, string unit)
    {
        var unproven = Unproven();
        foreach (var (key, verdict) in unproven.Take(FilesNamed))
        {
            io.Err.WriteLine($"{Text(verdict.Status)} {key}: {verdict.Reason}");
        }

        if (unproven.Count > FilesNamed)
        {
            io.Err.WriteLine($"... and {unproven.Count - FilesNamed} more unproven file(s) (all of them with --format json)");
        }

        io.Err.WriteLine(counts.Line(unit));
    }

    /// <summary>The <c>integrity</c> member of the JSON output: the counts, and every file that is not verified with why.</summary>
    public JsonObject ToJson(IntegrityCounts counts, string unit) => new()
    {
        ["unit"] = unit,
        ["verified"] = counts.Verified,
        ["unverifiable"] = counts.Unverifiable,
        ["tampered"] = counts.Tampered,
        ["unproven_files"] = new JsonArray([.. Unproven().Select(f => (JsonNode)new JsonObject
        {
            [TimelineSql.SourceKeyColumn] = f.Key,
            ["integrity"] = Text(f.Verdict.Status),
            ["digest"] = f.Verdict.Digest,
            ["reason"] = f.Verdict.Reason,
        })]),
    };
}
