using System.Text.Json.Nodes;
using AuditInfra.Core.Rollout;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Rollout;

[Collection(PulumiCollection.Name)]
public class AccountIntakeTests
{
    [Fact]
    public async Task Every_resource_and_input_equals_the_offline_plan()
    {
        var config = PulumiTests.Sample("prod");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(AccountIntakePlan.Render(AccountIntakeDesigner.Design(config)), mocks);
        var component = Assert.Single(mocks.OfType("auditinfra:rollout:AccountIntake"));
        Assert.Equal("acme-audit-account-intake", component.Name);
    }

    [Fact]
    public async Task The_queue_policy_lets_only_the_rule_send_and_the_outputs_name_the_queues()
    {
        var config = PulumiTests.Sample("prod");
        var (mocks, outputs) = await PulumiTests.RunAsync(config);
        var policy = JsonNode.Parse((string)mocks.Named("acme-audit-account-events-policy").Inputs["policy"])!;
        Assert.Equal("arn:aws:events:us-east-1:111111111111:rule/acme-audit-account-events", (string?)policy["Statement"]![0]!["Condition"]!["ArnEquals"]!["aws:SourceArn"]);
        var redrive = JsonNode.Parse((string)mocks.Named("acme-audit-account-events").Inputs["redrivePolicy"])!;
        Assert.Equal("arn:aws:sqs:us-east-1:111111111111:acme-audit-account-events-dlq", (string?)redrive["deadLetterTargetArn"]);
        Assert.Equal("https://sqs.us-east-1.amazonaws.com/111111111111/acme-audit-account-events", await PulumiTests.ValueAsync((Pulumi.Output<string>)outputs["accountIntakeQueueUrl"]!));
    }
}
