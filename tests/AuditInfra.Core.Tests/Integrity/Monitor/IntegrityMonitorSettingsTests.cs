using AuditInfra.Core.Configuration;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Integrity.Monitor;

public class IntegrityMonitorSettingsTests
{
    private static readonly string Audit = Samples.Text("audit");

    private static ConfigIssue Error(string yaml, string key, string stack = "audit")
    {
        var (config, report) = Samples.Bind(yaml, stack);
        Assert.Null(config);
        var matches = report.Errors.Where(e => e.Key == key).ToList();
        Assert.True(matches.Count == 1, $"expected one error for {key}, got:\n{report}");
        return matches[0];
    }

    [Theory]
    [InlineData("    imageTag: sample-0000000", "    imageTag: latest", "auditinfra:integrity.imageTag", "immutable tag")]
    [InlineData("    imageTag: sample-0000000", "    imageTag: -bad", "auditinfra:integrity.imageTag", "an image tag")]
    [InlineData("      - subnet-0a1b2c3d4e5f60718\n", "      - subnet-xyz\n", "auditinfra:integrity.subnetIds[0]", "a subnet id")]
    [InlineData("    cpu: 1024", "    cpu: 1000", "auditinfra:integrity.cpu", "Fargate's CPU sizes")]
    [InlineData("    memoryMiB: 2048", "    memoryMiB: 1024", "auditinfra:integrity.memoryMiB", "2048 to 8192 in steps of 1024")]
    [InlineData("    scheduleExpression: rate(1 hour)", "    scheduleExpression: every hour", "auditinfra:integrity.scheduleExpression", "rate(<n> minute(s)|hour(s)|day(s))")]
    [InlineData("    logRetentionDays: 365", "    logRetentionDays: 100", "auditinfra:integrity.logRetentionDays", "retention periods")]
    [InlineData("    alarmAfterHours: 2", "    alarmAfterHours: 25", "auditinfra:integrity.alarmAfterHours", "from 1 to 24")]
    [InlineData("      maxVcpus: 64", "      maxVcpus: 0", "auditinfra:integrity.backfill.maxVcpus", "from 1 to 4096")]
    public void Bad_values_name_the_key_and_what_is_expected(string line, string replacement, string key, string expected)
    {
        Assert.Contains(line, Audit);
        var issue = Error(Audit.Replace(line, replacement), key);
        Assert.Contains(expected, issue.Message);
        Assert.NotNull(issue.Line);
    }

    [Fact]
    public void Enabled_needs_the_image_tag_subnets_and_security_groups()
    {
        var yaml = Audit.Replace("    imageTag: sample-0000000\n", "")
            .Replace("    subnetIds:\n      - subnet-0a1b2c3d4e5f60718\n      - subnet-0a1b2c3d4e5f60719\n", "")
            .Replace("    securityGroupIds:\n      - sg-0a1b2c3d4e5f60718\n", "");
        var (config, report) = Samples.Bind(yaml);
        Assert.Null(config);
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:integrity.imageTag" && e.Message.StartsWith("is required", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:integrity.subnetIds" && e.Message.StartsWith("is required", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:integrity.securityGroupIds" && e.Message.StartsWith("is required", StringComparison.Ordinal));
    }

    [Fact]
    public void A_backfill_without_the_monitor_is_refused()
    {
        var yaml = Audit.Replace("    enabled: true\n    # The CLI image", "    enabled: false\n    # The CLI image").Replace("      enabled: false\n      # vCPUs", "      enabled: true\n      # vCPUs");
        Assert.Contains("needs integrity.enabled: true", Error(yaml, "auditinfra:integrity.backfill").Message);
    }

    [Fact]
    public void The_monitor_belongs_to_the_audit_stack()
    {
        var prod = Samples.Append(Samples.Text("prod"), "  auditinfra:integrity:\n    enabled: true\n    imageTag: abc123\n    subnetIds: [subnet-0a1b2c3d]\n    securityGroupIds: [sg-0a1b2c3d]");
        Assert.Contains("deployed by the audit stack", Error(prod, "auditinfra:integrity", "prod").Message);
    }

    [Fact]
    public void A_misspelt_key_gets_a_hint()
    {
        var (_, report) = Samples.Bind(Audit.Replace("    alarmAfterHours: 2", "    alarmAfterHour: 2"));
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:integrity.alarmAfterHour" && e.Message.Contains("alarmAfterHours", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(256, 512, true)]
    [InlineData(256, 4096, false)]
    [InlineData(4096, 30720, true)]
    [InlineData(8192, 20480, true)]
    [InlineData(8192, 18432, false)]
    [InlineData(16384, 122880, true)]
    public void Fargate_pairs_memory_with_cpu(int cpu, int memory, bool fits) =>
        Assert.Equal(fits, AuditInfra.Core.Integrity.Monitor.IntegrityMonitorSettings.FargateMemoryProblem(cpu, memory) is null);
}
