using System.Text.Json.Nodes;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Rollout;
using AuditInfra.Core.Stacks;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Detection;

[Collection(PulumiCollection.Name)]
public class DetectionTests
{
    [Fact]
    public async Task Detection_hub_equals_the_offline_plan()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(PulumiTests.PlannedComponent(config, DetectionHubDesign.ComponentType), mocks);
        Assert.Single(mocks.OfType(DetectionHubDesign.ComponentType));
    }

    [Fact]
    public async Task One_rule_per_enabled_detection_on_the_central_bus_delivering_to_the_topic_with_a_dlq()
    {
        var config = PulumiTests.Sample("audit", t => t.TrimEnd() + "\n  auditinfra:detection:\n    disabled: [vpc-changes]\n    extraTargetArns: [arn:aws:sqs:us-east-1:222222222222:soc-intake]\n");
        var (mocks, outputs) = await PulumiTests.RunAsync(config);
        bool InHub(RecordedResource r) => mocks.Options.Options[r.Name].Parent == "acme-audit-detection-hub";
        var rules = mocks.OfType("aws:cloudwatch/eventRule:EventRule").Where(InHub).ToList();
        Assert.Equal(DetectionCatalog.For(config).Length, rules.Count);
        Assert.DoesNotContain(rules, r => (string)r.Inputs["name"] == "acme-audit-detect-vpc-changes");
        Assert.All(rules, r => Assert.Equal("acme-audit-central", r.Inputs["eventBusName"]));
        Assert.All(rules, r => Assert.Equal("ENABLED", r.Inputs["state"]));
        var root = rules.Single(r => (string)r.Inputs["name"] == "acme-audit-detect-root-account-use");
        Assert.True(JsonNode.DeepEquals(DetectionCatalog.For(config).Single(d => d.Id == "root-account-use").Pattern, JsonNode.Parse((string)root.Inputs["eventPattern"])));

        // Every rule but the canary's goes to the topic and the extra target; the canary's to its latency recorder only.
        var targets = mocks.OfType("aws:cloudwatch/eventTarget:EventTarget").Where(InHub).ToList();
        Assert.Equal(((rules.Count - 1) * 2) + 1, targets.Count);
        var topicArn = mocks.Named("acme-audit-detection-topic").Outputs["arn"];
        Assert.Equal(rules.Count - 1, targets.Count(t => Equals(t.Inputs["arn"], topicArn)));
        Assert.Equal(rules.Count - 1, targets.Count(t => Equals(t.Inputs["arn"], "arn:aws:sqs:us-east-1:222222222222:soc-intake")));
        Assert.Equal(mocks.Named("acme-audit-canary-latency").Outputs["arn"], Assert.Single(targets, t => Equals(t.Inputs["rule"], "acme-audit-detect-detection-canary")).Inputs["arn"]);
        var alarms = mocks.OfType("aws:cloudwatch/metricAlarm:MetricAlarm").Where(InHub).ToList();
        Assert.Equal(["eu-west-1", "us-east-1", "us-west-2"], alarms.Select(a => (string)((System.Collections.IDictionary)a.Inputs["dimensions"])["Region"]!).Order().ToArray());
        Assert.All(alarms, a => Assert.Equal("breaching", a.Inputs["treatMissingData"]));
        var dlqArn = mocks.Named("acme-audit-detection-dlq").Outputs["arn"];
        Assert.All(targets, t => Assert.Equal(dlqArn, PlanComparison.ToJson(t.Inputs)["deadLetterConfig"]!["arn"]!.GetValue<string>()));

        var busPolicy = JsonNode.Parse((string)mocks.Named("acme-audit-detection-bus-policy").Inputs["policy"])!;
        Assert.Equal("o-a1b2c3d4e5", (string?)busPolicy["Statement"]![0]!["Condition"]!["StringEquals"]!["aws:PrincipalOrgID"]);
        Assert.Equal(mocks.Named("acme-audit-detection-topic-key").Outputs["arn"], mocks.Named("acme-audit-detection-topic").Inputs["kmsMasterKeyId"]);
        Assert.Equal(mocks.Named("acme-audit-detection-bus").Outputs["arn"], await PulumiTests.ValueAsync((Pulumi.Output<string>)outputs["detectionBusArn"]!));
    }

    [Fact]
    public async Task The_management_account_gets_the_forwarding_baseline_in_every_governed_region()
    {
        var config = PulumiTests.Sample("prod");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(AccountBaselinePlan.Render(StackPlanner.ManagementBaseline(config)), mocks);
        var rules = mocks.OfType("aws:cloudwatch/eventRule:EventRule").Where(r => (string)r.Inputs["name"] == "acme-audit-forward-to-central-bus").ToList();
        Assert.Equal(["eu-west-1", "us-east-1", "us-west-2"], rules.Select(r => (string)r.Inputs["region"]).Order().ToArray());
        var targets = mocks.OfType("aws:cloudwatch/eventTarget:EventTarget").Where(t => t.Name.StartsWith("acme-audit-forward-", StringComparison.Ordinal)).ToList();
        Assert.All(targets, t => Assert.Equal("arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central", t.Inputs["arn"]));

        var schedules = mocks.OfType("aws:scheduler/schedule:Schedule").ToList();
        Assert.Equal(["eu-west-1", "us-east-1", "us-west-2"], schedules.Select(s => (string)s.Inputs["region"]).Order().ToArray());
        var canaryRoleArn = mocks.Named("acme-audit-canary-role").Outputs["arn"];
        Assert.All(schedules, s => Assert.Equal(canaryRoleArn, PlanComparison.ToJson(s.Inputs)["target"]!["roleArn"]!.GetValue<string>()));
    }
}
