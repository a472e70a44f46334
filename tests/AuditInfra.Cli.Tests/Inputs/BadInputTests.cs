using System.CommandLine;
using System.IO.Compression;
using System.Text;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Inputs;

/// <summary>Each input reproduced in issue 16 as a stack trace with exit 1: now one line naming the file and exit 2.</summary>
public class BadInputTests
{
    private static string Write(string name, string content)
    {
        var path = Path.Combine(CliRunner.TempDir(), name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string SampleFile(string pattern) => Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "samples"), pattern).Single();

    [Fact]
    public async Task An_exception_a_command_lets_escape_is_exit_2_in_one_line_and_its_trace_only_with_verbose()
    {
        async Task<CliResult> Run(params string[] args)
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var io = CliIo.Capture(output, error);
            var root = CliApp.BuildRoot(io);
            var explode = new Command("explode", "throws");
            explode.SetAction((Func<ParseResult, int>)(_ => throw new InvalidOperationException("the state\nis broken")));
            root.Subcommands.Add(explode);
            var code = await CliApp.RunAsync(root, args, io);
            return new CliResult(code, output.ToString(), error.ToString());
        }

        var quiet = await Run("explode");
        Assert.Equal(2, quiet.ExitCode);
        Assert.Equal("auditinfra: internal error: InvalidOperationException: the state is broken", Assert.Single(InputAssert.Lines(quiet.Err)));

        var verbose = await Run("explode", "--verbose");
        Assert.Equal(2, verbose.ExitCode);
        Assert.StartsWith("auditinfra: internal error: InvalidOperationException: the state is broken", verbose.Err, StringComparison.Ordinal);
        Assert.Contains(" at ", verbose.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_usage_hint_names_the_whole_command_path()
    {
        var result = await CliRunner.RunAsync("rules", "test", "--sample");
        Assert.Equal(2, result.ExitCode);
        Assert.EndsWith(" (run 'auditinfra rules test --help' for usage)", Assert.Single(InputAssert.Lines(result.Err)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"PublicKeyList\":[1]}", "PublicKeyList[0]: expected an object")]
    [InlineData("{\"PublicKeyList\":[null]}", "PublicKeyList[0]: expected an object")]
    [InlineData("{\"PublicKeyList\":[[]]}", "PublicKeyList[0]: expected an object")]
    [InlineData("{\"PublicKeyList\":[{\"Value\":[]}]}", "PublicKeyList[0]: \"Value\": expected a string")]
    [InlineData("[1]", "expected an object with a \"PublicKeyList\" array")]
    [InlineData("null", "expected an object with a \"PublicKeyList\" array")]
    [InlineData("{\"PublicKeyList\":{}}", "expected an object with a \"PublicKeyList\" array")]
    public async Task Verify_refuses_a_public_keys_file_of_the_wrong_shape_in_one_line(string keys, string expected)
    {
        var corpus = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", corpus, "--hours", "6", "--events-per-log", "1", "--account", "111111111111", "--region", "us-east-1")).ExitCode);
        var file = Write("keys.json", keys);

        var result = await CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", file);

        InputAssert.OneLineError(result, file, expected);
    }

    [Fact]
    public async Task Verify_refuses_a_key_validity_beyond_the_calendar_in_one_line()
    {
        var corpus = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", corpus, "--hours", "6", "--events-per-log", "1", "--account", "111111111111", "--region", "us-east-1")).ExitCode);
        var keys = File.ReadAllText(Path.Combine(corpus, "public-keys.json"));
        var start = System.Text.RegularExpressions.Regex.Match(keys, "\"ValidityStartTime\": \"[^\"]+\"").Value;
        var file = Write("keys.json", keys.Replace(start, "\"ValidityStartTime\": 1e300", StringComparison.Ordinal));

        var result = await CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", file);

        InputAssert.OneLineError(result, file, "ValidityStartTime");
    }

    [Theory]
    [InlineData("--start", "0001-01-01")]
    [InlineData("--end", "9999-12-31")]
    public async Task Verify_refuses_times_at_the_edges_of_the_calendar_in_one_line(string option, string time)
    {
        var corpus = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", corpus, "--hours", "6", "--events-per-log", "1", "--account", "111111111111", "--region", "us-east-1")).ExitCode);

        var both = await CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", Path.Combine(corpus, "public-keys.json"), "--start", "0001-01-01", "--end", "9999-12-31");
        var one = await CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", Path.Combine(corpus, "public-keys.json"), option, time);

        InputAssert.OneLineError(both, "--start", "0001-01-01");
        InputAssert.OneLineError(one, option, time);
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("null")]
    [InlineData("\"plan\"")]
    [InlineData("{\"plan\":[1]}")]
    [InlineData("{\"components\":{}}")]
    [InlineData("{\"stack\":7,\"components\":[]}")]
    [InlineData("{\"components\":[{\"resources\":[{\"type\":\"a\",\"type\":\"b\"}]}]}")]
    public async Task Check_refuses_a_plan_file_of_the_wrong_shape_in_one_line(string plan)
    {
        var file = Write("plan.json", plan);
        InputAssert.OneLineError(await CliRunner.RunAsync("check", "--plan", file), file);
    }

    [Theory]
    [InlineData("{\"components\":[1,{\"resources\":7},{\"resources\":[null,1,{\"type\":3,\"properties\":[]}]}]}")]
    [InlineData("{\"components\":[{\"resources\":[{\"type\":\"aws:s3/bucket:Bucket\",\"name\":\"b\",\"properties\":{\"objectLockEnabled\":[]}},{\"type\":\"aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration\",\"properties\":{\"bucket\":\"${b.id}\",\"rule\":{\"defaultRetention\":5}}},{\"type\":\"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration\",\"properties\":{\"bucket\":\"${b.id}\",\"rules\":{}}},{\"type\":\"aws:cloudtrail/trail:Trail\",\"name\":\"t\",\"properties\":{\"advancedEventSelectors\":[1,{\"fieldSelectors\":[2]}]}}]}]}")]
    public async Task Check_of_a_plan_with_odd_values_inside_is_refused_in_one_line_naming_the_place(string plan)
    {
        // The reader refuses a resource it cannot walk (DesignCheck itself judges odd values without crashing: Core's tests).
        var file = Write("plan.json", plan);
        var result = await CliRunner.RunAsync("check", "--plan", file);
        InputAssert.OneLineError(result, file);
        Assert.Contains("components[0]", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null", "expected {\"Accounts\": [...]}")]
    [InlineData("[1]", "expected {\"Accounts\": [...]}")]
    [InlineData("{\"Accounts\":[1]}", "Accounts[0]: expected an object")]
    [InlineData("{\"Accounts\":[{\"Id\":\"111111111111\"},[]]}", "Accounts[1]: expected an object")]
    public async Task Docs_refuses_an_account_list_of_the_wrong_shape_in_one_line(string accounts, string expected)
    {
        var file = Write("accounts.json", accounts);
        var result = await CliRunner.RunAsync("docs", "--stack", "audit", "--sample", "--accounts", file, "--out", Path.Combine(CliRunner.TempDir(), "site"));
        InputAssert.OneLineError(result, file, expected);
    }

    [Theory]
    [InlineData("[{\"summaries\":[]}]", "expected {\"summaries\": [...]}")]
    [InlineData("{\"summaries\":[1]}", "summaries[0]: expected an object")]
    [InlineData("{\"summaries\":[{\"account\":\"111111111111\",\"region\":\"us-east-1\",\"digestsVerified\":\"3\"}]}", "summaries[0].digestsVerified: expected a whole number")]
    public async Task Docs_refuses_a_verify_report_of_the_wrong_shape_in_one_line(string report, string expected)
    {
        var file = Write("report.json", report);
        var result = await CliRunner.RunAsync("docs", "--stack", "audit", "--sample", "--verify-report", file, "--out", Path.Combine(CliRunner.TempDir(), "site"));
        InputAssert.OneLineError(result, file, expected);
    }

    [Theory]
    [InlineData("auditinfra:homeRegion: us-east-1", "auditinfra:homeRegion: [us-east-1", "'[' opened on this line is not closed")]
    [InlineData("auditinfra:homeRegion: us-east-1", "auditinfra:homeRegion: {a: us-east-1", "'{' opened on this line is not closed")]
    [InlineData("  auditinfra:homeRegion: us-east-1", "\tauditinfra:homeRegion: us-east-1", "tab")]
    [InlineData("auditinfra:homeRegion: us-east-1", "? [a, b]\n  : us-east-1", "a key must be a plain name")]
    [InlineData("auditinfra:homeRegion: us-east-1", "auditinfra:homeRegion: {? [a]: b}", "a key must be a plain name")]
    public async Task A_malformed_stack_file_is_reported_at_its_real_line(string line, string replacement, string expected)
    {
        var dir = CliRunner.ConfigDir("audit", text => text.Replace(line, replacement, StringComparison.Ordinal));
        var file = Path.Combine(dir, "Pulumi.audit.yaml");
        var lineNumber = File.ReadAllLines(file).ToList().FindIndex(l => l.Contains(replacement.Split('\n')[0], StringComparison.Ordinal)) + 1;
        Assert.True(lineNumber > 1);

        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--config-dir", dir);

        Assert.Equal(2, result.ExitCode);
        InputAssert.NoTrace(result);
        var issue = Assert.Single(InputAssert.Lines(result.Err), l => l.StartsWith(file, StringComparison.Ordinal));
        Assert.StartsWith($"{file}:{lineNumber}: error:", issue, StringComparison.Ordinal);
        Assert.Contains(expected, issue, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stack_file_nested_beyond_reason_is_refused_not_recursed()
    {
        var dir = CliRunner.ConfigDir("audit", text => text + "\n  auditinfra:deep: " + new string('[', 5000) + new string(']', 5000) + "\n");
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--config-dir", dir);
        Assert.Equal(2, result.ExitCode);
        InputAssert.NoTrace(result);
        Assert.Contains("levels deep", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stack_file_whose_aliases_expand_exponentially_is_refused()
    {
        var bomb = new StringBuilder("\n  auditinfra:a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 12; i++)
        {
            bomb.Append(CultureInfoInvariant($"  auditinfra:a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n"));
        }

        var dir = CliRunner.ConfigDir("audit", text => text + bomb);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--config-dir", dir);
        Assert.Equal(2, result.ExitCode);
        InputAssert.NoTrace(result);
        Assert.Contains("more than 100000 values", result.Err, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Rules_test_of_a_gzip_bomb_stops_at_the_record_limit_in_one_line()
    {
        // 64 MiB of one string inflate from a few hundred KiB: one record far beyond any CloudTrail record.
        var bomb = Path.Combine(CliRunner.TempDir(), "111111111111_CloudTrail_us-east-1_20261120T1015Z_bomb.json.gz");
        using (var gzip = new GZipStream(File.Create(bomb), CompressionLevel.SmallestSize))
        {
            gzip.Write("{\"Records\":[{\"eventName\":\""u8);
            var chunk = Encoding.ASCII.GetBytes(new string('A', 1 << 20));
            for (var i = 0; i < 64; i++)
            {
                gzip.Write(chunk);
            }

            gzip.Write("\"}]}"u8);
        }

        var result = await CliRunner.RunAsync("rules", "test", "--sample", bomb);

        InputAssert.OneLineError(result, bomb, "larger than 8 MiB");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"records\":[]}")]
    [InlineData("{\"logFiles\":[]}")]
    public async Task Rules_test_of_a_gzip_file_that_is_not_a_cloudtrail_log_names_it(string content)
    {
        var file = Path.Combine(CliRunner.TempDir(), "111111111111_CloudTrail_us-east-1_20261120T1015Z_x.json.gz");
        using (var gzip = new GZipStream(File.Create(file), CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(content));
        }

        var result = await CliRunner.RunAsync("rules", "test", "--sample", SampleFile("quiet-records.json"), file);

        InputAssert.OneLineError(result, file, "expected a CloudTrail log");
    }

    [Fact]
    public async Task Rules_test_of_records_with_bytes_that_are_not_utf8_names_the_file()
    {
        var file = Path.Combine(CliRunner.TempDir(), "records.json");
        File.WriteAllBytes(file, [.. "[{\"eventName\":\""u8, 0xC3, 0x28, .. "\"}]"u8]);

        var result = await CliRunner.RunAsync("rules", "test", "--sample", file);

        InputAssert.OneLineError(result, file, "not UTF-8");
    }

    [Fact]
    public async Task Rules_test_of_a_broken_literal_reports_it_in_one_line()
    {
        var file = Path.Combine(CliRunner.TempDir(), "records.json");
        File.WriteAllText(file, "[{\"readOnly\": f!lse,\n  \"eventType\": \"AwsApiCall\",\n  \"managementEvent\": true}]");

        var result = await CliRunner.RunAsync("rules", "test", "--sample", file);

        InputAssert.OneLineError(result, file, "is not valid JSON (line 1: ");
    }

    [Fact]
    public async Task A_stack_file_value_spanning_lines_is_quoted_on_the_issue_line()
    {
        var dir = CliRunner.ConfigDir("audit", text => text.Replace("auditinfra:namePrefix: acme-audit", "auditinfra:namePrefix: |\n    acme\n    audit", StringComparison.Ordinal));

        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--config-dir", dir);

        Assert.Equal(2, result.ExitCode);
        InputAssert.NoTrace(result);
        var lines = InputAssert.Lines(result.Err);
        Assert.Equal(2, lines.Length);
        Assert.Contains("auditinfra:namePrefix: expected", lines[1], StringComparison.Ordinal);
        Assert.Contains("acme\\naudit", lines[1], StringComparison.Ordinal);
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);
}
