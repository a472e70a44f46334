using System.CommandLine;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Integrity.Monitor;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>
/// The integrity monitor's command lines, as the offline plan ships them to ECS and Batch, parsed by the verify command
/// the image runs: the design and the CLI can no longer drift apart unnoticed.
/// </summary>
public sealed class MonitorCommandLineTests
{
    private static async Task<(string[] Incremental, string[] Full, string[] Backfill, JsonNode BackfillParameters)> PlannedCommandsAsync()
    {
        var plan = await Support.CliRunner.RunAsync("plan", "--stack", "audit", "--sample", "--json");
        Assert.True(plan.ExitCode == 0, plan.Err);
        var monitor = JsonNode.Parse(plan.Out)!["components"]!.AsArray().Single(c => (string)c!["type"]! == IntegrityMonitorDesign.ComponentType)!;
        var resources = monitor["resources"]!.AsArray().Select(r => r!).ToList();
        static string[] Strings(JsonNode command) => [.. command.AsArray().Select(a => (string)a!)];
        string[] Task(string suffix) => Strings(resources.Single(r => ((string)r["name"]!).EndsWith(suffix, StringComparison.Ordinal))["properties"]!["containerDefinitions"]![0]!["command"]!);
        var job = resources.Single(r => (string)r["type"]! == "aws:batch/jobDefinition:JobDefinition")["properties"]!;
        return (Task("integrity-task"), Task("integrity-task-full"), Strings(job["containerProperties"]!["command"]!), job["parameters"]!);
    }

    private static ParseResult Parse(string[] args)
    {
        var root = new RootCommand { VerifyCommand.Create(CliIo.Capture(new StringWriter(), new StringWriter())) };
        return root.Parse(args);
    }

    private static string? Value(string[] args, string option) =>
        Array.IndexOf(args, option) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    [Fact]
    public async Task The_scheduled_tasks_command_lines_parse_with_verify_and_name_a_bus_a_kms_key_and_a_state_object()
    {
        var (incremental, full, _, _) = await PlannedCommandsAsync();
        foreach (var args in new[] { incremental, full })
        {
            var parse = Parse(args);
            Assert.True(parse.Errors.Count == 0, $"{string.Join(' ', args)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            Assert.Equal("verify", parse.CommandResult.Command.Name);
            Assert.Null(FindingPublishing.Problem(Value(args, "--publish-findings")));
            Assert.NotNull(EventBusArn.Parse(Value(args, "--publish-findings")!));
            Assert.StartsWith("alias/", Value(args, "--kms-key-id"), StringComparison.Ordinal);
            Assert.Contains("--attest", args);
            Assert.False(Value(args, "--state")!.EndsWith('/'), "--state takes an object key, not a folder");
        }

        Assert.Equal([.. incremental, "--full"], full);
    }

    [Fact]
    public async Task The_backfill_jobs_command_line_parses_with_each_shard_batch_substitutes_and_does_not_attest()
    {
        var (_, _, backfill, parameters) = await PlannedCommandsAsync();
        var placeholder = Value(backfill, "--shard")!;
        Assert.StartsWith("Ref::", placeholder, StringComparison.Ordinal);

        // Batch replaces only an argument that is a whole Ref::name, from the job's parameters or the submit's.
        var name = placeholder["Ref::".Length..];
        var defaultShard = (string)parameters[name]!;
        foreach (var (shard, arrayIndex) in new[] { (defaultShard, (string?)null), ("auto/4", "3") })
        {
            var args = backfill.Select(a => a == placeholder ? shard : a).ToArray();
            var parse = Parse(args);
            Assert.True(parse.Errors.Count == 0, $"{string.Join(' ', args)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            var parsed = ChainShard.Parse(shard, variable => variable == IntegrityMonitorDesign.ArrayIndexVariable ? arrayIndex : null);
            Assert.Equal(shard == defaultShard ? new ChainShard(0, 1) : new ChainShard(3, 4), parsed);
        }

        // A backfill proves history; attesting is the scheduled tasks' work, with the key only their role may use.
        Assert.DoesNotContain("--attest", backfill);
        Assert.DoesNotContain("--kms-key-id", backfill);
    }

    [Fact]
    public void The_parser_rejects_the_command_line_the_design_used_to_ship()
    {
        string[] old = ["verify", "--source", "s3://b/cloudtrail", "--attest", "s3://b/attestations/", "--attest-key", "alias/k", "--shard-count", "Ref::shards"];
        Assert.NotEmpty(Parse(old).Errors);
    }

    [Fact]
    public async Task The_image_the_tasks_run_carries_the_aws_cli_their_key_fetch_needs()
    {
        // The scheduled command lines give no --public-keys, so verify runs `aws cloudtrail list-public-keys`.
        var (incremental, full, _, _) = await PlannedCommandsAsync();
        Assert.All(new[] { incremental, full }, args => Assert.DoesNotContain("--public-keys", args));
        var dockerfile = File.ReadAllLines(Path.Combine(Support.S3Server.RepositoryRoot(), "Dockerfile"));
        var runtime = Array.FindIndex(dockerfile, l => l.StartsWith("FROM ", StringComparison.Ordinal) && l.Contains(" AS runtime", StringComparison.Ordinal));
        var install = Array.FindIndex(dockerfile, l => l.Contains("/tmp/aws/install", StringComparison.Ordinal));
        var user = Array.FindIndex(dockerfile, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.True(runtime >= 0 && install > runtime && user > install, "the runtime stage must install the AWS CLI (as root, before USER)");
    }
}
