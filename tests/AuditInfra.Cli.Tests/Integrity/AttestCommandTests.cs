using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity.Attestations;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary><c>verify --attest</c>, <c>attest verify</c> and <c>docs --attestations</c> through the real command line, with real RSA keys.</summary>
public class AttestCommandTests
{
    internal static async Task<(string Corpus, string PrivateKey, string PublicKey)> SampleWithKeyAsync()
    {
        var root = CliRunner.TempDir();
        var corpus = Path.Combine(root, "corpus");
        var sample = await CliRunner.RunAsync("sample", "--out", corpus, "--hours", "72", "--logs-per-hour", "1", "--events-per-log", "1", "--account", "111111111111", "--account", "222222222222");
        Assert.True(sample.ExitCode == 0, sample.Err);
        using var rsa = RSA.Create(2048);
        var privateKey = Path.Combine(root, "signing.pem");
        var publicKey = Path.Combine(root, "public.pem");
        File.WriteAllText(privateKey, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(publicKey, rsa.ExportSubjectPublicKeyInfoPem());
        return (corpus, privateKey, publicKey);
    }

    private static Task<CliResult> VerifyAsync(string corpus, params string[] extra) =>
        CliRunner.RunAsync(["verify", "--source", corpus, "--public-keys", Path.Combine(corpus, "public-keys.json"), .. extra]);

    private static List<string> Attestations(string corpus) =>
        [.. Directory.EnumerateFiles(Path.Combine(corpus, "attestations"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Verify_attests_each_proven_account_day_once_and_attest_verify_checks_them_offline()
    {
        var (corpus, privateKey, publicKey) = await SampleWithKeyAsync();

        var first = await VerifyAsync(corpus, "--attest", "--signing-key", privateKey, "--json");
        Assert.True(first.ExitCode == 0, first.Err);
        var proven = JsonDocument.Parse(first.Out).RootElement.GetProperty("dayProofs").EnumerateArray()
            .GroupBy(p => (p.GetProperty("account").GetString(), p.GetProperty("day").GetString()))
            .Count(g => g.All(p => p.GetProperty("complete").GetBoolean() && p.GetProperty("clean").GetBoolean()));
        var written = Attestations(corpus);
        Assert.True(proven > 0);
        Assert.Equal(proven, written.Count);
        Assert.Contains($"{proven} written", first.Err, StringComparison.Ordinal);
        var bytes = written.Select(File.ReadAllBytes).ToList();

        var again = await VerifyAsync(corpus, "--attest", "--signing-key", privateKey);
        Assert.True(again.ExitCode == 0, again.Err);
        Assert.Contains($"0 written, {proven} already attested", again.Err, StringComparison.Ordinal);
        Assert.Equal(bytes, written.Select(File.ReadAllBytes).ToList());

        var check = await CliRunner.RunAsync("attest", "verify", "--source", corpus, "--public-key", publicKey, "--json");
        Assert.True(check.ExitCode == 0, check.Err + check.Out);
        var report = JsonDocument.Parse(check.Out).RootElement;
        Assert.Equal(proven, report.GetProperty("valid").GetInt32());
        Assert.All(report.GetProperty("attestations").EnumerateArray(), a => Assert.Equal(2, a.GetProperty("regions").GetArrayLength()));

        var human = await CliRunner.RunAsync("attest", "verify", "--source", corpus, "--public-key", publicKey);
        Assert.Equal(0, human.ExitCode);
        Assert.Contains($"Verified: {proven} attestation(s)", human.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Incremental_runs_attest_each_day_when_it_completes_with_the_facts_a_full_run_proves()
    {
        var (corpus, privateKey, _) = await SampleWithKeyAsync();
        var state = Path.Combine(Path.GetDirectoryName(corpus)!, "state.json");

        // The first run stops mid-day: that day is attested by the next run, which reads only what is new.
        var partial = await VerifyAsync(corpus, "--attest", "--signing-key", privateKey, "--state", state, "--end", "2026-11-21T12:00:00Z");
        Assert.True(partial.ExitCode == 0, partial.Err);
        Assert.DoesNotContain(Attestations(corpus), f => f.EndsWith(Path.Combine("11", "21.json"), StringComparison.Ordinal));
        var rest = await VerifyAsync(corpus, "--attest", "--signing-key", privateKey, "--state", state);
        Assert.True(rest.ExitCode == 0, rest.Err);
        var incremental = Attestations(corpus);
        Assert.Contains(incremental, f => f.EndsWith(Path.Combine("11", "21.json"), StringComparison.Ordinal));

        var full = await VerifyAsync(corpus, "--attest", "--signing-key", privateKey);
        Assert.True(full.ExitCode == 0, full.Err);
        Assert.Contains($"0 written, {incremental.Count} already attested", full.Err, StringComparison.Ordinal);
        Assert.Contains("0 conflict(s)", full.Err, StringComparison.Ordinal);
        Assert.Equal(incremental, Attestations(corpus));
    }

    [Fact]
    public async Task Four_shards_attest_exactly_what_one_unsharded_run_attests()
    {
        var root = CliRunner.TempDir();
        var whole = Path.Combine(root, "whole");
        string[] accounts = ["111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666"];
        var sample = await CliRunner.RunAsync(["sample", "--out", whole, "--hours", "48", "--logs-per-hour", "1", "--events-per-log", "1", .. accounts.SelectMany(a => new[] { "--account", a })]);
        Assert.True(sample.ExitCode == 0, sample.Err);
        var sharded = Path.Combine(root, "sharded");
        foreach (var file in Directory.EnumerateFiles(whole, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(sharded, Path.GetRelativePath(whole, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        using var rsa = RSA.Create(2048);
        var privateKey = Path.Combine(root, "signing.pem");
        File.WriteAllText(privateKey, rsa.ExportPkcs8PrivateKeyPem());

        var unsharded = await VerifyAsync(whole, "--attest", "--signing-key", privateKey);
        Assert.True(unsharded.ExitCode == 0, unsharded.Err);
        var shardsWithAttestations = 0;
        for (var k = 0; k < 4; k++)
        {
            var before = Directory.Exists(Path.Combine(sharded, "attestations")) ? Attestations(sharded).Count : 0;
            var shard = await VerifyAsync(sharded, "--attest", "--signing-key", privateKey, "--shard", $"{k}/4");
            Assert.True(shard.ExitCode == 0, shard.Err);
            shardsWithAttestations += Attestations(sharded).Count > before ? 1 : 0;
        }

        // Each account-day is attested once, by the shard that holds all of the account's regions, with the same facts.
        Assert.True(shardsWithAttestations > 1, "the six accounts should spread over several shards");
        static Dictionary<string, string> Payloads(string corpus) => Attestations(corpus).ToDictionary(
            f => Path.GetRelativePath(corpus, f),
            f => System.Text.Encoding.UTF8.GetString(AttestationEnvelope.Parse(File.ReadAllBytes(f)).Payload));
        var expected = Payloads(whole);
        Assert.All(accounts, a => Assert.Contains(expected.Keys, key => key.Contains(a, StringComparison.Ordinal)));
        Assert.Equal(expected, Payloads(sharded));
    }

    [Fact]
    public async Task An_altered_attestation_fails_attest_verify_and_a_conflicting_one_is_a_finding_of_verify_never_overwritten()
    {
        var (corpus, privateKey, publicKey) = await SampleWithKeyAsync();
        Assert.Equal(0, (await VerifyAsync(corpus, "--attest", "--signing-key", privateKey)).ExitCode);
        var target = Attestations(corpus)[0];

        // Re-signed with the right key but claiming other facts (one log fewer): well-formed, yet not what the archive proves.
        var envelope = AttestationEnvelope.Parse(File.ReadAllBytes(target));
        var claimed = Attestation.ParsePayload(envelope.Payload);
        var other = claimed with { Regions = [claimed.Regions[0] with { Logs = claimed.Regions[0].Logs + 1 }, .. claimed.Regions.Skip(1)] };
        using (var signer = KeyFileSigner.Load(privateKey))
        {
            File.WriteAllBytes(target, (await AttestationEnvelope.SignAsync(other, signer, CancellationToken.None)).ToBytes());
        }

        var planted = File.ReadAllBytes(target);
        var verify = await VerifyAsync(corpus, "--attest", "--signing-key", privateKey, "--json");
        Assert.Equal(1, verify.ExitCode);
        var finding = Assert.Single(JsonDocument.Parse(verify.Out).RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal("AttestationConflict", finding.GetProperty("kind").GetString());
        Assert.EndsWith(Path.GetRelativePath(corpus, target).Replace(Path.DirectorySeparatorChar, '/'), finding.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.Equal(planted, File.ReadAllBytes(target));

        // Altered after signing: attest verify says which object and exits 1.
        var node = JsonNode.Parse(File.ReadAllText(target))!;
        node["signatures"]![0]!["sig"] = Convert.ToBase64String(new byte[256]);
        File.WriteAllText(target, node.ToJsonString());
        var check = await CliRunner.RunAsync("attest", "verify", "--source", corpus, "--public-key", publicKey);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("does not verify", check.Out, StringComparison.Ordinal);
        Assert.Contains("1 bad attestation(s)", check.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_attestation_options_and_keys_end_before_the_run_with_exit_two()
    {
        var (corpus, privateKey, publicKey) = await SampleWithKeyAsync();
        var garbage = Path.Combine(Path.GetDirectoryName(privateKey)!, "garbage.pem");
        File.WriteAllText(garbage, "-----BEGIN NOTHING-----");

        foreach (var (args, expected) in new (string[], string)[]
        {
            (["--attest"], "--attest needs one signing key"),
            (["--signing-key", privateKey], "add --attest"),
            (["--attest", "--signing-key", privateKey, "--kms-key-id", "alias/x"], "--attest needs one signing key"),
            (["--attest", "--signing-key", privateKey, "--region", "us-east-1"], "cannot be combined with --region"),
            (["--attest", "--signing-key", publicKey], "holds a public key"),
            (["--attest", "--signing-key", garbage], $"--signing-key {garbage}: expected an unencrypted RSA private key"),
            (["--publish-findings", "arn:aws:sqs:us-east-1:222222222222:q"], "--publish-findings: expected an event bus ARN arn:aws:events:<region>:<account>:event-bus/<name> or an SNS topic ARN"),
        })
        {
            var result = await VerifyAsync(corpus, args);
            Assert.True(result.ExitCode == 2, $"{string.Join(' ', args)}: {result.ExitCode} {result.Err}");
            Assert.Contains(expected, result.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(corpus, "attestations")));
        }

        var noKey = await CliRunner.RunAsync("attest", "verify", "--source", corpus, "--public-key", garbage);
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("expected an RSA public key", noKey.Err, StringComparison.Ordinal);
        var none = await CliRunner.RunAsync("attest", "verify", "--source", corpus, "--public-key", publicKey);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no attestation in", none.Err, StringComparison.Ordinal);
        var missing = await CliRunner.RunAsync("attest", "verify", "--source", Path.Combine(corpus, "nope"), "--public-key", publicKey);
        Assert.Equal(2, missing.ExitCode);
    }

    [Fact]
    public async Task Docs_show_per_account_the_last_attested_day_and_the_days_without_an_attestation()
    {
        var (corpus, privateKey, _) = await SampleWithKeyAsync();
        Assert.Equal(0, (await VerifyAsync(corpus, "--attest", "--signing-key", privateKey)).ExitCode);
        var days = Attestations(corpus).Where(f => f.Contains("111111111111", StringComparison.Ordinal)).ToList();
        Assert.True(days.Count >= 3, string.Join(", ", days));
        File.Delete(days[1]);
        var missingDay = string.Join('-', days[1].Split(Path.DirectorySeparatorChar)[^3..]).Replace(".json", string.Empty, StringComparison.Ordinal);

        var site = Path.Combine(CliRunner.TempDir(), "site");
        var docs = await CliRunner.RunAsync("docs", "--stack", "audit", "--sample", "--attestations", corpus, "--out", site);
        Assert.True(docs.ExitCode == 0, docs.Err);
        var page = File.ReadAllText(Path.Combine(site, "accounts", "111111111111.md"));
        var last = string.Join('-', days[^1].Split(Path.DirectorySeparatorChar)[^3..]).Replace(".json", string.Empty, StringComparison.Ordinal);
        Assert.Contains($"| 111111111111 | {last} |", page, StringComparison.Ordinal);
        Assert.Contains($"1 day(s): {missingDay}", page, StringComparison.Ordinal);
        Assert.Contains("## Attestations", File.ReadAllText(Path.Combine(site, "index.md")), StringComparison.Ordinal);

        var bad = await CliRunner.RunAsync("docs", "--stack", "audit", "--sample", "--attestations", "s3://Not_A_Bucket", "--out", Path.Combine(CliRunner.TempDir(), "site"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--attestations s3://Not_A_Bucket", bad.Err, StringComparison.Ordinal);
    }
}
