using System.Runtime.InteropServices;
using System.Text.Json;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;
using static AuditInfra.Cli.Tests.Support.IntegrityReports;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary><c>sample</c>, <c>verify</c> and <c>pull</c> through the real command line, on real files.</summary>
public class VerifyCommandTests
{
    private static async Task<string> SampleAsync(params string[] extra)
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var result = await CliRunner.RunAsync(["sample", "--out", dir, "--hours", "8", "--events-per-log", "3", .. extra]);
        Assert.True(result.ExitCode == 0, result.Err);
        return dir;
    }

    [Fact]
    public async Task The_readme_demo_sample_then_verify_exits_zero_with_a_summary_per_account_and_region()
    {
        var dir = await SampleAsync();
        var result = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Verified", result.Out, StringComparison.Ordinal);
        Assert.Contains("333333333333", result.Out, StringComparison.Ordinal);
        Assert.Contains("eu-west-1", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_sample_exits_one_and_the_json_report_holds_exactly_the_expected_findings()
    {
        var dir = await SampleAsync("--tamper", "modified-log", "--tamper", "two-deleted-digests", "--tamper", "unknown-key");
        var jsonFile = Path.Combine(Path.GetDirectoryName(dir)!, "report.json");

        var toStdout = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--json", "-");
        var toFile = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--report", jsonFile);

        Assert.Equal(1, toStdout.ExitCode);
        Assert.Equal(1, toFile.ExitCode);
        Assert.Equal(ExpectedOf(dir), FindingsOf(toStdout.Out));
        Assert.Equal(ExpectedOf(dir), FindingsOf(File.ReadAllText(jsonFile)));
        Assert.Contains("FINDINGS", toFile.Out, StringComparison.Ordinal);
        Assert.Contains("MissingDigest", toFile.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pulled_copy_verifies_exactly_like_its_source_and_a_second_pull_resumes()
    {
        var dir = await SampleAsync("--tamper", "forged-signature", "--tamper", "inserted-log");
        var copy = Path.Combine(CliRunner.TempDir(), "copy");

        var pull = await CliRunner.RunAsync("pull", dir, "--dest", copy, "--json");
        Assert.True(pull.ExitCode == 0, pull.Err + pull.Out);
        var first = JsonDocument.Parse(pull.Out).RootElement;
        Assert.True(first.GetProperty("downloaded").GetInt32() > 100);

        var source = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--json", "-");
        var pulled = await CliRunner.RunAsync("verify", "--source", copy, "--public-keys", Path.Combine(dir, "public-keys.json"), "--json", "-");
        Assert.Equal(1, pulled.ExitCode);
        Assert.Equal(FindingsOf(source.Out), FindingsOf(pulled.Out));
        Assert.Equal(ExpectedOf(dir), FindingsOf(pulled.Out));
        Assert.Equal(
            Directory.EnumerateFiles(dir, "*.signature", SearchOption.AllDirectories).Count(),
            Directory.EnumerateFiles(copy, "*.signature", SearchOption.AllDirectories).Count());

        var again = await CliRunner.RunAsync("pull", dir, "--dest", copy, "--json");
        Assert.Equal(0, again.ExitCode);
        var second = JsonDocument.Parse(again.Out).RootElement;
        Assert.Equal(0, second.GetProperty("downloaded").GetInt32());
        Assert.Equal(first.GetProperty("downloaded").GetInt32(), second.GetProperty("alreadyPresent").GetInt32());
    }

    [Fact]
    public async Task A_copy_pulled_for_a_time_range_verifies_that_range_like_the_source()
    {
        var dir = await SampleAsync("--tamper", "modified-log", "--tamper", "deleted-digest", "--tamper", "forged-signature");
        var copy = Path.Combine(CliRunner.TempDir(), "copy");
        string[] range = ["--start", "2026-11-20T03:00:00Z", "--end", "2026-11-20T08:00:00Z"];
        var keys = Path.Combine(dir, "public-keys.json");

        Assert.Equal(0, (await CliRunner.RunAsync(["pull", dir, "--dest", copy, .. range])).ExitCode);
        var source = await CliRunner.RunAsync(["verify", "--source", dir, "--public-keys", keys, "--json", "-", .. range]);
        var pulled = await CliRunner.RunAsync(["verify", "--source", copy, "--public-keys", keys, "--json", "-", .. range]);

        Assert.Equal(1, source.ExitCode);
        Assert.Equal(1, pulled.ExitCode);
        Assert.NotEmpty(FindingsOf(source.Out));
        Assert.Equal(FindingsOf(source.Out), FindingsOf(pulled.Out));
        Assert.True(Directory.EnumerateFiles(copy, "*.json.gz", SearchOption.AllDirectories).Count() < Directory.EnumerateFiles(dir, "*.json.gz", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public async Task A_pull_never_overwrites_a_local_file_that_differs_from_the_source()
    {
        var dir = await SampleAsync("--no-restart", "--no-backfill");
        var copy = Path.Combine(CliRunner.TempDir(), "copy");
        Assert.Equal(0, (await CliRunner.RunAsync("pull", dir, "--dest", copy)).ExitCode);
        var log = Directory.EnumerateFiles(copy, "*_CloudTrail_*.json.gz", SearchOption.AllDirectories).First();
        File.WriteAllText(log, "local evidence that must survive");
        File.Delete(Path.Combine(copy, CopyPuller.ManifestFileName));

        var result = await CliRunner.RunAsync("pull", dir, "--dest", copy);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Conflict", result.Out, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(log), result.Out, StringComparison.Ordinal);
        Assert.Equal("local evidence that must survive", File.ReadAllText(log));
        Assert.Empty(Directory.EnumerateFiles(copy, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Filters_narrow_the_verification_to_accounts_regions_and_time()
    {
        var dir = await SampleAsync("--tamper", "deleted-log");
        var tampered = ExpectedOf(dir).Single().Split(' ')[1];
        var account = CloudTrailKeys.Parse(tampered)!.Account;
        var keys = Path.Combine(dir, "public-keys.json");

        var narrowed = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--account", "222222222222" == account ? "333333333333" : "222222222222", "--region", "us-east-1", "--json", "-");
        Assert.Equal(0, narrowed.ExitCode);
        using var document = JsonDocument.Parse(narrowed.Out);
        Assert.Single(document.RootElement.GetProperty("summaries").EnumerateArray());

        var later = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--start", "2026-11-20T05:00:00Z", "--end", "2026-11-20T07:00:00Z");
        Assert.Equal(0, later.ExitCode);
    }

    [Fact]
    public async Task Bad_input_exits_two_with_a_clear_message_and_no_stack_trace()
    {
        var dir = await SampleAsync("--no-restart");
        var badKeys = Path.Combine(Path.GetDirectoryName(dir)!, "keys.json");
        File.WriteAllText(badKeys, "{\"PublicKeyList\": [ {\"Value\": 1 ");

        var cases = new (string[] Args, string Expect)[]
        {
            (["verify", "--source", dir, "--public-keys", badKeys], "keys.json"),
            // No keys file and no CloudTrail to fetch them from (nothing listens on port 9): the command to run instead.
            (["verify", "--source", dir, "--cloudtrail-endpoint-url", "http://127.0.0.1:9"], $"aws cloudtrail list-public-keys --region us-east-1 --start-time {KeysWindow(dir)} --output json > public-keys.json"),
            (["verify", "--source", Path.Combine(dir, "nope"), "--public-keys", badKeys], "does not exist"),
            (["verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--start", "yesterday"], "--start"),
            (["verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--account", "12345"], "--account"),
            (["verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--org-id", "acme"], "--org-id"),
            (["verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--report", "/no/such/dir/report.json"], "does not exist"),
            (["sample", "--out", dir], "not empty"),
            (["sample", "--out", Path.Combine(dir, "x"), "--tamper", "scribble"], "deleted-digest"),
            (["sample", "--out", Path.Combine(dir, "y"), "--hours", "4", "--tamper", "all"], "hours"),
            (["pull", dir, "--dest", Path.Combine(dir, "inside")], "inside the source"),
            (["verify", "--source", Path.Combine(dir, "cloudtrail", "AWSLogs", "o-a1b2c3d4e5", "111111111111", "CloudTrail", "us-east-1"), "--public-keys", Path.Combine(dir, "public-keys.json"), "--account", "999999999999"], "nothing was verified"),
            (["verify", "--source", Path.Combine(dir, "cloudtrail", "AWSLogs", "o-a1b2c3d4e5", "111111111111", "CloudTrail"), "--public-keys", Path.Combine(dir, "public-keys.json")], "nothing was verified"),
        };
        foreach (var (args, expect) in cases)
        {
            var result = await CliRunner.RunAsync(args);
            Assert.True(result.ExitCode == 2, $"{string.Join(' ', args)} => {result.ExitCode}: {result.Err}");
            Assert.Contains(expect, result.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_account_asked_for_that_the_source_holds_nothing_of_is_a_finding_not_verified()
    {
        var dir = await SampleAsync("--no-restart");
        var keys = Path.Combine(dir, "public-keys.json");

        var alone = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--account", "999999999999", "--json", "-");
        var withOther = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--account", "333333333333", "--account", "999999999999");

        Assert.Equal(1, alone.ExitCode);
        Assert.Equal(["AccountWithoutData 999999999999"], FindingsOf(alone.Out));
        Assert.Equal(1, withOther.ExitCode);
        Assert.Contains("AccountWithoutData", withOther.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("Verified", withOther.Out, StringComparison.Ordinal);
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [SkippableFact]
    public async Task A_copy_holding_a_link_loop_and_a_fifo_log_ends_in_bounded_time_with_both_as_findings()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are told from files by statx, on Linux only");
        var dir = await SampleAsync("--no-restart", "--no-backfill");
        var day = Path.Combine(dir, "cloudtrail", "AWSLogs", "o-a1b2c3d4e5", "222222222222", "CloudTrail", "eu-west-1", "2026", "11", "20");
        var log = Directory.EnumerateFiles(day, "*.json.gz").Order(StringComparer.Ordinal).First();
        File.Delete(log);
        Assert.Equal(0, MakeFifo(log, Convert.ToUInt32("600", 8)));
        Directory.CreateSymbolicLink(Path.Combine(day, "loop"), ".");
        static string Key(string dir, string path) => Path.GetRelativePath(dir, path).Replace(Path.DirectorySeparatorChar, '/');

        var run = CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--json", "-");
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))) == run, "verify did not finish within 30 s");
        var result = await run;

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            new[] { $"LogMissing {Key(dir, log)}", $"NotARegularFile {Key(dir, log)}", $"SymbolicLink {Key(dir, Path.Combine(day, "loop"))}" }.Order(StringComparer.Ordinal),
            FindingsOf(result.Out));
        File.Delete(Path.Combine(day, "loop"));
        File.Delete(log);
    }

    /// <summary>The window the keys command must cover, read off every digest of a sample: an hour before the first, to the last.</summary>
    private static string KeysWindow(string sample)
    {
        var digests = Directory.EnumerateFiles(sample, "*.json.gz", SearchOption.AllDirectories)
            .Select(f => CloudTrailKeys.Parse(Path.GetRelativePath(sample, f).Replace('\\', '/')))
            .Where(k => k is { Kind: CloudTrailObjectKind.Digest })
            .Select(k => k!.Timestamp)
            .ToList();
        static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return $"{Iso(digests.Min().AddHours(-1))} --end-time {Iso(digests.Max())}";
    }

    [Fact]
    public async Task Sample_json_lists_what_was_written_and_the_findings_each_tamper_causes()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var result = await CliRunner.RunAsync("sample", "--out", dir, "--hours", "6", "--events-per-log", "1", "--tamper", "deleted-digest", "--json");

        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Out);
        var expected = document.RootElement.GetProperty("expected").EnumerateArray().ToList();
        Assert.Contains(expected, e => e.GetProperty("kind").GetString() == "MissingDigest" && e.GetProperty("cause").GetString() == "DeletedDigest");
        Assert.False(File.Exists(Path.Combine(dir, expected.First(e => e.GetProperty("kind").GetString() == "MissingDigest").GetProperty("key").GetString()!)));
    }

    [Fact]
    public async Task The_json_report_is_the_evidence_the_documentation_shows_per_account_and_region()
    {
        var dir = await SampleAsync("--tamper", "deleted-log");
        var tampered = CloudTrailKeys.Parse(ExpectedOf(dir).Single().Split(' ')[1])!;
        var work = Path.GetDirectoryName(dir)!;
        var report = Path.Combine(work, "verify.json");
        Assert.Equal(1, (await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--report", report)).ExitCode);
        var accounts = Path.Combine(work, "accounts.json");
        File.WriteAllText(accounts, """{"Accounts":[{"Id":"111111111111","Name":"Management","Status":"ACTIVE"},{"Id":"222222222222","Name":"Log Archive","Status":"ACTIVE"},{"Id":"333333333333","Name":"Payments Prod","Status":"ACTIVE"}]}""");
        var site = Path.Combine(work, "site");

        var docs = await CliRunner.RunAsync("docs", "--stack", "prod", "--sample", "--accounts", accounts, "--verify-report", report, "--out", site);

        Assert.True(docs.ExitCode == 0, docs.Err);
        var page = Directory.EnumerateFiles(site, "*.md", SearchOption.AllDirectories).Single(f => Path.GetFileName(f).Contains(tampered.Account, StringComparison.Ordinal));
        var text = File.ReadAllText(page);
        Assert.Contains("Integrity evidence", text, StringComparison.Ordinal);
        var rows = text.Split('\n').Where(l => l.StartsWith($"| {tampered.Account} |", StringComparison.Ordinal)).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
        Assert.Equal(2, rows.Count);
        // | account | region | verdict | digests | logs | findings | from | to |
        Assert.Equal(("findings", "1"), rows.Where(r => r[2] == tampered.Region).Select(r => (r[3], r[6])).Single());
        Assert.Equal(("verified", "0"), rows.Where(r => r[2] != tampered.Region).Select(r => (r[3], r[6])).Single());
    }
}

/// <summary>The sample corpus is real enough for the other tools: `query` reads it as it reads a bucket copy.</summary>
public class SampleCorpusQueryTests
{
    [Fact]
    public async Task Query_reads_every_event_of_an_account_day_from_a_sample()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", dir, "--hours", "6", "--events-per-log", "7")).ExitCode);
        var expected = 0;
        foreach (var file in Directory.EnumerateFiles(dir, "333333333333_CloudTrail_*.json.gz", SearchOption.AllDirectories))
        {
            using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(file), System.IO.Compression.CompressionMode.Decompress);
            using var document = await JsonDocument.ParseAsync(gzip);
            expected += document.RootElement.GetProperty("Records").GetArrayLength();
        }

        var result = await CliRunner.RunAsync("query", "--source", dir, "--account", "333333333333", "--date", "2026-11-20", "--format", "json");

        Assert.True(result.ExitCode == 0, result.Err);
        using var rows = JsonDocument.Parse(result.Out);
        Assert.True(expected > 50);
        Assert.Equal(expected, rows.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task On_an_80_column_terminal_the_summary_keeps_accounts_regions_and_covered_times_whole()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", dir, "--hours", "8", "--events-per-log", "3")).ExitCode);
        var (code, output) = await TerminalOutput.RunAsync(80, "verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"));
        Assert.Equal(0, code);
        var rows = TerminalOutput.Lines(output).Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^│ \d{12} ")).ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, row => Assert.Matches(@"\d{12}\s*│\s*[a-z]{2}-[a-z]+-\d\s*│.*\d{4}-\d{2}-\d{2} \d{2}:\d{2} \.\. \d{4}-\d{2}-\d{2} \d{2}:\d{2}", row));
    }
}
