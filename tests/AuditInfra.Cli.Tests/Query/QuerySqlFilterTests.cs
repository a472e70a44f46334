using System.Text.Json.Nodes;
using AuditInfra.Cli.Query;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Query;
using static AuditInfra.Cli.Tests.Query.QueryCommandTests;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>
/// `query --sql` answers over the rows the filters select, exactly the rows the timeline shows for the same options:
/// every filter option of the command, through real DuckDB over real gzip logs.
/// </summary>
public class QuerySqlFilterTests
{
    private const string Account = "333333333333";

    private const string Day = "2026-11-20";

    /// <summary>Each filter option of `query`, with a value that selects some but not all of <see cref="Corpus"/>'s rows of the day.</summary>
    public static readonly TheoryData<string, string[]> FilterOptions = new()
    {
        // Always given: the files of the account's days are read, and the predicates keep only their events.
        { "--account", [] },
        { "--start", [] },
        { "--end", ["--end", Day] },
        { "--region", ["--region", "eu-west-1"] },
        { "--principal", ["--principal", "ROOT"] },
        { "--event-name", ["--event-name", "GetObject", "ConsoleLogin"] },
        { "--event-source", ["--event-source", "iam.amazonaws.com"] },
        { "--errors-only", ["--errors-only"] },
        { "--ip", ["--ip", "198.51.100.0/24"] },
        { "--limit", ["--limit", "2"] },
    };

    /// <summary>Options that choose where, how or in what form to answer, not which events: nothing for --sql to filter.</summary>
    private static readonly string[] NotFilters =
    [
        "--source", "--endpoint-url", "--format", "--summary", "--sql", "--skip-bad", "--cache", "--timeout", "--restore", "--restore-days",
        "--wait", "--wait-timeout", "--athena", "--run", "--athena-database", "--athena-table", "--verify", "--public-keys",
        "--cloudtrail-endpoint-url", "--name-prefix", "--athena-workgroup", "--athena-region", "--athena-endpoint-url",
    ];

    [Fact]
    public void Every_option_of_the_command_is_a_filter_tested_here_or_no_filter()
    {
        // A new option that selects events must be applied to what --sql reads too: listing it in FilterOptions runs the
        // parity test below with it, and listing it nowhere fails here.
        using var output = new StringWriter();
        var options = QueryCommand.Create(CliIo.Capture(output, output)).Options.Select(o => o.Name).ToHashSet();
        var filters = FilterOptions.Select(row => (string)row[0]).ToHashSet();
        Assert.Empty(options.Except(filters).Except(NotFilters));
        Assert.Empty(filters.Except(options));
        Assert.Empty(NotFilters.Except(options));
    }

    /// <summary>
    /// One day of account 333333333333 in two regions, with events the filters tell apart, and in the day's file three that
    /// only the account and day predicates leave out: another account's event, one of the day before, one of the day after;
    /// and in the eu-west-1 file an event of us-east-1, which only the region predicate leaves out of eu-west-1's.
    /// </summary>
    internal static string Corpus()
    {
        var root = CliRunner.TempDir();
        var day = new DateOnly(2026, 11, 20);
        Write(root, Account, "us-east-1", day, "a1b2c3d4e5f6g7h8",
            Record("2026-11-19T23:58:00Z", "s3.amazonaws.com", "ListBuckets"),
            Record("2026-11-20T09:00:00Z", "iam.amazonaws.com", "AttachRolePolicy"),
            Record("2026-11-20T09:05:00Z", "s3.amazonaws.com", "GetObject", edit: r => r["sourceIPAddress"] = "198.51.100.7"),
            Record("2026-11-20T09:10:00Z", "ec2.amazonaws.com", "RunInstances", edit: r => r["errorCode"] = "Client.UnauthorizedOperation"),
            Record("2026-11-20T09:20:00Z", "signin.amazonaws.com", "ConsoleLogin", edit: r =>
                r["userIdentity"] = new JsonObject { ["type"] = "Root", ["arn"] = $"arn:aws:iam::{Account}:root", ["accountId"] = Account }),
            Record("2026-11-20T09:30:00Z", "iam.amazonaws.com", "CreateUser", edit: r => r["sourceIPAddress"] = "iam.amazonaws.com"),
            Record("2026-11-20T09:40:00Z", "s3.amazonaws.com", "GetObject", account: "444444444444"),
            Record("2026-11-21T00:01:00Z", "s3.amazonaws.com", "PutObject"));
        Write(root, Account, "eu-west-1", day, "z1y2x3w4v5u6t7s8",
            Record("2026-11-20T11:00:00Z", "kms.amazonaws.com", "ScheduleKeyDeletion", region: "eu-west-1", edit: r => r["sourceIPAddress"] = "198.51.100.9"),
            Record("2026-11-20T11:05:00Z", "iam.amazonaws.com", "DeleteRole", region: "eu-west-1", edit: r => r["errorCode"] = "AccessDenied"),
            Record("2026-11-20T11:10:00Z", "sts.amazonaws.com", "GetCallerIdentity"));
        return root;
    }

    private static async Task<string[]> RequestIdsAsync(string corpus, params string[] args)
    {
        var result = await CliRunner.RunAsync(["query", "--source", corpus, "--account", Account, "--start", Day, .. args, "--format", "json"]);
        Assert.True(result.ExitCode == 0, result.Err);
        return [.. JsonNode.Parse(result.Out)!.AsArray().Select(r => (string)r!["request_id"]!)];
    }

    private const string AllRows = "SELECT request_id FROM cloudtrail ORDER BY event_time, event_id";

    [Theory]
    [MemberData(nameof(FilterOptions))]
    public async Task Sql_reads_exactly_the_rows_the_timeline_shows(string option, string[] args)
    {
        var corpus = Corpus();
        var timeline = await RequestIdsAsync(corpus, args);
        var sql = await RequestIdsAsync(corpus, [.. args, "--sql", AllRows]);
        Assert.Equal(timeline, sql);

        // The option selects: fewer rows than the day's files hold, and for the options given only here fewer than without it.
        const int everything = 11;
        Assert.True(sql.Length < (args.Length == 0 || option == "--end" ? everything : (await RequestIdsAsync(corpus)).Length), $"{option} selected {sql.Length} of {everything}");
        Assert.NotEmpty(sql);

        // The SQL's own shape does not matter: a count sees the same rows.
        // --limit caps the answer's rows, not the rows the SQL reads.
        var count = await CliRunner.RunAsync(["query", "--source", corpus, "--account", Account, "--start", Day, .. args, "--sql", "SELECT count(*) AS n FROM cloudtrail", "--format", "csv"]);
        Assert.True(count.ExitCode == 0, count.Err);
        var unlimited = option == "--limit" ? await RequestIdsAsync(corpus) : timeline;
        Assert.Equal($"n\n{unlimited.Length}\n", count.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Sql_over_the_cache_reads_the_filtered_rows_too()
    {
        var corpus = Corpus();
        string[] filters = ["--region", "us-east-1", "--event-source", "s3.amazonaws.com", "iam.amazonaws.com"];
        var timeline = await RequestIdsAsync(corpus, filters);
        Assert.Equal(timeline, await RequestIdsAsync(corpus, [.. filters, "--cache", "--sql", AllRows]));
        Assert.Equal(timeline, await RequestIdsAsync(corpus, [.. filters, "--cache", "--sql", AllRows]));
        Assert.Equal(3, timeline.Length);
    }

    [Fact]
    public async Task Sql_over_a_sourced_timeline_reads_filtered_rows_from_both_views()
    {
        // The views of a bucket's rows (and of --verify's): cloudtrail_sources, and cloudtrail read from it.
        var corpus = Corpus();
        var files = Directory.GetFiles(corpus, "*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var question = new TimelineQuery(Account, new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 20), [], null, ["GetObject", "ConsoleLogin", "DeleteRole"], [], ErrorsOnly: false, Limit: null);
        var expected = await RequestIdsAsync(corpus, "--event-name", "GetObject", "ConsoleLogin", "DeleteRole");
        Assert.Equal(3, expected.Length);

        var (local, _) = DuckDbTimeline.Open(files, skipBad: false, keysUnder: corpus);
        using (local)
        {
            AssertAnswers(local);
        }

        var folder = CliRunner.TempDir();
        using var fromBucket = DuckDbTimeline.CreateSourced(default, folder);
        Assert.True(fromBucket.TryStageSourced(files, files.ToDictionary(f => f, _ => 1L << 20), corpus));
        fromBucket.CommitStagedSourced();
        fromBucket.SealSourced();
        AssertAnswers(fromBucket);

        void AssertAnswers(DuckDbTimeline timeline)
        {
            var sourced = QueryCommand.RunUserSql(timeline, question, $"SELECT request_id, {TimelineSql.SourceKeyColumn} FROM {TimelineSql.SourcedView} ORDER BY event_time, event_id");
            Assert.Equal(expected, sourced.Rows.Select(r => (string)r[0]!));
            Assert.All(sourced.Rows, r => Assert.StartsWith("AWSLogs/", (string)r[1]!));
            Assert.Equal(expected, timeline.Run(AllRows).Rows.Select(r => (string)r[0]!));
        }
    }

    [Theory]
    [InlineData("--summary")]
    [InlineData("--athena")]
    public async Task Sql_with_an_answer_it_would_be_dropped_for_is_refused(string other)
    {
        var result = await CliRunner.RunAsync("query", "--source", Corpus(), "--account", Account, "--start", Day, "--sql", AllRows, other);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--sql", line);
        Assert.Contains(other, line);
    }
}
