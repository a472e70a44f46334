using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Guardrails;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Policies;
using AuditInfra.Core.Storage;

namespace AuditInfra.Core.AuditAccount;

public sealed record RoleDesign(string LogicalName, string Name, PolicyDocument Trust, PolicyDocument? InlinePolicy, ImmutableArray<string> ManagedPolicyArns, int MaxSessionDurationSeconds);

/// <summary>
/// The dedicated audit account: created (with a Security OU if asked) or adopted, locked down by
/// an SCP on its OU, with an auditor role and a break-glass role inside it.
/// </summary>
public sealed record AuditAccountDesign(
    ResourceNames Names,
    AuditAccountSettings Settings,
    string AccountId,
    string AssumedRoleArn,
    ImmutableArray<ServiceControlPolicyDesign> LockdownPolicies,
    RoleDesign AuditorRole,
    RoleDesign? BreakGlassRole,
    ImmutableSortedDictionary<string, string> Tags)
{
    public const string ComponentType = "auditinfra:auditaccount:AuditAccount";

    public string AccountLogicalName => Names.Logical("audit-account");

    public string OuLogicalName => Names.Logical("security-ou");

    /// <summary>The OU the lock-down attaches to: the configured one, or the created one's id.</summary>
    public string SecurityOuTarget => Settings.SecurityOuId ?? PlannedResource.Ref(OuLogicalName, "id");
}

public static class AuditAccountDesigner
{
    public static AuditAccountDesign Design(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var settings = config.AuditAccount;
        var audit = config.Organization.AuditAccountId;
        var lockdown = ServiceControlPolicyDesign.Pack(
            names,
            "audit-account-lockdown",
            "Locks down the audit account: no IAM users or keys, no writes to the logs, no changes to the log bucket, key, detection hub or CloudTrail, security services stay on. Exempt: the deployment and break-glass roles.",
            AuditAccountPolicies.LockdownStatements(config));

        var auditor = new RoleDesign(
            names.Logical("auditor-role"),
            settings.AuditorRoleName,
            AuditAccountPolicies.AuditorTrust(config),
            AuditAccountPolicies.AuditorPermissions(config),
            [],
            3600);

        // The break-glass role is created here when it lives in the audit account.
        var breakGlassAccount = config.BreakGlassRoleArn.Split(':')[4];
        var breakGlass = breakGlassAccount == audit
            ? new RoleDesign(
                names.Logical("break-glass-role"),
                config.BreakGlassRoleArn[(config.BreakGlassRoleArn.IndexOf(":role/", StringComparison.Ordinal) + ":role/".Length)..].Split('/')[^1],
                AuditAccountPolicies.BreakGlassTrust(config),
                null,
                [$"arn:{names.Partition}:iam::aws:policy/AdministratorAccess"],
                3600)
            : null;

        return new AuditAccountDesign(names, settings, audit, $"arn:{names.Partition}:iam::{audit}:role/{settings.RoleName}", lockdown, auditor, breakGlass, DesignTags.For(config, "AuditAccount"));
    }
}

public static class AuditAccountPlan
{
    public static string AttachmentName(RoleDesign role, int index) => $"{role.LogicalName}-managed-{index + 1}";

    public static string ProviderName(AuditAccountDesign design) => design.Names.Logical("audit-account-provider");

    public static PlannedComponent Render(AuditAccountDesign design)
    {
        var tags = PlannedResource.Tags(design.Tags);
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        var settings = design.Settings;
        if (settings.CreateSecurityOuName is { } ouName)
        {
            resources.Add(new PlannedResource("aws:organizations/organizationalUnit:OrganizationalUnit", design.OuLogicalName, new JsonObject
            {
                ["name"] = ouName,
                ["parentId"] = settings.SecurityOuParentId,
                ["tags"] = tags.DeepClone(),
            })
            { Protect = true });
        }

        if (settings.Mode == AuditAccountMode.Create)
        {
            resources.Add(new PlannedResource("aws:organizations/account:Account", design.AccountLogicalName, new JsonObject
            {
                ["name"] = settings.AccountName,
                ["email"] = settings.Email,
                ["parentId"] = design.SecurityOuTarget,
                ["roleName"] = settings.RoleName,
                ["iamUserAccessToBilling"] = "DENY",
                ["closeOnDeletion"] = false,
                ["tags"] = tags.DeepClone(),
            })
            { Protect = true, RetainOnDelete = true });
        }

        resources.Add(new PlannedResource("pulumi:providers:aws", ProviderName(design), new JsonObject
        {
            ["region"] = design.Names.Config.HomeRegion,
            ["allowedAccountIds"] = new JsonArray(design.AccountId),
            ["assumeRoles"] = new JsonArray(new JsonObject { ["roleArn"] = design.AssumedRoleArn, ["sessionName"] = "auditinfra-audit-stack" }),
        }));

        foreach (var scp in design.LockdownPolicies)
        {
            resources.AddRange(scp.Plan([design.SecurityOuTarget], design.Tags, _ => $"{scp.LogicalName}-attachment"));
        }

        foreach (var role in new[] { design.AuditorRole, design.BreakGlassRole }.OfType<RoleDesign>())
        {
            var properties = new JsonObject
            {
                ["name"] = role.Name,
                ["assumeRolePolicy"] = role.Trust.ToJsonNode(),
                ["maxSessionDuration"] = role.MaxSessionDurationSeconds,
                ["tags"] = tags.DeepClone(),
            };
            resources.Add(new PlannedResource("aws:iam/role:Role", role.LogicalName, properties));
            foreach (var (arn, i) in role.ManagedPolicyArns.Select((a, i) => (a, i)))
            {
                resources.Add(new PlannedResource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", AttachmentName(role, i), new JsonObject
                {
                    ["role"] = PlannedResource.Ref(role.LogicalName, "name"),
                    ["policyArn"] = arn,
                }));
            }

            if (role.InlinePolicy is { } inline)
            {
                resources.Add(new PlannedResource("aws:iam/rolePolicy:RolePolicy", $"{role.LogicalName}-policy", new JsonObject
                {
                    ["role"] = PlannedResource.Ref(role.LogicalName, "id"),
                    ["policy"] = inline.ToJsonNode(),
                }));
            }
        }

        var notes = ImmutableArray.CreateBuilder<string>();
        notes.Add(settings.Mode == AuditAccountMode.Create
            ? $"Creates account '{settings.AccountName}' ({settings.Email}); it is retained (never closed) when the stack is destroyed. First run: Organizations returns the new account's id; the program stops before building anything inside it unless that id equals auditinfra:auditAccountId — set it in both stack files and run again. A new account can take several minutes before its role can be assumed: if the provider reports AccessDenied on sts:AssumeRole, wait and re-run."
            : $"Adopts account {design.AccountId} (e.g. Control Tower's Log Archive): nothing about the account itself is created, changed or closed.");
        notes.Add($"Everything inside the audit account is created through a provider assuming {design.AssumedRoleArn}.");
        notes.Add($"Lock-down: only {string.Join(" and ", GuardrailPolicies.ExemptPrincipals(design.Names.Config))} can write to the logs or change the log bucket, trail key, detection hub or CloudTrail in the audit account; no IAM users or access keys; security services stay on" + (settings.DenyRegionsOutsideGoverned ? "; regions outside the governed ones are denied." : "."));
        notes.Add(design.BreakGlassRole is null
            ? "Break-glass: the configured break-glass role lives outside the audit account and is not created here."
            : $"Break-glass role '{design.BreakGlassRole.Name}': AdministratorAccess, MFA required, 1-hour sessions; its every use is visible in the organization trail (root/role activity detections).");
        return new PlannedComponent(AuditAccountDesign.ComponentType, design.Names.Logical("audit-account-component"), resources.ToImmutable()) { Notes = notes.ToImmutable() };
    }
}
