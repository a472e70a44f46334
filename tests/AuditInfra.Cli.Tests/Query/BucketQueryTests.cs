using Amazon.S3.Model;
using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Query;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Query;
using static AuditInfra.Cli.Tests.Query.QueryCommandTests;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>`auditinfra query --source s3://…` against a real S3-compatible server (s3rver), compared with the same corpus on disk.</summary>
[Trait("Category", "S3")]
public sealed class BucketQueryTests(S3Server server) : IClassFixture<S3Server>
{
    private const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";

    private const string Account = "333333333333";

    /// <summary>The query test corpus, on disk and uploaded under its own prefix: (local root, s3:// URL).</summary>
    private async Task<(string Local, string Url)> UploadedCorpusAsync(Action<string>? edit = null)
    {
        var corpus = Corpus();
        edit?.Invoke(corpus);
        var prefix = "q-" + Guid.NewGuid().ToString("N")[..10] + "/";
        using var client = server.Client();
        await S3Upload.UploadDirectoryAsync(corpus, client, Bucket, prefix);
        return (corpus, $"s3://{Bucket}/{prefix.TrimEnd('/')}");
    }

    private async Task<CliResult> QueryAsync(string source, params string[] args) =>
        await CliRunner.RunAsync(["query", "--source", source, .. source.StartsWith("s3://", StringComparison.Ordinal) ? new[] { "--endpoint-url", server.Endpoint } : [], .. args]);

    public static TheoryData<string[]> Questions() => new()
    {
        new[] { "--date", "2026-11-20" },
        new[] { "--date", "2026-11-20", "--format", "json" },
        new[] { "--date", "2026-11-20", "--format", "csv" },
        new[] { "--date", "2026-11-20", "--summary" },
        new[] { "--date", "2026-11-20", "--summary", "--format", "json" },
        new[] { "--date", "2026-11-20", "--summary", "--format", "csv" },
        new[] { "--start", "2026-11-19", "--end", "2026-11-22", "--format", "json" },
        new[] { "--start", "2026-11-20", "--end", "2026-11-21", "--summary", "--format", "csv" },
        new[] { "--date", "2026-11-20", "--region", "eu-west-1", "--format", "csv" },
        new[] { "--date", "2026-11-20", "--errors-only", "--format", "json" },
        new[] { "--date", "2026-11-20", "--principal", ":root" },
        new[] { "--date", "2026-11-20", "--ip", "198.51.100.0/24", "--format", "csv" },
        new[] { "--date", "2026-11-20", "--event-source", "iam.amazonaws.com", "s3.amazonaws.com", "--format", "json" },
        new[] { "--start", "2026-11-20", "--end", "2026-11-21", "--limit", "2", "--format", "csv" },
        new[] { "--date", "2026-11-20", "--sql", "SELECT event_name, json_extract_string(raw, '$.requestParameters.nested.deep[1]') AS deep FROM cloudtrail ORDER BY event_time", "--format", "json" },
        new[] { "--date", "2026-11-20", "--sql", "SELECT * FROM cloudtrail ORDER BY event_time", "--format", "csv" },
        new[] { "--date", "2026-11-20", "--errors-only", "--sql", "SELECT event_name, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY 1", "--format", "csv" },
        new[] { "--start", "2026-01-01", "--end", "2026-12-31", "--format", "csv" },
    };

    [Theory]
    [MemberData(nameof(Questions))]
    public async Task The_bucket_answers_exactly_what_its_local_copy_answers(string[] question)
    {
        var (local, url) = await UploadedCorpusAsync(corpus =>
            // A wide range walks the day folders instead of probing each day; the broken file of 11-01 would stop it.
            File.Delete(Directory.GetFiles(Path.Combine(corpus, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "01")).Single()));
        var fromCopy = await QueryAsync(local, ["--account", Account, .. question]);
        var fromBucket = await QueryAsync(url, ["--account", Account, .. question]);

        Assert.True(fromCopy.ExitCode == 0, fromCopy.Err);
        Assert.True(fromBucket.ExitCode == 0, fromBucket.Err);
        Assert.Contains(new[] { "AttachRolePolicy", "RunInstances", "ConsoleLogin", "ScheduleKeyDeletion" }, e => fromCopy.Out.Contains(e, StringComparison.Ordinal));
        Assert.Equal(fromCopy.Out, fromBucket.Out);
        Assert.Equal(fromCopy.Err, fromBucket.Err);
    }

    [Fact]
    public async Task Bad_files_and_hostile_keys_in_the_bucket_are_named_by_url_and_skipped_only_when_asked()
    {
        var (local, url) = await UploadedCorpusAsync();
        var prefix = url[$"s3://{Bucket}/".Length..] + "/";
        var day = $"{prefix}AWSLogs/o-a1b2c3d4e5/{Account}/CloudTrail/us-east-1/2026/11/01/";
        using (var client = server.Client())
        {
            // A backslash is no separator in a key, but would be one in a path on some systems: never a file name.
            await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = day + @"..\..\..\..\..\escaped.json.gz", ContentBody = "not gzip", UseChunkEncoding = false });
        }

        var refused = await QueryAsync(url, "--account", Account, "--date", "2026-11-01");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"s3://{Bucket}/{day}", refused.Err, StringComparison.Ordinal);
        Assert.Contains("--skip-bad", refused.Err, StringComparison.Ordinal);
        Assert.Equal("", refused.Out);

        QueryCommandTests.Write(local, Account, "us-east-1", new DateOnly(2026, 11, 1), "good000000000000", Record("2026-11-01T05:00:00Z", "s3.amazonaws.com", "GetObject"));
        // JSON that parses but is no log (no Records list), on a day that is otherwise clean.
        using (var gz = new System.IO.Compression.GZipStream(File.Create(Path.Combine(local, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "eu-west-1", "2026", "11", "20", $"{Account}_CloudTrail_eu-west-1_20261120T2300Z_norecords0000000.json.gz")), System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write("""{"digestStartTime":"2026-11-20T10:00:00Z","logFiles":[]}"""u8);
        }

        using (var client = server.Client())
        {
            await S3Upload.UploadDirectoryAsync(local, client, Bucket, prefix);
        }

        var fromBucket = await QueryAsync(url, "--account", Account, "--date", "2026-11-01", "--skip-bad", "--format", "csv");
        var fromCopy = await QueryAsync(local, "--account", Account, "--date", "2026-11-01", "--skip-bad", "--format", "csv");
        Assert.True(fromBucket.ExitCode == 0, fromBucket.Err);
        Assert.Equal(fromCopy.Out, fromBucket.Out);
        Assert.Contains($"skipped s3://{Bucket}/{day}{Account}_CloudTrail_us-east-1_20261101T0000Z_broken000000000.json.gz: malformed or truncated CloudTrail log", fromBucket.Err, StringComparison.Ordinal);
        Assert.Contains($"skipped s3://{Bucket}/{day}" + @"..\..\..\..\..\escaped.json.gz: a key that cannot be a file name (it contains a backslash)", fromBucket.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), fromBucket.Err, StringComparison.Ordinal);

        // A range whose days are clean, bad, and not a log at all: the same answer, the same files left out.
        foreach (var format in new[] { "csv", "json" })
        {
            var rangeFromBucket = await QueryAsync(url, "--account", Account, "--start", "2026-11-01", "--end", "2026-11-21", "--skip-bad", "--format", format);
            var rangeFromCopy = await QueryAsync(local, "--account", Account, "--start", "2026-11-01", "--end", "2026-11-21", "--skip-bad", "--format", format);
            Assert.True(rangeFromBucket.ExitCode == 0, rangeFromBucket.Err);
            Assert.Equal(rangeFromCopy.Out, rangeFromBucket.Out);
            Assert.Contains("norecords0000000.json.gz: not a CloudTrail log file", rangeFromBucket.Err, StringComparison.Ordinal);
            Assert.Contains("norecords0000000.json.gz: not a CloudTrail log file", rangeFromCopy.Err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Missing_accounts_and_days_are_said_as_for_a_local_copy_and_cache_is_refused()
    {
        var (_, url) = await UploadedCorpusAsync();
        var unknown = await QueryAsync(url, "--account", "555555555555", "--date", "2026-11-20");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains($"Account 555555555555 has no logs in {url}/ (accounts present: 333333333333, 444444444444).", unknown.Err, StringComparison.Ordinal);

        var outside = await QueryAsync(url, "--account", Account, "--date", "2027-01-01");
        Assert.Equal(2, outside.ExitCode);
        Assert.Contains("run from 2026-11-01 to 2026-11-21 (the date is outside the bucket)", outside.Err, StringComparison.Ordinal);

        var empty = await QueryAsync($"s3://{Bucket}/nothing-here", "--account", Account, "--date", "2026-11-20");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("no CloudTrail logs found", empty.Err, StringComparison.Ordinal);

        var cached = await QueryAsync(url, "--account", Account, "--date", "2026-11-20", "--cache");
        Assert.Equal(2, cached.ExitCode);
        Assert.Contains("--cache applies to a local copy", cached.Err, StringComparison.Ordinal);

        var endpointForLocal = await CliRunner.RunAsync("query", "--source", CliRunner.TempDir(), "--endpoint-url", server.Endpoint, "--account", Account, "--date", "2026-11-20");
        Assert.Equal(2, endpointForLocal.ExitCode);
        Assert.Contains("--endpoint-url applies to an s3:// source", endpointForLocal.Err, StringComparison.Ordinal);

        var noBucket = await CliRunner.RunAsync("query", "--source", "s3://no-such-bucket-here", "--endpoint-url", server.Endpoint, "--account", Account, "--date", "2026-11-20");
        Assert.Equal(2, noBucket.ExitCode);
        Assert.Contains("does not exist", noBucket.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_listing_holds_only_the_asked_days_and_every_row_keeps_the_key_of_its_log()
    {
        var (_, url) = await UploadedCorpusAsync();
        using var store = S3ObjectStore.Create(url, server.Endpoint);
        var bucket = new BucketCorpus(store);
        var question = new TimelineQuery(Account, new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 20), [], null, [], [], false, null);

        var listed = await bucket.ListAsync(question, CancellationToken.None);

        var keys = listed.Objects.Select(o => o.Key).ToList();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, k => Assert.Contains($"/{Account}/CloudTrail/", k, StringComparison.Ordinal));
        Assert.All(keys, k => Assert.Contains("/2026/11/20/", k, StringComparison.Ordinal));
        Assert.All(listed.Objects, o => Assert.True(o.Size > 18));
        var (timeline, skipped) = await bucket.OpenTimelineAsync(listed, skipBad: false, CancellationToken.None);
        string folder;
        using (timeline)
        {
            Assert.Empty(skipped);
            var sources = timeline.Run($"SELECT event_name, {TimelineSql.SourceKeyColumn} FROM {TimelineSql.SourcedView} ORDER BY event_time").Rows;
            Assert.Equal(5, sources.Count);
            Assert.Equal(keys.Single(k => k.Contains("eu-west-1", StringComparison.Ordinal)), sources.Single(r => (string?)r[0] == "ScheduleKeyDeletion")[1]);
            Assert.Equal(keys.Order(StringComparer.Ordinal), sources.Select(r => (string)r[1]!).Distinct().Order(StringComparer.Ordinal));
            Assert.Equal(TimelineSql.SourceKeyColumn, Assert.Single(timeline.Run("SELECT * FROM cloudtrail_sources LIMIT 0").Columns.Except(timeline.Run("SELECT * FROM cloudtrail LIMIT 0").Columns)));
            // The day's fetched logs are gone once read; the temporary folder goes with the timeline.
            folder = timeline.OwnedFolder!;
            Assert.StartsWith(Path.GetTempPath(), folder, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(folder, "logs")));
        }

        Assert.False(Directory.Exists(folder));
    }
}

/// <summary>The bucket path over a store whose listing is hostile: nothing lands outside the temporary folder.</summary>
public sealed class BucketCorpusContainmentTests
{
    [Fact]
    public async Task A_region_folder_named_dot_dot_is_never_a_path()
    {
        var log = Path.Combine(CliRunner.TempDir(), "log.json.gz");
        QueryCommandTests.Write(Path.GetDirectoryName(log)!, "333333333333", "us-east-1", new DateOnly(2026, 11, 20), "good000000000000", Record("2026-11-22T05:00:00Z", "s3.amazonaws.com", "GetObject"));
        var good = File.ReadAllBytes(Directory.GetFiles(Path.GetDirectoryName(log)!, "*.json.gz", SearchOption.AllDirectories).Single());
        var escape = $"escape-{Guid.NewGuid():N}.json.gz";
        var store = new InMemoryBucket("hostile", new Dictionary<string, byte[]>
        {
            ["AWSLogs/333333333333/CloudTrail/us-east-1/2026/11/22/good.json.gz"] = good,
            [$"AWSLogs/333333333333/CloudTrail/../2026/11/22/{escape}"] = good,
        });
        var bucket = new BucketCorpus(store);
        var question = new TimelineQuery("333333333333", new DateOnly(2026, 11, 22), new DateOnly(2026, 11, 22), [], null, [], [], false, null);

        var listed = await bucket.ListAsync(question, CancellationToken.None);
        Assert.Equal(2, listed.Objects.Count());
        var refused = await Assert.ThrowsAsync<QueryInputException>(() => bucket.OpenTimelineAsync(listed, skipBad: false, CancellationToken.None));
        Assert.Contains("has a '..' segment", refused.Message, StringComparison.Ordinal);

        var (timeline, skipped) = await bucket.OpenTimelineAsync(listed, skipBad: true, CancellationToken.None);
        using (timeline)
        {
            Assert.Equal("s3://hostile/AWSLogs/333333333333/CloudTrail/../2026/11/22/" + escape, Assert.Single(skipped).File);
            Assert.Single(timeline.Run("SELECT * FROM cloudtrail").Rows);
        }
    }
}

/// <summary>--timeout over a slow bucket: the listing and reading are bounded too, not only DuckDB.</summary>
[Trait("Category", "S3")]
public sealed class BucketQueryTimeoutTests
{
    [Fact]
    public async Task A_bucket_slower_than_the_timeout_stops_the_query_with_one_line()
    {
        using var slow = new S3Server(1500, "slow-audit-bucket");
        using (var client = slow.Client())
        {
            await S3Upload.UploadDirectoryAsync(Corpus(), client, "slow-audit-bucket");
        }

        // Four rounds of listing and reading at 1.5 s each: the 2 s deadline falls in the middle of them.
        var result = await CliRunner.RunAsync("query", "--source", "s3://slow-audit-bucket", "--endpoint-url", slow.Endpoint, "--account", "333333333333", "--date", "2026-11-20", "--timeout", "2s");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("query stopped: it ran longer than --timeout 2s (raise it, or narrow --start/--end or --region)", result.Err.Trim());
        Assert.Equal("", result.Out);
    }
}
