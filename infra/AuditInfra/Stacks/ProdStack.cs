using AuditInfra.Core.Configuration;

namespace AuditInfra.Stacks;

/// <summary>The <c>prod</c> stack: what lives in the management account.</summary>
public static class ProdStack
{
    public static IDictionary<string, object?> Build(AuditConfig config) => new Dictionary<string, object?>
    {
        ["organizationId"] = config.Organization.OrganizationId,
    };
}
