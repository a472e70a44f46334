using AuditInfra.Core.Detection;
using AuditInfra.Core.Integrity.Monitor;
using AuditInfra.Core.Planning;
using Pulumi;
using Pulumi.Aws.Batch;
using Pulumi.Aws.CloudWatch;
using Pulumi.Aws.Ecr;
using Pulumi.Aws.Ecs;
using Pulumi.Aws.Iam;
using Pulumi.Aws.Kms;
using Pulumi.Aws.S3;
using Pulumi.Aws.Scheduler;
using BatchInputs = Pulumi.Aws.Batch.Inputs;
using CloudWatchInputs = Pulumi.Aws.CloudWatch.Inputs;
using EcrInputs = Pulumi.Aws.Ecr.Inputs;
using EcsInputs = Pulumi.Aws.Ecs.Inputs;
using S3Inputs = Pulumi.Aws.S3.Inputs;
using SchedulerInputs = Pulumi.Aws.Scheduler.Inputs;

namespace AuditInfra.Integrity;

/// <summary>
/// The continuous integrity monitor: maps <see cref="IntegrityMonitorPlan"/> one to one (child
/// names, inputs, dependencies), every decision taken in Core's design.
/// </summary>
public sealed class IntegrityMonitor : ComponentResource
{
    public Output<string> AttestationKeyArn { get; }

    public IntegrityMonitor(string name, IntegrityMonitorArgs args, ComponentResourceOptions? options = null)
        : base(IntegrityMonitorDesign.ComponentType, name, options)
    {
        var d = args.Design;
        var child = new CustomResourceOptions { Parent = this };
        CustomResourceOptions After(params Resource[] resources)
        {
            var options = new CustomResourceOptions { Parent = this };
            foreach (var resource in resources)
            {
                options.DependsOn.Add(resource);
            }

            return options;
        }

        InputMap<string> Tags() => PulumiTags.From(d.Tags);

        _ = new Repository(IntegrityMonitorPlan.RepositoryResource(d), new RepositoryArgs
        {
            Name = d.Monitor.RepositoryName,
            ImageTagMutability = d.ImageTagMutability,
            ImageScanningConfiguration = new EcrInputs.RepositoryImageScanningConfigurationArgs { ScanOnPush = d.ScanOnPush },
            EncryptionConfigurations = { new EcrInputs.RepositoryEncryptionConfigurationArgs { EncryptionType = d.RepositoryEncryption } },
            Tags = Tags(),
        }, child);
        var cluster = new Cluster(IntegrityMonitorPlan.ClusterResource(d), new ClusterArgs
        {
            Name = d.Monitor.ClusterName,
            Settings = { new EcsInputs.ClusterSettingArgs { Name = "containerInsights", Value = "enabled" } },
            Tags = Tags(),
        }, child);
        _ = new LogGroup(IntegrityMonitorPlan.TaskLogGroupResource(d), new LogGroupArgs
        {
            Name = d.Monitor.TaskLogGroup,
            RetentionInDays = d.Settings.LogRetentionDays,
            Tags = Tags(),
        }, child);

        var roles = new Dictionary<string, Role>();
        foreach (var design in IntegrityMonitorPlan.Roles(d))
        {
            var role = new Role(design.LogicalName, new RoleArgs
            {
                Name = design.Name,
                AssumeRolePolicy = design.Trust.ToJson(),
                MaxSessionDuration = design.MaxSessionDurationSeconds,
                Tags = Tags(),
            }, child);
            _ = new RolePolicy(IntegrityMonitorPlan.InlinePolicyName(design), new RolePolicyArgs
            {
                Role = role.Id,
                Policy = design.InlinePolicy!.ToJson(),
            }, child);
            roles[design.LogicalName] = role;
        }

        var taskRole = roles[d.TaskRole.LogicalName];
        var executionRole = roles[d.ExecutionRole.LogicalName];
        var key = new Key(IntegrityMonitorPlan.KeyResource(d), new KeyArgs
        {
            Description = d.AttestationKey.Description,
            CustomerMasterKeySpec = d.AttestationKey.KeySpec,
            KeyUsage = d.AttestationKey.KeyUsage,
            EnableKeyRotation = d.AttestationKey.EnableKeyRotation,
            DeletionWindowInDays = d.AttestationKey.DeletionWindowInDays,
            Policy = d.AttestationKey.Policy.ToJson(),
            Tags = Tags(),
        }, After(taskRole));
        _ = new Pulumi.Aws.Kms.Alias(IntegrityMonitorPlan.KeyAliasResource(d), new AliasArgs
        {
            Name = d.AttestationKey.AliasName,
            TargetKeyId = key.KeyId,
        }, child);

        StateBucket(d, Tags, child, After);

        var taskDefinitions = new Dictionary<string, TaskDefinition>();
        foreach (var task in d.Tasks)
        {
            taskDefinitions[task.Family] = new TaskDefinition(task.LogicalName, new TaskDefinitionArgs
            {
                Family = task.Family,
                RequiresCompatibilities = { "FARGATE" },
                NetworkMode = "awsvpc",
                Cpu = d.Settings.Cpu.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Memory = d.Settings.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
                RuntimePlatform = new EcsInputs.TaskDefinitionRuntimePlatformArgs { OperatingSystemFamily = "LINUX", CpuArchitecture = "X86_64" },
                TaskRoleArn = taskRole.Arn,
                ExecutionRoleArn = executionRole.Arn,
                ContainerDefinitions = IntegrityMonitorPlan.ContainerDefinitions(d, task).ToJsonString(JsonFormat.Compact),
                Tags = Tags(),
            }, child);
        }

        var schedulerRole = roles[d.SchedulerRole.LogicalName];
        foreach (var schedule in d.Schedules)
        {
            var network = new SchedulerInputs.ScheduleTargetEcsParametersNetworkConfigurationArgs { AssignPublicIp = d.Settings.AssignPublicIp };
            network.Subnets = [.. d.Settings.SubnetIds];
            network.SecurityGroups = [.. d.Settings.SecurityGroupIds];
            _ = new Schedule(schedule.LogicalName, new ScheduleArgs
            {
                Name = schedule.Name,
                Description = schedule.Description,
                ScheduleExpression = schedule.Expression,
                State = d.ScheduleState,
                FlexibleTimeWindow = new SchedulerInputs.ScheduleFlexibleTimeWindowArgs { Mode = d.FlexibleTimeWindowMode },
                Target = new SchedulerInputs.ScheduleTargetArgs
                {
                    Arn = cluster.Arn,
                    RoleArn = schedulerRole.Arn,
                    EcsParameters = new SchedulerInputs.ScheduleTargetEcsParametersArgs
                    {
                        TaskDefinitionArn = taskDefinitions[schedule.TaskFamily].Arn,
                        LaunchType = "FARGATE",
                        PlatformVersion = "LATEST",
                        TaskCount = 1,
                        NetworkConfiguration = network,
                    },
                    RetryPolicy = new SchedulerInputs.ScheduleTargetRetryPolicyArgs
                    {
                        MaximumEventAgeInSeconds = d.ScheduleMaximumEventAgeSeconds,
                        MaximumRetryAttempts = d.ScheduleMaximumRetryAttempts,
                    },
                },
            }, child);
        }

        var findingRule = new EventRule(IntegrityMonitorPlan.FindingRuleResource(d), new EventRuleArgs
        {
            Name = d.Monitor.FindingRuleName,
            EventBusName = d.Names.DetectionBusName,
            Description = d.FindingRuleDescription,
            EventPattern = d.FindingRulePatternJson,
            State = "ENABLED",
            Tags = Tags(),
        }, After(args.DetectionHub));
        _ = new EventTarget($"{IntegrityMonitorPlan.FindingRuleResource(d)}-target", new EventTargetArgs
        {
            Rule = findingRule.Name,
            EventBusName = d.Names.DetectionBusName,
            Arn = d.Monitor.DetectionTopicArn,
            DeadLetterConfig = new CloudWatchInputs.EventTargetDeadLetterConfigArgs { Arn = d.Monitor.DetectionDeadLetterQueueArn },
            RetryPolicy = new CloudWatchInputs.EventTargetRetryPolicyArgs
            {
                MaximumEventAgeInSeconds = DetectionHubDesign.MaximumEventAgeInSeconds,
                MaximumRetryAttempts = DetectionHubDesign.MaximumRetryAttempts,
            },
        }, After(args.DetectionHub));

        MissedRunAlarm(d, Tags, child, After, args.DetectionHub);
        Backfill(d, Tags, child, taskRole, executionRole);

        AttestationKeyArn = key.Arn;
        RegisterOutputs(new Dictionary<string, object?> { ["attestationKeyArn"] = AttestationKeyArn });
    }

    private static void StateBucket(IntegrityMonitorDesign d, Func<InputMap<string>> tags, CustomResourceOptions child, Func<Resource[], CustomResourceOptions> after)
    {
        var name = IntegrityMonitorPlan.StateBucketResource(d);
        var bucket = new Pulumi.Aws.S3.Bucket(name, new BucketArgs { BucketName = d.Monitor.StateBucket, Tags = tags() }, child);
        _ = new BucketOwnershipControls($"{name}-ownership", new BucketOwnershipControlsArgs
        {
            Bucket = bucket.Id,
            Rule = new S3Inputs.BucketOwnershipControlsRuleArgs { ObjectOwnership = d.StateObjectOwnership },
        }, child);
        var publicAccess = new BucketPublicAccessBlock($"{name}-public-access", new BucketPublicAccessBlockArgs
        {
            Bucket = bucket.Id,
            BlockPublicAcls = d.StatePublicAccess.BlockPublicAcls,
            BlockPublicPolicy = d.StatePublicAccess.BlockPublicPolicy,
            IgnorePublicAcls = d.StatePublicAccess.IgnorePublicAcls,
            RestrictPublicBuckets = d.StatePublicAccess.RestrictPublicBuckets,
        }, child);
        _ = new BucketServerSideEncryptionConfiguration($"{name}-encryption", new BucketServerSideEncryptionConfigurationArgs
        {
            Bucket = bucket.Id,
            Rules =
            {
                new S3Inputs.BucketServerSideEncryptionConfigurationRuleArgs
                {
                    ApplyServerSideEncryptionByDefault = new S3Inputs.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs { SseAlgorithm = "AES256" },
                },
            },
        }, child);
        var versioning = new BucketVersioning($"{name}-versioning", new BucketVersioningArgs
        {
            Bucket = bucket.Id,
            VersioningConfiguration = new S3Inputs.BucketVersioningVersioningConfigurationArgs { Status = "Enabled" },
        }, child);
        _ = new BucketLifecycleConfiguration($"{name}-lifecycle", new BucketLifecycleConfigurationArgs
        {
            Bucket = bucket.Id,
            Rules =
            {
                new S3Inputs.BucketLifecycleConfigurationRuleArgs
                {
                    Id = "expire-old-states",
                    Status = "Enabled",
                    Filter = new S3Inputs.BucketLifecycleConfigurationRuleFilterArgs { Prefix = "" },
                    NoncurrentVersionExpiration = new S3Inputs.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs { NoncurrentDays = d.StateNoncurrentVersionExpirationDays },
                    AbortIncompleteMultipartUpload = new S3Inputs.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs { DaysAfterInitiation = 1 },
                },
            },
        }, after([versioning]));
        _ = new BucketPolicy($"{name}-policy", new BucketPolicyArgs
        {
            Bucket = bucket.Id,
            Policy = d.StateBucketPolicy.ToJson(),
        }, after([publicAccess]));
    }

    private static void MissedRunAlarm(IntegrityMonitorDesign d, Func<InputMap<string>> tags, CustomResourceOptions child, Func<Resource[], CustomResourceOptions> after, Resource hub)
    {
        var logs = new LogGroup(IntegrityMonitorPlan.RunsLogGroupResource(d), new LogGroupArgs
        {
            Name = d.Monitor.RunsLogGroup,
            RetentionInDays = d.Settings.LogRetentionDays,
            Tags = tags(),
        }, child);
        var delivery = new LogResourcePolicy(IntegrityMonitorPlan.RunsLogPolicyResource(d), new LogResourcePolicyArgs
        {
            PolicyName = $"{d.Monitor.RunsRuleName}-delivery",
            PolicyDocument = d.RunsLogGroupPolicy.ToJson(),
        }, child);
        var rule = new EventRule(IntegrityMonitorPlan.RunsRuleResource(d), new EventRuleArgs
        {
            Name = d.Monitor.RunsRuleName,
            Description = "AuditInfra: a scheduled integrity run completed (verify exited 0 or 1)",
            EventPattern = d.RunsRulePatternJson,
            State = "ENABLED",
            Tags = tags(),
        }, child);
        _ = new EventTarget($"{IntegrityMonitorPlan.RunsRuleResource(d)}-target", new EventTargetArgs
        {
            Rule = rule.Name,
            Arn = logs.Arn,
        }, after([delivery]));
        _ = new LogMetricFilter(IntegrityMonitorPlan.RunsMetricFilterResource(d), new LogMetricFilterArgs
        {
            Name = $"{d.Monitor.RunsRuleName}-count",
            LogGroupName = logs.Name,
            Pattern = "{ $.detail.lastStatus = \"STOPPED\" }",
            MetricTransformation = new CloudWatchInputs.LogMetricFilterMetricTransformationArgs
            {
                Name = IntegrityMonitorDesign.MetricName,
                Namespace = IntegrityMonitorDesign.MetricNamespace,
                Value = "1",
            },
        }, child);
        _ = new MetricAlarm(IntegrityMonitorPlan.AlarmResource(d), new MetricAlarmArgs
        {
            Name = d.Monitor.AlarmName,
            AlarmDescription = $"AuditInfra: no integrity run completed in {d.Settings.AlarmAfterHours} hour(s): the archive is not being proven (see the task logs in {d.Monitor.TaskLogGroup})",
            Namespace = IntegrityMonitorDesign.MetricNamespace,
            MetricName = IntegrityMonitorDesign.MetricName,
            Statistic = "Sum",
            Period = d.AlarmPeriodSeconds,
            EvaluationPeriods = 1,
            Threshold = 1,
            ComparisonOperator = "LessThanThreshold",
            TreatMissingData = "breaching",
            AlarmActions = { d.Monitor.DetectionTopicArn },
            OkActions = { d.Monitor.DetectionTopicArn },
            Tags = tags(),
        }, after([hub]));
    }

    private static void Backfill(IntegrityMonitorDesign d, Func<InputMap<string>> tags, CustomResourceOptions child, Role taskRole, Role executionRole)
    {
        var compute = new Pulumi.Aws.Batch.ComputeEnvironment(IntegrityMonitorPlan.BackfillComputeResource(d), new ComputeEnvironmentArgs
        {
            Name = d.Monitor.BackfillName,
            Type = "MANAGED",
            State = "ENABLED",
            ComputeResources = new BatchInputs.ComputeEnvironmentComputeResourcesArgs
            {
                Type = "FARGATE",
                MaxVcpus = d.Settings.Backfill.MaxVcpus,
                Subnets = [.. d.Settings.SubnetIds],
                SecurityGroupIds = [.. d.Settings.SecurityGroupIds],
            },
            Tags = tags(),
        }, child);
        _ = new JobQueue(IntegrityMonitorPlan.BackfillQueueResource(d), new JobQueueArgs
        {
            Name = d.Monitor.BackfillName,
            State = d.QueueState,
            Priority = 1,
            ComputeEnvironmentOrders = { new BatchInputs.JobQueueComputeEnvironmentOrderArgs { Order = 1, ComputeEnvironment = compute.Arn } },
            Tags = tags(),
        }, child);
        _ = new JobDefinition(IntegrityMonitorPlan.BackfillJobResource(d), new JobDefinitionArgs
        {
            Name = d.Monitor.BackfillName,
            Type = "container",
            PlatformCapabilities = { "FARGATE" },
            ContainerProperties = Output.Tuple(taskRole.Arn, executionRole.Arn)
                .Apply(arns => IntegrityMonitorPlan.BackfillContainerProperties(d, arns.Item1, arns.Item2).ToJsonString(JsonFormat.Compact)),
            Parameters = { { IntegrityMonitorDesign.ShardParameter, IntegrityMonitorDesign.DefaultShard } },
            RetryStrategy = new BatchInputs.JobDefinitionRetryStrategyArgs { Attempts = d.BackfillRetryAttempts },
            Timeout = new BatchInputs.JobDefinitionTimeoutArgs { AttemptDurationSeconds = d.Settings.Backfill.JobTimeoutHours * 3600 },
            PropagateTags = true,
            Tags = tags(),
        }, child);
    }
}
