using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Stacks;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Stacks;

/// <summary>Each whole stack, as `pulumi preview` and as `pulumi up` run it, equals StackPlanner's plan both ways.</summary>
[Collection(PulumiCollection.Name)]
public class WholeStackTests
{
    private static string CreateWithOu(string yaml) => yaml
        .Replace("    mode: adopt", "    mode: create")
        .Replace("    # accountName: Audit Log Archive", "    accountName: Audit Log Archive")
        .Replace("    # email: aws-audit@example.com", "    email: aws-audit@example.com")
        .Replace("    securityOuId: ou-ab12-security1", "    createSecurityOuName: Security\n    securityOuParentId: r-ab12");

    private static string ExtraTargets(string yaml) =>
        yaml.TrimEnd() + "\n  auditinfra:detection:\n    disabled: [vpc-changes]\n    extraTargetArns: [arn:aws:sqs:us-east-1:222222222222:soc-intake]\n";

    private static string CloudWatch(string yaml) => yaml.Replace("      enabled: false", "      enabled: true");

    public static TheoryData<string, string, bool> Variants()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var preview in new[] { true, false })
        {
            data.Add("audit", "sample", preview);
            data.Add("audit", "created account and OU", preview);
            data.Add("audit", "extra detection targets", preview);
            data.Add("prod", "sample", preview);
            data.Add("prod", "cloudwatch delivery", preview);
        }

        return data;
    }

    private static Func<string, string>? Edit(string variant) => variant switch
    {
        "created account and OU" => CreateWithOu,
        "extra detection targets" => ExtraTargets,
        "cloudwatch delivery" => CloudWatch,
        _ => null,
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task The_whole_stack_equals_the_offline_plan(string stack, string variant, bool preview)
    {
        var config = PulumiTests.Sample(stack, Edit(variant));
        var (mocks, _) = await PulumiTests.RunAsync(config, preview: preview);
        PlanComparison.AssertMatches(StackPlanner.Plan(config), mocks);
    }

    [Fact]
    public async Task The_comparison_fails_on_every_kind_of_divergence()
    {
        var config = PulumiTests.Sample("audit");
        var plan = StackPlanner.Plan(config);
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(plan, mocks);

        var bucket = "acme-audit-log-bucket";
        var divergences = new (string What, StackPlan Plan)[]
        {
            ("a registered resource the plan lacks", Change(plan, r => r.Name == "acme-audit-log-bucket-lifecycle" ? null : r)),
            ("a planned resource nobody registered", Change(plan, r => r, extra: new PlannedResource("aws:s3/bucket:Bucket", "acme-audit-ghost", new JsonObject()))),
            ("an input set but not planned", Change(plan, r => r.Name == bucket ? r with { Properties = Without(r.Properties, "forceDestroy") } : r)),
            ("a planned input with another value", Change(plan, r => r.Name == bucket ? r with { Properties = With(r.Properties, "forceDestroy", true) } : r)),
            ("protect", Change(plan, r => r.Name == bucket ? r with { Protect = false } : r)),
            ("retainOnDelete", Change(plan, r => r.Name == bucket ? r with { RetainOnDelete = true } : r)),
            ("dependsOn", Change(plan, r => r.Name == "acme-audit-log-bucket-policy" ? r with { DependsOn = [] } : r)),
            ("the provider", Change(plan, r => r.Name == "acme-audit-auditor-role" ? r with { Provider = null } : r)),
        };
        foreach (var (what, diverged) in divergences)
        {
            var failure = Record.Exception(() => PlanComparison.AssertMatches(diverged, mocks));
            Assert.True(failure is not null, $"the comparison missed {what}");
        }

        var moved = plan with { Components = [.. plan.Components.Select(c => c.Name == "acme-audit-log-archive" ? c with { Provider = null } : c)] };
        Assert.NotNull(Record.Exception(() => PlanComparison.AssertMatches(moved, mocks)));
    }

    private static StackPlan Change(StackPlan plan, Func<PlannedResource, PlannedResource?> change, PlannedResource? extra = null) => plan with
    {
        Components =
        [
            .. plan.Components.Select((c, i) => c with
            {
                Resources = [.. c.Resources.Select(change).OfType<PlannedResource>(), .. i == 1 && extra is not null ? [extra] : ImmutableArray<PlannedResource>.Empty],
            }),
        ],
    };

    private static JsonObject Without(JsonObject properties, string key)
    {
        var copy = (JsonObject)properties.DeepClone();
        copy.Remove(key);
        return copy;
    }

    private static JsonObject With(JsonObject properties, string key, JsonNode value)
    {
        var copy = (JsonObject)properties.DeepClone();
        copy[key] = value;
        return copy;
    }
}
