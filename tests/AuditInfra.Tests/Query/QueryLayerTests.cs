using AuditInfra.Core.Query;
using AuditInfra.Tests.Support;

namespace AuditInfra.Tests.Query;

[Collection(PulumiCollection.Name)]
public class QueryLayerTests
{
    [Fact]
    public async Task The_query_layer_equals_the_plan_and_lives_in_the_audit_account()
    {
        var config = PulumiTests.Sample("audit");
        var (mocks, _) = await PulumiTests.RunAsync(config);
        PlanComparison.AssertMatches(PulumiTests.PlannedComponent(config, QueryLayerDesign.ComponentType), mocks);
        Assert.Contains("acme-audit-audit-account-provider", mocks.Named("acme-audit-query-workgroup").Provider);
        Assert.Contains("acme-audit-audit-account-provider", mocks.Named("acme-audit-query-cloudtrail-table").Provider);

        // Athena reads a Glacier object once restored only with this table property.
        var parameters = Assert.IsAssignableFrom<System.Collections.Immutable.ImmutableDictionary<string, object>>(mocks.Named("acme-audit-query-cloudtrail-table").Inputs["parameters"]);
        Assert.Equal("true", parameters["read_restored_glacier_objects"]);
    }
}
