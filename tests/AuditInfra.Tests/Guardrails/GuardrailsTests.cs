using System.Text.Json.Nodes;
using AuditInfra.Core.Guardrails;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Guardrails;

[Collection(PulumiCollection.Name)]
public class GuardrailsTests
{
    [Fact]
    public async Task Every_resource_and_input_equals_the_offline_plan()
    {
        var config = PulumiTests.Sample("prod");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(GuardrailsPlan.Render(GuardrailsDesigner.Design(config)), mocks);
    }

    [Fact]
    public async Task Each_scp_is_attached_to_every_target()
    {
        var config = PulumiTests.Sample("prod", t => t.Replace("      - r-ab12\n", "      - ou-ab12-abcdefgh\n      - ou-ab12-ijklmnop\n"));
        var (mocks, _) = await PulumiTests.RunAsync(config);
        var policy = Assert.Single(mocks.OfType("aws:organizations/policy:Policy"));
        Assert.Equal("SERVICE_CONTROL_POLICY", policy.Inputs["type"]);
        var content = JsonNode.Parse((string)policy.Inputs["content"])!;
        Assert.Contains(content["Statement"]!.AsArray(), s => (string?)s!["Sid"] == GuardrailPolicies.DenyLeaveOrganizationSid);
        var attachments = mocks.OfType("aws:organizations/policyAttachment:PolicyAttachment").ToList();
        Assert.Equal(["ou-ab12-abcdefgh", "ou-ab12-ijklmnop"], attachments.Select(a => (string)a.Inputs["targetId"]).Order().ToArray());
        Assert.All(attachments, a => Assert.Equal(policy.Outputs["id"], a.Inputs["policyId"]));
    }
}
