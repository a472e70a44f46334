using System.Text.Json.Nodes;
using AuditInfra.Core.Checks;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Checks;

/// <summary>
/// The offline check over the fixtures the CrossGuard pack is tested on (policy/fixtures): both
/// must report exactly the expected invariant ids, so the two cannot drift apart.
/// </summary>
public class DesignCheckTests
{
    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fixtures"), "*.json").Order())
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Each_fixture_yields_exactly_its_expected_violations(string fixture)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", fixture)))!;
        var expected = node["expectedViolations"]!.AsArray().Select(v => (string)v!).Order().ToArray();
        var actual = DesignCheck.Evaluate(node["plan"]!).Select(v => v.InvariantId).Distinct().Order().ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Every_invariant_has_a_fixture_that_breaks_it()
    {
        var broken = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fixtures"), "*.json")
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!)
            .SelectMany(n => n["expectedViolations"]!.AsArray().Select(v => (string)v!)).ToHashSet();
        var unbroken = Invariants.All.Select(i => i.Id).Where(id => !broken.Contains(id)).ToList();
        Assert.True(unbroken.Count == 0, "no fixture breaks: " + string.Join(", ", unbroken));
    }

    [Theory]
    [InlineData("audit")]
    [InlineData("prod")]
    public void The_shipped_design_satisfies_every_invariant(string stack)
    {
        Assert.Empty(DesignCheck.Evaluate(StackPlanner.Plan(Samples.Config(stack)).ToJsonNode()));
    }

    [Fact]
    public void The_compliant_fixtures_are_the_current_plans()
    {
        // A fixture that drifted from what the design renders would test an old design.
        foreach (var stack in new[] { "audit", "prod" })
        {
            var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", $"{stack}-compliant.json")))!["plan"]!;
            Assert.True(JsonNode.DeepEquals(StackPlanner.Plan(Samples.Config(stack)).ToJsonNode(), fixture), $"policy/fixtures/{stack}-compliant.json is out of date: regenerate it with `auditinfra plan --stack {stack} --json`");
        }
    }

    [Fact]
    public void Invariants_name_their_controls()
    {
        Assert.Contains("CloudTrail.4", Invariants.Get("trail-log-file-validation").Controls);
        Assert.Contains("CIS 3.6", Invariants.Get("key-rotation").Controls);
        Assert.Equal(Invariants.All.Length, Invariants.All.Select(i => i.Id).Distinct().Count());
    }

    [Theory]
    [InlineData("{\"components\":[1,{\"resources\":7},{\"resources\":[null,1,{\"type\":3,\"properties\":[]}]}]}")]
    [InlineData("{\"stack\":[],\"components\":[{\"provider\":5,\"resources\":[{\"type\":\"aws:s3/bucket:Bucket\",\"name\":\"b\",\"dependsOn\":[1,{}],\"properties\":{\"objectLockEnabled\":[]}},{\"type\":\"aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration\",\"properties\":{\"bucket\":\"${b.id}\",\"rule\":{\"defaultRetention\":5}}},{\"type\":\"aws:cloudtrail/trail:Trail\",\"name\":\"t\",\"properties\":{\"advancedEventSelectors\":[1,{\"fieldSelectors\":[2]}]}}]}]}")]
    public void Odd_values_anywhere_in_a_plan_are_judged_not_thrown(string plan)
    {
        // The pack and the host evaluate plans they did not render: a wrong kind of value is a violation or nothing, never an exception.
        var violations = DesignCheck.Evaluate(JsonNode.Parse(plan)!);
        Assert.All(violations, v => Assert.False(string.IsNullOrEmpty(v.InvariantId)));
    }
}
