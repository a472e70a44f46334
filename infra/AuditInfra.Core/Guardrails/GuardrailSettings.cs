using System.Collections.Immutable;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Guardrails;

/// <summary>Where the guardrail SCPs are attached (section <c>auditinfra:guardrails</c>).</summary>
public sealed record GuardrailSettings
{
    /// <summary>The organization root (r-…) or OUs (ou-…) the SCPs attach to.</summary>
    public ImmutableArray<string> TargetIds { get; init; } = [];

    public static GuardrailSettings Bind(ConfigScope scope, bool required) => new()
    {
        TargetIds = scope.StringList("targetIds", required: required, allowEmpty: !required, check: v =>
            AwsFormats.RootId(v) is null || AwsFormats.OrganizationalUnitId(v) is null ? null : "a root id (r-…) or an OU id (ou-…)"),
    };
}
