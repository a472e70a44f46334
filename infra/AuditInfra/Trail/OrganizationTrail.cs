using AuditInfra.Core.Storage;
using AuditInfra.Core.Trail;
using Pulumi;
using Pulumi.Aws.CloudTrail;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Iam;
using Pulumi.Aws.Kms;
using Pulumi.Aws.Organizations;
using CloudTrailInputs = Pulumi.Aws.CloudTrail.Inputs;

namespace AuditInfra.Trail;

/// <summary>
/// The organization trail in the management account. Reads the log bucket and trail key from
/// the audit stack, checks the organization is the configured one with trusted access for
/// CloudTrail, and creates the trail only after all of that (and the audit stack's bucket and
/// key policies) is in place, so a first `pulumi up` succeeds.
/// </summary>
public sealed class OrganizationTrail : ComponentResource
{
    public const string TypeToken = OrganizationTrailPlan.ComponentType;

    public Output<string> TrailArn { get; }

    public Pulumi.Aws.CloudTrail.Trail Trail { get; }

    public OrganizationTrail(string name, OrganizationTrailArgs args, ComponentResourceOptions? options = null)
        : base(TypeToken, name, options)
    {
        var design = args.Design;
        var child = new CustomResourceOptions { Parent = this };
        var auditStackName = OrganizationTrailPlan.AuditStackName(design, Deployment.Instance.OrganizationName);
        var audit = new StackReference(OrganizationTrailPlan.StackReferenceName(design), new StackReferenceArgs { Name = auditStackName }, child);

        var bucketName = Require(audit, auditStackName, "logBucketName");
        var keyArn = Require(audit, auditStackName, "trailKeyArn");
        var ready = Require(audit, auditStackName, "logArchiveReady");
        var expectedBucket = LogArchiveDesigner.Design(args.Config).LogBucket.Name;
        var organization = GetOrganization.Invoke(options: new InvokeOptions { Parent = this });
        var prerequisites = CheckOrganization(organization, args.Config.Organization.OrganizationId);

        // The bucket name reaches the trail only once the audit stack's policies exist, the
        // organization checks passed, and the name is the one this configuration computes.
        var s3BucketName = Output.Tuple(bucketName, ready, prerequisites).Apply(t =>
            t.Item1 == expectedBucket
                ? t.Item1
                : throw new RunException($"The audit stack '{auditStackName}' exports log bucket '{t.Item1}', but this configuration computes '{expectedBucket}': Pulumi.audit.yaml and Pulumi.prod.yaml disagree (namePrefix, auditAccountId or homeRegion)."));

        var trailArgs = new TrailArgs
        {
            Name = design.Name,
            S3BucketName = s3BucketName,
            KmsKeyId = keyArn,
            IsOrganizationTrail = design.IsOrganizationTrail,
            IsMultiRegionTrail = design.IsMultiRegionTrail,
            IncludeGlobalServiceEvents = design.IncludeGlobalServiceEvents,
            EnableLogFileValidation = design.EnableLogFileValidation,
            EnableLogging = design.EnableLogging,
            Tags = PulumiTags.From(design.Tags),
        };
        if (design.S3KeyPrefix.Length > 0)
        {
            trailArgs.S3KeyPrefix = design.S3KeyPrefix;
        }

        foreach (var selector in design.Selectors)
        {
            var selectorArgs = new CloudTrailInputs.TrailAdvancedEventSelectorArgs { Name = selector.Name };
            foreach (var field in selector.FieldSelectors)
            {
                var fieldArgs = new CloudTrailInputs.TrailAdvancedEventSelectorFieldSelectorArgs { Field = field.Field };
                if (!field.EqualTo.IsEmpty)
                {
                    fieldArgs.Equals = [.. field.EqualTo];
                }

                if (!field.NotEqualTo.IsEmpty)
                {
                    fieldArgs.NotEquals = [.. field.NotEqualTo];
                }

                if (!field.StartsWith.IsEmpty)
                {
                    fieldArgs.StartsWiths = [.. field.StartsWith];
                }

                selectorArgs.FieldSelectors.Add(fieldArgs);
            }

            trailArgs.AdvancedEventSelectors.Add(selectorArgs);
        }

        foreach (var insight in design.InsightTypes)
        {
            trailArgs.InsightSelectors.Add(new CloudTrailInputs.TrailInsightSelectorArgs { InsightType = insight });
        }

        var dependsOn = new InputList<Resource>();
        if (design.CloudWatch is { } cw)
        {
            var key = new Key(OrganizationTrailPlan.LogKeyName(design), new KeyArgs
            {
                Description = $"Encrypts the CloudWatch Logs copy of trail '{design.Name}'",
                EnableKeyRotation = cw.LogKeyRotation,
                DeletionWindowInDays = cw.LogKeyDeletionWindowInDays,
                Policy = cw.LogKeyPolicy.ToJson(),
            }, child);
            var logGroup = new LogGroup(OrganizationTrailPlan.LogGroupName(design), new LogGroupArgs
            {
                Name = cw.LogGroupName,
                RetentionInDays = cw.RetentionInDays,
                KmsKeyId = key.Arn,
            }, child);
            var role = new Role(OrganizationTrailPlan.RoleName(design), new RoleArgs
            {
                Name = cw.RoleName,
                AssumeRolePolicy = cw.RoleTrustPolicy.ToJson(),
            }, child);
            var rolePolicy = new RolePolicy(OrganizationTrailPlan.RolePolicyName(design), new RolePolicyArgs
            {
                Role = role.Name,
                Policy = cw.RolePolicy.ToJson(),
            }, child);

            // CloudTrail wants the log group ARN with its ':*' suffix.
            trailArgs.CloudWatchLogsGroupArn = logGroup.Arn.Apply(arn => arn + ":*");
            trailArgs.CloudWatchLogsRoleArn = role.Arn;
            dependsOn.Add(rolePolicy);
        }

        Trail = new Pulumi.Aws.CloudTrail.Trail(OrganizationTrailPlan.TrailResourceName(design), trailArgs, new CustomResourceOptions
        {
            Parent = this,
            Protect = design.Guard.Protect,
            RetainOnDelete = design.Guard.RetainOnDelete,
            DependsOn = dependsOn,
        });
        TrailArn = Trail.Arn;
        RegisterOutputs(new Dictionary<string, object?> { ["trailArn"] = TrailArn });
    }

    /// <summary>An output the audit stack must export, with a message that says what to do when it does not.</summary>
    private static Output<string> Require(StackReference audit, string stackName, string output) =>
        audit.Outputs.Apply(outputs => outputs.TryGetValue(output, out var value) && value is string text && text.Length > 0
            ? text
            : throw new RunException($"The audit stack '{stackName}' has no output '{output}': deploy it first (pulumi up --stack audit), or point auditinfra:trail.auditStackReference at the stack that holds the log archive."));

    private static Output<bool> CheckOrganization(Output<GetOrganizationResult> organization, string organizationId) =>
        organization.Apply(org =>
        {
            if (org.Id != organizationId)
            {
                throw new RunException($"These credentials belong to organization '{org.Id}', but auditinfra:organizationId is '{organizationId}': run the prod stack with the management account of the configured organization.");
            }

            return org.AwsServiceAccessPrincipals.Contains("cloudtrail.amazonaws.com")
                ? true
                : throw new RunException("Trusted access for CloudTrail is not enabled in the organization, so an organization trail cannot be created. Enable it once, from the management account: aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com");
        });

}
