using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>
/// `query --verify` over signed corpora written by <see cref="SampleCorpus"/> (real gzip, real RSA, real DuckDB):
/// each row carries the integrity of the log file it was read from.
/// </summary>
public sealed class QueryVerifyTests : IDisposable
{
    private const string Account = "111111111111";

    private const int EventsPerLog = 3;

    private static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private readonly string root = CliRunner.TempDir();

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>One account, two regions (chains 0 and 1), six hours; a tamper lands on chain 0 (us-east-1) at hour 2.</summary>
    private SampleResult Sample(params TamperKind[] tampers) =>
        SampleCorpus.Write(Path.Combine(root, "corpus"), new SampleOptions
        {
            Accounts = [Account],
            Hours = 6,
            EventsPerLog = EventsPerLog,
            RestartChain = false,
            Backfill = false,
            Tampers = tampers,
        });

    private static string[] Query(SampleResult sample, params string[] extra) =>
        ["query", "--source", sample.Directory, "--account", Account, "--date", "2026-11-20", "--verify", "--public-keys", sample.PublicKeysFile, .. extra];

    private static async Task<(CliResult Result, JsonObject Document)> JsonAsync(SampleResult sample, params string[] extra)
    {
        var result = await CliRunner.RunAsync(Query(sample, [.. extra, "--format", "json"]));
        Assert.True(result.ExitCode is 0 or 1, result.Err);
        return (result, JsonNode.Parse(result.Out)!.AsObject());
    }

    private static int Records(SampleResult sample) => Directory
        .EnumerateFiles(sample.Directory, $"{Account}_CloudTrail_*.json.gz", SearchOption.AllDirectories)
        .Sum(f =>
        {
            using var gzip = new GZipStream(File.OpenRead(f), CompressionMode.Decompress);
            return JsonNode.Parse(gzip)!["Records"]!.AsArray().Count;
        });

    private static string[] Integrity(JsonObject document) => [.. document["rows"]!.AsArray().Select(r => (string)r!["integrity"]!)];

    private static string HourDigestPath(SampleResult sample, string region, int hour) =>
        Path.Combine(sample.Directory, CloudTrailKeys.DigestKey("cloudtrail", "o-a1b2c3d4e5", Account, region, "acme-org-trail", "us-east-1", Day.AddHours(hour + 1)));

    [Fact]
    public async Task A_source_below_the_copys_root_is_one_clear_error_not_every_row_tampered()
    {
        var sample = Sample();
        // The copy's root holds cloudtrail/AWSLogs/: given cloudtrail/, every digest sits elsewhere than it records.
        var below = Path.Combine(sample.Directory, "cloudtrail");
        var result = await CliRunner.RunAsync(["query", "--source", below, "--account", Account, "--date", "2026-11-20", "--verify", "--public-keys", sample.PublicKeysFile]);

        Assert.True(result.ExitCode == 2, result.Out + result.Err);
        Assert.Equal("", result.Out);
        var error = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("--verify: no digest of these hours (", error, StringComparison.Ordinal);
        Assert.Contains("is at the key it records (e.g. AWSLogs/", error, StringComparison.Ordinal);
        Assert.Contains("records cloudtrail/AWSLogs/", error, StringComparison.Ordinal);
        Assert.Contains("give the folder holding cloudtrail/ as its root", error, StringComparison.Ordinal);
        Assert.DoesNotContain("TAMPERED", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_digest_at_another_key_than_it_records_stays_a_tampered_finding()
    {
        var sample = Sample();
        // Hour 2's digest of us-east-1 moved to a later minute of the same hour: the only one out of place.
        var digest = HourDigestPath(sample, "us-east-1", 2);
        var moved = HourDigestPath(sample, "us-east-1", 2).Replace("T030000Z", "T031000Z", StringComparison.Ordinal);
        Assert.NotEqual(digest, moved);
        File.Move(digest, moved);
        File.Move(digest + LocalDirectoryStore.SignatureSuffix, moved + LocalDirectoryStore.SignatureSuffix);

        var (result, document) = await JsonAsync(sample);

        Assert.Equal(1, result.ExitCode);
        var marks = Integrity(document);
        Assert.Contains("TAMPERED", marks);
        Assert.Contains("verified", marks);
        Assert.Contains(document["integrity"]!["unproven_files"]!.AsArray(), f => ((string?)f!["reason"] ?? "").Contains("DigestLocationMismatch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_clean_corpus_has_every_row_verified_and_exits_0()
    {
        var sample = Sample();
        var (result, document) = await JsonAsync(sample);

        Assert.Equal(0, result.ExitCode);
        var marks = Integrity(document);
        Assert.Equal(Records(sample), marks.Length);
        Assert.All(marks, m => Assert.Equal("verified", m));
        Assert.Equal(marks.Length, (long)document["integrity"]!["verified"]!);
        Assert.Equal(0, (long)document["integrity"]!["unverifiable"]!);
        Assert.Equal(0, (long)document["integrity"]!["tampered"]!);
        Assert.Empty(document["integrity"]!["unproven_files"]!.AsArray());
    }

    [Fact]
    public async Task Table_and_csv_carry_the_column_and_print_the_integrity_line_on_stderr()
    {
        var sample = Sample();
        var total = Records(sample);

        var table = await CliRunner.RunAsync(Query(sample));
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("integrity", table.Out.Split('\n')[1]);
        Assert.Contains($"integrity: {total} rows verified, 0 unverifiable, 0 tampered", table.Err);
        Assert.DoesNotContain("integrity:", table.Out);

        var csv = await CliRunner.RunAsync(Query(sample, "--format", "csv"));
        Assert.Equal(0, csv.ExitCode);
        var lines = csv.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith(",request_id,integrity", lines[0]);
        Assert.Equal(total, lines.Skip(1).Count(l => l.EndsWith(",verified", StringComparison.Ordinal)));
        Assert.Contains($"integrity: {total} rows verified, 0 unverifiable, 0 tampered", csv.Err);
    }

    [Fact]
    public async Task Rows_of_a_log_changed_after_its_digest_are_TAMPERED_the_others_verified_and_the_exit_is_1()
    {
        var sample = Sample(TamperKind.ModifiedLog);
        var tampered = sample.Expected.Single(e => e.Kind == FindingKind.LogHashMismatch).Key;

        var (result, document) = await JsonAsync(sample);

        Assert.Equal(1, result.ExitCode);
        var rows = document["rows"]!.AsArray();
        Assert.Equal(Records(sample), rows.Count);
        Assert.Equal(EventsPerLog, rows.Count(r => (string)r!["integrity"]! == "TAMPERED"));
        Assert.Equal(rows.Count - EventsPerLog, rows.Count(r => (string)r!["integrity"]! == "verified"));
        // The event whose address the tamper rewrote is among the TAMPERED rows.
        Assert.Equal("TAMPERED", (string)rows.Single(r => (string?)r!["source_ip"] == "198.51.100.66")!["integrity"]!);
        var unproven = document["integrity"]!["unproven_files"]!.AsArray().Single()!;
        Assert.Equal(tampered, (string)unproven["log_key"]!);
        Assert.Equal("TAMPERED", (string)unproven["integrity"]!);
        Assert.Contains("LogHashMismatch", (string)unproven["reason"]!);

        var table = await CliRunner.RunAsync(Query(sample));
        Assert.Equal(1, table.ExitCode);
        Assert.Contains($"TAMPERED {tampered}: LogHashMismatch", table.Err);
        Assert.Contains($"integrity: {rows.Count - EventsPerLog} rows verified, 0 unverifiable, {EventsPerLog} tampered", table.Err);
    }

    [Fact]
    public async Task Rows_of_a_log_added_after_the_signed_digest_of_its_hour_are_TAMPERED()
    {
        // The digest covering its delivery time is validly signed and does not list it: it was put there later.
        var sample = Sample(TamperKind.InsertedLog);
        var inserted = sample.Expected.Single(e => e.Kind == FindingKind.LogNotListed).Key;

        var (result, document) = await JsonAsync(sample);

        Assert.Equal(1, result.ExitCode);
        var marks = Integrity(document);
        Assert.Equal(EventsPerLog, marks.Count(m => m == "TAMPERED"));
        Assert.Equal(marks.Length - EventsPerLog, marks.Count(m => m == "verified"));
        var unproven = document["integrity"]!["unproven_files"]!.AsArray().Single()!;
        Assert.Equal(inserted, (string)unproven["log_key"]!);
        Assert.Contains("not listed", (string)unproven["reason"]!);
    }

    [Theory]
    [InlineData(TamperKind.DeletedDigest, 2)]
    [InlineData(TamperKind.UnknownKey, 2)]
    public async Task Logs_no_trusted_digest_lists_are_unverifiable_and_the_exit_is_0(TamperKind tamper, int unprovenFiles)
    {
        // The logs of an hour whose digest was deleted; the logs of an hour whose digest was signed with a key that
        // is not in the public keys (which disproves nothing).
        var sample = Sample(tamper);

        var (result, document) = await JsonAsync(sample);

        Assert.Equal(0, result.ExitCode);
        var marks = Integrity(document);
        Assert.Equal(Records(sample), marks.Length);
        Assert.Equal(unprovenFiles * EventsPerLog, marks.Count(m => m == "unverifiable"));
        Assert.Equal(marks.Length - (unprovenFiles * EventsPerLog), marks.Count(m => m == "verified"));
        Assert.DoesNotContain("TAMPERED", marks);
        var unproven = document["integrity"]!["unproven_files"]!.AsArray();
        Assert.Equal(unprovenFiles, unproven.Count);
        Assert.All(unproven, f => Assert.Contains("/CloudTrail/us-east-1/", (string)f!["log_key"]!));
    }

    [Fact]
    public async Task Without_the_key_a_digest_was_signed_with_its_logs_are_unverifiable()
    {
        // The sample rotates its signing key halfway; a keys file holding only the first key proves the first half.
        var sample = Sample();
        var keys = PublicKeySet.Load(sample.PublicKeysFile).Keys.OrderBy(k => k.ValidFrom).ToList();
        Assert.Equal(2, keys.Count);
        File.WriteAllText(sample.PublicKeysFile, PublicKeySet.ToJson([keys[0]]));

        var (result, document) = await JsonAsync(sample);

        Assert.Equal(0, result.ExitCode);
        var rows = document["rows"]!.AsArray();
        Assert.Contains(rows, r => (string)r!["integrity"]! == "verified");
        Assert.Contains(rows, r => (string)r!["integrity"]! == "unverifiable");
        Assert.All(rows.Where(r => string.CompareOrdinal((string)r!["event_time"]!, "2026-11-20T04:00:00Z") >= 0), r => Assert.Equal("unverifiable", (string)r!["integrity"]!));
        Assert.All(rows.Where(r => string.CompareOrdinal((string)r!["event_time"]!, "2026-11-20T02:00:00Z") < 0), r => Assert.Equal("verified", (string)r!["integrity"]!));
        Assert.Contains(document["integrity"]!["unproven_files"]!.AsArray(), f => ((string)f!["reason"]!).Contains("UnknownPublicKey", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("not gzip")]
    [InlineData("gzip of not json")]
    [InlineData("empty")]
    [InlineData("symbolic link")]
    [InlineData("fifo")]
    public async Task A_corrupt_digest_is_no_crash_its_hour_is_unverifiable_and_the_exit_is_0(string corruption)
    {
        var sample = Sample();
        var digest = HourDigestPath(sample, "us-east-1", 2);
        Assert.True(File.Exists(digest), digest);
        switch (corruption)
        {
            case "symbolic link":
                // To a genuine digest elsewhere: links in evidence are never followed.
                var target = Path.Combine(root, "elsewhere.json.gz");
                File.Move(digest, target);
                File.CreateSymbolicLink(digest, target);
                break;
            case "fifo":
                // Opening a FIFO would block the verifier for ever.
                File.Delete(digest);
                Assert.True(MakeFifo(digest, Convert.ToUInt32("600", 8)) == 0, $"mkfifo {digest}: errno {Marshal.GetLastPInvokeError()}");
                break;
            default:
                File.WriteAllBytes(digest, corruption == "not gzip" ? Encoding.UTF8.GetBytes("this is not a digest at all") : corruption == "gzip of not json" ? Gzip("{\"awsAccountId\": [1, 2") : []);
                break;
        }

        var run = CliRunner.RunAsync(Query(sample, "--format", "json"));
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))) == run, "query --verify did not finish");
        var result = await run;

        Assert.True(result.ExitCode == 0, result.Err);
        Assert.DoesNotContain("   at ", result.Err);
        var document = JsonNode.Parse(result.Out)!.AsObject();
        var unproven = document["integrity"]!["unproven_files"]!.AsArray();
        Assert.Equal(2, unproven.Count);
        Assert.All(unproven, f => Assert.Contains("_20261120T02", (string)f!["log_key"]!));
        Assert.All(unproven, f => Assert.Contains("no validly signed digest", (string)f!["reason"]!));
        Assert.Equal(2 * EventsPerLog, Integrity(document).Count(m => m == "unverifiable"));
    }

    [Fact]
    public async Task The_summary_splits_every_count_by_integrity()
    {
        var sample = Sample(TamperKind.ModifiedLog);
        var total = Records(sample);

        var (result, document) = await JsonAsync(sample, "--summary");

        Assert.Equal(1, result.ExitCode);
        foreach (var dimension in new[] { "principal_arn", "event_name", "error_code", "source_ip" })
        {
            var counts = document[dimension]!.AsArray();
            Assert.Equal(total, counts.Sum(c => (long)c!["events"]!));
            Assert.All(counts, c => Assert.Equal((long)c!["events"]!, (long)c["verified"]! + (long)c["unverifiable"]! + (long)c["tampered"]!));
            Assert.Equal(EventsPerLog, counts.Sum(c => (long)c!["tampered"]!));
        }

        Assert.Equal(1, (long)document["source_ip"]!.AsArray().Single(c => (string?)c!["value"] == "198.51.100.66")!["tampered"]!);
        Assert.Equal("events", (string)document["integrity"]!["unit"]!);
        Assert.Equal(total - EventsPerLog, (long)document["integrity"]!["verified"]!);
        Assert.Equal(EventsPerLog, (long)document["integrity"]!["tampered"]!);

        var csv = await CliRunner.RunAsync(Query(sample, "--summary", "--format", "csv"));
        Assert.Equal(1, csv.ExitCode);
        Assert.StartsWith("dimension,value,events,verified,unverifiable,tampered", csv.Out);
        Assert.Contains($"integrity: {total - EventsPerLog} events verified, 0 unverifiable, {EventsPerLog} tampered", csv.Err);
    }

    [Fact]
    public async Task Sql_rows_are_marked_through_the_log_key_column()
    {
        var sample = Sample(TamperKind.ModifiedLog);

        var marked = await CliRunner.RunAsync(Query(sample, "--sql", "SELECT event_id, log_key FROM cloudtrail_sources ORDER BY event_id", "--format", "csv"));
        Assert.Equal(1, marked.ExitCode);
        var lines = marked.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("event_id,log_key,integrity", lines[0]);
        Assert.Equal(EventsPerLog, lines.Count(l => l.EndsWith(",TAMPERED", StringComparison.Ordinal)));

        var unmarkable = await CliRunner.RunAsync(Query(sample, "--sql", "SELECT count(*) FROM cloudtrail"));
        Assert.Equal(2, unmarkable.ExitCode);
        Assert.Contains("select the log_key column", unmarkable.Err);
    }

    [SkippableFact]
    public async Task Without_public_keys_they_are_fetched_for_the_asked_days_and_the_answer_is_the_same()
    {
        NodeFake.RequireAwsCli();
        var sample = Sample(TamperKind.ModifiedLog);
        using var cloudTrail = new NodeFake("fake-cloudtrail.mjs", "--keys", sample.PublicKeysFile);

        var fetched = await CliRunner.RunAsync("query", "--source", sample.Directory, "--account", Account, "--date", "2026-11-20", "--verify", "--cloudtrail-endpoint-url", cloudTrail.Endpoint, "--format", "csv");
        var fromFile = await CliRunner.RunAsync(Query(sample, "--format", "csv"));

        Assert.True(fetched.ExitCode == 1, fetched.Err);
        Assert.Equal(fromFile.Out, fetched.Out);
        Assert.Equal(fromFile.Err, fetched.Err);
        // One call to the trail's home region, over the asked day (from an hour before: the key of its first digest).
        var (operation, body) = Assert.Single(cloudTrail.Requests);
        Assert.Equal("ListPublicKeys", operation);
        Assert.Equal(Day.AddHours(-1).ToUnixTimeSeconds(), (long)(double)body["StartTime"]!);
    }

    [SkippableFact]
    public async Task A_failed_key_fetch_is_one_line_with_the_list_public_keys_command_and_exit_2()
    {
        NodeFake.RequireAwsCli();
        var sample = Sample();
        using var denied = new NodeFake("fake-cloudtrail.mjs", "--keys", sample.PublicKeysFile, "--fail", "AccessDeniedException");

        var result = await CliRunner.RunAsync("query", "--source", sample.Directory, "--account", Account, "--date", "2026-11-20", "--verify", "--cloudtrail-endpoint-url", denied.Endpoint);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Out);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("AccessDeniedException", line);
        Assert.Contains("--public-keys", line);
        // The asked day, from an hour before its first digest to two hours after its end (its last digests).
        Assert.Contains("aws cloudtrail list-public-keys --region us-east-1 --start-time 2026-11-19T23:00:00Z --end-time 2026-11-21T02:00:00Z", line);

        // Days at the ends of the calendar: the span is the digests' own.
        var wide = await CliRunner.RunAsync("query", "--source", sample.Directory, "--account", Account, "--start", "0001-01-01", "--end", "9999-12-31", "--verify", "--cloudtrail-endpoint-url", denied.Endpoint);
        Assert.Equal(2, wide.ExitCode);
        var wideLine = Assert.Single(wide.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("aws cloudtrail list-public-keys --region us-east-1 --start-time 2026-11-20T00:00:00Z --end-time 2026-11-20T06:00:00Z", wideLine);
    }

    [Fact]
    public async Task Unusable_options_and_keys_are_named_with_exit_2()
    {
        var sample = Sample();
        var badKeys = Path.Combine(root, "keys.json");
        File.WriteAllText(badKeys, "{ not json");

        var keys = await CliRunner.RunAsync("query", "--source", sample.Directory, "--account", Account, "--date", "2026-11-20", "--verify", "--public-keys", badKeys);
        Assert.Equal(2, keys.ExitCode);
        Assert.Contains(badKeys, keys.Err);
        Assert.Single(keys.Err.Trim().Split('\n'));

        var athena = await CliRunner.RunAsync("query", "--athena", "--account", Account, "--date", "2026-11-20", "--verify", "--public-keys", sample.PublicKeysFile);
        Assert.Equal(2, athena.ExitCode);
        Assert.Contains("--athena", athena.Err);
        Assert.Empty(athena.Out);
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }
}

/// <summary>`query --source s3://… --verify` against a real S3-compatible server (s3rver): digests signed in x-amz-meta-signature.</summary>
[Trait("Category", "S3")]
public sealed class BucketQueryVerifyTests(S3Server server) : IClassFixture<S3Server>, IDisposable
{
    private const string Account = "111111111111";

    private readonly string root = CliRunner.TempDir();

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A signed sample under its own key prefix, uploaded as CloudTrail delivers it: (sample, s3:// URL).</summary>
    private async Task<(SampleResult Sample, string Url)> UploadedSampleAsync(params TamperKind[] tampers)
    {
        var prefix = "v-" + Guid.NewGuid().ToString("N")[..10];
        var sample = SampleCorpus.Write(Path.Combine(root, prefix), new SampleOptions
        {
            Prefix = prefix,
            Accounts = [Account],
            Hours = 10,
            EventsPerLog = 3,
            RestartChain = false,
            Backfill = false,
            Tampers = tampers,
        });
        using var client = server.Client();
        await S3Upload.UploadDirectoryAsync(sample.Directory, client, S3Server.Buckets[0]);
        return (sample, $"s3://{S3Server.Buckets[0]}/{prefix}");
    }

    private async Task<CliResult> QueryAsync(string source, SampleResult sample, params string[] args) =>
        await CliRunner.RunAsync(["query", "--source", source, .. source.StartsWith("s3://", StringComparison.Ordinal) ? new[] { "--endpoint-url", server.Endpoint } : [], "--account", Account, "--date", "2026-11-20", "--verify", "--public-keys", sample.PublicKeysFile, .. args]);

    [Fact]
    public async Task A_bucket_answers_with_the_integrity_its_local_copy_gets()
    {
        var (sample, url) = await UploadedSampleAsync(TamperKind.ModifiedLog, TamperKind.InsertedLog, TamperKind.DeletedDigest);

        var fromCopy = await QueryAsync(sample.Directory, sample, "--format", "csv");
        var fromBucket = await QueryAsync(url, sample, "--format", "csv");

        Assert.True(fromBucket.ExitCode == 1, fromBucket.Err);
        Assert.Equal(1, fromCopy.ExitCode);
        Assert.Equal(fromCopy.Out, fromBucket.Out);
        Assert.Equal(fromCopy.Err, fromBucket.Err);
        var marks = fromBucket.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l[(l.LastIndexOf(',') + 1)..]).ToList();
        Assert.Equal(6, marks.Count(m => m == "TAMPERED"));
        Assert.Equal(6, marks.Count(m => m == "unverifiable"));
        Assert.True(marks.Count(m => m == "verified") > 20);
        var tampered = sample.Expected.Single(e => e.Kind == FindingKind.LogHashMismatch).Key;
        Assert.Contains($"TAMPERED {tampered}: LogHashMismatch", fromBucket.Err);
    }

    [Fact]
    public async Task A_clean_bucket_is_verified()
    {
        var (sample, url) = await UploadedSampleAsync();

        var verified = await QueryAsync(url, sample, "--summary", "--format", "json");
        Assert.True(verified.ExitCode == 0, verified.Err);
        var integrity = JsonNode.Parse(verified.Out)!["integrity"]!;
        Assert.True((long)integrity["verified"]! > 20);
        Assert.Equal(0, (long)integrity["unverifiable"]!);
        Assert.Equal(0, (long)integrity["tampered"]!);

    }
}
