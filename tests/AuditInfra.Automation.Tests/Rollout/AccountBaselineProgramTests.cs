using System.Collections.Concurrent;
using System.Collections.Immutable;
using AuditInfra.Automation.Rollout;
using AuditInfra.Core.Rollout;
using Moq;
using Pulumi;
using Pulumi.Testing;

namespace AuditInfra.Automation.Tests.Rollout;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PulumiCollection
{
    public const string Name = "pulumi";
}

[Collection(PulumiCollection.Name)]
public class AccountBaselineProgramTests
{
    private static readonly AccountBaselineInputs Inputs = new(
        "333333333333", "us-east-1", ["us-east-1", "us-west-2", "eu-west-1"],
        "arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central",
        "arn:aws:iam::333333333333:role/AWSControlTowerExecution", "acme-audit",
        ImmutableSortedDictionary<string, string>.Empty.Add("cost-center", "security"));

    private sealed record Registered(string Type, string Name, ImmutableDictionary<string, object> Inputs);

    private static async Task<ConcurrentDictionary<string, Registered>> RunAsync()
    {
        var registered = new ConcurrentDictionary<string, Registered>();
        var mocks = new Mock<IMocks>();
        mocks.Setup(m => m.NewResourceAsync(It.IsAny<MockResourceArgs>()))
            .ReturnsAsync((MockResourceArgs a) =>
            {
                registered[a.Name!] = new Registered(a.Type!, a.Name!, a.Inputs);
                var state = a.Inputs.ToBuilder();
                state["arn"] = $"arn:aws:mock:::{a.Name}";
                return ($"{a.Name}-id", (object)state.ToImmutable());
            });
        mocks.Setup(m => m.CallAsync(It.IsAny<MockCallArgs>())).ReturnsAsync(ImmutableDictionary<string, object>.Empty);
        await Deployment.TestAsync(mocks.Object, new TestOptions { ProjectName = "auditinfra-account", StackName = Inputs.StackName, IsPreview = false }, () => AccountBaselineProgram.Run(Inputs));
        return registered;
    }

    /// <summary>Provider inputs arrive JSON-encoded or as nested collections, depending on the engine: compare their text.</summary>
    private static string Flatten(object? value) => value switch
    {
        null => "",
        string text => text,
        System.Collections.IDictionary map => string.Join(",", map.Keys.Cast<object>().Select(k => $"{k}={Flatten(map[k])}")),
        System.Collections.IEnumerable list => string.Join(",", list.Cast<object?>().Select(Flatten)),
        _ => value.ToString() ?? "",
    };

    [Fact]
    public async Task One_stack_forwards_from_every_governed_region_through_the_assumed_role()
    {
        var registered = await RunAsync();
        var design = AccountBaselineDesigner.Design(Inputs);

        var provider = registered["account-333333333333"];
        Assert.Equal("pulumi:providers:aws", provider.Type);
        Assert.Contains("arn:aws:iam::333333333333:role/AWSControlTowerExecution", Flatten(provider.Inputs["assumeRoles"]));
        Assert.Contains("333333333333", Flatten(provider.Inputs["allowedAccountIds"]));

        foreach (var rule in design.Rules)
        {
            var eventRule = registered[rule.LogicalName];
            Assert.Equal("aws:cloudwatch/eventRule:EventRule", eventRule.Type);
            Assert.Equal(rule.Region, eventRule.Inputs["region"]);
            Assert.Equal(AccountBaselineDesigner.PatternJson(design), eventRule.Inputs["eventPattern"]);
            var target = registered[$"{rule.LogicalName}-target"];
            Assert.Equal(Inputs.CentralBusArn, target.Inputs["arn"]);
            Assert.Equal(rule.Region, target.Inputs["region"]);
        }

        Assert.Equal(design.TrustPolicy.ToJson(), registered[design.RoleLogicalName].Inputs["assumeRolePolicy"]);
        Assert.Equal(design.PutEventsPolicy.ToJson(), registered[design.RolePolicyLogicalName].Inputs["policy"]);
        Assert.Single(registered.Values, r => r.Type == AccountBaselineDesign.ComponentType);
    }
}
