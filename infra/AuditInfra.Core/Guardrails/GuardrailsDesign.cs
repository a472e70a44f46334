using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.Guardrails;

public sealed record ServiceControlPolicyDesign(string LogicalName, string Name, string Description, PolicyDocument Document);

public sealed record GuardrailsDesign(
    ResourceNames Names,
    ImmutableArray<ServiceControlPolicyDesign> Policies,
    ImmutableArray<string> TargetIds,
    ImmutableArray<string> ExemptPrincipals,
    ImmutableSortedDictionary<string, string> Tags);

public static class GuardrailsDesigner
{
    public static GuardrailsDesign Design(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var documents = ScpSizing.Pack(names.Logical("audit-guardrails"), GuardrailPolicies.Statements(config));
        var policies = documents.Select((doc, i) => new ServiceControlPolicyDesign(
            names.Logical(documents.Length == 1 ? "audit-guardrails" : $"audit-guardrails-{i + 1}"),
            documents.Length == 1 ? $"{config.NamePrefix}-audit-guardrails" : $"{config.NamePrefix}-audit-guardrails-{i + 1}",
            "Protects the audit log archive, its key, the detection hub and forwarding, and the organization trail; denies leaving the organization. Exempt: the deployment and break-glass roles.",
            doc)).ToImmutableArray();
        return new GuardrailsDesign(names, policies, config.Guardrails.TargetIds, GuardrailPolicies.ExemptPrincipals(config), DesignTags.For(config, "Guardrails"));
    }
}

public static class GuardrailsPlan
{
    public const string ComponentType = "auditinfra:guardrails:Guardrails";

    public static string AttachmentName(ServiceControlPolicyDesign policy, string targetId) => $"{policy.LogicalName}-{targetId}";

    public static PlannedComponent Render(GuardrailsDesign design)
    {
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        foreach (var policy in design.Policies)
        {
            resources.Add(new PlannedResource("aws:organizations/policy:Policy", policy.LogicalName, new JsonObject
            {
                ["name"] = policy.Name,
                ["description"] = policy.Description,
                ["type"] = "SERVICE_CONTROL_POLICY",
                ["content"] = policy.Document.ToJsonNode(),
                ["tags"] = new JsonObject(design.Tags.Select(t => new KeyValuePair<string, JsonNode?>(t.Key, t.Value))),
            }));
            foreach (var target in design.TargetIds)
            {
                resources.Add(new PlannedResource("aws:organizations/policyAttachment:PolicyAttachment", AttachmentName(policy, target), new JsonObject
                {
                    ["policyId"] = PlannedResource.Ref(policy.LogicalName, "id"),
                    ["targetId"] = target,
                }));
            }
        }

        return new PlannedComponent(ComponentType, design.Names.Logical("guardrails"), resources.ToImmutable())
        {
            Notes =
            [
                $"Exempt from every guardrail: {string.Join(", ", design.ExemptPrincipals)}; the forwarding rules also accept changes from the rollout role (by name, in each account).",
                "SCPs never restrict the management account; the organization trail cannot be changed from member accounts anyway.",
                $"Sizes: {string.Join(", ", design.Policies.Select(p => $"{p.Name} {p.Document.ToJson().Length}/{ScpSizing.MaxCharacters} characters"))}.",
            ],
        };
    }
}
