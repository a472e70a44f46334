using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>`auditinfra query` over real gzip CloudTrail files in the bucket layout, with a real DuckDB.</summary>
public class QueryCommandTests
{
    private const string Account = "333333333333";

    internal static JsonObject Record(string time, string source, string name, string account = Account, string region = "us-east-1", Action<JsonObject>? edit = null)
    {
        var record = new JsonObject
        {
            ["eventVersion"] = "1.09",
            ["userIdentity"] = new JsonObject
            {
                ["type"] = "AssumedRole",
                ["arn"] = $"arn:aws:sts::{account}:assumed-role/Deployer/ci-run-42",
                ["accountId"] = account,
                ["sessionContext"] = new JsonObject
                {
                    ["sessionIssuer"] = new JsonObject { ["type"] = "Role", ["arn"] = $"arn:aws:iam::{account}:role/Deployer" },
                    ["attributes"] = new JsonObject { ["mfaAuthenticated"] = "false" },
                },
            },
            ["eventTime"] = time,
            ["eventSource"] = source,
            ["eventName"] = name,
            ["awsRegion"] = region,
            ["sourceIPAddress"] = "10.1.2.3",
            ["requestParameters"] = new JsonObject { ["bucketName"] = "app", ["nested"] = new JsonObject { ["deep"] = new JsonArray(1, 2) } },
            ["requestID"] = $"req-{name}-{time}",
            ["eventID"] = Guid.NewGuid().ToString(),
            ["eventType"] = "AwsApiCall",
            ["recipientAccountId"] = account,
        };
        edit?.Invoke(record);
        return record;
    }

    internal static void Write(string root, string account, string region, DateOnly day, string name, params JsonObject[] records)
    {
        var dir = Path.Combine(root, "AWSLogs", "o-a1b2c3d4e5", account, "CloudTrail", region, day.ToString("yyyy"), day.ToString("MM"), day.ToString("dd"));
        Directory.CreateDirectory(dir);
        using var gz = new GZipStream(File.Create(Path.Combine(dir, $"{account}_CloudTrail_{region}_{day:yyyyMMdd}T1000Z_{name}.json.gz")), CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = new JsonArray([.. records]) }.ToJsonString()));
    }

    internal static string Corpus()
    {
        var root = CliRunner.TempDir();
        var day = new DateOnly(2026, 11, 20);
        Write(root, Account, "us-east-1", day, "a1b2c3d4e5f6g7h8",
            Record("2026-11-20T09:00:00Z", "iam.amazonaws.com", "AttachRolePolicy", edit: r => r["resources"] = new JsonArray(new JsonObject { ["ARN"] = "arn:aws:iam::333333333333:role/app", ["type"] = "AWS::IAM::Role" })),
            Record("2026-11-20T09:05:00Z", "s3.amazonaws.com", "GetObject"),
            Record("2026-11-20T09:10:00Z", "ec2.amazonaws.com", "RunInstances", edit: r => { r["errorCode"] = "Client.UnauthorizedOperation"; r["sourceIPAddress"] = "198.51.100.9"; }),
            Record("2026-11-20T09:20:00Z", "signin.amazonaws.com", "ConsoleLogin", edit: r =>
            {
                r["userIdentity"] = new JsonObject { ["type"] = "Root", ["arn"] = "arn:aws:iam::333333333333:root", ["accountId"] = Account };
                r.Remove("requestParameters");
            }));
        Write(root, Account, "eu-west-1", day, "z1y2x3w4v5u6t7s8", Record("2026-11-20T11:00:00Z", "kms.amazonaws.com", "ScheduleKeyDeletion", region: "eu-west-1"));
        Write(root, Account, "us-east-1", day.AddDays(1), "n1m2l3k4j5i6h7g8", Record("2026-11-21T01:00:00Z", "s3.amazonaws.com", "PutObject"));
        Write(root, "444444444444", "us-east-1", day, "p1o2i3u4y5t6r7e8", Record("2026-11-20T09:00:00Z", "s3.amazonaws.com", "GetObject", account: "444444444444"));

        // A broken file on a day nobody asks for: path selection must never open it.
        var broken = Path.Combine(root, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "01");
        Directory.CreateDirectory(broken);
        File.WriteAllBytes(Path.Combine(broken, $"{Account}_CloudTrail_us-east-1_20261101T0000Z_broken000000000.json.gz"), [0x1f, 0x8b, 0x08, 0x00, 0x01]);
        return root;
    }

    private static async Task<JsonArray> Json(params string[] args)
    {
        var result = await CliRunner.RunAsync(["query", .. args, "--format", "json"]);
        Assert.True(result.ExitCode == 0, result.Err);
        return JsonNode.Parse(result.Out)!.AsArray();
    }

    [Fact]
    public async Task The_day_of_an_account_in_time_order_across_regions_with_every_column()
    {
        var rows = await Json("--source", Corpus(), "--account", Account, "--date", "2026-11-20");
        Assert.Equal(["AttachRolePolicy", "GetObject", "RunInstances", "ConsoleLogin", "ScheduleKeyDeletion"], rows.Select(r => (string)r!["event_name"]!).ToArray());
        var first = rows[0]!;
        Assert.Equal("AssumedRole", (string?)first["principal_type"]);
        Assert.Equal("arn:aws:iam::333333333333:role/Deployer", (string?)first["session_issuer"]);
        Assert.Equal("false", (string?)first["mfa"]);
        Assert.Equal("arn:aws:iam::333333333333:role/app", (string?)first["resources"]);
        Assert.Equal("req-AttachRolePolicy-2026-11-20T09:00:00Z", (string?)first["request_id"]);
        var root = rows[3]!;
        Assert.Equal("Root", (string?)root["principal_type"]);
        Assert.Null(root["session_issuer"]);
    }

    [Fact]
    public async Task Filters_narrow_the_timeline()
    {
        var corpus = Corpus();
        Assert.Equal(["RunInstances"], (await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--errors-only")).Select(r => (string)r!["event_name"]!).ToArray());
        Assert.Equal(["ScheduleKeyDeletion"], (await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--region", "eu-west-1")).Select(r => (string)r!["event_name"]!).ToArray());
        Assert.Equal(["ConsoleLogin"], (await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--principal", ":root")).Select(r => (string)r!["event_name"]!).ToArray());
        Assert.Equal(["RunInstances"], (await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--ip", "198.51.100.0/24")).Select(r => (string)r!["event_name"]!).ToArray());
        Assert.Equal(["AttachRolePolicy", "GetObject"], (await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--event-source", "iam.amazonaws.com", "s3.amazonaws.com")).Select(r => (string)r!["event_name"]!).ToArray());
        Assert.Equal(2, (await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--limit", "2")).Count);
        Assert.Equal(6, (await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--to", "2026-11-21")).Count);
    }

    [Fact]
    public async Task Summary_sql_and_csv()
    {
        var corpus = Corpus();
        var summary = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-20", "--summary");
        Assert.Equal(0, summary.ExitCode);
        Assert.Contains("by principal_arn:", summary.Out);
        Assert.Contains("by error_code:", summary.Out);

        var sql = await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--sql", "SELECT event_name, json_extract_string(raw, '$.requestParameters.nested.deep[1]') AS deep FROM cloudtrail WHERE event_name = 'GetObject'");
        Assert.Equal("2", (string?)sql.Single()!["deep"]);

        var csv = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-20", "--format", "csv", "--errors-only");
        Assert.Equal(0, csv.ExitCode);
        var lines = csv.Out.Trim().Split('\n');
        Assert.StartsWith("event_time,principal_type,principal_arn", lines[0]);
        Assert.Contains("Client.UnauthorizedOperation", lines[1]);
    }

    [Fact]
    public async Task Unknown_accounts_and_days_without_logs_are_said_plainly()
    {
        var corpus = Corpus();
        var unknown = await CliRunner.RunAsync("query", "--source", corpus, "--account", "555555555555", "--date", "2026-11-20");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("Account 555555555555 has no logs", unknown.Err);
        Assert.Contains("333333333333, 444444444444", unknown.Err);

        var outside = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2027-01-01");
        Assert.Equal(2, outside.ExitCode);
        Assert.Contains("run from 2026-11-01 to 2026-11-21", outside.Err);
        Assert.Contains("outside the copy", outside.Err);

        var badDate = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "20-11-2026");
        Assert.Equal(2, badDate.ExitCode);
        Assert.Contains("--date: expected a day as YYYY-MM-DD", badDate.Err);
    }

    [Fact]
    public async Task A_truncated_file_is_named_and_skipped_only_when_asked()
    {
        var corpus = Corpus();
        var result = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-01");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("broken000000000.json.gz: malformed or truncated CloudTrail log", result.Err);
        Assert.Contains("--skip-bad", result.Err);

        var withGood = Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "01");
        Write(corpus, Account, "us-east-1", new DateOnly(2026, 11, 1), "good000000000000", Record("2026-11-01T05:00:00Z", "s3.amazonaws.com", "GetObject"));
        var skipped = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-01", "--skip-bad", "--format", "json");
        Assert.Equal(0, skipped.ExitCode);
        Assert.Contains("skipped", skipped.Err);
        Assert.Contains("broken000000000.json.gz", skipped.Err);
        Assert.Single(JsonNode.Parse(skipped.Out)!.AsArray());
        Assert.True(Directory.Exists(withGood));
    }

    [Fact]
    public async Task Athena_prints_the_same_question_and_run_says_what_is_missing()
    {
        var sql = await CliRunner.RunAsync("query", "--athena", "--account", Account, "--date", "2026-11-20", "--errors-only");
        Assert.Equal(0, sql.ExitCode);
        Assert.Contains("WHERE date BETWEEN '2026/11/20' AND '2026/11/20'", sql.Out);
        Assert.Contains("AND account = '333333333333'", sql.Out);

        var run = await CliRunner.RunAsync("query", "--athena", "--run", "--account", Account, "--date", "2026-11-20");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--run needs the workgroup", run.Err);

        var noSource = await CliRunner.RunAsync("query", "--account", Account, "--date", "2026-11-20");
        Assert.Equal(2, noSource.ExitCode);
        Assert.Contains("--source is required", noSource.Err);
    }

    [Fact]
    public async Task The_cache_answers_like_the_logs_and_rebuilds_a_day_that_changed()
    {
        var corpus = Corpus();
        var args = new[] { "--source", corpus, "--account", Account, "--date", "2026-11-20" };
        var plain = await Json(args);
        var cached = await Json([.. args, "--cache"]);
        Assert.Equal(plain.ToJsonString(), cached.ToJsonString());
        var parquet = Path.Combine(corpus, ".auditinfra-cache", "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "20.parquet");
        Assert.True(File.Exists(parquet));
        Assert.Equal(plain.ToJsonString(), (await Json([.. args, "--cache"])).ToJsonString());

        Write(corpus, Account, "us-east-1", new DateOnly(2026, 11, 20), "late000000000000", Record("2026-11-20T23:00:00Z", "iam.amazonaws.com", "CreateUser"));
        var rebuilt = await Json([.. args, "--cache"]);
        Assert.Equal("CreateUser", (string?)rebuilt.Last()!["event_name"]);
        Assert.Equal(plain.Count + 1, rebuilt.Count);
    }

    [Fact]
    public async Task The_cache_rebuilds_a_day_whose_log_was_rewritten_at_the_same_size()
    {
        var corpus = Corpus();
        var args = new[] { "--source", corpus, "--account", Account, "--start", "2026-11-20", "--end", "2026-11-20", "--event-name", "PutObject" };
        Assert.Empty(await Json([.. args, "--cache"]));

        // The same records with one event name swapped for another of the same length, stored uncompressed: the same size.
        var log = Directory.GetFiles(Path.Combine(corpus, "AWSLogs"), "*.json.gz", SearchOption.AllDirectories).First(f => f.Contains($"{Account}_CloudTrail_us-east-1_20261120", StringComparison.Ordinal));
        string text;
        using (var reader = new StreamReader(new GZipStream(File.OpenRead(log), CompressionMode.Decompress)))
        {
            text = await reader.ReadToEndAsync();
        }

        var edited = text.Replace("\"GetObject\"", "\"PutObject\"", StringComparison.Ordinal);
        Assert.NotEqual(text, edited);
        byte[] Stored(string json)
        {
            using var buffer = new MemoryStream();
            using (var gzip = new GZipStream(buffer, CompressionLevel.NoCompression, leaveOpen: true))
            {
                gzip.Write(System.Text.Encoding.UTF8.GetBytes(json));
            }

            return buffer.ToArray();
        }

        await File.WriteAllBytesAsync(log, Stored(text));
        File.SetLastWriteTimeUtc(log, new DateTime(2026, 11, 21, 0, 0, 0, DateTimeKind.Utc));
        Assert.Empty(await Json([.. args, "--cache"]));
        var size = new FileInfo(log).Length;

        await File.WriteAllBytesAsync(log, Stored(edited));
        Assert.Equal(size, new FileInfo(log).Length);
        Assert.NotEmpty(await Json([.. args, "--cache"]));
    }

    [Fact]
    public async Task A_log_file_inflating_past_16_MB_is_read_whole()
    {
        // DuckDB's default maximum_object_size (16 MB) refused such files as malformed; real ones reach hundreds of MB.
        var root = CliRunner.TempDir();
        var day = new DateOnly(2026, 11, 20);
        var padding = new string('x', 400);
        var records = Enumerable.Range(0, 40_000).Select(i => Record($"2026-11-20T{i / 3600 % 24:00}:{i / 60 % 60:00}:{i % 60:00}Z", "s3.amazonaws.com", "GetObject", edit: r => r["userAgent"] = padding)).ToArray();
        Write(root, Account, "us-east-1", day, "big0000000000000", records);
        var file = Directory.GetFiles(root, "*.json.gz", SearchOption.AllDirectories).Single();
        using (var inflated = new GZipStream(File.OpenRead(file), CompressionMode.Decompress))
        {
            var size = 0L;
            var buffer = new byte[1 << 16];
            for (int read; (read = inflated.Read(buffer)) > 0;)
            {
                size += read;
            }

            Assert.True(size > 16L * 1024 * 1024, $"the test file inflates to only {size} bytes");
        }

        var result = await CliRunner.RunAsync("query", "--source", root, "--account", Account, "--start", "2026-11-20", "--summary", "--format", "json");
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Equal(40_000, (int)JsonNode.Parse(result.Out)!["event_name"]![0]!["events"]!);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    public async Task A_limit_below_one_is_refused(string limit)
    {
        var result = await CliRunner.RunAsync("query", "--source", Corpus(), "--account", Account, "--date", "2026-11-20", "--limit", limit);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal($"--limit: expected a number of rows of 1 or more (found {limit})", result.Err.Trim());
    }

    [Fact]
    public async Task A_gzip_json_file_without_records_is_named_not_counted_as_empty()
    {
        var corpus = Corpus();
        var dir = Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "21");
        var notALog = Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261121T1100Z_norecords0000000.json.gz");
        using (var gz = new GZipStream(File.Create(notALog), CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes("""{"digestStartTime":"2026-11-21T10:00:00Z","logFiles":[]}"""));
        }

        var refused = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-21");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"{notALog}: not a CloudTrail log file (its JSON holds no Records list)", refused.Err);
        Assert.Equal("", refused.Out);

        var skipped = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-21", "--skip-bad", "--format", "json");
        Assert.Equal(0, skipped.ExitCode);
        Assert.Contains($"skipped {notALog}: not a CloudTrail log file", skipped.Err);
        Assert.Equal(["PutObject"], JsonNode.Parse(skipped.Out)!.AsArray().Select(r => (string)r!["event_name"]!).ToArray());
    }

    [Fact]
    public async Task The_widest_range_of_days_reads_what_the_copy_holds()
    {
        var corpus = Corpus();
        var rows = await Json("--source", corpus, "--account", Account, "--date", "0001-01-01", "--to", "9999-12-31", "--skip-bad");
        Assert.Equal(6, rows.Count);
        Assert.Equal("PutObject", (string?)rows.Last()!["event_name"]);

        var athena = await CliRunner.RunAsync("query", "--athena", "--account", Account, "--start", "0001-01-01", "--end", "9999-12-31");
        Assert.Equal(0, athena.ExitCode);
        Assert.Contains("BETWEEN '0001/01/01' AND '9999/12/31'", athena.Out);
    }

    [Fact]
    public async Task Start_and_end_are_the_range_and_date_and_to_their_aliases()
    {
        var corpus = Corpus();
        var byStart = await Json("--source", corpus, "--account", Account, "--start", "2026-11-20", "--end", "2026-11-21");
        var byDate = await Json("--source", corpus, "--account", Account, "--date", "2026-11-20", "--to", "2026-11-21");
        Assert.Equal(6, byStart.Count);
        Assert.Equal(byDate.Select(r => (string?)r!["event_id"]), byStart.Select(r => (string?)r!["event_id"]));

        var reversed = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-21", "--end", "2026-11-20");
        Assert.Equal(2, reversed.ExitCode);
        Assert.Equal("--end 2026-11-20 is before --start 2026-11-21", reversed.Err.Trim());

        var badEnd = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-20", "--to", "soon");
        Assert.Equal(2, badEnd.ExitCode);
        Assert.Equal("--to: expected a day as YYYY-MM-DD (found \"soon\")", badEnd.Err.Trim());
    }

    [Fact]
    public async Task The_summary_is_one_json_document_with_counts_as_numbers_or_one_csv_table()
    {
        var corpus = Corpus();
        var json = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-20", "--summary", "--format", "json");
        Assert.Equal(0, json.ExitCode);
        var summary = JsonNode.Parse(json.Out)!.AsObject();
        Assert.Equal(["principal_arn", "event_name", "error_code", "source_ip"], summary.Select(p => p.Key).ToArray());
        var byIp = summary["source_ip"]!.AsArray();
        Assert.Equal("10.1.2.3", (string?)byIp[0]!["value"]);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, byIp[0]!["events"]!.GetValueKind());
        Assert.Equal(4, (int)byIp[0]!["events"]!);
        Assert.Equal(5, summary["event_name"]!.AsArray().Sum(r => (int)r!["events"]!));

        var csv = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-20", "--summary", "--format", "csv");
        Assert.Equal(0, csv.ExitCode);
        var lines = csv.Out.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("dimension,value,events", lines[0]);
        Assert.Single(lines, l => l.StartsWith("dimension,", StringComparison.Ordinal));
        Assert.Contains("source_ip,10.1.2.3,4", lines);
        Assert.Contains("event_name,ScheduleKeyDeletion,1", lines);
        Assert.All(lines.Skip(1), l => Assert.Matches(@",\d+$", l));
    }

    [Fact]
    public async Task Sql_results_keep_numbers_as_numbers_in_json()
    {
        var rows = await Json("--source", Corpus(), "--account", Account, "--date", "2026-11-20", "--sql", "SELECT count(*) AS n, 'x' AS s FROM cloudtrail");
        Assert.Equal(System.Text.Json.JsonValueKind.Number, rows.Single()!["n"]!.GetValueKind());
        Assert.Equal(5, (int)rows.Single()!["n"]!);
    }

    [Fact]
    public async Task A_log_file_inflating_past_the_1_GiB_bound_is_named_not_read()
    {
        // Valid JSON and real gzip, padded with whitespace past the bound: refused from its inflated
        // size (counted, stopping past the bound) before DuckDB is asked to hold it.
        var corpus = Corpus();
        var dir = Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "21");
        var huge = Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261121T1200Z_huge000000000000.json.gz");
        using (var gz = new GZipStream(File.Create(huge), CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes("""{"Records":["""));
            var spaces = Encoding.UTF8.GetBytes(new string(' ', 1 << 20));
            for (var i = 0; i < 1025; i++)
            {
                gz.Write(spaces);
            }

            gz.Write(Encoding.UTF8.GetBytes("]}"));
        }

        var refused = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-21");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"{huge}: inflates to more than the 1024 MiB query reads from one log file", refused.Err);

        var skipped = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-21", "--skip-bad", "--format", "json");
        Assert.Equal(0, skipped.ExitCode);
        Assert.Contains($"skipped {huge}: inflates to more than the 1024 MiB", skipped.Err);
        Assert.Equal(["PutObject"], JsonNode.Parse(skipped.Out)!.AsArray().Select(r => (string)r!["event_name"]!).ToArray());
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    [Fact]
    public async Task A_fifo_or_a_link_among_the_logs_is_named_never_opened_or_followed()
    {
        var corpus = Corpus();
        var dir = Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "21");
        var fifo = Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261121T1300Z_fifo000000000000.json.gz");
        Assert.Equal(0, mkfifo(fifo, Convert.ToUInt32("644", 8)));
        var outside = Path.Combine(CliRunner.TempDir(), "elsewhere.json.gz");
        File.Copy(Directory.GetFiles(dir).Single(f => f.Contains("n1m2l3k4j5i6h7g8", StringComparison.Ordinal)), outside);
        var link = Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261121T1400Z_link000000000000.json.gz");
        File.CreateSymbolicLink(link, outside);

        // Opening the FIFO would block until a writer comes: the time limit turns a hang into a failure.
        var refused = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-21").WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"{fifo}: malformed or truncated CloudTrail log (0 bytes", refused.Err);
        Assert.Contains($"{link}: a symbolic link (to {outside}), not followed", refused.Err);

        var skipped = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-21", "--skip-bad", "--format", "json").WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, skipped.ExitCode);
        Assert.Single(JsonNode.Parse(skipped.Out)!.AsArray());
    }

    public static TheoryData<string> HostileLogs() =>
    [
        """{"Records": 5}""",
        """{"Records": "x"}""",
        """{"Records": null}""",
        """{"Records": [1, "a", null, [], true]}""",
        """{"Records": [{"eventTime": 5, "recipientAccountId": 333333333333}]}""",
        """{"Records": [{"eventTime": "2026-11-21T02:00:00Z", "recipientAccountId": "333333333333", "userIdentity": "x", "resources": 5, "sourceIPAddress": ["a"]}]}""",
        """{"Records": [{"eventTime": "2026-11-21T02:00:00Z", "recipientAccountId": "333333333333", "resources": [1, {"ARN": 2}, "x"]}]}""",
        """{"Records": [], "Records": [{"eventTime": "x"}]}""",
        "[]",
        "[1, 2]",
        "\"text\"",
        "{\"Records\": [" + new string('[', 5000) + new string(']', 5000) + "]}",
        "{\"Records\": [{\"eventName\": \"\u00ff\ud800\"}]}",
        "",
        "{\"Records\": [",
    ];

    [Theory]
    [MemberData(nameof(HostileLogs))]
    public async Task A_hostile_log_file_gives_rows_or_one_line_naming_it_never_an_exception(string content)
    {
        var corpus = Corpus();
        var dir = Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "21");
        var hostile = Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261121T1500Z_hostile000000000.json.gz");
        using (var gz = new GZipStream(File.Create(hostile), CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes(content));
        }

        foreach (var format in new[] { "json", "table", "csv" })
        {
            var result = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--date", "2026-11-21", "--format", format).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode is 0 or 2, $"exit {result.ExitCode}: {result.Err}");
            if (result.ExitCode == 2)
            {
                Assert.Equal("", result.Out);
                Assert.StartsWith($"{hostile}: ", Assert.Single(result.Err.TrimEnd().Split('\n')));
            }
            else if (format == "json")
            {
                Assert.Contains(JsonNode.Parse(result.Out)!.AsArray(), r => (string?)r!["event_name"] == "PutObject");
            }
        }
    }

    [Fact]
    public async Task A_query_running_past_its_timeout_is_interrupted_with_one_line_and_exit_2()
    {
        var corpus = Corpus();
        var watch = System.Diagnostics.Stopwatch.StartNew();

        // Hours of work for DuckDB: only the interrupt can end it in time.
        var result = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-20", "--timeout", "2s",
            "--sql", "SELECT sum(hash(i)) FROM range(1000000000000) t(i)").WaitAsync(TimeSpan.FromSeconds(120));

        InputAssert.OneLineError(result, "ran longer than --timeout 2s");
        Assert.Equal("", result.Out);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("-5m")]
    [InlineData("10")]
    [InlineData("5x")]
    [InlineData("999h")]
    public async Task A_timeout_that_is_not_a_duration_is_refused(string timeout)
    {
        var result = await CliRunner.RunAsync("query", "--source", Corpus(), "--account", Account, "--start", "2026-11-20", "--timeout", timeout);
        InputAssert.OneLineError(result, "--timeout: expected a duration");
    }

    [Fact]
    public async Task Linked_account_region_and_day_folders_are_named_never_followed()
    {
        var corpus = Corpus();
        var trail = Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail");

        // Logs outside the copy, reachable only through links at each level of the layout.
        var outside = CliRunner.TempDir();
        Write(outside, Account, "us-west-2", new DateOnly(2026, 11, 20), "outside000000000", Record("2026-11-20T12:00:00Z", "iam.amazonaws.com", "CreateUser", region: "us-west-2"));
        var outsideRegion = Path.Combine(outside, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-west-2");
        var regionLink = Path.Combine(trail, "us-west-2");
        Directory.CreateSymbolicLink(regionLink, outsideRegion);
        var dayLink = Path.Combine(trail, "eu-west-1", "2026", "11", "19");
        Directory.CreateSymbolicLink(dayLink, Path.Combine(outsideRegion, "2026", "11", "20"));
        var loop = Path.Combine(trail, "us-east-1", "2026", "loop");
        Directory.CreateSymbolicLink(loop, ".");

        var refused = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-19", "--end", "2026-11-20").WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, refused.ExitCode);
        InputAssert.NoTrace(refused);
        Assert.Contains($"{regionLink}: a symbolic link (to {outsideRegion}), not followed", refused.Err);
        Assert.Contains($"{dayLink}: a symbolic link", refused.Err);
        Assert.Contains($"{loop}: a symbolic link (to .), not followed", refused.Err);
        Assert.Equal("", refused.Out);

        var skipped = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-19", "--end", "2026-11-20", "--skip-bad", "--format", "json").WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, skipped.ExitCode);
        Assert.Contains($"skipped {regionLink}: a symbolic link", skipped.Err);
        var events = JsonNode.Parse(skipped.Out)!.AsArray().Select(r => (string)r!["event_name"]!).ToList();
        Assert.DoesNotContain("CreateUser", events);
        Assert.Contains("ScheduleKeyDeletion", events);

        // A linked account folder: the account's logs are not read through it.
        var linkedCopy = CliRunner.TempDir();
        var org = Path.Combine(linkedCopy, "AWSLogs", "o-a1b2c3d4e5");
        Directory.CreateDirectory(org);
        var accountLink = Path.Combine(org, Account);
        Directory.CreateSymbolicLink(accountLink, Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account));
        Write(linkedCopy, "444444444444", "us-east-1", new DateOnly(2026, 11, 20), "p1o2i3u4y5t6r7e8", Record("2026-11-20T09:00:00Z", "s3.amazonaws.com", "GetObject", account: "444444444444"));
        var viaLink = await CliRunner.RunAsync("query", "--source", linkedCopy, "--account", Account, "--start", "2026-11-20");
        InputAssert.OneLineError(viaLink, $"{accountLink}: a symbolic link");
    }

    [Fact]
    public async Task A_log_of_two_gzip_members_is_sized_by_both_and_read_whole()
    {
        // The gzip trailer's ISIZE describes the last member only: a big first member and a small last
        // one got a read limit below the JSON's size, and the valid file was refused as malformed.
        var root = CliRunner.TempDir();
        var padding = new string('x', 400);
        var records = Enumerable.Range(0, 40_000).Select(i => Record($"2026-11-20T{i / 3600 % 24:00}:{i / 60 % 60:00}:{i % 60:00}Z", "s3.amazonaws.com", "GetObject", edit: r => r["userAgent"] = padding)).ToArray();
        var json = Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = new JsonArray([.. records]) }.ToJsonString());
        Assert.True(json.Length > 16 << 20, $"the test log is only {json.Length} bytes");
        var dir = Path.Combine(root, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "20");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261120T1000Z_twomembers000000.json.gz");
        using (var output = File.Create(file))
        {
            foreach (var part in new[] { json.AsMemory(0, json.Length - 2), json.AsMemory(json.Length - 2) })
            {
                using var member = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
                member.Write(part.Span);
            }
        }

        var result = await CliRunner.RunAsync("query", "--source", root, "--account", Account, "--start", "2026-11-20", "--summary", "--format", "json");
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Equal(40_000, (int)JsonNode.Parse(result.Out)!["event_name"]![0]!["events"]!);
    }
}
