using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Checks;

public class CheckCommandTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name + ".json");

    [Theory]
    [InlineData("audit")]
    [InlineData("prod")]
    public async Task The_sample_stacks_pass(string stack)
    {
        var result = await CliRunner.RunAsync("check", "--stack", stack, "--sample");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"stack {stack}: all", result.Out);
    }

    [Fact]
    public async Task A_broken_fixture_exits_1_and_names_invariant_resource_and_control()
    {
        var result = await CliRunner.RunAsync("check", "--plan", Fixture("prod-trail-log-file-validation"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("trail-log-file-validation", result.Out);
        Assert.Contains("acme-audit-organization-trail", result.Out);
        Assert.Contains("CloudTrail.4", result.Out);
    }

    [Fact]
    public async Task Json_lists_violations_for_scripts()
    {
        var result = await CliRunner.RunAsync("check", "--plan", Fixture("prod-several-broken"), "--json");
        Assert.Equal(1, result.ExitCode);
        var node = JsonNode.Parse(result.Out)!;
        Assert.False((bool)node["passed"]!);
        Assert.Equal(["trail-log-file-validation", "trail-logging-enabled", "trail-multi-region"], node["violations"]!.AsArray().Select(v => (string)v!["invariant"]!).Order().ToArray());
    }

    [Fact]
    public async Task Plan_with_check_passes_the_sample_and_keeps_stdout_the_plan()
    {
        var good = await CliRunner.RunAsync("plan", "--stack", "prod", "--sample", "--check");
        Assert.Equal(0, good.ExitCode);
        Assert.Contains("all", good.Out);
        var json = await CliRunner.RunAsync("plan", "--stack", "prod", "--sample", "--check", "--json");
        Assert.Equal(0, json.ExitCode);
        Assert.NotNull(JsonNode.Parse(json.Out));
        Assert.Contains("invariants hold", json.Err);
    }

    [Fact]
    public async Task A_rendered_plan_broken_by_hand_fails_the_check_naming_the_invariant()
    {
        // Configuration validation refuses every setting that would break an invariant, so the
        // failure path is reached the way an edited or stale plan reaches it: a saved plan changed
        // after rendering (not a committed fixture, so this does not depend on policy/fixtures).
        var rendered = await CliRunner.RunAsync("plan", "--stack", "audit", "--sample", "--json");
        Assert.Equal(0, rendered.ExitCode);
        var plan = JsonNode.Parse(rendered.Out)!;
        var key = plan["components"]!.AsArray().SelectMany(c => c!["resources"]!.AsArray()).Single(r => (string?)r!["name"] == "acme-audit-trail-key")!;
        key["properties"]!["enableKeyRotation"] = false;
        var file = Path.Combine(CliRunner.TempDir(), "plan.json");
        await File.WriteAllTextAsync(file, plan.ToJsonString());

        var result = await CliRunner.RunAsync("check", "--plan", file);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("key-rotation", result.Out);
        Assert.Contains("acme-audit-trail-key", result.Out);
        Assert.Contains("check: stack audit: 1 violation(s)", result.Out);

        var json = await CliRunner.RunAsync("check", "--plan", file, "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.Equal(["key-rotation"], JsonNode.Parse(json.Out)!["violations"]!.AsArray().Select(v => (string)v!["invariant"]!).ToArray());
    }

    [Theory]
    [InlineData("--stack", "prod")]
    [InlineData("--sample")]
    public async Task A_plan_file_with_a_stack_configuration_is_refused_naming_both(params string[] stackArgs)
    {
        var result = await CliRunner.RunAsync(["check", "--plan", Fixture("prod-trail-log-file-validation"), .. stackArgs]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        var line = Assert.Single(result.Err.TrimEnd().Split('\n'));
        Assert.Contains("--plan prod-trail-log-file-validation.json", line);
        Assert.Contains(string.Join(' ', stackArgs), line);
    }

    [Fact]
    public async Task Bad_plan_files_are_input_errors()
    {
        var dir = CliRunner.TempDir();
        var notJson = Path.Combine(dir, "plan.json");
        await File.WriteAllTextAsync(notJson, "{ nope");
        var result = await CliRunner.RunAsync("check", "--plan", notJson);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not valid JSON", result.Err);

        var missing = await CliRunner.RunAsync("check", "--plan", Path.Combine(dir, "absent.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Err);

        var noStack = await CliRunner.RunAsync("check");
        Assert.Equal(2, noStack.ExitCode);
        Assert.Contains("--stack", noStack.Err);
    }
}
