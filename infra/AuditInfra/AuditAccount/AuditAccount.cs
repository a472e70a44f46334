using AuditInfra.Core.AuditAccount;
using Pulumi;
using Pulumi.Aws;
using Pulumi.Aws.Iam;
using Pulumi.Aws.Inputs;
using Pulumi.Aws.Organizations;

namespace AuditInfra.AuditAccount;

/// <summary>
/// The dedicated audit account, run with management-account credentials: creates it (retained on
/// destroy) or adopts it, attaches the lock-down SCP to its Security OU, and exposes a provider
/// that assumes the configured role in it; the roles inside the account are created through that
/// provider, and so are the log archive and detection hub (the audit stack passes it to them).
/// </summary>
public sealed class AuditAccount : ComponentResource
{
    /// <summary>A provider for resources inside the audit account.</summary>
    public Provider Provider { get; }

    public Output<string> AccountId { get; }

    public AuditAccount(string name, AuditAccountArgs args, ComponentResourceOptions? options = null)
        : base(AuditAccountDesign.ComponentType, name, options)
    {
        var design = args.Design;
        var settings = design.Settings;
        var child = new CustomResourceOptions { Parent = this };
        var tags = PulumiTags.From(design.Tags);

        Input<string> ouId = settings.SecurityOuId ?? "";
        if (settings.CreateSecurityOuName is { } ouName)
        {
            var ou = new OrganizationalUnit(design.OuLogicalName, new OrganizationalUnitArgs
            {
                Name = ouName,
                ParentId = settings.SecurityOuParentId!,
                Tags = tags,
            }, new CustomResourceOptions { Parent = this, Protect = true });
            ouId = ou.Id;
        }

        Output<string> accountId = Output.Create(design.AccountId);
        if (settings.Mode == AuditAccountMode.Create)
        {
            var account = new Account(design.AccountLogicalName, new AccountArgs
            {
                Name = settings.AccountName!,
                Email = settings.Email!,
                ParentId = ouId,
                RoleName = settings.RoleName,
                IamUserAccessToBilling = "DENY",
                CloseOnDeletion = false,
                Tags = tags,
            }, new CustomResourceOptions { Parent = this, Protect = true, RetainOnDelete = true });

            // Every name and policy of the design is computed from the configured account id: nothing
            // is built inside the new account until the configuration names it.
            accountId = account.Id.Apply(id => id == design.AccountId
                ? id
                : throw new RunException($"The audit account was created with id {id}, but auditinfra:auditAccountId is {design.AccountId}. Set auditinfra:auditAccountId: \"{id}\" in Pulumi.audit.yaml and Pulumi.prod.yaml, then run `pulumi up --stack audit` again (a new account can take a few minutes before its role can be assumed)."));
        }

        Provider = new Provider(AuditAccountPlan.ProviderName(design), new ProviderArgs
        {
            Region = design.Names.Config.HomeRegion,
            AllowedAccountIds = { accountId },
            AssumeRoles =
            {
                new ProviderAssumeRoleArgs
                {
                    RoleArn = accountId.Apply(_ => design.AssumedRoleArn),
                    SessionName = "auditinfra-audit-stack",
                },
            },
        }, child);

        foreach (var scp in design.LockdownPolicies)
        {
            var policy = new Pulumi.Aws.Organizations.Policy(scp.LogicalName, new Pulumi.Aws.Organizations.PolicyArgs
            {
                Name = scp.Name,
                Description = scp.Description,
                Type = "SERVICE_CONTROL_POLICY",
                Content = scp.Document.ToJson(),
                Tags = tags,
            }, child);
            _ = new Pulumi.Aws.Organizations.PolicyAttachment($"{scp.LogicalName}-attachment", new Pulumi.Aws.Organizations.PolicyAttachmentArgs
            {
                PolicyId = policy.Id,
                TargetId = ouId,
            }, child);
        }

        var inAccount = new CustomResourceOptions { Parent = this, Provider = Provider };
        foreach (var role in new[] { design.AuditorRole, design.BreakGlassRole }.OfType<RoleDesign>())
        {
            var created = new Role(role.LogicalName, new RoleArgs
            {
                Name = role.Name,
                AssumeRolePolicy = role.Trust.ToJson(),
                MaxSessionDuration = role.MaxSessionDurationSeconds,
                Tags = tags,
            }, inAccount);
            if (role.InlinePolicy is { } inline)
            {
                _ = new RolePolicy($"{role.LogicalName}-policy", new RolePolicyArgs
                {
                    Role = created.Id,
                    Policy = inline.ToJson(),
                }, inAccount);
            }

            for (var i = 0; i < role.ManagedPolicyArns.Length; i++)
            {
                _ = new RolePolicyAttachment(AuditAccountPlan.AttachmentName(role, i), new RolePolicyAttachmentArgs
                {
                    Role = created.Name,
                    PolicyArn = role.ManagedPolicyArns[i],
                }, inAccount);
            }
        }

        AccountId = accountId;
        RegisterOutputs(new Dictionary<string, object?> { ["accountId"] = AccountId });
    }
}
