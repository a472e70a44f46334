using AuditInfra.Core.Configuration;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Configuration;

public class ConfigValidationTests
{
    private static readonly string Audit = Samples.Text("audit");

    private static ValidationReport Errors(string yaml)
    {
        var (config, report) = Samples.Bind(yaml);
        Assert.Null(config);
        Assert.False(report.IsValid);
        return report;
    }

    private static ConfigIssue Single(ValidationReport report, string key)
    {
        var matches = report.Errors.Where(e => e.Key == key).ToList();
        Assert.True(matches.Count == 1, $"expected one error for {key}, got:\n{report}");
        return matches[0];
    }

    [Theory]
    [InlineData("audit")]
    [InlineData("prod")]
    public void Shipped_samples_are_valid(string stack)
    {
        var (config, report) = Samples.Bind(Samples.Text(stack), stack);
        Assert.True(report.IsValid, report.ToString());
        Assert.NotNull(config);
        Assert.Equal("o-a1b2c3d4e5", config!.Organization.OrganizationId);
        Assert.Equal(["us-east-1", "us-west-2", "eu-west-1"], config.GovernedRegions.ToArray());
        Assert.Equal(7 * 365, config.RetentionDays);
        Assert.Equal(ObjectLockMode.Governance, config.ObjectLock.Mode);
        Assert.Equal("aws", config.Partition);
    }

    [Theory]
    [InlineData("auditinfra:managementAccountId", "\"12345\"", "12-digit")]
    [InlineData("auditinfra:managementAccountId", "\"1234567890123\"", "12-digit")]
    [InlineData("auditinfra:auditAccountId", "abcdefghijkl", "12-digit")]
    [InlineData("auditinfra:organizationId", "o-ABCDEFGHIJ", "'o-' followed by 10 to 32 lowercase")]
    [InlineData("auditinfra:organizationId", "o-abc", "'o-' followed by 10 to 32 lowercase")]
    [InlineData("auditinfra:homeRegion", "us-east-9", "real AWS region")]
    [InlineData("auditinfra:namePrefix", "Acme_Audit", "lowercase letters")]
    [InlineData("auditinfra:trailName", "a", "trail name")]
    [InlineData("auditinfra:s3KeyPrefix", "/leading", "S3 key prefix")]
    [InlineData("auditinfra:retentionYears", "0", "from 1 to 100")]
    [InlineData("auditinfra:retentionYears", "seven", "whole number")]
    [InlineData("auditinfra:kmsDeletionWindowDays", "6", "from 7 to 30")]
    [InlineData("auditinfra:kmsDeletionWindowDays", "31", "from 7 to 30")]
    [InlineData("auditinfra:deploymentRoleArn", "arn:aws:iam::222222222222:user/bob", "IAM role ARN")]
    [InlineData("auditinfra:breakGlassRoleArn", "not-an-arn", "IAM role ARN")]
    public void Bad_scalar_values_name_the_file_line_key_and_expectation(string key, string value, string expected)
    {
        var report = Errors(Samples.With(Audit, key, $"  {key}: {value}"));
        var issue = Single(report, key);
        Assert.Contains(expected, issue.Message);
        Assert.Equal("Pulumi.audit.yaml", issue.File);
        Assert.NotNull(issue.Line);
        Assert.Contains($"Pulumi.audit.yaml:{issue.Line}: error: {key}:", issue.ToString());
        var lineText = Audit.Split('\n')[issue.Line!.Value - 1];
        Assert.StartsWith($"  {key}:", Samples.With(Audit, key, $"  {key}: {value}").Split('\n')[issue.Line.Value - 1]);
        Assert.NotNull(lineText);
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var yaml = Samples.With(Audit, "auditinfra:managementAccountId", "  auditinfra:managementAccountId: \"1\"");
        yaml = Samples.With(yaml, "auditinfra:organizationId", "  auditinfra:organizationId: org-1");
        yaml = Samples.With(yaml, "auditinfra:homeRegion", "  auditinfra:homeRegion: mars-1");
        var report = Errors(yaml);
        Assert.Equal(
            ["auditinfra:homeRegion", "auditinfra:managementAccountId", "auditinfra:organizationId"],
            report.Errors.Select(e => e.Key).Order().ToArray());
    }

    [Fact]
    public void Missing_required_keys_are_errors()
    {
        var report = Errors(Samples.With(Audit, "auditinfra:trailName", null));
        Assert.Contains("is required", Single(report, "auditinfra:trailName").Message);
    }

    [Fact]
    public void Unknown_keys_get_a_did_you_mean_hint()
    {
        var report = Errors(Samples.Append(Audit, "  auditinfra:retentionYear: 5"));
        Assert.Contains("did you mean 'retentionYears'", Single(report, "auditinfra:retentionYear").Message);
    }

    [Fact]
    public void Unknown_nested_keys_get_a_hint_too()
    {
        var yaml = Samples.With(Audit, "    glacierDays", "    glaciarDays: 180");
        var report = Errors(yaml);
        Assert.Contains("did you mean 'glacierDays'", Single(report, "auditinfra:lifecycle.glaciarDays").Message);
    }

    [Fact]
    public void A_misspelt_namespace_is_caught()
    {
        var report = Errors(Samples.Append(Audit, "  auditinfa:trailName: x"));
        Assert.Contains("did you mean 'auditinfra:trailName'", Single(report, "auditinfa:trailName").Message);
    }

    [Fact]
    public void Region_typos_get_a_suggestion()
    {
        var report = Errors(Samples.With(Audit, "auditinfra:homeRegion", "  auditinfra:homeRegion: us-east1"));
        Assert.Contains("did you mean 'us-east-1'", Single(report, "auditinfra:homeRegion").Message);
    }

    [Fact]
    public void Governed_regions_are_checked_one_by_one_and_must_include_home()
    {
        var yaml = Audit.Replace("    - us-west-2\n", "    - us-wset-2\n").Replace("    - us-east-1\n    - us-wset-2", "    - eu-west-2\n    - us-wset-2");
        var report = Errors(yaml);
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:governedRegions[1]" && e.Message.Contains("did you mean 'us-west-2'"));
        Assert.Contains(report.Errors, e => e.Key == "auditinfra:governedRegions" && e.Message.Contains("must include the home region"));
    }

    [Fact]
    public void Aws_region_must_match_home_region()
    {
        var report = Errors(Samples.With(Audit, "aws:region", "  aws:region: eu-west-1"));
        Assert.Contains("home region 'us-east-1'", Single(report, "aws:region").Message);
    }

    [Fact]
    public void Audit_account_must_not_be_the_management_account()
    {
        var report = Errors(Samples.With(Audit, "auditinfra:auditAccountId", "  auditinfra:auditAccountId: \"111111111111\""));
        Assert.Contains("must differ from managementAccountId", Single(report, "auditinfra:auditAccountId").Message);
    }

    [Fact]
    public void Break_glass_and_deployment_roles_must_differ()
    {
        var report = Errors(Samples.With(Audit, "auditinfra:breakGlassRoleArn", "  auditinfra:breakGlassRoleArn: arn:aws:iam::222222222222:role/auditinfra-deployment"));
        Assert.Contains("must differ from deploymentRoleArn", Single(report, "auditinfra:breakGlassRoleArn").Message);
    }

    [Theory]
    [InlineData("    standardIaDays", "    standardIaDays: 10", "auditinfra:lifecycle.standardIaDays", "from 30")]
    [InlineData("    glacierIrDays", "    glacierIrDays: 45", "auditinfra:lifecycle.glacierIrDays", "at least 60 days")]
    [InlineData("    glacierDays", "    glacierDays: 120", "auditinfra:lifecycle.glacierDays", "at least 180 days")]
    [InlineData("    deepArchiveDays", "    deepArchiveDays: 200", "auditinfra:lifecycle.deepArchiveDays", "at least 270 days")]
    public void Lifecycle_tiers_must_ascend_and_respect_minimum_storage_durations(string key, string line, string qualified, string expected)
    {
        var report = Errors(Samples.With(Audit, key, line));
        Assert.Contains(expected, Single(report, qualified).Message);
    }

    [Fact]
    public void Retention_must_cover_the_last_tier()
    {
        var yaml = Samples.With(Audit, "auditinfra:retentionYears", "  auditinfra:retentionYears: 1");
        var report = Errors(yaml);
        var issue = Single(report, "auditinfra:lifecycle.deepArchiveDays");
        Assert.Contains("must cover the last tier", issue.Message);
        Assert.Contains("at least 545 days", issue.Message);
    }

    [Fact]
    public void A_tier_written_as_null_is_skipped_and_the_next_is_checked_against_the_one_before()
    {
        var yaml = Samples.With(Audit, "    glacierIrDays", "    glacierIrDays: null");
        yaml = Samples.With(yaml, "    glacierDays", "    glacierDays: 50");
        var report = Errors(yaml);
        Assert.Contains("at least 60 days", Single(report, "auditinfra:lifecycle.glacierDays").Message);

        var ok = Samples.With(Audit, "    glacierIrDays", "    glacierIrDays: null");
        var (config, okReport) = Samples.Bind(ok);
        Assert.True(okReport.IsValid, okReport.ToString());
        Assert.Null(config!.Lifecycle.GlacierIrDays);
        Assert.Equal([StorageTier.StandardIa, StorageTier.Glacier, StorageTier.DeepArchive], config.Lifecycle.Tiers().Select(t => t.Tier).ToArray());
    }

    [Fact]
    public void Object_lock_longer_than_retention_is_an_error()
    {
        var yaml = Samples.With(Audit, "    retentionDays", "    retentionDays: 3000");
        var report = Errors(yaml);
        Assert.Contains("at most the retention", Single(report, "auditinfra:objectLock.retentionDays").Message);
    }

    [Fact]
    public void Compliance_mode_is_valid_but_warns_that_nobody_can_shorten_it()
    {
        var (config, report) = Samples.Bind(Samples.With(Audit, "    mode", "    mode: compliance"));
        Assert.NotNull(config);
        Assert.Equal(ObjectLockMode.Compliance, config!.ObjectLock.Mode);
        var warning = Assert.Single(report.Warnings);
        Assert.Equal("auditinfra:objectLock.mode", warning.Key);
        Assert.Contains("root user included", warning.Message);
    }

    [Fact]
    public void Bad_object_lock_mode_lists_the_choices()
    {
        var report = Errors(Samples.With(Audit, "    mode", "    mode: FOREVER"));
        Assert.Contains("one of GOVERNANCE, COMPLIANCE", Single(report, "auditinfra:objectLock.mode").Message);
    }

    [Fact]
    public void Tags_may_not_use_the_aws_prefix()
    {
        var report = Errors(Samples.With(Audit, "    cost-center", "    aws:owner: me"));
        Assert.Contains("not starting with 'aws:'", Single(report, "auditinfra:tags.aws:owner").Message);
    }

    [Fact]
    public void A_list_where_a_value_is_expected_is_reported_as_such()
    {
        var report = Errors(Samples.With(Audit, "auditinfra:trailName", "  auditinfra:trailName: [a, b]"));
        Assert.Contains("expected a single value, found a list", Single(report, "auditinfra:trailName").Message);
    }

    [Fact]
    public void Malformed_yaml_is_one_located_error()
    {
        var (config, report) = Samples.Bind("config:\n  auditinfra:trailName: [unclosed\n");
        Assert.Null(config);
        var issue = Assert.Single(report.Issues);
        Assert.Contains("not valid YAML", issue.Message);
        Assert.NotNull(issue.Line);
    }

    [Fact]
    public void Pulumi_style_lookup_gives_the_same_config_as_the_yaml_file()
    {
        var (raw, _) = RawConfig.ParseYaml(Audit, "Pulumi.audit.yaml", "audit");
        // Pulumi hands structured values to the program as JSON text and scalars as text.
        var asPulumi = raw!.Entries.ToDictionary(e => e.Key, e => ToPulumiText(e.Value));
        var fromLookup = RawConfig.FromLookup("pulumi config", "audit", asPulumi.Keys, k => asPulumi.GetValueOrDefault(k));
        var (a, _) = AuditConfigBinder.Bind(raw);
        var (b, reportB) = AuditConfigBinder.Bind(fromLookup);
        Assert.True(reportB.IsValid, reportB.ToString());
        Assert.Equal(a! with { File = "" }, b! with { File = "" }, new ConfigEquality());
    }

    private static string? ToPulumiText(ConfigValue value) => value switch
    {
        ConfigScalar s => s.Text,
        _ => System.Text.Json.JsonSerializer.Serialize(ToPlain(value)),
    };

    private static object? ToPlain(ConfigValue value) => value switch
    {
        ConfigScalar s => s.Text,
        ConfigSequence seq => seq.Items.Select(ToPlain).ToList(),
        ConfigMapping map => map.Entries.ToDictionary(e => e.Key, e => ToPlain(e.Value)),
        _ => null,
    };

    private sealed class ConfigEquality : IEqualityComparer<AuditConfig>
    {
        public bool Equals(AuditConfig? x, AuditConfig? y) =>
            System.Text.Json.JsonSerializer.Serialize(x) == System.Text.Json.JsonSerializer.Serialize(y);

        public int GetHashCode(AuditConfig obj) => 0;
    }
}
