using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>
/// `query --athena --run` through the real AWS CLI against a fake Athena (bench/tools/fake-athena.mjs): the SQL it
/// sends carries every filter, and the answer prints exactly as the local answer to the same question does.
/// </summary>
public class AthenaRunTests
{
    private const string Account = "333333333333";

    private static readonly string[] Question = ["--account", Account, "--start", "2026-11-20", "--region", "us-east-1", "--event-source", "iam.amazonaws.com", "s3.amazonaws.com", "--ip", "10.0.0.0/8"];

    private static JsonObject Record(string time, string source, string name, string address, Action<JsonObject>? edit = null)
    {
        var record = new JsonObject
        {
            ["eventVersion"] = "1.09",
            ["userIdentity"] = new JsonObject
            {
                ["type"] = "AssumedRole",
                ["arn"] = $"arn:aws:sts::{Account}:assumed-role/Deployer/ci, \"run\" 42",
                ["accountId"] = Account,
                ["sessionContext"] = new JsonObject
                {
                    ["sessionIssuer"] = new JsonObject { ["type"] = "Role", ["arn"] = $"arn:aws:iam::{Account}:role/Deployer" },
                    ["attributes"] = new JsonObject { ["mfaAuthenticated"] = "false" },
                },
            },
            ["eventTime"] = time,
            ["eventSource"] = source,
            ["eventName"] = name,
            ["awsRegion"] = "us-east-1",
            ["sourceIPAddress"] = address,
            ["requestID"] = $"req-{name}",
            ["eventID"] = $"0000000{name.Length}-0000-0000-0000-{time[11..13]}{time[14..16]}00000000",
            ["eventType"] = "AwsApiCall",
            ["recipientAccountId"] = Account,
        };
        edit?.Invoke(record);
        return record;
    }

    private static string Corpus() => QueryAddressFilterTests.Corpus(
        Record("2026-11-20T09:00:00Z", "iam.amazonaws.com", "AttachRolePolicy", "10.1.2.3", r => r["resources"] = new JsonArray(new JsonObject { ["ARN"] = $"arn:aws:iam::{Account}:role/app" }, new JsonObject { ["ARN"] = $"arn:aws:iam::{Account}:policy/p" })),
        Record("2026-11-20T09:05:00Z", "s3.amazonaws.com", "GetObject", "10.1.2.3"),
        Record("2026-11-20T09:06:00Z", "s3.amazonaws.com", "PutObject", "iam.amazonaws.com"),
        Record("2026-11-20T09:10:00Z", "iam.amazonaws.com", "CreateUser", "10.200.0.1", r => { r["errorCode"] = "AccessDenied"; r["userIdentity"] = new JsonObject { ["type"] = "Root", ["arn"] = $"arn:aws:iam::{Account}:root" }; }),
        Record("2026-11-20T09:20:00Z", "iam.amazonaws.com", "DeleteRole", "198.51.100.9"),
        Record("2026-11-20T09:30:00Z", "ec2.amazonaws.com", "RunInstances", "10.1.2.3"),
        Record("2026-11-20T09:40:00Z", "s3.amazonaws.com", "ListBuckets", "10.1.2.4"));

    private static async Task<string> LocalAsync(string corpus, params string[] extra)
    {
        var result = await CliRunner.RunAsync(["query", "--source", corpus, .. Question, .. extra]);
        Assert.True(result.ExitCode == 0, result.Err);
        return result.Out;
    }

    /// <summary>Canned Athena answers holding what the local engine found: the timeline's rows, and each summary's.</summary>
    private static async Task<string> AnswersAsync(string corpus)
    {
        var answers = new JsonArray();
        var summary = JsonNode.Parse(await LocalAsync(corpus, "--summary", "--format", "json"))!.AsObject();
        foreach (var (dimension, rows) in summary)
        {
            answers.Add(new JsonObject
            {
                ["match"] = $"SELECT {dimension} AS value",
                ["columns"] = new JsonArray(new JsonObject { ["Name"] = "value", ["Type"] = "varchar" }, new JsonObject { ["Name"] = "events", ["Type"] = "bigint" }),
                ["rows"] = new JsonArray([.. rows!.AsArray().Select(r => (JsonNode)new JsonArray(r!["value"]?.DeepClone(), r["events"]!.DeepClone()))]),
            });
        }

        // Last: a summary's SQL holds the timeline's as its subquery.
        var timeline = JsonNode.Parse(await LocalAsync(corpus, "--format", "json"))!.AsArray();
        var columns = timeline[0]!.AsObject().Select(p => p.Key).ToList();
        answers.Add(new JsonObject
        {
            ["match"] = "SELECT eventtime AS event_time",
            ["columns"] = new JsonArray([.. columns.Select(c => (JsonNode)new JsonObject { ["Name"] = c, ["Type"] = "varchar" })]),
            ["rows"] = new JsonArray([.. timeline.Select(r => (JsonNode)new JsonArray([.. columns.Select(c => r![c]?.DeepClone())]))]),
        });
        var file = Path.Combine(CliRunner.TempDir(), "answers.json");
        await File.WriteAllTextAsync(file, answers.ToJsonString());
        return file;
    }

    private static string[] Athena(NodeFake fake, params string[] extra) =>
        ["query", "--athena", "--run", .. Question, "--name-prefix", "acme-audit", "--athena-endpoint-url", fake.Endpoint, "--athena-region", "us-east-1", .. extra];

    [SkippableFact]
    public async Task The_answer_from_athena_prints_like_the_local_answer_in_every_format_and_the_sql_carries_every_filter()
    {
        NodeFake.RequireAwsCli();
        var corpus = Corpus();

        // The local answer itself: only iam and s3 calls from 10.0.0.0/8, in time order (a service name is no address).
        var local = JsonNode.Parse(await LocalAsync(corpus, "--format", "json"))!.AsArray();
        Assert.Equal(["AttachRolePolicy", "GetObject", "CreateUser", "ListBuckets"], local.Select(r => (string)r!["event_name"]!).ToArray());

        // Three rows a page: the header and the rows come back over several get-query-results calls.
        using var fake = new NodeFake("fake-athena.mjs", "--answers", await AnswersAsync(corpus), "--page-size", "3", "--polls", "0");
        foreach (var format in new[] { "table", "json", "csv" })
        {
            foreach (var summary in new[] { Array.Empty<string>(), ["--summary"] })
            {
                var athena = await CliRunner.RunAsync([.. Athena(fake, "--format", format), .. summary]);
                Assert.True(athena.ExitCode == 0, athena.Err);
                Assert.Equal(await LocalAsync(corpus, ["--format", format, .. summary]), athena.Out);
                Assert.Equal("", athena.Err);
            }
        }

        var started = fake.Requests.Where(r => r.Operation == "StartQueryExecution").Select(r => r.Body).ToList();
        // Three formats, each a timeline and a summary of four counts.
        Assert.Equal(3 * (1 + 4), started.Count);
        Assert.All(started, body =>
        {
            Assert.Equal("acme-audit-audit", (string?)body["WorkGroup"]);
            Assert.Equal("acme_audit_audit", (string?)body["QueryExecutionContext"]!["Database"]);
            var sql = (string)body["QueryString"]!;
            foreach (var predicate in new[]
            {
                "FROM \"acme_audit_audit\".\"cloudtrail\"",
                "date BETWEEN '2026/11/20' AND '2026/11/20'",
                "account = '333333333333'",
                "eventtime >= '2026-11-20'",
                "substr(eventtime, 1, 10) <= '2026-11-20'",
                "region IN ('us-east-1')",
                "eventsource IN ('iam.amazonaws.com', 's3.amazonaws.com')",
                "contains('10.0.0.0/8', TRY_CAST(regexp_replace(sourceipaddress, '\\A([^%]*:[^%]*)%[\\s\\S]*\\z', '$1') AS IPADDRESS))",
            })
            {
                Assert.Contains(predicate, sql, StringComparison.Ordinal);
            }
        });
        // Each timeline's header and four rows are two pages of three.
        Assert.True(fake.Requests.Count(r => r.Operation == "GetQueryResults") >= 3 * 2, "the results were read page by page");
        Assert.DoesNotContain(fake.Requests, r => r.Operation == "StopQueryExecution");
    }

    [SkippableFact]
    public async Task A_failed_query_is_one_line_with_athenas_reason_and_exit_two()
    {
        NodeFake.RequireAwsCli();
        using var fake = new NodeFake("fake-athena.mjs", "--answers", await AnswersAsync(Corpus()), "--polls", "1", "--fail", "SYNTAX_ERROR: line 3:7: Column 'eventtime' cannot be resolved");
        var result = await CliRunner.RunAsync(Athena(fake, "--athena-database", "forensics", "--athena-workgroup", "incident"));
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^Athena query [0-9a-f-]+ FAILED: SYNTAX_ERROR: line 3:7: Column 'eventtime' cannot be resolved$", line);
        Assert.Equal("", result.Out);

        // Named ones win over those of --name-prefix.
        var started = fake.Requests.Single(r => r.Operation == "StartQueryExecution").Body;
        Assert.Equal("incident", (string?)started["WorkGroup"]);
        Assert.Equal("forensics", (string?)started["QueryExecutionContext"]!["Database"]);
        Assert.Contains("FROM \"forensics\".\"cloudtrail\"", (string)started["QueryString"]!, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_query_past_its_timeout_is_stopped_in_athena_with_one_line_and_exit_two()
    {
        NodeFake.RequireAwsCli();
        using var fake = new NodeFake("fake-athena.mjs", "--answers", await AnswersAsync(Corpus()), "--never-finish");
        var result = await CliRunner.RunAsync(Athena(fake, "--timeout", "2s"));
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var id = System.Text.RegularExpressions.Regex.Match(line, "Athena query ([0-9a-f-]+) ran past the timeout and was stopped").Groups[1].Value;
        Assert.NotEmpty(id);
        // The fake reports each request on its output, read beside the process: the stop's line may follow the exit.
        for (var waited = 0; waited < 100 && !fake.Requests.Any(r => r.Operation == "StopQueryExecution"); waited++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(fake.Requests, r => r.Operation == "StopQueryExecution" && (string?)r.Body["QueryExecutionId"] == id);
    }

    [SkippableFact]
    public async Task Ctrl_c_stops_the_query_in_athena()
    {
        NodeFake.RequireAwsCli();
        using var fake = new NodeFake("fake-athena.mjs", "--answers", await AnswersAsync(Corpus()), "--never-finish");
        using var cancel = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var run = CliApp.RunAsync(Athena(fake), CliIo.Capture(output, error), cancel.Token);
        while (!fake.Requests.Any(r => r.Operation == "GetQueryExecution"))
        {
            Assert.False(run.IsCompleted, error.ToString());
            await Task.Delay(50);
        }

        cancel.Cancel();
        Assert.Equal(ExitCodes.Cancelled, await run);
        // The stop may land just after the command returned: it is sent before the process would end.
        for (var waited = 0; waited < 100 && !fake.Requests.Any(r => r.Operation == "StopQueryExecution"); waited++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(fake.Requests, r => r.Operation == "StopQueryExecution");
    }

    [Fact]
    public async Task The_summary_sql_counts_each_dimension_over_the_filtered_timeline()
    {
        var result = await CliRunner.RunAsync(["query", "--athena", "--summary", .. Question]);
        Assert.Equal(0, result.ExitCode);
        foreach (var dimension in new[] { "principal_arn", "event_name", "error_code", "source_ip" })
        {
            Assert.Contains($"-- by {dimension}\nSELECT {dimension} AS value, count(*) AS events", result.Out, StringComparison.Ordinal);
        }

        Assert.Equal(4, result.Out.Split("contains('10.0.0.0/8', TRY_CAST(regexp_replace(sourceipaddress, '\\A([^%]*:[^%]*)%[\\s\\S]*\\z', '$1') AS IPADDRESS))").Length - 1);
        Assert.DoesNotContain("LIMIT", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_workgroup_run_says_how_to_name_it()
    {
        var result = await CliRunner.RunAsync(["query", "--athena", "--run", .. Question]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--run needs the workgroup: --name-prefix PREFIX", result.Err, StringComparison.Ordinal);

        var badPrefix = await CliRunner.RunAsync(["query", "--athena", "--run", .. Question, "--name-prefix", "Not_A_Prefix"]);
        Assert.Equal(2, badPrefix.ExitCode);
        Assert.StartsWith("--name-prefix: expected", badPrefix.Err, StringComparison.Ordinal);
    }
}
