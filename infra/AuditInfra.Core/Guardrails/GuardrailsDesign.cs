using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.Guardrails;

public sealed record ServiceControlPolicyDesign(string LogicalName, string Name, string Description, PolicyDocument Document)
{
    /// <summary>Statements packed into as few SCPs as fit (numbered -1, -2, … when more than one).</summary>
    public static ImmutableArray<ServiceControlPolicyDesign> Pack(ResourceNames names, string baseName, string description, IReadOnlyList<PolicyStatement> statements)
    {
        var documents = ScpSizing.Pack(names.Logical(baseName), statements);
        return [.. documents.Select((doc, i) =>
        {
            var suffix = documents.Length == 1 ? "" : $"-{i + 1}";
            return new ServiceControlPolicyDesign(names.Logical(baseName + suffix), $"{names.Config.NamePrefix}-{baseName}{suffix}", description, doc);
        })];
    }

    /// <summary>The SCP and its attachment to each target, as planned resources.</summary>
    public IEnumerable<PlannedResource> Plan(IEnumerable<string> targetIds, IEnumerable<KeyValuePair<string, string>> tags, Func<string, string> attachmentName)
    {
        yield return new PlannedResource("aws:organizations/policy:Policy", LogicalName, new JsonObject
        {
            ["name"] = Name,
            ["description"] = Description,
            ["type"] = "SERVICE_CONTROL_POLICY",
            ["content"] = Document.ToJsonNode(),
            ["tags"] = PlannedResource.Tags(tags),
        });
        foreach (var target in targetIds)
        {
            yield return new PlannedResource("aws:organizations/policyAttachment:PolicyAttachment", attachmentName(target), new JsonObject
            {
                ["policyId"] = PlannedResource.Ref(LogicalName, "id"),
                ["targetId"] = target,
            });
        }
    }
}

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
        var policies = ServiceControlPolicyDesign.Pack(
            names,
            "audit-guardrails",
            "Protects the audit log archive, its key, the detection hub and forwarding, and the organization trail; denies leaving the organization. Exempt: the deployment and break-glass roles.",
            GuardrailPolicies.Statements(config));
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
            resources.AddRange(policy.Plan(design.TargetIds, design.Tags, target => AttachmentName(policy, target)));
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
