using AuditInfra.Core.Rollout;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Rollout;

public class RolloutSettingsTests
{
    [Fact]
    public void The_section_is_optional_with_defaults()
    {
        var settings = Samples.Config("prod").Rollout;
        Assert.Equal(RolloutSettings.OrganizationAccountAccessRole, settings.ExecutionRoleName);
        Assert.Equal(4, settings.Concurrency);
        Assert.Equal(5, settings.MaxAttempts);
        Assert.Null(settings.CentralBusArn);
    }

    [Fact]
    public void Keys_bind_and_mistakes_are_reported_with_hints()
    {
        var yaml = Samples.Append(Samples.Text("prod"), """
              auditinfra:rollout:
                executionRoleName: AWSControlTowerExecution
                concurrency: 8
                centralBusArn: arn:aws:events:us-east-1:222222222222:event-bus/central
                excludeAccountIds: ["999999999999"]
            """);
        var settings = Samples.Bind(yaml, "prod").Config!.Rollout;
        Assert.Equal(RolloutSettings.ControlTowerExecutionRole, settings.ExecutionRoleName);
        Assert.Equal(8, settings.Concurrency);
        Assert.Equal(["999999999999"], settings.ExcludeAccountIds.ToArray());

        var bad = Samples.Append(Samples.Text("prod"), """
              auditinfra:rollout:
                concurrency: 0
                centralBusArn: central
                concurrence: 3
            """);
        var report = Samples.Bind(bad, "prod").Report.ToString();
        Assert.Contains("auditinfra:rollout.concurrency", report);
        Assert.Contains("expected a whole number from 1 to 64 accounts", report);
        Assert.Contains("an event bus ARN", report);
        Assert.Contains("did you mean 'concurrency'?", report);
    }

    [Fact]
    public void The_version_changes_with_shared_inputs_and_the_program_but_not_per_account()
    {
        var config = Samples.Config("prod");
        var target = new RolloutTarget(config, config.Rollout, "1.0.0");
        Assert.StartsWith("1.0.0+", target.Version);
        Assert.Equal(target.Version, new RolloutTarget(config, config.Rollout, "1.0.0").Version);
        Assert.NotEqual(target.Version, new RolloutTarget(config, config.Rollout, "1.1.0").Version);
        Assert.NotEqual(target.Version, new RolloutTarget(config with { GovernedRegions = ["us-east-1"] }, config.Rollout, "1.0.0").Version);
        Assert.NotEqual(target.Version, new RolloutTarget(config, config.Rollout with { ExecutionRoleName = "AWSControlTowerExecution" }, "1.0.0").Version);

        var inputs = target.InputsFor("333333333333");
        Assert.Equal("account-333333333333", inputs.StackName);
        Assert.Equal("arn:aws:iam::333333333333:role/OrganizationAccountAccessRole", inputs.ExecutionRoleArn);
        Assert.Equal("arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central", inputs.CentralBusArn);
        Assert.Equal("""["us-east-1","us-west-2","eu-west-1"]""", inputs.StackConfig()["auditinfra:governedRegions"]);
        Assert.False(target.Governs(config.Organization.ManagementAccountId));
        Assert.True(target.Governs("333333333333"));
        Assert.Equal("333333333333", StackNames.AccountOf("account-333333333333"));
        Assert.Null(StackNames.AccountOf("prod"));
    }
}
