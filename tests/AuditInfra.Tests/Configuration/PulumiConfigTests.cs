using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Configuration;

/// <summary>
/// Inside `pulumi up` the program reads Pulumi's configuration (PULUMI_CONFIG, as the CLI passes
/// it after resolving secure values, ESC imports and --config-file), never Pulumi.&lt;stack&gt;.yaml.
/// </summary>
[Collection(PulumiCollection.Name)]
public class PulumiConfigTests
{
    [Fact]
    public async Task The_program_builds_from_pulumi_config_not_from_the_stack_file()
    {
        // The repository's Pulumi.audit.yaml says acme-audit: a program reading it would build acme names.
        var config = PulumiTests.PulumiConfigOf("audit");
        config["auditinfra:namePrefix"] = "zeta-audit";
        var (mocks, outputs) = await PulumiTests.RunWithPulumiConfigAsync("audit", config);
        Assert.Equal("zeta-audit-cloudtrail-222222222222-us-east-1", mocks.Named("zeta-audit-log-bucket").Inputs["bucket"]);
        Assert.DoesNotContain(mocks.Resources.Keys, k => k.StartsWith("acme-audit", StringComparison.Ordinal));
        Assert.Equal("zeta-audit-cloudtrail-222222222222-us-east-1", await PulumiTests.ValueAsync((Pulumi.Output<string>)outputs["logBucketName"]!));
    }

    [Fact]
    public async Task Structured_values_arrive_as_json_and_are_honoured()
    {
        var config = PulumiTests.PulumiConfigOf("audit");
        config["auditinfra:objectLock"] = """{"mode":"COMPLIANCE","retentionDays":400}""";
        var (mocks, _) = await PulumiTests.RunWithPulumiConfigAsync("audit", config);
        var objectLock = PlanComparison.ToJson(mocks.Named("acme-audit-log-bucket-object-lock").Inputs);
        Assert.Equal("COMPLIANCE", (string?)objectLock["rule"]!["defaultRetention"]!["mode"]);
        Assert.Equal(400, (long)objectLock["rule"]!["defaultRetention"]!["days"]!);
    }

    [Theory]
    [InlineData("auditinfra:kmsDeletionWindowDays", "3", "auditinfra:kmsDeletionWindowDays")]
    [InlineData("auditinfra:auditAccount", """{"mode":"adopt","securityOuId":"ou-ab12-security1","roleName":"OrganizationAccountAccessRole"}""", "auditinfra:auditAccount.roleName")]
    [InlineData("auditinfra:deploymentRoleArn", "arn:aws:iam::111111111111:role/auditinfra-deployment", "auditinfra:deploymentRoleArn")]
    public async Task A_bad_value_stops_the_program_naming_the_key(string key, string value, string named)
    {
        var config = PulumiTests.PulumiConfigOf("audit");
        config[key] = value;
        var mocks = new RecordingMocks();
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => PulumiTests.RunWithPulumiConfigAsync("audit", config, mocks));
        Assert.Contains(named, ex.ToString());
        Assert.Contains("Pulumi config of stack 'audit'", ex.ToString());
        Assert.DoesNotContain(mocks.Resources.Values, r => r.Type.StartsWith("aws:", StringComparison.Ordinal));
    }
}
