using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Fuzz;

/// <summary>
/// The valid inputs every mutation starts from, made once: the shipped stack files, a plan, a signed sample
/// corpus with its public keys, its verify report, an account list, and the shipped event samples.
/// </summary>
public sealed class FuzzSeeds : IAsyncLifetime
{
    public string Dir { get; } = CliRunner.TempDir();

    public string Corpus => Path.Combine(Dir, "corpus");

    public byte[] Plan { get; private set; } = [];

    public byte[] PublicKeys { get; private set; } = [];

    public byte[] VerifyReport { get; private set; } = [];

    public byte[] Accounts { get; } = Encoding.UTF8.GetBytes(new JsonObject
    {
        ["Accounts"] = new JsonArray(
            Account("111111111111", "management", "ACTIVE"),
            Account("222222222222", "audit", "ACTIVE"),
            Account("333333333333", "workloads", "SUSPENDED")),
    }.ToJsonString());

    public byte[] CloudTrailLog { get; } = File.ReadAllBytes(Sample("*.json.gz"));

    public byte[] QuietRecords { get; } = File.ReadAllBytes(Sample("quiet-records.json"));

    /// <summary>The first quiet record as EventBridge delivers it: a file holding one envelope.</summary>
    public byte[] Envelope => Core.Detection.EventEnvelopes.Wrap(System.Text.Json.JsonDocument.Parse(QuietRecords).RootElement[0]);

    public static string Sample(string pattern) => Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "samples"), pattern).Single();

    public async Task InitializeAsync()
    {
        var plan = await CliRunner.RunAsync("plan", "--stack", "audit", "--sample", "--json");
        Assert.True(plan.ExitCode == 0, plan.Err);
        Plan = Encoding.UTF8.GetBytes(plan.Out);

        var sample = await CliRunner.RunAsync("sample", "--out", Corpus, "--hours", "6", "--events-per-log", "1", "--account", "111111111111", "--region", "us-east-1");
        Assert.True(sample.ExitCode == 0, sample.Err);
        PublicKeys = File.ReadAllBytes(Path.Combine(Corpus, "public-keys.json"));

        // The report `verify` writes, made by the verifier itself so that it does not depend on how verify's options name its output.
        var report = await new Core.Integrity.IntegrityVerifier(new Core.Integrity.LocalDirectoryStore(Corpus), Core.Integrity.PublicKeySet.Load(Path.Combine(Corpus, "public-keys.json")))
            .VerifyAsync(new Core.Integrity.VerifyOptions());
        Assert.True(report.Clean);
        VerifyReport = Encoding.UTF8.GetBytes(report.ToJson());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static JsonObject Account(string id, string name, string state) => new()
    {
        ["Id"] = id,
        ["Arn"] = $"arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/{id}",
        ["Email"] = $"{name}@example.com",
        ["Name"] = name,
        ["Status"] = state,
        ["State"] = state,
        ["JoinedMethod"] = "CREATED",
        ["JoinedTimestamp"] = "2026-01-01T00:00:00+00:00",
    };
}

/// <summary>
/// Every input the command line reads, mutated at random (seeded, so a failure names the seed that reproduces it):
/// each run ends with a result (exit 0 or 1) or with exit 2 and one line, never with an escaped exception.
/// </summary>
public class InputFuzzTests(FuzzSeeds seeds) : IClassFixture<FuzzSeeds>
{
    /// <summary>Enough to run in seconds; AUDITINFRA_FUZZ_CASES asks for a longer search (e.g. 2000 before a release).</summary>
    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("AUDITINFRA_FUZZ_CASES"), out var cases) && cases > 0 ? cases : 40;

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 0; seed < Cases; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Stack_files(int seed)
    {
        foreach (var stack in new[] { "audit", "prod" })
        {
            var mutant = Mutations.Yaml(Infrastructure.SampleConfig.Read(stack), seed);
            var dir = CliRunner.TempDir();
            var file = Path.Combine(dir, $"Pulumi.{stack}.yaml");
            await File.WriteAllBytesAsync(file, mutant.Bytes);

            var result = await CliRunner.RunAsync("plan", "--stack", stack, "--config-dir", dir);

            Judge(result, $"Pulumi.{stack}.yaml seed {seed}: {mutant.Description} ({file})", output => output.Length > 0, configReport: true);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Plan_files(int seed)
    {
        var (file, mutant) = await WriteAsync("plan.json", Mutations.Json(seeds.Plan, seed));
        var result = await CliRunner.RunAsync("check", "--plan", file);
        Judge(result, $"plan seed {seed}: {mutant.Description} ({file})", output => output.Contains("check: stack", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Public_keys_files(int seed)
    {
        var (file, mutant) = await WriteAsync("public-keys.json", Mutations.Json(seeds.PublicKeys, seed));
        var result = await CliRunner.RunAsync("verify", "--source", seeds.Corpus, "--public-keys", file);
        Judge(result, $"public keys seed {seed}: {mutant.Description} ({file})", output => output.Contains("111111111111", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Account_lists(int seed)
    {
        var (file, mutant) = await WriteAsync("accounts.json", Mutations.Json(seeds.Accounts, seed));
        var result = await CliRunner.RunAsync("docs", "--stack", "audit", "--sample", "--accounts", file, "--out", Path.Combine(Path.GetDirectoryName(file)!, "site"));
        Judge(result, $"accounts seed {seed}: {mutant.Description} ({file})", output => output.Contains("written to", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Verify_reports(int seed)
    {
        var (file, mutant) = await WriteAsync("report.json", Mutations.Json(seeds.VerifyReport, seed));
        var result = await CliRunner.RunAsync("docs", "--stack", "audit", "--sample", "--verify-report", file, "--out", Path.Combine(Path.GetDirectoryName(file)!, "site"));
        Judge(result, $"verify report seed {seed}: {mutant.Description} ({file})", output => output.Contains("written to", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task CloudTrail_logs(int seed)
    {
        var (file, mutant) = await WriteAsync("111111111111_CloudTrail_us-east-1_20261120T1015Z_fuzz.json.gz", Mutations.GzipJson(seeds.CloudTrailLog, seed));
        var result = await CliRunner.RunAsync("rules", "test", "--sample", file);
        Judge(result, $"CloudTrail log seed {seed}: {mutant.Description} ({file})", output => output.Contains("detection(s) fired", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Record_arrays(int seed)
    {
        var (file, mutant) = await WriteAsync("quiet-records.json", Mutations.Json(seeds.QuietRecords, seed));
        var result = await CliRunner.RunAsync("rules", "test", "--sample", file);
        Judge(result, $"records seed {seed}: {mutant.Description} ({file})", output => output.Contains("detection(s) fired", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task EventBridge_envelopes(int seed)
    {
        var (file, mutant) = await WriteAsync("event.json", Mutations.Json(seeds.Envelope, seed));
        var result = await CliRunner.RunAsync("rules", "test", "--sample", file);
        Judge(result, $"envelope seed {seed}: {mutant.Description} ({file})", output => output.Contains("detection(s) fired", StringComparison.Ordinal));
    }

    /// <summary>
    /// A result on stdout with exit 0 or 1; or exit 2 with one line (for a stack file: its report, one located
    /// issue a line under one heading); never a trace, never an internal error.
    /// </summary>
    private static void Judge(CliResult result, string what, Func<string, bool> hasResult, bool configReport = false)
    {
        var context = $"{what}\nexit {result.ExitCode}\nstderr:\n{result.Err}\nstdout:\n{(result.Out.Length > 2000 ? result.Out[..2000] : result.Out)}";
        try
        {
            InputAssert.NoTrace(result);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"{context}\n{ex.Message}");
        }

        var lines = InputAssert.Lines(result.Err);
        var ok = result.ExitCode switch
        {
            0 or 1 => hasResult(result.Out),
            2 when configReport => lines.Length >= 2 && lines[0].StartsWith("The configuration of stack", StringComparison.Ordinal)
                && lines.Skip(1).All(l => l.Contains(": error: ", StringComparison.Ordinal) || l.Contains(": warning: ", StringComparison.Ordinal)),
            2 => lines.Length == 1,
            _ => false,
        };
        Assert.True(ok, context);
    }

    private static async Task<(string File, Mutant Mutant)> WriteAsync(string name, Mutant mutant)
    {
        var file = Path.Combine(CliRunner.TempDir(), name);
        await File.WriteAllBytesAsync(file, mutant.Bytes);
        return (file, mutant);
    }
}
