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
/// <param name="DeploymentRoleArn">
/// The one role the audit stack acts through inside the account: the provider assumes it and the
/// lock-down exempts it, so both read this value (a provider assuming any other role is denied by
/// the lock-down as soon as it is attached).
/// </param>
/// <param name="NewAccountRoleName">The role Organizations creates in a new account: the deployment role's name.</param>
/// <param name="InAccountComponents">
/// The components the audit stack builds inside the account through the provider: the lock-down
/// attaches only after them and the roles, so the first run never races its own SCP.
/// </param>
public sealed record AuditAccountDesign(
    ResourceNames Names,
    AuditAccountSettings Settings,
    string AccountId,
    string DeploymentRoleArn,
    string NewAccountRoleName,
    ImmutableArray<ServiceControlPolicyDesign> LockdownPolicies,
    RoleDesign AuditorRole,
    RoleDesign? BreakGlassRole,
    ImmutableArray<string> InAccountComponents,
    ImmutableSortedDictionary<string, string> Tags)
{
    public const string ComponentType = "auditinfra:auditaccount:AuditAccount";

    public const string ProviderSessionName = "auditinfra-audit-stack";

    /// <summary>Pulumi.Aws's ProviderArgs defaults, written out: the plan shows every input the provider gets.</summary>
    public const bool ProviderSkipCredentialsValidation = false;

    public const bool ProviderSkipRegionValidation = true;

    public string AccountLogicalName => Names.Logical("audit-account");

    public string OuLogicalName => Names.Logical("security-ou");

    public string ProviderName => Names.Logical("audit-account-provider");

    /// <summary>The OU holds the lock-down: deleting it with the stack would drop the SCP's target.</summary>
    public ResourceGuard Ou { get; init; } = new(Protect: true);

    /// <summary>An account is never closed by a destroy: it holds the logs.</summary>
    public ResourceGuard Account { get; init; } = new(Protect: true, RetainOnDelete: true);

    /// <summary>The OU the lock-down attaches to: the configured one, or the created one's id.</summary>
    public string SecurityOuTarget => Settings.SecurityOuId ?? PlannedResource.Ref(OuLogicalName, "id");

    public IEnumerable<RoleDesign> Roles => new[] { AuditorRole, BreakGlassRole }.OfType<RoleDesign>();

    /// <summary>Everything inside the account, by resource name: the roles with their policies, then the components.</summary>
    public ImmutableArray<string> LockdownDependsOn =>
    [
        .. Roles.SelectMany(r => new[] { r.LogicalName }
            .Concat(r.InlinePolicy is null ? [] : [AuditAccountPlan.InlinePolicyName(r)])
            .Concat(r.ManagedPolicyArns.Select((_, i) => AuditAccountPlan.AttachmentName(r, i)))),
        .. InAccountComponents,
    ];
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

        // Validation keeps the deployment role inside the audit account (CheckDeploymentRole).
        var deploymentRole = config.DeploymentRoleArn;
        var newAccountRole = settings.RoleName ?? deploymentRole.Split('/')[^1];
        return new AuditAccountDesign(
            names,
            settings,
            audit,
            deploymentRole,
            newAccountRole,
            lockdown,
            auditor,
            breakGlass,
            [
                names.Logical(InAccountComponentNames.LogArchive), names.Logical(InAccountComponentNames.DetectionHub), names.Logical(InAccountComponentNames.QueryLayer),
                .. config.Integrity.Enabled ? [names.Logical(InAccountComponentNames.IntegrityMonitor)] : Array.Empty<string>(),
            ],
            DesignTags.For(config, "AuditAccount"));
    }
}

/// <summary>The names (before the prefix) of the components the audit stack builds inside the audit account.</summary>
public static class InAccountComponentNames
{
    public const string LogArchive = "log-archive";
    public const string DetectionHub = "detection-hub";
    public const string QueryLayer = "query-layer";
    public const string IntegrityMonitor = "integrity-monitor";
}

public static class AuditAccountPlan
{
    public static string AttachmentName(RoleDesign role, int index) => $"{role.LogicalName}-managed-{index + 1}";

    public static string InlinePolicyName(RoleDesign role) => $"{role.LogicalName}-policy";

    public static string LockdownAttachmentName(ServiceControlPolicyDesign scp) => $"{scp.LogicalName}-attachment";

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
            { Protect = design.Ou.Protect, RetainOnDelete = design.Ou.RetainOnDelete });
        }

        if (settings.Mode == AuditAccountMode.Create)
        {
            resources.Add(new PlannedResource("aws:organizations/account:Account", design.AccountLogicalName, new JsonObject
            {
                ["name"] = settings.AccountName,
                ["email"] = settings.Email,
                ["parentId"] = design.SecurityOuTarget,
                ["roleName"] = design.NewAccountRoleName,
                ["iamUserAccessToBilling"] = "DENY",
                ["closeOnDeletion"] = false,
                ["tags"] = tags.DeepClone(),
            })
            { Protect = design.Account.Protect, RetainOnDelete = design.Account.RetainOnDelete });
        }

        resources.Add(new PlannedResource("pulumi:providers:aws", design.ProviderName, new JsonObject
        {
            ["region"] = design.Names.Config.HomeRegion,
            ["allowedAccountIds"] = new JsonArray(design.AccountId),
            ["assumeRoles"] = new JsonArray(new JsonObject { ["roleArn"] = design.DeploymentRoleArn, ["sessionName"] = AuditAccountDesign.ProviderSessionName }),
            ["skipCredentialsValidation"] = AuditAccountDesign.ProviderSkipCredentialsValidation,
            ["skipRegionValidation"] = AuditAccountDesign.ProviderSkipRegionValidation,
        }));

        foreach (var role in design.Roles)
        {
            var properties = new JsonObject
            {
                ["name"] = role.Name,
                ["assumeRolePolicy"] = role.Trust.ToJsonNode(),
                ["maxSessionDuration"] = role.MaxSessionDurationSeconds,
                ["tags"] = tags.DeepClone(),
            };
            resources.Add(new PlannedResource("aws:iam/role:Role", role.LogicalName, properties) { Provider = design.ProviderName });
            foreach (var (arn, i) in role.ManagedPolicyArns.Select((a, i) => (a, i)))
            {
                resources.Add(new PlannedResource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", AttachmentName(role, i), new JsonObject
                {
                    ["role"] = PlannedResource.Ref(role.LogicalName, "name"),
                    ["policyArn"] = arn,
                })
                { Provider = design.ProviderName });
            }

            if (role.InlinePolicy is { } inline)
            {
                resources.Add(new PlannedResource("aws:iam/rolePolicy:RolePolicy", InlinePolicyName(role), new JsonObject
                {
                    ["role"] = PlannedResource.Ref(role.LogicalName, "id"),
                    ["policy"] = inline.ToJsonNode(),
                })
                { Provider = design.ProviderName });
            }
        }

        // The lock-down last: attached before the account's contents exist, it would deny building them.
        foreach (var scp in design.LockdownPolicies)
        {
            resources.AddRange(scp.Plan([design.SecurityOuTarget], design.Tags, _ => LockdownAttachmentName(scp))
                .Select(r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment" ? r with { DependsOn = design.LockdownDependsOn } : r));
        }

        var notes = ImmutableArray.CreateBuilder<string>();
        notes.Add(settings.Mode == AuditAccountMode.Create
            ? $"Creates account '{settings.AccountName}' ({settings.Email}); it is retained (never closed) when the stack is destroyed. First run: Organizations returns the new account's id; the program stops before building anything inside it unless that id equals auditinfra:auditAccountId — set it in both stack files and run again. A new account can take several minutes before its role can be assumed: if the provider reports AccessDenied on sts:AssumeRole, wait and re-run."
            : $"Adopts account {design.AccountId} (e.g. Control Tower's Log Archive): nothing about the account itself is created, changed or closed.");
        notes.Add($"Everything inside the audit account is created through a provider assuming the deployment role {design.DeploymentRoleArn}, the role the lock-down exempts; the lock-down is attached only after everything inside the account exists. The audit stack runs with management-account credentials that may assume that role.");
        notes.Add($"Lock-down: only {string.Join(" and ", GuardrailPolicies.ExemptPrincipals(design.Names.Config))} can write to the logs or change the log bucket, trail key, detection hub or CloudTrail in the audit account; no IAM users or access keys; security services stay on" + (settings.DenyRegionsOutsideGoverned ? "; regions outside the governed ones are denied." : "."));
        notes.Add(design.BreakGlassRole is null
            ? "Break-glass: the configured break-glass role lives outside the audit account and is not created here."
            : $"Break-glass role '{design.BreakGlassRole.Name}': AdministratorAccess, MFA required, 1-hour sessions; its every use is visible in the organization trail (root/role activity detections).");
        return new PlannedComponent(AuditAccountDesign.ComponentType, design.Names.Logical("audit-account-component"), resources.ToImmutable()) { Notes = notes.ToImmutable() };
    }
}
