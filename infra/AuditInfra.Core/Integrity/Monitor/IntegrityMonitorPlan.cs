using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Planning;

namespace AuditInfra.Core.Integrity.Monitor;

/// <summary>The monitor's resources under their Pulumi names and wire inputs; the Pulumi component maps each one to one.</summary>
public static class IntegrityMonitorPlan
{
    public static string RepositoryResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-image-repository");

    public static string ClusterResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-cluster");

    public static string TaskLogGroupResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-task-logs");

    public static string KeyResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-attestation-key");

    public static string KeyAliasResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-attestation-key-alias");

    public static string StateBucketResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-state-bucket");

    public static string FindingRuleResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-finding-rule");

    public static string RunsRuleResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-runs-rule");

    public static string RunsLogGroupResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-runs-logs");

    public static string RunsLogPolicyResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-runs-log-policy");

    public static string RunsMetricFilterResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-runs-metric-filter");

    public static string AlarmResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-missed-run-alarm");

    public static string BackfillComputeResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-backfill-compute");

    public static string BackfillQueueResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-backfill-queue");

    public static string BackfillJobResource(IntegrityMonitorDesign d) => d.Names.Logical("integrity-backfill-job");

    public static string InlinePolicyName(RoleDesign role) => AuditAccountPlan.InlinePolicyName(role);

    public static IEnumerable<RoleDesign> Roles(IntegrityMonitorDesign d) => [d.TaskRole, d.ExecutionRole, d.SchedulerRole];

    /// <summary>The detection hub's component: the finding rule lives on its bus, the alarm notifies its topic.</summary>
    public static string DetectionHubComponent(IntegrityMonitorDesign d) => d.Names.Logical(InAccountComponentNames.DetectionHub);

    /// <summary>The task definition's single container, as ECS's containerDefinitions JSON.</summary>
    public static JsonArray ContainerDefinitions(IntegrityMonitorDesign d, MonitorTaskDesign task) => new(new JsonObject
    {
        ["name"] = IntegrityMonitorDesign.ContainerName,
        ["image"] = d.Image,
        ["essential"] = true,
        ["command"] = Strings(task.Command),
        ["logConfiguration"] = LogConfiguration(d, "verify"),
    });

    /// <summary>The backfill job's container (Batch's containerProperties JSON), given the roles' ARNs.</summary>
    public static JsonObject BackfillContainerProperties(IntegrityMonitorDesign d, string jobRoleArn, string executionRoleArn) => new()
    {
        ["image"] = d.Image,
        ["command"] = Strings(d.BackfillCommand),
        ["jobRoleArn"] = jobRoleArn,
        ["executionRoleArn"] = executionRoleArn,
        ["resourceRequirements"] = new JsonArray(
            new JsonObject { ["type"] = "VCPU", ["value"] = d.BackfillVcpus },
            new JsonObject { ["type"] = "MEMORY", ["value"] = d.Settings.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
        ["networkConfiguration"] = new JsonObject { ["assignPublicIp"] = d.Settings.AssignPublicIp ? "ENABLED" : "DISABLED" },
        ["fargatePlatformConfiguration"] = new JsonObject { ["platformVersion"] = "LATEST" },
        ["logConfiguration"] = LogConfiguration(d, "backfill"),
    };

    public static PlannedComponent Render(IntegrityMonitorDesign design)
    {
        var d = design;
        var tags = PlannedResource.Tags(d.Tags);
        var resources = ImmutableArray.CreateBuilder<PlannedResource>();
        var hub = DetectionHubComponent(d);

        resources.Add(new PlannedResource("aws:ecr/repository:Repository", RepositoryResource(d), new JsonObject
        {
            ["name"] = d.Monitor.RepositoryName,
            ["imageTagMutability"] = d.ImageTagMutability,
            ["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = d.ScanOnPush },
            ["encryptionConfigurations"] = new JsonArray(new JsonObject { ["encryptionType"] = d.RepositoryEncryption }),
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:ecs/cluster:Cluster", ClusterResource(d), new JsonObject
        {
            ["name"] = d.Monitor.ClusterName,
            ["settings"] = new JsonArray(new JsonObject { ["name"] = "containerInsights", ["value"] = "enabled" }),
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:cloudwatch/logGroup:LogGroup", TaskLogGroupResource(d), new JsonObject
        {
            ["name"] = d.Monitor.TaskLogGroup,
            ["retentionInDays"] = d.Settings.LogRetentionDays,
            ["tags"] = tags.DeepClone(),
        }));

        foreach (var role in Roles(d))
        {
            resources.Add(new PlannedResource("aws:iam/role:Role", role.LogicalName, new JsonObject
            {
                ["name"] = role.Name,
                ["assumeRolePolicy"] = role.Trust.ToJsonNode(),
                ["maxSessionDuration"] = role.MaxSessionDurationSeconds,
                ["tags"] = tags.DeepClone(),
            }));
            resources.Add(new PlannedResource("aws:iam/rolePolicy:RolePolicy", InlinePolicyName(role), new JsonObject
            {
                ["role"] = PlannedResource.Ref(role.LogicalName, "id"),
                ["policy"] = role.InlinePolicy!.ToJsonNode(),
            }));
        }

        // The key policy names the task role: KMS refuses a principal that does not exist yet.
        resources.Add(new PlannedResource("aws:kms/key:Key", KeyResource(d), new JsonObject
        {
            ["description"] = d.AttestationKey.Description,
            ["customerMasterKeySpec"] = d.AttestationKey.KeySpec,
            ["keyUsage"] = d.AttestationKey.KeyUsage,
            ["enableKeyRotation"] = d.AttestationKey.EnableKeyRotation,
            ["deletionWindowInDays"] = d.AttestationKey.DeletionWindowInDays,
            ["policy"] = d.AttestationKey.Policy.ToJsonNode(),
            ["tags"] = tags.DeepClone(),
        })
        { DependsOn = [d.TaskRole.LogicalName] });
        resources.Add(new PlannedResource("aws:kms/alias:Alias", KeyAliasResource(d), new JsonObject
        {
            ["name"] = d.AttestationKey.AliasName,
            ["targetKeyId"] = PlannedResource.Ref(KeyResource(d), "keyId"),
        }));

        AddStateBucket(d, tags, resources);

        foreach (var task in d.Tasks)
        {
            resources.Add(new PlannedResource("aws:ecs/taskDefinition:TaskDefinition", task.LogicalName, new JsonObject
            {
                ["family"] = task.Family,
                ["requiresCompatibilities"] = new JsonArray("FARGATE"),
                ["networkMode"] = "awsvpc",
                ["cpu"] = d.Settings.Cpu.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["memory"] = d.Settings.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["runtimePlatform"] = new JsonObject { ["operatingSystemFamily"] = "LINUX", ["cpuArchitecture"] = "X86_64" },
                ["taskRoleArn"] = PlannedResource.Ref(d.TaskRole.LogicalName, "arn"),
                ["executionRoleArn"] = PlannedResource.Ref(d.ExecutionRole.LogicalName, "arn"),
                ["containerDefinitions"] = ContainerDefinitions(d, task),
                ["tags"] = tags.DeepClone(),
            }));
        }

        foreach (var schedule in d.Schedules)
        {
            var task = d.Tasks.Single(t => t.Family == schedule.TaskFamily);
            resources.Add(new PlannedResource("aws:scheduler/schedule:Schedule", schedule.LogicalName, new JsonObject
            {
                ["name"] = schedule.Name,
                ["description"] = schedule.Description,
                ["scheduleExpression"] = schedule.Expression,
                ["state"] = d.ScheduleState,
                ["flexibleTimeWindow"] = new JsonObject { ["mode"] = d.FlexibleTimeWindowMode },
                ["target"] = new JsonObject
                {
                    ["arn"] = PlannedResource.Ref(ClusterResource(d), "arn"),
                    ["roleArn"] = PlannedResource.Ref(d.SchedulerRole.LogicalName, "arn"),
                    ["ecsParameters"] = new JsonObject
                    {
                        ["taskDefinitionArn"] = PlannedResource.Ref(task.LogicalName, "arn"),
                        ["launchType"] = "FARGATE",
                        ["platformVersion"] = "LATEST",
                        ["taskCount"] = 1,
                        ["networkConfiguration"] = new JsonObject
                        {
                            ["subnets"] = Strings(d.Settings.SubnetIds),
                            ["securityGroups"] = Strings(d.Settings.SecurityGroupIds),
                            ["assignPublicIp"] = d.Settings.AssignPublicIp,
                        },
                    },
                    ["retryPolicy"] = new JsonObject
                    {
                        ["maximumEventAgeInSeconds"] = d.ScheduleMaximumEventAgeSeconds,
                        ["maximumRetryAttempts"] = d.ScheduleMaximumRetryAttempts,
                    },
                },
            }));
        }

        var findingRule = FindingRuleResource(d);
        resources.Add(new PlannedResource("aws:cloudwatch/eventRule:EventRule", findingRule, new JsonObject
        {
            ["name"] = d.Monitor.FindingRuleName,
            ["eventBusName"] = d.Names.DetectionBusName,
            ["description"] = d.FindingRuleDescription,
            ["eventPattern"] = d.FindingRulePatternJson,
            ["state"] = "ENABLED",
            ["tags"] = tags.DeepClone(),
        })
        { DependsOn = [hub] });
        resources.Add(new PlannedResource("aws:cloudwatch/eventTarget:EventTarget", $"{findingRule}-target", new JsonObject
        {
            ["rule"] = PlannedResource.Ref(findingRule, "name"),
            ["eventBusName"] = d.Names.DetectionBusName,
            ["arn"] = d.Monitor.DetectionTopicArn,
            ["deadLetterConfig"] = new JsonObject { ["arn"] = d.Monitor.DetectionDeadLetterQueueArn },
            ["retryPolicy"] = new JsonObject
            {
                ["maximumEventAgeInSeconds"] = DetectionHubDesign.MaximumEventAgeInSeconds,
                ["maximumRetryAttempts"] = DetectionHubDesign.MaximumRetryAttempts,
            },
        })
        { DependsOn = [hub] });

        AddMissedRunAlarm(d, tags, resources, hub);
        AddBackfill(d, tags, resources);

        return new PlannedComponent(IntegrityMonitorDesign.ComponentType, d.Names.Logical(InAccountComponentNames.IntegrityMonitor), resources.ToImmutable())
        {
            Outputs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                ["integrityImageRepositoryUrl"] = d.Monitor.RepositoryUrl,
                ["integrityAttestationKeyArn"] = PlannedResource.Ref(KeyResource(d), "arn"),
                ["integrityStateBucket"] = d.Monitor.StateBucket,
                ["integrityBackfillJobQueue"] = d.Monitor.BackfillName,
                ["integrityBackfillJobDefinition"] = d.Monitor.BackfillName,
            }),
            Notes =
            [
                $"Runs `auditinfra {string.Join(' ', d.Tasks[0].Command)}` on Fargate ({d.Settings.ScheduleExpression}, flexible window off), and with --full {d.Settings.FullScheduleExpression}; image {d.Image} (CI pushes it; tags are immutable).",
                $"Task role {d.TaskRole.Name}: reads the logs, decrypts with the trail key, writes only state (s3://{d.Monitor.StateBucket}/{IntegrityMonitorNames.StatePrefix}) and attestations (under attestations/, SSE-S3, Object Lock applies), never deletes; signs with {d.AttestationKey.AliasName} ({d.AttestationKey.KeySpec}, SIGN_VERIFY), which no other principal may use to sign; puts findings on the central bus ({IntegrityMonitorPolicies.FindingSource}/{IntegrityMonitorPolicies.FindingDetailType}), delivered by rule {d.Monitor.FindingRuleName} to the detection topic.",
                $"Alarm {d.Monitor.AlarmName}: no run completed (container exit 0 or 1) within {d.Settings.AlarmAfterHours} hour(s); missing data counts as a missed run.",
                $"Backfill: AWS Batch job definition {d.Monitor.BackfillName} on queue {d.Monitor.BackfillName} ({d.QueueState}); submit an array job of N children with parameter {IntegrityMonitorDesign.ShardParameter}=auto/N, each verifies shard {IntegrityMonitorDesign.ArrayIndexVariable} of N and publishes its findings; it does not attest (verify refuses --attest with --shard) (docs/integrity-monitor.md).",
            ],
        };
    }

    private static void AddStateBucket(IntegrityMonitorDesign d, JsonObject tags, ImmutableArray<PlannedResource>.Builder resources)
    {
        var bucket = StateBucketResource(d);
        var bucketRef = PlannedResource.Ref(bucket, "bucket");
        resources.Add(new PlannedResource("aws:s3/bucket:Bucket", bucket, new JsonObject { ["bucket"] = d.Monitor.StateBucket, ["tags"] = tags.DeepClone() }));
        resources.Add(new PlannedResource("aws:s3/bucketOwnershipControls:BucketOwnershipControls", $"{bucket}-ownership", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rule"] = new JsonObject { ["objectOwnership"] = d.StateObjectOwnership },
        }));
        resources.Add(new PlannedResource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", $"{bucket}-public-access", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["blockPublicAcls"] = d.StatePublicAccess.BlockPublicAcls,
            ["blockPublicPolicy"] = d.StatePublicAccess.BlockPublicPolicy,
            ["ignorePublicAcls"] = d.StatePublicAccess.IgnorePublicAcls,
            ["restrictPublicBuckets"] = d.StatePublicAccess.RestrictPublicBuckets,
        }));
        resources.Add(new PlannedResource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", $"{bucket}-encryption", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rules"] = new JsonArray(new JsonObject { ["applyServerSideEncryptionByDefault"] = new JsonObject { ["sseAlgorithm"] = "AES256" } }),
        }));
        resources.Add(new PlannedResource("aws:s3/bucketVersioning:BucketVersioning", $"{bucket}-versioning", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["versioningConfiguration"] = new JsonObject { ["status"] = "Enabled" },
        }));
        resources.Add(new PlannedResource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", $"{bucket}-lifecycle", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["rules"] = new JsonArray(new JsonObject
            {
                ["id"] = "expire-old-states",
                ["status"] = "Enabled",
                ["filter"] = new JsonObject { ["prefix"] = "" },
                ["noncurrentVersionExpiration"] = new JsonObject { ["noncurrentDays"] = d.StateNoncurrentVersionExpirationDays },
                ["abortIncompleteMultipartUpload"] = new JsonObject { ["daysAfterInitiation"] = 1 },
            }),
        })
        { DependsOn = [$"{bucket}-versioning"] });
        resources.Add(new PlannedResource("aws:s3/bucketPolicy:BucketPolicy", $"{bucket}-policy", new JsonObject
        {
            ["bucket"] = bucketRef,
            ["policy"] = d.StateBucketPolicy.ToJsonNode(),
        })
        { DependsOn = [$"{bucket}-public-access"] });
    }

    private static void AddMissedRunAlarm(IntegrityMonitorDesign d, JsonObject tags, ImmutableArray<PlannedResource>.Builder resources, string hub)
    {
        var logs = RunsLogGroupResource(d);
        var policy = RunsLogPolicyResource(d);
        var rule = RunsRuleResource(d);
        resources.Add(new PlannedResource("aws:cloudwatch/logGroup:LogGroup", logs, new JsonObject
        {
            ["name"] = d.Monitor.RunsLogGroup,
            ["retentionInDays"] = d.Settings.LogRetentionDays,
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", policy, new JsonObject
        {
            ["policyName"] = $"{d.Monitor.RunsRuleName}-delivery",
            ["policyDocument"] = d.RunsLogGroupPolicy.ToJsonNode(),
        }));

        // Why events and not a metric the task emits: a run that never starts (schedule disabled,
        // image missing, no capacity) or dies before its last line emits nothing either way, and
        // counting ECS's own stop events needs no code or permission in the task.
        resources.Add(new PlannedResource("aws:cloudwatch/eventRule:EventRule", rule, new JsonObject
        {
            ["name"] = d.Monitor.RunsRuleName,
            ["description"] = "AuditInfra: a scheduled integrity run completed (verify exited 0 or 1)",
            ["eventPattern"] = d.RunsRulePatternJson,
            ["state"] = "ENABLED",
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:cloudwatch/eventTarget:EventTarget", $"{rule}-target", new JsonObject
        {
            ["rule"] = PlannedResource.Ref(rule, "name"),
            ["arn"] = PlannedResource.Ref(logs, "arn"),
        })
        { DependsOn = [policy] });
        resources.Add(new PlannedResource("aws:cloudwatch/logMetricFilter:LogMetricFilter", RunsMetricFilterResource(d), new JsonObject
        {
            ["name"] = $"{d.Monitor.RunsRuleName}-count",
            ["logGroupName"] = PlannedResource.Ref(logs, "name"),
            ["pattern"] = "{ $.detail.lastStatus = \"STOPPED\" }",
            ["metricTransformation"] = new JsonObject
            {
                ["name"] = IntegrityMonitorDesign.MetricName,
                ["namespace"] = IntegrityMonitorDesign.MetricNamespace,
                ["value"] = "1",
            },
        }));
        resources.Add(new PlannedResource("aws:cloudwatch/metricAlarm:MetricAlarm", AlarmResource(d), new JsonObject
        {
            ["name"] = d.Monitor.AlarmName,
            ["alarmDescription"] = $"AuditInfra: no integrity run completed in {d.Settings.AlarmAfterHours} hour(s): the archive is not being proven (see the task logs in {d.Monitor.TaskLogGroup})",
            ["namespace"] = IntegrityMonitorDesign.MetricNamespace,
            ["metricName"] = IntegrityMonitorDesign.MetricName,
            ["statistic"] = "Sum",
            ["period"] = d.AlarmPeriodSeconds,
            ["evaluationPeriods"] = 1,
            ["threshold"] = 1,
            ["comparisonOperator"] = "LessThanThreshold",
            ["treatMissingData"] = "breaching",
            ["alarmActions"] = new JsonArray(d.Monitor.DetectionTopicArn),
            ["okActions"] = new JsonArray(d.Monitor.DetectionTopicArn),
            ["tags"] = tags.DeepClone(),
        })
        { DependsOn = [hub] });
    }

    private static void AddBackfill(IntegrityMonitorDesign d, JsonObject tags, ImmutableArray<PlannedResource>.Builder resources)
    {
        var compute = BackfillComputeResource(d);
        resources.Add(new PlannedResource("aws:batch/computeEnvironment:ComputeEnvironment", compute, new JsonObject
        {
            ["name"] = d.Monitor.BackfillName,
            ["type"] = "MANAGED",
            ["state"] = "ENABLED",
            ["computeResources"] = new JsonObject
            {
                ["type"] = "FARGATE",
                ["maxVcpus"] = d.Settings.Backfill.MaxVcpus,
                ["subnets"] = Strings(d.Settings.SubnetIds),
                ["securityGroupIds"] = Strings(d.Settings.SecurityGroupIds),
            },
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:batch/jobQueue:JobQueue", BackfillQueueResource(d), new JsonObject
        {
            ["name"] = d.Monitor.BackfillName,
            ["state"] = d.QueueState,
            ["priority"] = 1,
            ["computeEnvironmentOrders"] = new JsonArray(new JsonObject { ["order"] = 1, ["computeEnvironment"] = PlannedResource.Ref(compute, "arn") }),
            ["tags"] = tags.DeepClone(),
        }));
        resources.Add(new PlannedResource("aws:batch/jobDefinition:JobDefinition", BackfillJobResource(d), new JsonObject
        {
            ["name"] = d.Monitor.BackfillName,
            ["type"] = "container",
            ["platformCapabilities"] = new JsonArray("FARGATE"),
            ["containerProperties"] = BackfillContainerProperties(d, PlannedResource.Ref(d.TaskRole.LogicalName, "arn"), PlannedResource.Ref(d.ExecutionRole.LogicalName, "arn")),
            ["parameters"] = new JsonObject { [IntegrityMonitorDesign.ShardParameter] = IntegrityMonitorDesign.DefaultShard },
            ["retryStrategy"] = new JsonObject { ["attempts"] = d.BackfillRetryAttempts },
            ["timeout"] = new JsonObject { ["attemptDurationSeconds"] = d.Settings.Backfill.JobTimeoutHours * 3600 },
            ["propagateTags"] = true,
            ["tags"] = tags.DeepClone(),
        }));
    }

    private static JsonObject LogConfiguration(IntegrityMonitorDesign d, string streamPrefix) => new()
    {
        ["logDriver"] = "awslogs",
        ["options"] = new JsonObject
        {
            ["awslogs-group"] = d.Monitor.TaskLogGroup,
            ["awslogs-region"] = d.Names.Config.HomeRegion,
            ["awslogs-stream-prefix"] = streamPrefix,
        },
    };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
}
