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

    /// <summary>The role the stack assumes in the audit account (and the one Organizations creates in a new account).</summary>
    public string RoleName { get; init; } = "OrganizationAccountAccessRole";

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
            RoleName = scope.String("roleName", defaultValue: "OrganizationAccountAccessRole", check: AwsFormats.RoleName)!,
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
}
