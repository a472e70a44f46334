using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Plan;

public class PlanCommandTests
{
    [Fact]
    public async Task Plan_of_the_embedded_sample_renders_the_log_archive_tree()
    {
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--sample");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("stack audit — account 222222222222, region us-east-1", result.Out);
        Assert.Contains("auditinfra:storage:LogArchive acme-audit-log-archive", result.Out);
        Assert.Contains("aws:s3/bucket:Bucket acme-audit-log-bucket [protect]", result.Out);
        Assert.Contains("\"Sid\": \"DenyInsecureTransport\"", result.Out);
        Assert.Contains("Encrypts the organization trail 'acme-org-trail'", result.Out);
        var esc = result.Out.IndexOf("\u001b[", StringComparison.Ordinal);
        Assert.True(esc < 0, esc < 0 ? "" : result.Out.Substring(Math.Max(0, esc - 40), 80).Replace("\u001b", "ESC"));
    }

    [Fact]
    public async Task Json_plan_is_parseable_and_names_every_resource()
    {
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--sample", "--json");
        Assert.Equal(0, result.ExitCode);
        var plan = JsonNode.Parse(result.Out)!;
        Assert.Equal("audit", (string?)plan["stack"]);
        var resources = plan["components"]!.AsArray().SelectMany(c => c!["resources"]!.AsArray()).ToList();
        Assert.Contains(resources, r => (string?)r!["name"] == "acme-audit-trail-key" && (bool?)r["properties"]!["enableKeyRotation"] == true);
        Assert.Equal(resources.Count, resources.Select(r => (string?)r!["name"]).Distinct().Count());
    }

    [Theory]
    [InlineData("audit")]
    [InlineData("prod")]
    public async Task Json_plan_of_the_sample_is_the_committed_compliant_plan(string stack)
    {
        // The oracle is a committed file (policy/fixtures/<stack>-compliant.json, reviewed and shared
        // with the policy pack), not a second render: a change of the plan must be a reviewed change of it.
        var result = await CliRunner.RunAsync("plan", "--stack", stack, "--sample", "--json");
        Assert.Equal(0, result.ExitCode);
        var golden = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "fixtures", $"{stack}-compliant.json")))!["plan"];
        Assert.True(JsonNode.DeepEquals(golden, JsonNode.Parse(result.Out)), $"`plan --stack {stack} --sample --json` differs from policy/fixtures/{stack}-compliant.json: if the design change is intended, re-render that file and rebuild the broken fixtures (docs/policy.md)");
    }

    [Fact]
    public async Task Plan_reads_the_stack_file_from_the_config_dir()
    {
        var dir = CliRunner.ConfigDir("audit", t => t.Replace("auditinfra:namePrefix: acme-audit", "auditinfra:namePrefix: other"));
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--config-dir", dir, "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("other-cloudtrail-222222222222-us-east-1", result.Out);
    }

    [Fact]
    public async Task Bad_configuration_exits_2_with_every_error_and_no_plan()
    {
        var dir = CliRunner.ConfigDir("audit", t => t
            .Replace("auditinfra:managementAccountId: \"111111111111\"", "auditinfra:managementAccountId: \"11\"")
            .Replace("auditinfra:retentionYears: 7", "auditinfra:retentionYear: 7"));
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--config-dir", dir);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains("2 error(s)", result.Err);
        Assert.Matches(@"Pulumi\.audit\.yaml:\d+: error: auditinfra:managementAccountId: expected a 12-digit AWS account id \(found ""11""\)", result.Err);
        Assert.Matches(@"Pulumi\.audit\.yaml:\d+: error: auditinfra:retentionYear: is not a known key; did you mean 'retentionYears'\?", result.Err);
    }

    [Fact]
    public async Task A_missing_stack_file_is_named()
    {
        var dir = CliRunner.TempDir();
        var result = await CliRunner.RunAsync("plan", "--stack", "prod", "--config-dir", dir);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(Path.Combine(dir, "Pulumi.prod.yaml"), result.Err);
        Assert.Contains("does not exist", result.Err);
    }

    [Fact]
    public async Task Unknown_stack_is_a_usage_error()
    {
        var result = await CliRunner.RunAsync("plan", "--stack", "staging", "--sample");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("staging", result.Err);
    }

    [Fact]
    public async Task Compliance_mode_plans_but_warns_on_stderr()
    {
        var dir = CliRunner.ConfigDir("audit", t => t.Replace("    mode: GOVERNANCE", "    mode: COMPLIANCE"));
        var result = await CliRunner.RunAsync("plan", "--stack", "audit", "--config-dir", dir, "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("warning: auditinfra:objectLock.mode: COMPLIANCE", result.Err);
        Assert.Contains("\"mode\": \"COMPLIANCE\"", result.Out);
    }
}
