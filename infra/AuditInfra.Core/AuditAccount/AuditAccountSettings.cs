using System.Collections.Immutable;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.AuditAccount;

public enum AuditAccountMode
{
    /// <summary>Use an existing account (Control Tower's Log Archive is common); never modified or closed.</summary>
    Adopt,

    /// <summary>Create the account with Organizations.</summary>
    Create,
}

/// <summary>Section <c>auditinfra:auditAccount</c>: the dedicated audit account, its OU, and who may read in it.</summary>
public sealed record AuditAccountSettings
{
    public AuditAccountMode Mode { get; init; } = AuditAccountMode.Adopt;

    public string? AccountName { get; init; }

    public string? Email { get; init; }

    /// <summary>An existing Security OU, or null when <see cref="CreateSecurityOuName"/> creates one.</summary>
    public string? SecurityOuId { get; init; }

    public string? CreateSecurityOuName { get; init; }

    /// <summary>The root or OU under which a created Security OU goes.</summary>
    public string? SecurityOuParentId { get; init; }

    /// <summary>
    /// The role Organizations creates in a new account; null: the deployment role's name. The audit
    /// stack acts in the account through the deployment role (the role the lock-down exempts), so a
    /// given name must be that role's.
    /// </summary>
    public string? RoleName { get; init; }

    public string AuditorRoleName { get; init; } = "auditinfra-auditor";

    /// <summary>People who may assume the auditor role; MFA is required of them.</summary>
    public ImmutableArray<string> AuditorHumanPrincipals { get; init; } = [];

    /// <summary>Automation (e.g. the query layer's jobs) that may assume the auditor role without MFA.</summary>
    public ImmutableArray<string> AuditorAutomationPrincipals { get; init; } = [];

    /// <summary>Principals (people of the management account) who may assume the break-glass role, with MFA.</summary>
    public ImmutableArray<string> BreakGlassPrincipals { get; init; } = [];

    public bool DenyRegionsOutsideGoverned { get; init; }

    public static AuditAccountSettings Bind(ConfigScope scope)
    {
        var mode = scope.Enum("mode", AuditAccountMode.Adopt, m => m.ToString().ToLowerInvariant());
        var settings = new AuditAccountSettings
        {
            Mode = mode,
            AccountName = scope.String("accountName", required: mode == AuditAccountMode.Create, check: v => v.Length is >= 1 and <= 50 ? null : "an account name of 1 to 50 characters"),
            Email = scope.String("email", required: mode == AuditAccountMode.Create, check: AwsFormats.Email),
            SecurityOuId = scope.String("securityOuId", check: AwsFormats.OrganizationalUnitId),
            CreateSecurityOuName = scope.String("createSecurityOuName", check: v => v.Length is >= 1 and <= 128 ? null : "an OU name of 1 to 128 characters"),
            SecurityOuParentId = scope.String("securityOuParentId", check: v => AwsFormats.RootId(v) is null || AwsFormats.OrganizationalUnitId(v) is null ? null : "a root id (r-…) or an OU id (ou-…)"),
            RoleName = scope.String("roleName", check: AwsFormats.RoleName),
            AuditorRoleName = scope.String("auditorRoleName", defaultValue: "auditinfra-auditor", check: AwsFormats.RoleName)!,
            AuditorHumanPrincipals = scope.StringList("auditorHumanPrincipals", check: AwsFormats.PrincipalArn),
            AuditorAutomationPrincipals = scope.StringList("auditorAutomationPrincipals", check: AwsFormats.PrincipalArn),
            BreakGlassPrincipals = scope.StringList("breakGlassPrincipals", check: AwsFormats.PrincipalArn),
            DenyRegionsOutsideGoverned = scope.Bool("denyRegionsOutsideGoverned", false),
        };
        if (mode == AuditAccountMode.Adopt && (settings.AccountName is not null || settings.Email is not null))
        {
            scope.Warning("mode", "adopt: accountName and email are ignored; an adopted account is never modified or closed");
        }

        if (settings.SecurityOuId is null == (settings.CreateSecurityOuName is null))
        {
            scope.Error("securityOuId", "give exactly one of securityOuId (an existing OU) or createSecurityOuName (with securityOuParentId): the lock-down SCP attaches to that OU");
        }
        else if (settings.CreateSecurityOuName is not null && settings.SecurityOuParentId is null)
        {
            scope.Error("securityOuParentId", "is required with createSecurityOuName: the root (r-…) or OU under which to create it");
        }

        return settings;
    }

    /// <summary>
    /// The audit stack builds everything inside the audit account through a provider that assumes
    /// the deployment role, and the lock-down SCP exempts that role: it must live in the audit
    /// account, and a new account must be created with it (Organizations creates the role at path /).
    /// </summary>
    public static void CheckDeploymentRole(ConfigScope root, ConfigScope scope, AuditAccountSettings settings, string deploymentRoleArn, string auditAccountId)
    {
        if (deploymentRoleArn.Length == 0 || auditAccountId.Length == 0)
        {
            return;
        }

        var parts = deploymentRoleArn.Split(':');
        var resource = parts[5];
        var name = resource.Split('/')[^1];
        if (parts[4] != auditAccountId)
        {
            root.Error("deploymentRoleArn", $"must be a role in the audit account {auditAccountId} (found account {parts[4]}): the audit stack builds everything inside that account through it, and the lock-down SCP exempts only it and breakGlassRoleArn");
            return;
        }

        if (settings.RoleName is { } roleName && roleName != name)
        {
            scope.Error("roleName", $"must be '{name}', the deployment role's name, or be left out: the audit stack acts in the audit account through deploymentRoleArn, the only role besides break-glass the lock-down exempts");
        }

        if (settings.Mode == AuditAccountMode.Create && resource.Count(c => c == '/') > 1)
        {
            root.Error("deploymentRoleArn", "must have no path (arn:<partition>:iam::<account>:role/<name>) with auditAccount.mode create: Organizations creates the new account's role, the deployment role, at path /");
        }
    }
}
