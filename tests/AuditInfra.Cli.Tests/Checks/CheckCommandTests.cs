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

    [Theory]
    [InlineData("audit-monitor-sign-wider", "monitor-kms-sign-only-task-role", "acme-audit-integrity-attestation-key")]
    [InlineData("audit-monitor-task-role-delete", "monitor-task-role-no-delete", "acme-audit-integrity-task-role-policy")]
    [InlineData("audit-monitor-schedule-disabled", "monitor-schedule-enabled", "acme-audit-integrity-schedule")]
    public async Task A_weakened_integrity_monitor_exits_1_naming_invariant_and_resource(string fixture, string invariant, string resource)
    {
        var result = await CliRunner.RunAsync("check", "--plan", Fixture(fixture), "--json");
        Assert.Equal(1, result.ExitCode);
        var violation = Assert.Single(JsonNode.Parse(result.Out)!["violations"]!.AsArray());
        Assert.Equal(invariant, (string)violation!["invariant"]!);
        Assert.Equal(resource, (string)violation["resource"]!);
    }

    [Fact]
    public async Task The_sample_audit_plan_shows_the_integrity_monitor()
    {
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--sample", "--json");
        Assert.Equal(0, result.ExitCode);
        var monitor = JsonNode.Parse(result.Out)!["components"]!.AsArray().Single(c => (string)c!["type"]! == "auditinfra:integrity:IntegrityMonitor")!;
        Assert.Equal("acme-audit-audit-account-provider", (string)monitor["provider"]!);
        Assert.Contains(monitor["resources"]!.AsArray(), r => (string)r!["type"]! == "aws:batch/jobDefinition:JobDefinition");
        Assert.Contains(monitor["notes"]!.AsArray(), n => ((string)n!).Contains("DISABLED", StringComparison.Ordinal));
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

    [Theory]
    [InlineData("[1,2,3]", "a JSON object with a 'components' list")]
    [InlineData("null", "a JSON object with a 'components' list")]
    [InlineData("{\"plan\": 7}", "a JSON object with a 'components' list")]
    [InlineData("{\"components\": [1]}", "components[0] must be an object with a 'resources' list")]
    [InlineData("{\"components\": [{\"resources\": [[]]}]}", "components[0].resources[0] must be an object")]
    [InlineData("{\"components\": [{\"resources\": [{\"type\": 1, \"name\": \"x\"}]}]}", "components[0].resources[0].type must be a string")]
    [InlineData("{\"components\": [{\"resources\": [{\"type\": \"t\", \"name\": \"x\", \"properties\": [1]}]}]}", "components[0].resources[0].properties must be an object")]
    [InlineData("{\"stack\": [1], \"components\": []}", "'stack' must be a string")]
    public async Task A_file_that_is_not_a_plan_is_one_line_and_exit_2(string text, string expected)
    {
        var file = Path.Combine(CliRunner.TempDir(), "plan.json");
        await File.WriteAllTextAsync(file, text);
        var result = await CliRunner.RunAsync("check", "--plan", file);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"{file}: expected a plan ('auditinfra plan --json' output): {expected}", result.Err.TrimEnd());
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(0, 60)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Mutated_plans_give_a_verdict_or_one_line_never_an_exception(int seed)
    {
        // Table-driven fuzz: values of the shipped compliant plans replaced by values of other kinds.
        var random = new Random(seed);
        var fixture = JsonNode.Parse(await File.ReadAllTextAsync(Fixture(seed % 2 == 0 ? "audit-compliant" : "prod-compliant")))!;
        var values = new List<(JsonNode Parent, object Key)>();
        void Collect(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o.ToList())
                    {
                        values.Add((o, k));
                        Collect(v);
                    }

                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        values.Add((a, i));
                        Collect(a[i]);
                    }

                    break;
            }
        }

        Collect(fixture["plan"]);
        JsonNode?[] replacements = [null, 0, -1, 1e308, true, false, "", "x", new JsonArray(), new JsonArray(1, "a"), new JsonObject(), new JsonObject { ["a"] = 1 }];
        for (var n = 0; n < 1 + random.Next(5); n++)
        {
            var (parent, key) = values[random.Next(values.Count)];
            var value = replacements[random.Next(replacements.Length)]?.DeepClone();
            try
            {
                if (parent is JsonObject o)
                {
                    o[(string)key] = value;
                }
                else if (parent is JsonArray a && (int)key < a.Count)
                {
                    a[(int)key] = value;
                }
            }
            catch (InvalidOperationException)
            {
                // The node was detached by an earlier mutation of an ancestor.
            }
        }

        var file = Path.Combine(CliRunner.TempDir(), "plan.json");
        await File.WriteAllTextAsync(file, fixture.ToJsonString());
        var result = await CliRunner.RunAsync("check", "--plan", file);
        Assert.True(result.ExitCode is 0 or 1 or 2, $"exit {result.ExitCode}: {result.Err}");
        if (result.ExitCode == 2)
        {
            Assert.Single(result.Err.TrimEnd().Split('\n'));
            Assert.StartsWith(file, result.Err);
        }
        else
        {
            Assert.True(result.Out.Contains("check: stack", StringComparison.Ordinal), $"exit {result.ExitCode}: {result.Err}");
        }
    }
}
