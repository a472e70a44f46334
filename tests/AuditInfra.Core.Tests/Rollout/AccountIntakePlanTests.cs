using System.Text.Json.Nodes;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Rollout;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Rollout;

public class AccountIntakePlanTests
{
    [Fact]
    public void The_prod_stack_plans_the_intake_queue_dlq_rule_and_policy()
    {
        var plan = StackPlanner.Plan(Samples.Config("prod"));
        var component = Assert.Single(plan.Components, c => c.Type == "auditinfra:rollout:AccountIntake");
        Assert.Equal(
            ["aws:sqs/queue:Queue acme-audit-account-events-dlq", "aws:sqs/queue:Queue acme-audit-account-events", "aws:sqs/queuePolicy:QueuePolicy acme-audit-account-events-policy",
             "aws:cloudwatch/eventRule:EventRule acme-audit-account-events-rule", "aws:cloudwatch/eventTarget:EventTarget acme-audit-account-events-target"],
            component.Resources.Select(r => $"{r.Type} {r.Name}"));
        Assert.DoesNotContain(StackPlanner.Plan(Samples.Config("audit")).Components, c => c.Type == "auditinfra:rollout:AccountIntake");

        var queue = plan.Resource("acme-audit-account-events").Properties;
        Assert.Equal("""{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111111111111:acme-audit-account-events-dlq","maxReceiveCount":5}""", (string?)queue["redrivePolicy"]);
        Assert.True((bool)queue["sqsManagedSseEnabled"]!);
        Assert.Equal("${acme-audit-account-events-rule.name}", (string?)plan.Resource("acme-audit-account-events-target").Properties["rule"]);
    }

    [Fact]
    public void The_rule_matches_the_three_event_families_of_account_events_md()
    {
        var pattern = JsonNode.Parse((string)StackPlanner.Plan(Samples.Config("prod")).Resource("acme-audit-account-events-rule").Properties["eventPattern"]!)!;
        var alternatives = pattern["$or"]!.AsArray();
        Assert.Equal(3, alternatives.Count);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"source":["aws.organizations"],"detail-type":["AWS Service Event via CloudTrail"],
             "detail":{"eventName":["CreateAccountResult"],"serviceEventDetails":{"createAccountStatus":{"state":["SUCCEEDED"]}}}}
            """), alternatives[0]));
        Assert.Equal(["CreateManagedAccount", "UpdateManagedAccount"], alternatives[1]!["detail"]!["eventName"]!.AsArray().Select(n => (string)n!));
        Assert.Contains("MoveAccount", alternatives[2]!["detail"]!["eventName"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public void Only_the_rule_may_send_to_the_queue_and_only_over_TLS()
    {
        var design = AccountIntakeDesigner.Design(Samples.Config("prod"));
        var expected = new PolicyDocument(
            new PolicyStatement
            {
                Sid = "AllowTheAccountEventRuleToSend",
                Principal = PolicyPrincipal.Service("events.amazonaws.com"),
                Actions = ["sqs:SendMessage"],
                Resources = ["arn:aws:sqs:us-east-1:111111111111:acme-audit-account-events"],
                Conditions = [new PolicyCondition("ArnEquals", "aws:SourceArn", "arn:aws:events:us-east-1:111111111111:rule/acme-audit-account-events")],
            },
            new PolicyStatement
            {
                Sid = "DenyInsecureTransport",
                Effect = PolicyEffect.Deny,
                Principal = PolicyPrincipal.Anyone,
                Actions = ["sqs:*"],
                Resources = ["arn:aws:sqs:us-east-1:111111111111:acme-audit-account-events"],
                Conditions = [new PolicyCondition("Bool", "aws:SecureTransport", "false")],
            });
        Assert.True(JsonNode.DeepEquals(expected.ToJsonNode(), design.QueuePolicy.ToJsonNode()));
    }

    [Fact]
    public void Queue_name_and_receive_count_follow_the_rollout_settings()
    {
        var yaml = Samples.Append(Samples.Text("prod"), """
              auditinfra:rollout:
                queueName: org-accounts
                maxReceiveCount: 9
            """);
        var design = AccountIntakeDesigner.Design(Samples.Bind(yaml, "prod").Config!);
        Assert.Equal("org-accounts", design.QueueName);
        Assert.Equal("org-accounts-dlq", design.DeadLetterQueueName);
        Assert.Contains("\"maxReceiveCount\":9", AccountIntakeDesigner.RedrivePolicyJson(design));
    }

    [Fact]
    public void The_account_baseline_forwards_from_every_governed_region_to_the_central_bus()
    {
        var config = Samples.Config("prod");
        var design = AccountBaselineDesigner.Design(new RolloutTarget(config, config.Rollout, "1.0.0").InputsFor("333333333333"));
        Assert.Equal(["us-east-1", "us-west-2", "eu-west-1"], design.Rules.Select(r => r.Region));
        Assert.Equal(["events:PutEvents"], design.PutEventsPolicy.Statements[0].Actions.ToArray());
        Assert.Equal(["arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central"], design.PutEventsPolicy.Statements[0].Resources.ToArray());
        Assert.Equal("333333333333", design.TrustPolicy.Statements[0].Conditions[0].Values[0]);
        Assert.Equal("account-333333333333", design.Tags["auditinfra:stack"]);
        Assert.Equal("""{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail","AWS Service Event via CloudTrail"]}""", AccountBaselineDesigner.PatternJson(design));
    }
}
