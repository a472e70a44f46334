using System.Text.Json;
using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary><c>verify --state / --full / --shard</c> through the command line, with the state in a file and in s3rver.</summary>
[Trait("Category", "S3")]
public sealed class VerifyStateTests(S3Server server) : IClassFixture<S3Server>
{
    private const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";

    private static async Task<string> SampleAsync(params string[] extra)
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var result = await CliRunner.RunAsync(["sample", "--out", dir, "--events-per-log", "2", .. extra.Contains("--hours") ? extra : ["--hours", "8", .. extra]]);
        Assert.True(result.ExitCode == 0, result.Err);
        return dir;
    }

    private static int DigestsVerified(string json) => JsonDocument.Parse(json).RootElement.GetProperty("digestsVerified").GetInt32();

    [Fact]
    public async Task A_state_file_makes_the_second_run_verify_nothing_again_and_full_verify_everything()
    {
        var dir = await SampleAsync();
        var keys = Path.Combine(dir, "public-keys.json");
        var state = Path.Combine(CliRunner.TempDir(), "state.json");

        var first = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--state", state, "--json");
        var second = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--state", state, "--json");
        var full = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--state", state, "--full", "--json");

        Assert.True(first.ExitCode == 0, first.Err);
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.True(full.ExitCode == 0, full.Err);
        Assert.True(DigestsVerified(first.Out) > 40);
        Assert.Equal(0, DigestsVerified(second.Out));
        Assert.Equal(DigestsVerified(first.Out), DigestsVerified(full.Out));
        var written = VerifyState.Parse(File.ReadAllText(state));
        // Three accounts by two regions; a restarted chain is the same trail's chain.
        Assert.Equal(6, written.Chains.Count);
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(state)!, "*.tmp"));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"version\": 1, \"source\": \"x\", \"chains\": []}")]
    [InlineData("{\"version\": 9}")]
    public async Task A_corrupt_state_file_is_one_line_naming_it_and_exit_two(string content)
    {
        var dir = await SampleAsync();
        var state = Path.Combine(CliRunner.TempDir(), "state.json");
        File.WriteAllText(state, content);

        var result = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--state", state);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains(state, result.Err, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(state));
    }

    [Fact]
    public async Task A_state_of_another_source_is_refused()
    {
        var dir = await SampleAsync();
        var other = await SampleAsync("--hours", "6");
        var keys = Path.Combine(dir, "public-keys.json");
        var state = Path.Combine(CliRunner.TempDir(), "state.json");
        Assert.Equal(0, (await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--state", state)).ExitCode);

        var result = await CliRunner.RunAsync("verify", "--source", other, "--public-keys", Path.Combine(other, "public-keys.json"), "--state", state);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("written for source", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4/4")]
    [InlineData("x/4")]
    [InlineData("1/0")]
    [InlineData("auto/4")]
    public async Task A_bad_shard_names_the_option_and_exits_two(string shard)
    {
        var dir = await SampleAsync();
        Environment.SetEnvironmentVariable(ChainShard.BatchArrayIndexVariable, null);

        var result = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--shard", shard);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("--shard", result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task Full_without_state_is_a_usage_error()
    {
        var dir = await SampleAsync();

        var result = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--full");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--state", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shards_sharing_one_state_in_s3_merge_their_chains_and_a_tampered_log_is_found_once()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var run = "state-" + Guid.NewGuid().ToString("N")[..8];
        var sample = await CliRunner.RunAsync("sample", "--out", dir, "--key-prefix", $"{run}/cloudtrail", "--hours", "8", "--events-per-log", "2", "--tamper", "modified-log", "--upload", $"s3://{Bucket}", "--endpoint-url", server.Endpoint);
        Assert.True(sample.ExitCode == 0, sample.Err);
        var keys = Path.Combine(dir, "public-keys.json");
        var state = $"s3://{Bucket}/{run}-state/verify.json";

        // The shards run at once: their first writes race, the losers merge their chains into the winner's state.
        var shards = await Task.WhenAll(Enumerable.Range(0, 3).Select(k => CliRunner.RunAsync("verify", "--source", $"s3://{Bucket}/{run}", "--endpoint-url", server.Endpoint, "--public-keys", keys, "--state", state, "--shard", $"{k}/3", "--json")));
        var findings = new List<string>();
        foreach (var shard in shards)
        {
            Assert.True(shard.ExitCode is 0 or 1, shard.Err);
            findings.AddRange(JsonDocument.Parse(shard.Out).RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("key").GetString()!));
        }

        Assert.Single(findings);
        using var client = server.Client();
        using var response = await client.GetObjectAsync(Bucket, $"{run}-state/verify.json");
        var written = VerifyState.Parse(await new StreamReader(response.ResponseStream).ReadToEndAsync());
        // Six chains; the one with the tampered log is not advanced.
        Assert.Equal(5, written.Chains.Count);
        Assert.StartsWith("s3://", written.Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_throttled_state_read_and_a_lost_answer_to_the_state_write_are_retried_and_the_run_advances_the_state()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var run = "state-" + Guid.NewGuid().ToString("N")[..8];
        var sample = await CliRunner.RunAsync("sample", "--out", dir, "--key-prefix", $"{run}/cloudtrail", "--hours", "8", "--events-per-log", "2", "--upload", $"s3://{Bucket}", "--endpoint-url", server.Endpoint);
        Assert.True(sample.ExitCode == 0, sample.Err);
        var keys = Path.Combine(dir, "public-keys.json");
        var statePath = $"/{Bucket}/{run}-state/verify.json";
        var (gets, puts) = (0, 0);
        // The first GET of the state is throttled; the first PUT is applied by s3rver but its answer never arrives,
        // so its retry meets 412 against this run's own write.
        using var proxy = new S3FaultProxy(server.Endpoint, (method, path) => path != statePath ? ProxyFault.None : method switch
        {
            "GET" when Interlocked.Increment(ref gets) == 1 => ProxyFault.SlowDown,
            "PUT" when Interlocked.Increment(ref puts) == 1 => ProxyFault.LoseAnswer,
            _ => ProxyFault.None,
        });
        string[] verify = ["verify", "--source", $"s3://{Bucket}/{run}", "--endpoint-url", proxy.Endpoint, "--public-keys", keys, "--state", $"s3:/{statePath}", "--json"];

        var first = await CliRunner.RunAsync(verify);

        Assert.True(first.ExitCode == 0, first.Err);
        Assert.Equal(
            ["GET SlowDown", "GET None", "PUT LoseAnswer", "PUT None", "GET None"],
            proxy.Requests.Where(r => r.Contains(statePath, StringComparison.Ordinal)).Select(r => r.Replace($" {statePath}", "", StringComparison.Ordinal)));
        using var client = server.Client();
        using var response = await client.GetObjectAsync(Bucket, $"{run}-state/verify.json");
        Assert.Equal(6, VerifyState.Parse(await new StreamReader(response.ResponseStream).ReadToEndAsync()).Chains.Count);
        var second = await CliRunner.RunAsync(verify);
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.Equal(0, DigestsVerified(second.Out));
    }

    [Fact]
    public async Task S3_state_writes_are_conditional_so_two_writers_never_both_win()
    {
        using var client = server.Client();
        var key = "race-" + Guid.NewGuid().ToString("N")[..8] + "/state.json";
        using var first = new S3StateStore(client, Bucket, key, $"s3://{Bucket}/{key}");
        using var second = new S3StateStore(client, Bucket, key, $"s3://{Bucket}/{key}");
        var empty = new VerifyState("s3://source/", new Dictionary<string, ChainCheckpoint>());

        Assert.Equal((null, null), await first.LoadAsync(CancellationToken.None));
        var version = await first.SaveAsync(empty, null, CancellationToken.None);
        // The second writer also found no state: If-None-Match: * now fails.
        await Assert.ThrowsAsync<StateConflictException>(() => second.SaveAsync(empty, null, CancellationToken.None));
        var (_, current) = await second.LoadAsync(CancellationToken.None);
        Assert.Equal(version, current);
        var newer = await second.SaveAsync(empty with { Source = "s3://source/x/" }, current, CancellationToken.None);
        // The first writer's ETag is stale: If-Match fails, and the state is the second writer's.
        await Assert.ThrowsAsync<StateConflictException>(() => first.SaveAsync(empty, version, CancellationToken.None));
        var (state, latest) = await first.LoadAsync(CancellationToken.None);
        Assert.Equal(("s3://source/x/", newer), (state!.Source, latest));

        // Many writers from one read: exactly one wins.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await new S3StateStore(client, Bucket, key, key).SaveAsync(empty with { Source = $"s3://w{i}/" }, latest, CancellationToken.None);
                return true;
            }
            catch (StateConflictException)
            {
                return false;
            }
        }));
        Assert.Equal(1, results.Count(r => r));
    }
}
