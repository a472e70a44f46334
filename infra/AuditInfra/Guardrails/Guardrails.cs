using System.Collections.Immutable;
using AuditInfra.Core.Guardrails;
using Pulumi;
using Pulumi.Aws.Organizations;

namespace AuditInfra.Guardrails;

/// <summary>The guardrail SCPs, each attached to every configured root or OU.</summary>
public sealed class Guardrails : ComponentResource
{
    public const string TypeToken = GuardrailsPlan.ComponentType;

    public Output<ImmutableArray<string>> PolicyIds { get; }

    public Guardrails(string name, GuardrailsArgs args, ComponentResourceOptions? options = null)
        : base(TypeToken, name, options)
    {
        var design = args.Design;
        var ids = new List<Output<string>>();
        foreach (var scp in design.Policies)
        {
            var tags = PulumiTags.From(design.Tags);

            var policy = new Policy(scp.LogicalName, new PolicyArgs
            {
                Name = scp.Name,
                Description = scp.Description,
                Type = "SERVICE_CONTROL_POLICY",
                Content = scp.Document.ToJson(),
                Tags = tags,
            }, new CustomResourceOptions { Parent = this });
            ids.Add(policy.Id);

            foreach (var target in design.TargetIds)
            {
                _ = new PolicyAttachment(GuardrailsPlan.AttachmentName(scp, target), new PolicyAttachmentArgs
                {
                    PolicyId = policy.Id,
                    TargetId = target,
                }, new CustomResourceOptions { Parent = this });
            }
        }

        PolicyIds = Output.All(ids);
        RegisterOutputs(new Dictionary<string, object?> { ["policyIds"] = PolicyIds });
    }
}
