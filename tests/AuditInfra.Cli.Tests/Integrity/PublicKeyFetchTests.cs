using System.Text.Json;
using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Aws;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>`verify` without --public-keys fetches the keys itself, through the AWS CLI, over the digests' time span.</summary>
public class PublicKeyFetchTests
{
    private static async Task<string> SampleAsync(params string[] extra)
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var result = await CliRunner.RunAsync(["sample", "--out", dir, "--hours", "8", "--events-per-log", "3", .. extra]);
        Assert.True(result.ExitCode == 0, result.Err);
        return dir;
    }

    private static (DateTimeOffset First, DateTimeOffset Last) DigestTimes(string sample)
    {
        var times = Directory.EnumerateFiles(sample, "*.json.gz", SearchOption.AllDirectories)
            .Select(f => CloudTrailKeys.Parse(Path.GetRelativePath(sample, f).Replace('\\', '/')))
            .Where(k => k is { Kind: CloudTrailObjectKind.Digest })
            .Select(k => k!.Timestamp)
            .ToList();
        return (times.Min(), times.Max());
    }

    [SkippableFact]
    public async Task Verify_fetches_the_keys_of_the_digests_span_and_answers_as_with_the_keys_file()
    {
        NodeFake.RequireAwsCli();
        var dir = await SampleAsync("--tamper", "modified-log");
        using var cloudTrail = new NodeFake("fake-cloudtrail.mjs", "--keys", Path.Combine(dir, "public-keys.json"));

        var fetched = await CliRunner.RunAsync("verify", "--source", dir, "--cloudtrail-endpoint-url", cloudTrail.Endpoint, "--json");
        var fromFile = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--json");
        Assert.True(fetched.ExitCode == 1, fetched.Err);
        Assert.Equal(1, fromFile.ExitCode);
        Assert.Equal(IntegrityReports.FindingsOf(fromFile.Out), IntegrityReports.FindingsOf(fetched.Out));
        Assert.Equal(
            JsonDocument.Parse(fromFile.Out).RootElement.GetProperty("digestsVerified").GetInt32(),
            JsonDocument.Parse(fetched.Out).RootElement.GetProperty("digestsVerified").GetInt32());

        // One call to the home region, asking for the keys from an hour before the first digest to the last:
        // the sample rotates its key midway, and CloudTrail without a start time returns only today's key.
        var (operation, body) = Assert.Single(cloudTrail.Requests);
        Assert.Equal("ListPublicKeys", operation);
        var (first, last) = DigestTimes(dir);
        Assert.Equal(first.AddHours(-1).ToUnixTimeSeconds(), (long)(double)body["StartTime"]!);
        Assert.Equal(last.ToUnixTimeSeconds(), (long)(double)body["EndTime"]!);
    }

    [SkippableFact]
    public async Task A_denied_fetch_is_one_line_with_the_command_and_exit_two()
    {
        NodeFake.RequireAwsCli();
        var dir = await SampleAsync();
        using var denied = new NodeFake("fake-cloudtrail.mjs", "--keys", Path.Combine(dir, "public-keys.json"), "--fail", "AccessDeniedException");

        var result = await CliRunner.RunAsync("verify", "--source", dir, "--cloudtrail-endpoint-url", denied.Endpoint);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("cannot fetch the trail's public keys", line, StringComparison.Ordinal);
        Assert.Contains("AccessDeniedException", line, StringComparison.Ordinal);
        var (first, last) = DigestTimes(dir);
        static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"aws cloudtrail list-public-keys --region us-east-1 --start-time {Iso(first.AddHours(-1))} --end-time {Iso(last)} --output json > public-keys.json", line, StringComparison.Ordinal);
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task Without_the_aws_cli_the_fetch_fails_in_one_line_naming_the_command_to_run()
    {
        var span = new PublicKeySpan(["us-east-1", "eu-west-1"], new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));
        var cli = new AwsCli { Executable = Path.Combine(CliRunner.TempDir(), "no-aws-here") };
        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => PublicKeyFetcher.FetchAsync(cli, span, CancellationToken.None));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("could not be run", error.Message, StringComparison.Ordinal);
        Assert.Contains("--public-keys", error.Message, StringComparison.Ordinal);
        Assert.Contains("aws cloudtrail list-public-keys --region eu-west-1 --start-time 2026-11-20T00:00:00Z --end-time 2026-11-21T00:00:00Z --output json", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Without_credentials_the_fetch_fails_in_one_line_naming_the_cause()
    {
        NodeFake.RequireAwsCli();
        var span = new PublicKeySpan(["us-east-1"], new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));
        var empty = CliRunner.TempDir();
        var cli = new AwsCli
        {
            EndpointUrl = "http://127.0.0.1:9",
            Environment = new Dictionary<string, string?>
            {
                ["AWS_ACCESS_KEY_ID"] = null,
                ["AWS_SECRET_ACCESS_KEY"] = null,
                ["AWS_SESSION_TOKEN"] = null,
                ["AWS_PROFILE"] = null,
                ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(empty, "credentials"),
                ["AWS_CONFIG_FILE"] = Path.Combine(empty, "config"),
                ["AWS_EC2_METADATA_DISABLED"] = "true",
                ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = null,
                ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = null,
                ["AWS_WEB_IDENTITY_TOKEN_FILE"] = null,
            },
        };
        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => PublicKeyFetcher.FetchAsync(cli, span, CancellationToken.None));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("Unable to locate credentials", error.Message, StringComparison.Ordinal);
        Assert.Contains("--start-time 2026-11-20T00:00:00Z --end-time 2026-11-21T00:00:00Z", error.Message, StringComparison.Ordinal);
    }
}
