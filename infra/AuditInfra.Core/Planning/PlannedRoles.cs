using System.Text.Json.Nodes;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Planning;

/// <summary>A service role with its one inline policy, planned alike wherever the design needs one.</summary>
public static class PlannedRoles
{
    public static IEnumerable<PlannedResource> WithInlinePolicy(string roleLogicalName, string roleName, string description, PolicyDocument trust, string policyLogicalName, PolicyDocument policy, JsonObject tags)
    {
        yield return new PlannedResource("aws:iam/role:Role", roleLogicalName, new JsonObject
        {
            ["name"] = roleName,
            ["description"] = description,
            ["assumeRolePolicy"] = trust.ToJsonNode(),
            ["tags"] = tags.DeepClone(),
        });
        yield return new PlannedResource("aws:iam/rolePolicy:RolePolicy", policyLogicalName, new JsonObject
        {
            ["role"] = PlannedResource.Ref(roleLogicalName, "id"),
            ["policy"] = policy.ToJsonNode(),
        });
    }
}
