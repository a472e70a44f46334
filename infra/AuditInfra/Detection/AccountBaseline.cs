using AuditInfra.Core.Configuration;
using AuditInfra.Core.Rollout;
using Pulumi;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Iam;
using Pulumi.Aws.Scheduler;
using SchedulerInputs = Pulumi.Aws.Scheduler.Inputs;

namespace AuditInfra.Detection;

/// <summary>
/// The forwarding baseline of one account: one role, and a rule and target per governed region;
/// and the detection canary: its role and a schedule per governed region. Child names equal
/// <see cref="AccountBaselinePlan"/>'s.
/// </summary>
public sealed class AccountBaseline : ComponentResource
{
    public Output<string> RoleArn { get; }

    public AccountBaseline(string name, AccountBaselineArgs args, ComponentResourceOptions? options = null)
        : base(AccountBaselineDesign.ComponentType, name, options)
    {
        var design = args.Design;
        var tags = PulumiTags.From(design.Tags);

        var role = new Role(design.RoleLogicalName, new RoleArgs
        {
            Name = design.RoleName,
            Description = "Lets EventBridge forward this account's CloudTrail events to the central bus",
            AssumeRolePolicy = design.TrustPolicy.ToJson(),
            Tags = tags,
        }, new CustomResourceOptions { Parent = this });

        _ = new RolePolicy(design.RolePolicyLogicalName, new RolePolicyArgs
        {
            Role = role.Id,
            Policy = design.PutEventsPolicy.ToJson(),
        }, new CustomResourceOptions { Parent = this });

        foreach (var rule in design.Rules)
        {
            var eventRule = new EventRule(rule.LogicalName, new EventRuleArgs
            {
                Name = rule.RuleName,
                Region = rule.Region,
                Description = AccountBaselinePlan.RuleDescription,
                EventPattern = AccountBaselineDesigner.PatternJson(design),
                State = "ENABLED",
                Tags = tags,
            }, new CustomResourceOptions { Parent = this });

            _ = new EventTarget(AccountBaselinePlan.TargetName(rule), new EventTargetArgs
            {
                Rule = eventRule.Name,
                Region = rule.Region,
                Arn = design.Inputs.CentralBusArn,
                RoleArn = role.Arn,
                TargetId = rule.TargetId,
            }, new CustomResourceOptions { Parent = this });
        }

        if (design.Canary is { } canary)
        {
            var partition = AwsFormats.PartitionOf(design.Inputs.HomeRegion);
            var canaryRole = new Role(canary.RoleLogicalName, new RoleArgs
            {
                Name = canary.RoleName,
                Description = AccountBaselinePlan.CanaryRoleDescription,
                AssumeRolePolicy = canary.TrustPolicy.ToJson(),
                Tags = tags,
            }, new CustomResourceOptions { Parent = this });

            _ = new RolePolicy(canary.RolePolicyLogicalName, new RolePolicyArgs
            {
                Role = canaryRole.Id,
                Policy = canary.PutParameterPolicy.ToJson(),
            }, new CustomResourceOptions { Parent = this });

            foreach (var schedule in canary.Schedules)
            {
                _ = new Schedule(schedule.LogicalName, new ScheduleArgs
                {
                    Name = schedule.ScheduleName,
                    GroupName = CanaryBaselineDesign.GroupName,
                    Region = schedule.Region,
                    Description = AccountBaselinePlan.CanaryScheduleDescription,
                    ScheduleExpression = canary.ScheduleExpression,
                    FlexibleTimeWindow = new SchedulerInputs.ScheduleFlexibleTimeWindowArgs { Mode = "OFF" },
                    State = "ENABLED",
                    Target = new SchedulerInputs.ScheduleTargetArgs
                    {
                        Arn = canary.TargetArn(partition),
                        RoleArn = canaryRole.Arn,
                        Input = canary.TargetInput,
                        RetryPolicy = new SchedulerInputs.ScheduleTargetRetryPolicyArgs
                        {
                            MaximumEventAgeInSeconds = canary.MaximumEventAgeInSeconds,
                            MaximumRetryAttempts = CanaryBaselineDesign.MaximumRetryAttempts,
                        },
                    },
                }, new CustomResourceOptions { Parent = this });
            }
        }

        RoleArn = role.Arn;
        RegisterOutputs(new Dictionary<string, object?> { ["roleArn"] = RoleArn });
    }
}
