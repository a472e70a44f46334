using System.Text.Json;
using System.Text.Json.Nodes;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Tests.Support;
using static AuditInfra.Core.Tests.Detection.CloudTrailRecords;

namespace AuditInfra.Core.Tests.Detection;

public class DetectionCatalogTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("audit");
    private static readonly CompiledCatalog Catalog = new(DetectionCatalog.For(Config));

    private static List<string> Fired(JsonObject record)
    {
        using var doc = JsonDocument.Parse(EventEnvelopes.Wrap(JsonDocument.Parse(record.ToJsonString()).RootElement));
        return [.. Catalog.Match(doc.RootElement).Select(r => r.Id)];
    }

    /// <summary>For every detection: a record that must fire it and a near miss that must not.</summary>
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "root-account-use", ConsoleLogin("Root", "Success", "Yes").ToJsonString(), AssumedRole("s3.amazonaws.com", "GetObject").With(r => { r["userIdentity"] = new JsonObject { ["type"] = "Root", ["invokedBy"] = "cloudformation.amazonaws.com", ["accountId"] = "333333333333" }; }).ToJsonString() },
        { "console-login-without-mfa", ConsoleLogin("IAMUser", "Success", "No").ToJsonString(), ConsoleLogin("IAMUser", "Success", "Yes").ToJsonString() },
        { "console-authentication-failures", ConsoleLogin("IAMUser", "Failure", "No", "Failed authentication").ToJsonString(), ConsoleLogin("IAMUser", "Success", "Yes").ToJsonString() },
        { "unauthorized-api-calls", AssumedRole("ec2.amazonaws.com", "RunInstances").With(r => r["errorCode"] = "Client.UnauthorizedOperation").ToJsonString(), AssumedRole("s3.amazonaws.com", "HeadBucket").With(r => r["errorCode"] = "AccessDenied").ToJsonString() },
        { "iam-policy-changes", AssumedRole("iam.amazonaws.com", "AttachRolePolicy").ToJsonString(), AssumedRole("iam.amazonaws.com", "GetRolePolicy").ToJsonString() },
        { "cloudtrail-changes", AssumedRole("cloudtrail.amazonaws.com", "PutEventSelectors").ToJsonString(), AssumedRole("cloudtrail.amazonaws.com", "LookupEvents").ToJsonString() },
        { "kms-key-disabled-or-deleted", AssumedRole("kms.amazonaws.com", "ScheduleKeyDeletion").ToJsonString(), AssumedRole("kms.amazonaws.com", "EnableKey").ToJsonString() },
        { "s3-bucket-policy-changes", AssumedRole("s3.amazonaws.com", "PutBucketPolicy").ToJsonString(), AssumedRole("s3.amazonaws.com", "GetBucketPolicy").ToJsonString() },
        { "config-changes", AssumedRole("config.amazonaws.com", "StopConfigurationRecorder").ToJsonString(), AssumedRole("config.amazonaws.com", "StartConfigurationRecorder").ToJsonString() },
        { "security-group-changes", AssumedRole("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress").ToJsonString(), AssumedRole("ec2.amazonaws.com", "DescribeSecurityGroups").ToJsonString() },
        { "nacl-changes", AssumedRole("ec2.amazonaws.com", "ReplaceNetworkAclEntry").ToJsonString(), AssumedRole("ec2.amazonaws.com", "DescribeNetworkAcls").ToJsonString() },
        { "network-gateway-changes", AssumedRole("ec2.amazonaws.com", "AttachInternetGateway").ToJsonString(), AssumedRole("ec2.amazonaws.com", "CreateNatGateway").ToJsonString() },
        { "route-table-changes", AssumedRole("ec2.amazonaws.com", "CreateRoute").ToJsonString(), AssumedRole("ec2.amazonaws.com", "DescribeRouteTables").ToJsonString() },
        { "vpc-changes", AssumedRole("ec2.amazonaws.com", "CreateVpcPeeringConnection").ToJsonString(), AssumedRole("ec2.amazonaws.com", "CreateSubnet").ToJsonString() },
        { "organizations-changes", AssumedRole("organizations.amazonaws.com", "DetachPolicy", account: "111111111111").ToJsonString(), AssumedRole("organizations.amazonaws.com", "ListAccounts", account: "111111111111").ToJsonString() },
        { "audit-trail-tampering", AssumedRole("cloudtrail.amazonaws.com", "StopLogging", account: "111111111111").With(r => r["requestParameters"] = new JsonObject { ["name"] = "arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail" }).ToJsonString(), AssumedRole("cloudtrail.amazonaws.com", "StopLogging").With(r => r["requestParameters"] = new JsonObject { ["name"] = "team-trail" }).ToJsonString() },
        { "audit-log-bucket-tampering", AssumedRole("s3.amazonaws.com", "PutBucketLifecycle", account: "222222222222").With(r => r["requestParameters"] = new JsonObject { ["bucketName"] = "acme-audit-cloudtrail-222222222222-us-east-1", ["lifecycle"] = "" }).ToJsonString(), AssumedRole("s3.amazonaws.com", "PutBucketLifecycle").With(r => r["requestParameters"] = new JsonObject { ["bucketName"] = "team-bucket" }).ToJsonString() },
        { "audit-key-tampering", AssumedRole("kms.amazonaws.com", "PutKeyPolicy", account: "222222222222").ToJsonString(), AssumedRole("kms.amazonaws.com", "PutKeyPolicy", account: "333333333333").ToJsonString() },
        { "detection-forwarding-tampering", AssumedRole("events.amazonaws.com", "DisableRule").With(r => r["requestParameters"] = new JsonObject { ["name"] = "acme-audit-forward-to-central-bus" }).ToJsonString(), AssumedRole("events.amazonaws.com", "DisableRule").With(r => r["requestParameters"] = new JsonObject { ["name"] = "nightly-job" }).ToJsonString() },
        { "security-services-disabled", AssumedRole("guardduty.amazonaws.com", "DeleteDetector").ToJsonString(), AssumedRole("guardduty.amazonaws.com", "GetDetector").ToJsonString() },
        { "detection-canary", Canary("acme-audit-detection-canary", "/acme-audit/canary"), Canary("Admin", "/acme-audit/canary") },
    };

    /// <summary>The canary's call as CloudTrail records it: ssm:PutParameter by the role Scheduler assumed.</summary>
    public static string Canary(string role, string parameter, string region = "eu-west-1") =>
        AssumedRole("ssm.amazonaws.com", "PutParameter", region: region).With(r =>
        {
            r["userIdentity"]!["arn"] = $"arn:aws:sts::333333333333:assumed-role/{role}/a1b2c3d4e5f6";
            r["userIdentity"]!["sessionContext"]!["sessionIssuer"] = new JsonObject { ["type"] = "Role", ["arn"] = $"arn:aws:iam::333333333333:role/{role}", ["accountId"] = "333333333333", ["userName"] = role };
            r["userIdentity"]!["invokedBy"] = "scheduler.amazonaws.com";
            r["sourceIPAddress"] = "scheduler.amazonaws.com";
            r["userAgent"] = "scheduler.amazonaws.com";
            r["requestParameters"] = new JsonObject { ["name"] = parameter, ["type"] = "String", ["overwrite"] = true };
            r["responseElements"] = new JsonObject { ["version"] = 42, ["tier"] = "Standard" };
        }).ToJsonString();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_detection_fires_on_its_event_and_not_on_a_near_miss(string id, string firing, string nearMiss)
    {
        Assert.Contains(id, Fired((JsonObject)JsonNode.Parse(firing)!));
        Assert.DoesNotContain(id, Fired((JsonObject)JsonNode.Parse(nearMiss)!));
    }

    private static string Organizations(string eventName, string servicePrincipal) =>
        AssumedRole("organizations.amazonaws.com", eventName, account: "111111111111").With(r =>
        {
            r["requestParameters"] = eventName == "DeregisterDelegatedAdministrator"
                ? new JsonObject { ["accountId"] = "333333333333", ["servicePrincipal"] = servicePrincipal }
                : new JsonObject { ["servicePrincipal"] = servicePrincipal };
        }).ToJsonString();

    private static string LogBucketCall(string eventName, string bucket) =>
        AssumedRole("s3.amazonaws.com", eventName, account: "222222222222").With(r =>
            r["requestParameters"] = new JsonObject { ["bucketName"] = bucket, ["Host"] = $"{bucket}.s3.amazonaws.com", ["object-lock"] = "" }).ToJsonString();

    private static string Schedule(string eventName, string name, string? state = null) =>
        AssumedRole("scheduler.amazonaws.com", eventName, region: "eu-west-1").With(r =>
        {
            var parameters = new JsonObject { ["name"] = name, ["groupName"] = "default" };
            if (state is not null)
            {
                parameters["state"] = state;
            }

            r["requestParameters"] = parameters;
        }).ToJsonString();

    private static string EventsCall(string eventName, string key, string value) =>
        AssumedRole("events.amazonaws.com", eventName, region: "eu-west-1").With(r => r["requestParameters"] = new JsonObject { [key] = value }).ToJsonString();

    /// <summary>Tamper routes found missing in issue #19: each must fire its detection; the near misses must not.</summary>
    public static TheoryData<string, string, string, bool> TamperRoutes() => new()
    {
        { "trusted access for CloudTrail turned off", "audit-trail-tampering", Organizations("DisableAWSServiceAccess", "cloudtrail.amazonaws.com"), true },
        { "CloudTrail's delegated administrator removed", "audit-trail-tampering", Organizations("DeregisterDelegatedAdministrator", "cloudtrail.amazonaws.com"), true },
        { "trusted access for another service turned off", "audit-trail-tampering", Organizations("DisableAWSServiceAccess", "config.amazonaws.com"), false },
        { "another service's delegated administrator removed", "audit-trail-tampering", Organizations("DeregisterDelegatedAdministrator", "guardduty.amazonaws.com"), false },
        { "trusted access for CloudTrail turned on", "audit-trail-tampering", Organizations("EnableAWSServiceAccess", "cloudtrail.amazonaws.com"), false },
        { "Object Lock changed, as CloudTrail names it", "audit-log-bucket-tampering", LogBucketCall("PutObjectLockConfiguration", "acme-audit-cloudtrail-222222222222-us-east-1"), true },
        { "Object Lock changed, as IAM names it", "audit-log-bucket-tampering", LogBucketCall("PutBucketObjectLockConfiguration", "acme-audit-cloudtrail-222222222222-us-east-1"), true },
        { "Object Lock changed on another bucket", "audit-log-bucket-tampering", LogBucketCall("PutObjectLockConfiguration", "team-bucket"), false },
        { "Object Lock read on the log bucket", "audit-log-bucket-tampering", LogBucketCall("GetObjectLockConfiguration", "acme-audit-cloudtrail-222222222222-us-east-1"), false },
        { "canary schedule deleted", "detection-forwarding-tampering", Schedule("DeleteSchedule", "acme-audit-detection-canary"), true },
        { "canary schedule disabled", "detection-forwarding-tampering", Schedule("UpdateSchedule", "acme-audit-detection-canary", "DISABLED"), true },
        { "another schedule deleted", "detection-forwarding-tampering", Schedule("DeleteSchedule", "nightly-report"), false },
        { "canary schedule read", "detection-forwarding-tampering", Schedule("GetSchedule", "acme-audit-detection-canary"), false },
        { "canary rule disabled", "detection-forwarding-tampering", EventsCall("DisableRule", "name", "acme-audit-detect-detection-canary"), true },
        { "canary rule deleted", "detection-forwarding-tampering", EventsCall("DeleteRule", "name", "acme-audit-detect-detection-canary"), true },
        { "canary rule's target removed", "detection-forwarding-tampering", EventsCall("RemoveTargets", "rule", "acme-audit-detect-detection-canary"), true },
        { "another rule's target removed", "detection-forwarding-tampering", EventsCall("RemoveTargets", "rule", "nightly-job"), false },
        { "a schedule named like the canary rule", "detection-forwarding-tampering", Schedule("DeleteSchedule", "acme-audit-forward-to-central-bus"), false },
    };

    [Theory]
    [MemberData(nameof(TamperRoutes))]
    public void Tamper_routes_fire_and_near_misses_do_not(string what, string id, string record, bool fires)
    {
        var fired = Fired((JsonObject)JsonNode.Parse(record)!);
        Assert.True(fired.Contains(id) == fires, $"{what}: expected {id} {(fires ? "to fire" : "not to fire")}; fired [{string.Join(", ", fired)}]");
    }

    [Fact]
    public void Every_built_in_detection_has_a_case_and_complete_metadata()
    {
        var covered = Cases().Select(c => (string)c[0]).ToHashSet();
        var builtIn = DetectionCatalog.BuiltIn(Config);
        Assert.Equal(DetectionSettings.BuiltInIds.Order(), builtIn.Select(r => r.Id).Order());
        Assert.All(builtIn, r =>
        {
            Assert.Contains(r.Id, covered);
            Assert.False(string.IsNullOrWhiteSpace(r.Title));
            Assert.False(string.IsNullOrWhiteSpace(r.Description));
            Assert.False(string.IsNullOrWhiteSpace(r.WhyItMatters));
            Assert.NotEmpty(r.FirstResponse);
        });
        Assert.All(builtIn.Where(r => !r.Id.StartsWith("audit-", StringComparison.Ordinal) && r.Id is not "detection-forwarding-tampering" and not "security-services-disabled" and not DetectionCatalog.CanaryId),
            r => Assert.NotEmpty(r.Cis));
    }

    [Fact]
    public void The_canary_fires_only_the_canary_and_not_on_another_parameter()
    {
        Assert.Equal([DetectionCatalog.CanaryId], Fired((JsonObject)JsonNode.Parse(Canary("acme-audit-detection-canary", "/acme-audit/canary"))!));
        Assert.Empty(Fired((JsonObject)JsonNode.Parse(Canary("acme-audit-detection-canary", "/app/config"))!));
        Assert.True(DetectionCatalog.For(Config).Single(r => r.Id == DetectionCatalog.CanaryId).IsCanary);
        // Forwarding narrowed to pinned sources still carries the canary's.
        Assert.Contains("aws.ssm", DetectionCatalog.ForwardedSources(DetectionCatalog.For(Config).Where(r => r.Pattern["source"] is not null)));
    }

    [Fact]
    public void Mfa_sign_in_does_not_fire_without_mfa_but_root_sign_in_fires_root_use()
    {
        Assert.Equal(["root-account-use"], Fired(ConsoleLogin("Root", "Success", "Yes")));
        Assert.Empty(Fired(ConsoleLogin("IAMUser", "Success", "Yes")));
    }

    [Fact]
    public void Delivery_logs_denials_are_not_unauthorized_calls()
    {
        var record = AssumedRole("s3.amazonaws.com", "PutObject").With(r =>
        {
            r["errorCode"] = "AccessDenied";
            r["sourceIPAddress"] = "delivery.logs.amazonaws.com";
        });
        Assert.DoesNotContain("unauthorized-api-calls", Fired(record));
    }

    [Fact]
    public void Configuration_disables_detections_and_overrides_severity()
    {
        var yaml = Samples.Append(Samples.Text("audit"), "  auditinfra:detection:\n    disabled: [vpc-changes]\n    severity:\n      unauthorized-api-calls: high");
        var config = Samples.Bind(yaml).Config!;
        var rules = DetectionCatalog.For(config);
        Assert.DoesNotContain(rules, r => r.Id == "vpc-changes");
        Assert.Equal(Severity.High, rules.Single(r => r.Id == "unauthorized-api-calls").Severity);
    }

    [Fact]
    public void Custom_detections_are_validated_and_added()
    {
        var yaml = Samples.Append(Samples.Text("audit"), """
          auditinfra:detection:
            custom:
              - id: secrets-read-from-unknown-network
                title: Secret read from outside the corporate network
                severity: high
                pattern:
                  source: [aws.secretsmanager]
                  detail:
                    eventName: [GetSecretValue]
                    sourceIPAddress:
                      - anything-but:
                          prefix: "10."
        """);
        var (config, report) = Samples.Bind(yaml);
        Assert.True(report.IsValid, report.ToString());
        var custom = DetectionCatalog.For(config!).Single(r => r.Id == "secrets-read-from-unknown-network");
        Assert.True(custom.IsCustom);
        Assert.Equal(Severity.High, custom.Severity);
        var catalog = new CompiledCatalog(DetectionCatalog.For(config!));
        using var doc = JsonDocument.Parse(EventEnvelopes.Wrap(JsonDocument.Parse(AssumedRole("secretsmanager.amazonaws.com", "GetSecretValue").ToJsonString()).RootElement));
        Assert.Contains(catalog.Match(doc.RootElement), r => r.Id == "secrets-read-from-unknown-network");
    }

    [Theory]
    [InlineData("    disabled: [vpc-change]", "auditinfra:detection.disabled[0]", "did you mean 'vpc-changes'")]
    [InlineData("    severity:\n      vpc-changes: urgent", "auditinfra:detection.severity.vpc-changes", "one of low, medium, high, critical")]
    [InlineData("    custom:\n      - id: x1\n        title: t\n        pattern: '{\"source\":\"aws.iam\"}'", "auditinfra:detection.custom[0].pattern", "every leaf as a list")]
    [InlineData("    custom:\n      - id: x1\n        title: t\n        pattern:\n          detail:\n            n: [{numeric: ['>', 5, '<', 1]}]", "auditinfra:detection.custom[0].pattern", "range is empty")]
    [InlineData("    custom:\n      - id: x1\n        title: t", "auditinfra:detection.custom[0].pattern", "is required")]
    [InlineData("    custom:\n      - id: vpc-changes\n        title: t\n        pattern: {source: [aws.ec2]}", "auditinfra:detection.custom", "used twice")]
    [InlineData("    extraTargetArns: [not-an-arn]", "auditinfra:detection.extraTargetArns[0]", "SNS topic")]
    [InlineData("    canaryIntervalMinutes: 0", "auditinfra:detection.canaryIntervalMinutes", "a whole number from 1 to 60 minutes")]
    [InlineData("    canaryAlarmMinutes: 2000", "auditinfra:detection.canaryAlarmMinutes", "a whole number from 5 to 1440 minutes")]
    [InlineData("    canaryIntervalMinutes: 10\n    canaryAlarmMinutes: 15", "auditinfra:detection.canaryAlarmMinutes", "at least twice canaryIntervalMinutes (10)")]
    public void Bad_detection_configuration_is_reported(string body, string key, string expected)
    {
        var (_, report) = Samples.Bind(Samples.Append(Samples.Text("audit"), "  auditinfra:detection:\n" + body));
        Assert.Contains(report.Errors, e => e.Key == key && e.Message.Contains(expected));
    }

    [Fact]
    public void Reader_accepts_cloudtrail_files_gzip_arrays_and_envelopes_and_rejects_the_rest()
    {
        var dir = Directory.CreateTempSubdirectory("auditinfra-rules").FullName;
        var records = new JsonArray(AssumedRole("iam.amazonaws.com", "PutRolePolicy"), ConsoleLogin("IAMUser", "Success", "No"));
        var log = Path.Combine(dir, "111_CloudTrail_us-east-1_20261120T1015Z_abc.json.gz");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(log), System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write(System.Text.Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = records.DeepClone() }.ToJsonString()));
        }

        var array = Path.Combine(dir, "records.json");
        File.WriteAllText(array, records.ToJsonString());
        var envelope = Path.Combine(dir, "event.json");
        File.WriteAllText(envelope, JsonDocument.Parse(EventEnvelopes.Wrap(JsonDocument.Parse(records[0]!.ToJsonString()).RootElement)).RootElement.GetRawText());

        var fromGz = EventEnvelopes.Read(log);
        Assert.Equal(2, fromGz.Count);
        Assert.Equal("AWS Console Sign In via CloudTrail", fromGz[1].Envelope.GetProperty("detail-type").GetString());
        Assert.Equal("aws.signin", fromGz[1].Envelope.GetProperty("source").GetString());
        Assert.Equal("333333333333", fromGz[0].Envelope.GetProperty("account").GetString());
        Assert.Equal(2, EventEnvelopes.Read(array).Count);
        Assert.Equal("aws.iam", Assert.Single(EventEnvelopes.Read(envelope)).Envelope.GetProperty("source").GetString());

        var truncated = Path.Combine(dir, "truncated.json.gz");
        File.WriteAllBytes(truncated, File.ReadAllBytes(log)[..20]);
        var truncatedError = Assert.Throws<EventFileException>(() => EventEnvelopes.Read(truncated)).Message;
        Assert.True(truncatedError.Contains(": truncated gzip: the file ends inside the compressed data of member 1", StringComparison.Ordinal), truncatedError);
        var bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, "{\"foo\": 1}");
        Assert.Contains("expected a CloudTrail log", Assert.Throws<EventFileException>(() => EventEnvelopes.Read(bad)).Message);
    }
}
