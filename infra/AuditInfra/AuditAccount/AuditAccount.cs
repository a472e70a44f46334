using AuditInfra.Core.AuditAccount;
using Pulumi;
using Pulumi.Aws;
using Pulumi.Aws.Iam;
using Pulumi.Aws.Inputs;
using Pulumi.Aws.Organizations;

namespace AuditInfra.AuditAccount;

/// <summary>
/// The dedicated audit account, run with management-account credentials: creates it (retained on
/// destroy) or adopts it, builds everything inside it through a provider that assumes the
/// deployment role (the role the lock-down exempts), and attaches the lock-down SCP to its
/// Security OU last, once everything inside the account exists.
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
            }, new CustomResourceOptions { Parent = this, Protect = design.Ou.Protect, RetainOnDelete = design.Ou.RetainOnDelete });
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
                RoleName = design.NewAccountRoleName,
                IamUserAccessToBilling = "DENY",
                CloseOnDeletion = false,
                Tags = tags,
            }, new CustomResourceOptions { Parent = this, Protect = design.Account.Protect, RetainOnDelete = design.Account.RetainOnDelete });

            // Every name and policy of the design is computed from the configured account id: nothing
            // is built inside the new account until the configuration names it.
            accountId = account.Id.Apply(id => id == design.AccountId
                ? id
                : throw new RunException($"The audit account was created with id {id}, but auditinfra:auditAccountId is {design.AccountId}. Set auditinfra:auditAccountId: \"{id}\" in Pulumi.audit.yaml and Pulumi.prod.yaml, then run `pulumi up --stack audit` again (a new account can take a few minutes before its role can be assumed)."));
        }

        // The deployment role: the one role (besides break-glass) the lock-down exempts.
        Provider = new Provider(design.ProviderName, new ProviderArgs
        {
            Region = design.Names.Config.HomeRegion,
            AllowedAccountIds = { accountId },
            SkipCredentialsValidation = AuditAccountDesign.ProviderSkipCredentialsValidation,
            SkipRegionValidation = AuditAccountDesign.ProviderSkipRegionValidation,
            AssumeRoles =
            {
                new ProviderAssumeRoleArgs
                {
                    RoleArn = accountId.Apply(_ => design.DeploymentRoleArn),
                    SessionName = AuditAccountDesign.ProviderSessionName,
                },
            },
        }, child);

        var inAccount = new CustomResourceOptions { Parent = this, Provider = Provider };
        var inside = new List<Resource>();
        foreach (var role in design.Roles)
        {
            var created = new Role(role.LogicalName, new RoleArgs
            {
                Name = role.Name,
                AssumeRolePolicy = role.Trust.ToJson(),
                MaxSessionDuration = role.MaxSessionDurationSeconds,
                Tags = tags,
            }, inAccount);
            inside.Add(created);
            if (role.InlinePolicy is { } inline)
            {
                inside.Add(new RolePolicy(AuditAccountPlan.InlinePolicyName(role), new RolePolicyArgs
                {
                    Role = created.Id,
                    Policy = inline.ToJson(),
                }, inAccount));
            }

            for (var i = 0; i < role.ManagedPolicyArns.Length; i++)
            {
                inside.Add(new RolePolicyAttachment(AuditAccountPlan.AttachmentName(role, i), new RolePolicyAttachmentArgs
                {
                    Role = created.Name,
                    PolicyArn = role.ManagedPolicyArns[i],
                }, inAccount));
            }
        }

        inside.AddRange(args.BuildInside(Provider));

        // Attached before the account's contents exist, the lock-down would deny building them.
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
            _ = new Pulumi.Aws.Organizations.PolicyAttachment(AuditAccountPlan.LockdownAttachmentName(scp), new Pulumi.Aws.Organizations.PolicyAttachmentArgs
            {
                PolicyId = policy.Id,
                TargetId = ouId,
            }, new CustomResourceOptions { Parent = this, DependsOn = inside.ToArray() });
        }

        AccountId = accountId;
        RegisterOutputs(new Dictionary<string, object?> { ["accountId"] = AccountId });
    }
}
