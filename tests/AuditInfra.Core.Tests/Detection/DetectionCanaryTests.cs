using System.Diagnostics;
using System.Text.Json.Nodes;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Rollout;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Detection;

internal static class PlannedComponentLookup
{
    public static PlannedResource Resource(this PlannedComponent component, string name) => component.Resources.Single(r => r.Name == name);
}

public class DetectionCanaryTests
{
    private static readonly string[] Regions = ["us-east-1", "us-west-2", "eu-west-1"];

    private static AccountBaselineDesign Baseline(string yamlAppend = "") =>
        AccountBaselineDesigner.Design(new RolloutTarget(Config(yamlAppend), Config(yamlAppend).Rollout, "test").InputsFor("333333333333"));

    private static AuditInfra.Core.Configuration.AuditConfig Config(string yamlAppend = "") =>
        yamlAppend.Length == 0 ? Samples.Config("audit") : Samples.Bind(Samples.Append(Samples.Text("audit"), yamlAppend)).Config!;

    [Fact]
    public void Every_governed_region_of_an_account_gets_a_canary_schedule_calling_ssm_put_parameter()
    {
        var plan = AccountBaselinePlan.Render(Baseline());
        var schedules = plan.Resources.Where(r => r.Type == "aws:scheduler/schedule:Schedule").ToList();
        Assert.Equal(Regions.Order(), schedules.Select(s => (string)s.Properties["region"]!).Order());
        Assert.All(schedules, s =>
        {
            Assert.Equal("acme-audit-detection-canary", (string?)s.Properties["name"]);
            Assert.Equal("rate(5 minutes)", (string?)s.Properties["scheduleExpression"]);
            Assert.Equal("ENABLED", (string?)s.Properties["state"]);
            var target = s.Properties["target"]!;
            Assert.Equal("arn:aws:scheduler:::aws-sdk:ssm:putParameter", (string?)target["arn"]);
            Assert.Equal("${acme-audit-canary-role.arn}", (string?)target["roleArn"]);
            Assert.True(JsonNode.DeepEquals(
                JsonNode.Parse("""{"Name":"/acme-audit/canary","Value":"<aws.scheduler.scheduled-time>","Type":"String","Overwrite":true}"""),
                JsonNode.Parse((string)target["input"]!)));
        });
    }

    [Fact]
    public void The_canary_role_may_only_be_assumed_by_scheduler_for_this_account_and_only_overwrite_the_canary_parameter()
    {
        var plan = AccountBaselinePlan.Render(Baseline());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"Version":"2012-10-17","Statement":[{"Sid":"AllowSchedulerToRunTheCanary","Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},
             "Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"333333333333"}}}]}
            """), plan.Resource("acme-audit-canary-role").Properties["assumeRolePolicy"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"Version":"2012-10-17","Statement":[{"Sid":"OverwriteTheCanaryParameterOnly","Effect":"Allow","Action":"ssm:PutParameter",
             "Resource":["arn:aws:ssm:us-east-1:333333333333:parameter/acme-audit/canary","arn:aws:ssm:us-west-2:333333333333:parameter/acme-audit/canary","arn:aws:ssm:eu-west-1:333333333333:parameter/acme-audit/canary"]}]}
            """), plan.Resource("acme-audit-canary-policy").Properties["policy"]));
    }

    [Fact]
    public void Interval_is_configured_and_a_disabled_canary_detection_deploys_no_canary()
    {
        var every1 = Baseline("  auditinfra:detection:\n    canaryIntervalMinutes: 1\n    canaryAlarmMinutes: 10");
        Assert.Equal("rate(1 minute)", every1.Canary!.ScheduleExpression);

        var off = Config("  auditinfra:detection:\n    disabled: [detection-canary]");
        var baseline = AccountBaselineDesigner.Design(new RolloutTarget(off, off.Rollout, "test").InputsFor("333333333333"));
        Assert.Null(baseline.Canary);
        Assert.DoesNotContain(AccountBaselinePlan.Render(baseline).Resources, r => r.Type == "aws:scheduler/schedule:Schedule");
        var hub = DetectionHubDesigner.Design(off);
        Assert.Null(hub.Canary);
        Assert.DoesNotContain(DetectionHubPlan.Render(hub).Resources, r => r.Type is "aws:lambda/function:Function" or "aws:cloudwatch/metricAlarm:MetricAlarm");
        // The design's alarms still publish (the integrity monitor's among them); nothing canary-specific is left.
        Assert.Equal(["AllowDetectionRulesToPublish", DetectionHubDesigner.AlarmsPublishSid], hub.TopicPolicy.Statements.Select(s => s.Sid));

        // The rollout redeploys every account when the canary's interval changes.
        Assert.NotEqual(new RolloutTarget(Config(), Config().Rollout, "1").Version, new RolloutTarget(off, off.Rollout, "1").Version);
    }

    [Fact]
    public void The_hub_routes_the_canary_rule_to_its_latency_recorder_only_and_alarms_per_governed_region()
    {
        var config = Config("  auditinfra:detection:\n    canaryAlarmMinutes: 45\n    extraTargetArns: [arn:aws:sqs:us-east-1:222222222222:soc-intake]");
        var plan = DetectionHubPlan.Render(DetectionHubDesigner.Design(config));
        var canaryTargets = plan.Resources.Where(r => r.Type == "aws:cloudwatch/eventTarget:EventTarget" && (string?)r.Properties["rule"] == "${acme-audit-detect-detection-canary.name}").ToList();
        Assert.Equal("${acme-audit-canary-latency.arn}", (string?)Assert.Single(canaryTargets).Properties["arn"]);
        Assert.Equal(2, plan.Resources.Count(r => r.Type == "aws:cloudwatch/eventTarget:EventTarget" && (string?)r.Properties["rule"] == "${acme-audit-detect-root-account-use.name}"));

        var permission = plan.Resource("acme-audit-canary-latency-permission").Properties;
        Assert.Equal("arn:aws:events:us-east-1:222222222222:rule/acme-audit-central/acme-audit-detect-detection-canary", (string?)permission["sourceArn"]);
        Assert.Equal("events.amazonaws.com", (string?)permission["principal"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"Version":"2012-10-17","Statement":[{"Sid":"PutCanaryMetricsOnly","Effect":"Allow","Action":"cloudwatch:PutMetricData","Resource":"*",
             "Condition":{"StringEquals":{"cloudwatch:namespace":"AuditInfra/DetectionCanary"}}}]}
            """), plan.Resource("acme-audit-canary-latency-policy").Properties["policy"]));

        var alarms = plan.Resources.Where(r => r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm").ToList();
        Assert.Equal(Regions.Order(), alarms.Select(a => (string)a.Properties["dimensions"]!["Region"]!).Order());
        Assert.All(alarms, a =>
        {
            Assert.Equal("breaching", (string?)a.Properties["treatMissingData"]);
            Assert.Equal(60, (int)a.Properties["period"]!);
            Assert.Equal(45, (int)a.Properties["evaluationPeriods"]!);
            Assert.Equal(45, (int)a.Properties["datapointsToAlarm"]!);
            Assert.Equal("LessThanThreshold", (string?)a.Properties["comparisonOperator"]);
            Assert.Equal("CanaryArrivals", (string?)a.Properties["metricName"]);
            Assert.Equal("${acme-audit-detection-topic.arn}", (string?)a.Properties["alarmActions"]![0]);
        });

        var topicPolicy = plan.Resource("acme-audit-detection-topic-policy").Properties["policy"]!;
        // The design's alarms (the canary's among them: acme-audit-detection-canary-*) may publish, and only they.
        var fromAlarms = topicPolicy["Statement"]!.AsArray().Single(s => (string?)s!["Sid"] == DetectionHubDesigner.AlarmsPublishSid)!;
        Assert.Equal("arn:aws:cloudwatch:us-east-1:222222222222:alarm:acme-audit-*", (string?)fromAlarms["Condition"]!["ArnLike"]!["aws:SourceArn"]);
        Assert.All(alarms, a => Assert.StartsWith("acme-audit-detection-canary-", (string?)a.Properties["name"], StringComparison.Ordinal));
        Assert.Contains(plan.Resource("acme-audit-detection-topic-key").Properties["policy"]!["Statement"]!.AsArray(), s => (string?)s!["Sid"] == DetectionHubDesigner.AlarmsPublishSid);
    }

    [Fact]
    public void The_stack_plans_carry_the_canary_in_the_hub_and_the_management_baseline()
    {
        Assert.Contains(StackPlanner.Plan(Config()).AllResources, r => r.Type == "aws:lambda/function:Function");
        Assert.Equal(3, StackPlanner.Plan(Samples.Config("prod")).AllResources.Count(r => r.Type == "aws:scheduler/schedule:Schedule"));
    }

    /// <summary>
    /// The recorder's whole job is one subtraction and one PutMetricData: run its source under
    /// python3 with a recording stand-in for boto3 and check what it would publish.
    /// </summary>
    [SkippableFact]
    public void The_latency_recorder_publishes_arrival_minus_event_time_per_account_and_region()
    {
        var python = new[] { "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(File.Exists);
        Skip.If(python is null, "python3 is not installed: the recorder's source cannot run here");
        var dir = Directory.CreateTempSubdirectory("auditinfra-canary").FullName;
        File.WriteAllText(Path.Combine(dir, CanaryHubDesign.SourceFileName), CanaryHubDesign.Source);
        File.WriteAllText(Path.Combine(dir, "boto3.py"), """
            import json
            class _Client:
                def put_metric_data(self, **kwargs):
                    print(json.dumps(kwargs))
            def client(name):
                assert name == "cloudwatch"
                return _Client()
            """);
        var sent = DateTimeOffset.UtcNow.AddSeconds(-42).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo(python!, ["-c", $"import index; index.handler({{'time': '{sent}', 'account': '333333333333', 'region': 'eu-west-1'}}, None)"])
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "python3 did not finish");
        Assert.True(process.ExitCode == 0, error);
        var published = JsonNode.Parse(output)!;
        Assert.Equal(CanaryHubDesign.MetricNamespace, (string?)published["Namespace"]);
        var latency = published["MetricData"]![0]!;
        Assert.Equal("CanaryLatency", (string?)latency["MetricName"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"Name":"AccountId","Value":"333333333333"},{"Name":"Region","Value":"eu-west-1"}]"""), latency["Dimensions"]));
        Assert.InRange((double)latency["Value"]!, 41, 60);
        var arrivals = published["MetricData"]![1]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"MetricName":"CanaryArrivals","Dimensions":[{"Name":"Region","Value":"eu-west-1"}],"Value":1,"Unit":"Count"}"""), arrivals));
    }
}
