using System.Text.Json.Nodes;
using AuditInfra.Core.Checks;
using AuditInfra.Core.Integrity.Monitor;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Integrity.Monitor;

public class IntegrityMonitorDesignTests
{
    private const string Bucket = "arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1";
    private const string StateBucket = "arn:aws:s3:::acme-audit-integrity-state-222222222222-us-east-1";
    private const string TaskRole = "arn:aws:iam::222222222222:role/acme-audit-integrity-task";
    private static readonly IntegrityMonitorDesign Design = IntegrityMonitorDesigner.Design(Samples.Config("audit"));

    private static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected:\n{expected}\nactual:\n{actual.ToJsonString(JsonFormat.Indented)}");

    private static PlannedComponent Component(string yaml) =>
        StackPlanner.Plan(Samples.Bind(yaml).Config!).Components.Single(c => c.Type == IntegrityMonitorDesign.ComponentType);

    [Fact]
    public void The_task_role_reads_the_logs_writes_only_state_and_attestations_and_signs_only_with_its_key()
    {
        AssertJson($$"""
        {
          "Version": "2012-10-17",
          "Statement": [
            { "Sid": "ListTheLogsAndAttestations", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "{{Bucket}}",
              "Condition": { "StringLike": { "s3:prefix": [ "cloudtrail/", "cloudtrail/AWSLogs/*", "cloudtrail/attestations/*" ] } } },
            { "Sid": "ReadTheLogsAndAttestations", "Effect": "Allow", "Action": "s3:GetObject", "Resource": [ "{{Bucket}}/cloudtrail/AWSLogs/*", "{{Bucket}}/cloudtrail/attestations/*" ] },
            { "Sid": "DecryptTrailLogs", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:222222222222:key/*",
              "Condition": { "StringEquals": { "kms:CallerAccount": "222222222222" }, "Null": { "kms:EncryptionContext:aws:cloudtrail:arn": "false" } } },
            { "Sid": "WriteAttestations", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "{{Bucket}}/cloudtrail/attestations/*",
              "Condition": { "StringEquals": { "s3:x-amz-server-side-encryption": "AES256" } } },
            { "Sid": "ListState", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "{{StateBucket}}" },
            { "Sid": "ReadAndWriteState", "Effect": "Allow", "Action": [ "s3:GetObject", "s3:PutObject" ], "Resource": "{{StateBucket}}/state/*" },
            { "Sid": "SignAttestations", "Effect": "Allow", "Action": [ "kms:Sign", "kms:GetPublicKey", "kms:DescribeKey" ], "Resource": "arn:aws:kms:us-east-1:222222222222:key/*",
              "Condition": { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/acme-audit/integrity-attestations" } } },
            { "Sid": "PublishFindingsToTheCentralBus", "Effect": "Allow", "Action": "events:PutEvents", "Resource": "arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central",
              "Condition": { "StringEquals": { "events:source": "auditinfra.integrity" } } },
            { "Sid": "ReadCloudTrailPublicKeys", "Effect": "Allow", "Action": [ "cloudtrail:ListPublicKeys", "cloudtrail:DescribeTrails" ], "Resource": "*" }
          ]
        }
        """, Design.TaskRole.InlinePolicy!.ToJsonNode());
        AssertJson("""
        { "Version": "2012-10-17", "Statement": [ { "Sid": "EcsAndBatchTasksOfTheAuditAccount", "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" },
          "Action": "sts:AssumeRole", "Condition": { "StringEquals": { "aws:SourceAccount": "222222222222" } } } ] }
        """, Design.TaskRole.Trust.ToJsonNode());
    }

    [Fact]
    public void Only_the_task_role_may_sign_and_auditors_may_verify()
    {
        var admin = string.Join(",", AuditInfra.Core.Storage.LogArchivePolicies.KeyAdministrationActions.Select(a => $"\"{a}\""));
        AssertJson($$"""
        {
          "Version": "2012-10-17",
          "Statement": [
            { "Sid": "AllowKeyAdministrationByDeploymentAndBreakGlassRoles", "Effect": "Allow",
              "Principal": { "AWS": [ "arn:aws:iam::222222222222:role/auditinfra-deployment", "arn:aws:iam::222222222222:role/auditinfra-break-glass" ] },
              "Action": [ {{admin}} ], "Resource": "*" },
            { "Sid": "AllowSigningByTheIntegrityMonitorOnly", "Effect": "Allow", "Principal": { "AWS": "{{TaskRole}}" },
              "Action": [ "kms:Sign", "kms:GetPublicKey", "kms:DescribeKey" ], "Resource": "*" },
            { "Sid": "AllowAuditorsToVerifyAttestations", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::222222222222:root" },
              "Action": [ "kms:GetPublicKey", "kms:Verify", "kms:DescribeKey" ], "Resource": "*",
              "Condition": { "StringEquals": { "kms:CallerAccount": "222222222222" } } }
          ]
        }
        """, Design.AttestationKey.Policy.ToJsonNode());
        Assert.DoesNotContain(AuditInfra.Core.Storage.LogArchivePolicies.KeyAdministrationActions, a => "kms:Sign".StartsWith(a.TrimEnd('*'), StringComparison.Ordinal) && a.EndsWith('*'));
        Assert.Equal(("RSA_3072", "SIGN_VERIFY", false), (Design.AttestationKey.KeySpec, Design.AttestationKey.KeyUsage, Design.AttestationKey.EnableKeyRotation));
    }

    [Fact]
    public void The_scheduler_runs_only_the_monitor_tasks_and_passes_only_their_roles()
    {
        AssertJson("""
        {
          "Version": "2012-10-17",
          "Statement": [
            { "Sid": "RunTheMonitorTasksOnly", "Effect": "Allow", "Action": "ecs:RunTask",
              "Resource": [ "arn:aws:ecs:us-east-1:222222222222:task-definition/acme-audit-integrity-verify:*", "arn:aws:ecs:us-east-1:222222222222:task-definition/acme-audit-integrity-verify-full:*" ],
              "Condition": { "ArnEquals": { "ecs:cluster": "arn:aws:ecs:us-east-1:222222222222:cluster/acme-audit-integrity" } } },
            { "Sid": "PassTheTaskRolesOnly", "Effect": "Allow", "Action": "iam:PassRole",
              "Resource": [ "arn:aws:iam::222222222222:role/acme-audit-integrity-task", "arn:aws:iam::222222222222:role/acme-audit-integrity-execution" ],
              "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } }
          ]
        }
        """, Design.SchedulerRole.InlinePolicy!.ToJsonNode());
        AssertJson("""
        { "Version": "2012-10-17", "Statement": [ { "Sid": "SchedulerOfTheAuditAccount", "Effect": "Allow", "Principal": { "Service": "scheduler.amazonaws.com" },
          "Action": "sts:AssumeRole", "Condition": { "StringEquals": { "aws:SourceAccount": "222222222222" } } } ] }
        """, Design.SchedulerRole.Trust.ToJsonNode());
    }

    [Fact]
    public void The_execution_role_pulls_the_image_and_writes_the_task_logs_only()
    {
        AssertJson("""
        {
          "Version": "2012-10-17",
          "Statement": [
            { "Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*" },
            { "Sid": "PullTheCliImage", "Effect": "Allow", "Action": [ "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ],
              "Resource": "arn:aws:ecr:us-east-1:222222222222:repository/acme-audit/auditinfra" },
            { "Sid": "WriteTaskLogs", "Effect": "Allow", "Action": [ "logs:CreateLogStream", "logs:PutLogEvents" ],
              "Resource": "arn:aws:logs:us-east-1:222222222222:log-group:/auditinfra/acme-audit/integrity:*" }
          ]
        }
        """, Design.ExecutionRole.InlinePolicy!.ToJsonNode());
    }

    [Fact]
    public void Hourly_incremental_and_daily_full_runs_with_the_flexible_window_off()
    {
        var plan = Component(Samples.Text("audit"));
        var schedules = plan.Resources.Where(r => r.Type == "aws:scheduler/schedule:Schedule").ToList();
        Assert.Equal(["rate(1 hour)", "rate(1 day)"], schedules.Select(s => (string)s.Properties["scheduleExpression"]!).ToArray());
        Assert.All(schedules, s =>
        {
            Assert.Equal("ENABLED", (string)s.Properties["state"]!);
            Assert.Equal("OFF", (string)s.Properties["flexibleTimeWindow"]!["mode"]!);
            Assert.Equal("FARGATE", (string)s.Properties["target"]!["ecsParameters"]!["launchType"]!);
        });
        Assert.Equal("${acme-audit-integrity-task.arn}", (string)schedules[0].Properties["target"]!["ecsParameters"]!["taskDefinitionArn"]!);
        Assert.Equal("${acme-audit-integrity-task-full.arn}", (string)schedules[1].Properties["target"]!["ecsParameters"]!["taskDefinitionArn"]!);

        var full = plan.Resources.Single(r => r.Name == "acme-audit-integrity-task-full");
        var container = full.Properties["containerDefinitions"]![0]!;
        Assert.Equal("222222222222.dkr.ecr.us-east-1.amazonaws.com/acme-audit/auditinfra:sample-0000000", (string)container["image"]!);
        var command = container["command"]!.AsArray().Select(c => (string)c!).ToArray();
        Assert.Equal(["verify", "--source", "s3://acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail"], command[..3]);
        Assert.Equal("--full", command[^1]);
        Assert.Contains("s3://acme-audit-integrity-state-222222222222-us-east-1/state/verify-state.json", command);
        Assert.Equal(["--attest", "--kms-key-id", "alias/acme-audit/integrity-attestations"], command[^4..^1]);
        Assert.Equal("arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central", command[Array.IndexOf(command, "--publish-findings") + 1]);
    }

    [Fact]
    public void The_backfill_queue_is_disabled_unless_configured_and_shards_by_the_array_index()
    {
        static string QueueState(PlannedComponent c) => (string)c.Resources.Single(r => r.Type == "aws:batch/jobQueue:JobQueue").Properties["state"]!;
        Assert.Equal("DISABLED", QueueState(Component(Samples.Text("audit"))));
        Assert.Equal("ENABLED", QueueState(Component(Samples.Text("audit").Replace("      enabled: false\n      # vCPUs", "      enabled: true\n      # vCPUs"))));

        var job = Component(Samples.Text("audit")).Resources.Single(r => r.Type == "aws:batch/jobDefinition:JobDefinition");
        var properties = job.Properties["containerProperties"]!;
        Assert.Equal("${acme-audit-integrity-task-role.arn}", (string)properties["jobRoleArn"]!);
        var command = properties["command"]!.AsArray().Select(c => (string)c!).ToArray();
        // Batch substitutes only a whole argument: the shard is one parameter, defaulting to every chain in one child.
        Assert.Equal(["--shard", "Ref::shard"], command[^2..]);
        Assert.DoesNotContain("--attest", command);
        Assert.Equal("0/1", (string)job.Properties["parameters"]!["shard"]!);
        Assert.Equal(["FARGATE"], job.Properties["platformCapabilities"]!.AsArray().Select(c => (string)c!).ToArray());
    }

    [Fact]
    public void A_completed_run_is_a_stopped_verify_container_that_exited_0_or_1_and_missing_runs_alarm()
    {
        var plan = Component(Samples.Text("audit"));
        var pattern = JsonNode.Parse((string)plan.Resources.Single(r => r.Name == "acme-audit-integrity-runs-rule").Properties["eventPattern"]!)!;
        Assert.Equal("[0,1]", pattern["detail"]!["containers"]!["exitCode"]!.ToJsonString());
        Assert.Equal("[\"arn:aws:ecs:us-east-1:222222222222:cluster/acme-audit-integrity\"]", pattern["detail"]!["clusterArn"]!.ToJsonString());
        var alarm = plan.Resources.Single(r => r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm").Properties;
        Assert.Equal(("breaching", 7200, "LessThanThreshold"), ((string)alarm["treatMissingData"]!, (int)alarm["period"]!, (string)alarm["comparisonOperator"]!));
        Assert.Equal("arn:aws:sns:us-east-1:222222222222:acme-audit-detections", (string)alarm["alarmActions"]![0]!);

        // The findings rule shares the detection rules' prefix, so the topic and DLQ policies admit it.
        var finding = plan.Resources.Single(r => r.Name == "acme-audit-integrity-finding-rule");
        Assert.StartsWith(new AuditInfra.Core.Naming.ResourceNames(Samples.Config("audit")).DetectionRuleNamePrefix, (string)finding.Properties["name"]!);
        Assert.Equal("acme-audit-central", (string)finding.Properties["eventBusName"]!);
    }

    [Fact]
    public void The_shipped_monitor_keeps_every_invariant_and_a_task_role_that_deletes_breaks_one()
    {
        var plan = StackPlanner.Plan(Samples.Config("audit")).ToJsonNode();
        Assert.Empty(DesignCheck.Evaluate(plan));

        var policy = plan["components"]!.AsArray().Select(c => c!["resources"]!.AsArray().FirstOrDefault(r => (string)r!["name"]! == "acme-audit-integrity-task-role-policy")).Single(r => r is not null)!;
        policy["properties"]!["policy"]!["Statement"]![0]!["Action"] = "s3:Delete*";
        var violations = DesignCheck.Evaluate(plan);
        Assert.All(violations, v => Assert.Equal("monitor-task-role-no-delete", v.InvariantId));
        Assert.Equal(["s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion"], violations.Select(v => v.Message.Split(' ')[3]).Order().ToArray());
    }

    [Fact]
    public void The_detection_topic_and_its_key_accept_only_this_stacks_alarms()
    {
        var hub = AuditInfra.Core.Detection.DetectionHubDesigner.Design(Samples.Config("audit"));
        var condition = """{ "ArnLike": { "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:222222222222:alarm:acme-audit-*" } }""";
        AssertJson($$"""
        { "Sid": "AllowDesignAlarmsToPublish", "Effect": "Allow", "Principal": { "Service": "cloudwatch.amazonaws.com" },
          "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:222222222222:acme-audit-detections", "Condition": {{condition}} }
        """, hub.TopicPolicy.Find(AuditInfra.Core.Detection.DetectionHubDesigner.AlarmsPublishSid)!.ToJsonNode());
        AssertJson($$"""
        { "Sid": "AllowDesignAlarmsToPublish", "Effect": "Allow", "Principal": { "Service": "cloudwatch.amazonaws.com" },
          "Action": [ "kms:Decrypt", "kms:GenerateDataKey*" ], "Resource": "*", "Condition": {{condition}} }
        """, hub.TopicKeyPolicy.Find(AuditInfra.Core.Detection.DetectionHubDesigner.AlarmsPublishSid)!.ToJsonNode());
        Assert.StartsWith("acme-audit-", Design.Monitor.AlarmName, StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_by_default_nothing_of_it_is_planned()
    {
        var yaml = Samples.Text("audit");
        var start = yaml.IndexOf("  auditinfra:integrity:", StringComparison.Ordinal);
        var end = yaml.IndexOf("  # --- The organization trail", StringComparison.Ordinal);
        var plan = StackPlanner.Plan(Samples.Bind(yaml[..start] + yaml[end..]).Config!);
        Assert.DoesNotContain(plan.Components, c => c.Type == IntegrityMonitorDesign.ComponentType);
        Assert.DoesNotContain(plan.AllResources, r => r.Name.Contains("integrity", StringComparison.Ordinal));
    }
}
