using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Naming;

namespace AuditInfra.Core.Detection;

public enum Severity
{
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>One detection: an EventBridge pattern and what a responder needs to know when it fires.</summary>
public sealed record DetectionRule(
    string Id,
    string Title,
    Severity Severity,
    JsonObject Pattern,
    string Description,
    string WhyItMatters,
    ImmutableArray<string> FirstResponse,
    ImmutableArray<string> Cis,
    ImmutableArray<string> SecurityHub)
{
    public bool IsCustom { get; init; }

    /// <summary>
    /// The detection canary: informational, delivered to the latency recorder instead of the
    /// detection topic (a notification every few minutes per account and region would bury the real ones).
    /// </summary>
    public bool IsCanary { get; init; }

    public string PatternJson => Pattern.ToJsonString(Planning.JsonFormat.Compact);
}

/// <summary>
/// The detection catalog: every row of shared/reference/detections.md plus tampering with this
/// system itself, with the configuration's overrides (disabled ids, severities, custom rules)
/// applied. Tamper rules name this design's trail, buckets, key account and rules.
/// </summary>
public static class DetectionCatalog
{
    /// <summary>Bumped whenever a built-in detection changes: recorded in plans and docs.</summary>
    public const string Version = "2026.12.1";

    private const string ApiCall = "AWS API Call via CloudTrail";

    public const string CanaryId = "detection-canary";

    public static ImmutableArray<DetectionRule> BuiltIn(AuditConfig config)
    {
        var names = new ResourceNames(config);
        var trailArnOrName = new JsonArray(config.TrailName, names.TrailArn);
        return
        [
            Rule("root-account-use", "Root user activity", Severity.Critical,
                """{"detail":{"userIdentity":{"type":["Root"],"invokedBy":[{"exists":false}]},"eventType":[{"anything-but":"AwsServiceEvent"}]}}""",
                "The root user of an account signed in or called an API.",
                "The root user cannot be restricted by IAM or SCPs; everyday use of it defeats least privilege, and its misuse is unbounded.",
                ["Confirm with the account owner whether the activity was planned (a root-only task).", "If not: reset the root password, rotate or remove root access keys, check MFA devices.", "Query the account's activity for the session: auditinfra query --account <id> --date <day> --principal root."],
                ["CIS 4.3"], []),
            Rule("console-login-without-mfa", "Console sign-in without MFA", Severity.High,
                """{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"eventName":["ConsoleLogin"],"userIdentity":{"type":["IAMUser"]},"responseElements":{"ConsoleLogin":["Success"]},"additionalEventData":{"MFAUsed":[{"anything-but":"Yes"}]}}}""",
                "An IAM user signed in to the console successfully without multi-factor authentication.",
                "A password alone is phishable; console access without MFA is the most common path to account takeover.",
                ["Contact the user; enforce an MFA device for them.", "Review the session's actions for the rest of the day.", "Consider an IAM policy that denies everything without aws:MultiFactorAuthPresent."],
                ["CIS 4.2"], []),
            Rule("console-authentication-failures", "Console sign-in failure", Severity.Medium,
                """{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"eventName":["ConsoleLogin"],"errorMessage":["Failed authentication"]}}""",
                "A console sign-in attempt failed authentication.",
                "Repeated failures are how password guessing and credential stuffing look.",
                ["Count failures by user and source IP for the day (auditinfra query --summary).", "Lock or reset the user if the failures continue from unknown addresses."],
                ["CIS 4.6"], []),
            Rule("unauthorized-api-calls", "Unauthorized API calls", Severity.Medium,
                """{"detail":{"errorCode":[{"suffix":"UnauthorizedOperation"},{"prefix":"AccessDenied"}],"sourceIPAddress":[{"anything-but":"delivery.logs.amazonaws.com"}],"eventName":[{"anything-but":"HeadBucket"}]}}""",
                "An API call was refused for lack of permission.",
                "Bursts of denied calls reveal reconnaissance with stolen credentials or a compromised workload probing its limits.",
                ["Group the denials by principal and event name for the hour.", "If one principal probes many services, disable its credentials and investigate where they were used."],
                ["CIS 4.1"], []),
            Rule("iam-policy-changes", "IAM policy change", Severity.High,
                Calls("iam.amazonaws.com", "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"),
                "An IAM policy was created, changed, attached or detached.",
                "Policy changes are how privileges are escalated and how persistence is planted.",
                ["Read the policy document in requestParameters; compare it with the change request.", "Revert unapproved changes and review what the affected principal did since."],
                ["CIS 4.4"], []),
            Rule("cloudtrail-changes", "CloudTrail configuration change", Severity.High,
                Calls("cloudtrail.amazonaws.com", "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging", "PutEventSelectors", "PutInsightSelectors"),
                "A trail was created, changed, stopped, started or deleted.",
                "Attackers stop or narrow logging to hide what they do next.",
                ["Check whether the change was the deployment role's.", "Confirm the organization trail still logs (aws cloudtrail get-trail-status)."],
                ["CIS 4.5"], ["CloudTrail.3"]),
            Rule("kms-key-disabled-or-deleted", "KMS key disabled or scheduled for deletion", Severity.High,
                Calls("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
                "A customer managed KMS key was disabled or scheduled for deletion.",
                "Data encrypted under a deleted key is lost for good; disabling a key is a ransom and sabotage tactic.",
                ["Cancel the deletion (aws kms cancel-key-deletion) while the waiting period runs.", "Find who made the call and why."],
                ["CIS 4.7"], []),
            Rule("s3-bucket-policy-changes", "S3 bucket policy change", Severity.Medium,
                Calls("s3.amazonaws.com", "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication"),
                "A bucket's policy, ACL, CORS, lifecycle or replication changed.",
                "Bucket policy changes are how data is exposed publicly or copied out.",
                ["Read the new policy; check for public principals or unknown accounts.", "Revert and block public access if exposure is unintended."],
                ["CIS 4.8"], []),
            Rule("config-changes", "AWS Config change", Severity.Medium,
                Calls("config.amazonaws.com", "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"),
                "The AWS Config recorder or delivery channel changed.",
                "Stopping Config blinds configuration history and compliance rules.",
                ["Restart the recorder if stopped; verify the delivery channel's bucket."],
                ["CIS 4.9"], []),
            Rule("security-group-changes", "Security group change", Severity.Medium,
                Calls("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"),
                "A security group was created, deleted, or its rules changed.",
                "Opened ingress is a direct path into workloads.",
                ["Check the rule for 0.0.0.0/0 or ::/0 ingress on administrative ports; revert if unapproved."],
                ["CIS 4.10"], []),
            Rule("nacl-changes", "Network ACL change", Severity.Medium,
                Calls("ec2.amazonaws.com", "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"),
                "A network ACL or one of its entries changed.",
                "NACLs are a subnet-wide control; a loosened entry exposes every instance behind it.",
                ["Compare the entry with the network baseline; revert if unapproved."],
                ["CIS 4.11"], []),
            Rule("network-gateway-changes", "Network gateway change", Severity.Medium,
                Calls("ec2.amazonaws.com", "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"),
                "An internet or customer gateway was created, attached, detached or deleted.",
                "A new gateway can open a private network to the internet or to another site.",
                ["Confirm the change with the network owners; detach unapproved gateways."],
                ["CIS 4.12"], []),
            Rule("route-table-changes", "Route table change", Severity.Medium,
                Calls("ec2.amazonaws.com", "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"),
                "A route table or route changed.",
                "Changed routes can send traffic around inspection or out of the network.",
                ["Compare routes with the baseline; check new routes to internet or peering targets."],
                ["CIS 4.13"], []),
            Rule("vpc-changes", "VPC change", Severity.Medium,
                Calls("ec2.amazonaws.com", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"),
                "A VPC, its attributes or its peering changed.",
                "Peering and new VPCs change who can reach what.",
                ["Confirm with the network owners; remove unapproved peering."],
                ["CIS 4.14"], []),
            Rule("organizations-changes", "AWS Organizations change", Severity.High,
                Calls("organizations.amazonaws.com", "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit"),
                "The organization's structure, accounts or policies changed.",
                "SCP changes and account moves can lift every guardrail at once.",
                ["Check detached or changed SCPs first; reattach the guardrails if they were removed."],
                ["CIS 4.15"], []),
            Rule("audit-trail-tampering", "This system: organization trail stopped, changed or deleted", Severity.Critical,
                new JsonObject
                {
                    ["source"] = new JsonArray("aws.cloudtrail", "aws.organizations"),
                    ["detail-type"] = new JsonArray(ApiCall),
                    ["detail"] = new JsonObject
                    {
                        ["$or"] = new JsonArray(
                            new JsonObject
                            {
                                ["eventSource"] = new JsonArray("cloudtrail.amazonaws.com"),
                                ["eventName"] = new JsonArray("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors"),
                                ["requestParameters"] = new JsonObject { ["name"] = trailArnOrName },
                            },
                            // Turning CloudTrail's trusted access off (or removing its delegated administrator)
                            // ends the organization trail's coverage of member accounts without touching the trail.
                            new JsonObject
                            {
                                ["eventSource"] = new JsonArray("organizations.amazonaws.com"),
                                ["eventName"] = new JsonArray("DisableAWSServiceAccess", "DeregisterDelegatedAdministrator"),
                                ["requestParameters"] = new JsonObject { ["servicePrincipal"] = new JsonArray(names.ServicePrincipal("cloudtrail")) },
                            }),
                    },
                },
                $"The organization trail '{config.TrailName}' was stopped, changed or deleted, or CloudTrail's trusted access to the organization was turned off.",
                "Without the trail there is no audit evidence for any account from that moment.",
                ["Restart logging immediately (aws cloudtrail start-logging --name " + config.TrailName + ").", "Identify the caller; it should only ever be the deployment role.", "Run auditinfra verify over the gap: missing hours are reported."],
                ["CIS 3.1", "CIS 4.5"], ["CloudTrail.3"]),
            Rule("audit-log-bucket-tampering", "This system: log bucket protection changed", Severity.Critical,
                new JsonObject
                {
                    ["source"] = new JsonArray("aws.s3"),
                    ["detail-type"] = new JsonArray(ApiCall),
                    ["detail"] = new JsonObject
                    {
                        ["eventName"] = new JsonArray("PutBucketPolicy", "DeleteBucketPolicy", "PutBucketLifecycle", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle",
                            // CloudTrail records the operation (PutObjectLockConfiguration); the IAM action is
                            // s3:PutBucketObjectLockConfiguration. Both, so neither spelling slips through.
                            "PutObjectLockConfiguration", "PutBucketObjectLockConfiguration", "PutBucketVersioning", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutBucketEncryption", "DeleteBucketEncryption", "PutBucketLogging", "DeleteBucket", "PutBucketOwnershipControls"),
                        ["requestParameters"] = new JsonObject { ["bucketName"] = new JsonArray(names.LogBucket, names.AccessLogBucket) },
                    },
                },
                "The log bucket's or access-log bucket's policy, lifecycle, Object Lock, versioning, encryption or public access settings changed.",
                "These settings are what makes the logs immutable and private.",
                ["Compare with `auditinfra plan --stack audit`; re-run `pulumi up --stack audit` to restore.", "The guardrail SCP should have denied this: check whether it is still attached."],
                ["CIS 3.3"], ["CloudTrail.6"]),
            Rule("audit-key-tampering", "This system: trail key policy changed, disabled or scheduled for deletion", Severity.Critical,
                new JsonObject
                {
                    ["source"] = new JsonArray("aws.kms"),
                    ["account"] = new JsonArray(config.Organization.AuditAccountId),
                    ["detail"] = new JsonObject
                    {
                        ["eventName"] = new JsonArray("PutKeyPolicy", "DisableKey", "ScheduleKeyDeletion", "DisableKeyRotation", "CancelKeyDeletion", "DeleteAlias", "UpdateAlias"),
                    },
                },
                "A KMS key in the audit account had its policy changed, was disabled, lost rotation or was scheduled for deletion.",
                "Losing the trail key makes every archived log unreadable.",
                ["Cancel any scheduled deletion at once; re-enable the key.", "Restore the key policy with `pulumi up --stack audit`."],
                ["CIS 3.6"], ["CloudTrail.2"]),
            Rule("detection-forwarding-tampering", "This system: detection or forwarding rules changed", Severity.Critical,
                new JsonObject
                {
                    ["source"] = new JsonArray("aws.events", "aws.scheduler"),
                    ["detail-type"] = new JsonArray(ApiCall),
                    ["detail"] = new JsonObject
                    {
                        ["$or"] = new JsonArray(
                            new JsonObject
                            {
                                ["eventSource"] = new JsonArray("events.amazonaws.com"),
                                ["eventName"] = EventsRuleChanges(),
                                ["requestParameters"] = new JsonObject { ["name"] = new JsonArray(names.ForwardingRuleName, names.DetectionBusName, new JsonObject { ["prefix"] = names.DetectionRuleNamePrefix }) },
                            },
                            new JsonObject
                            {
                                ["eventSource"] = new JsonArray("events.amazonaws.com"),
                                ["eventName"] = EventsRuleChanges(),
                                ["requestParameters"] = new JsonObject { ["rule"] = new JsonArray(names.ForwardingRuleName, new JsonObject { ["prefix"] = names.DetectionRuleNamePrefix }) },
                            },
                            // The canary's schedule deleted, or disabled or retargeted (both are UpdateSchedule): the
                            // canary's own alarm would fire too, but only after its window; this fires at once.
                            new JsonObject
                            {
                                ["eventSource"] = new JsonArray("scheduler.amazonaws.com"),
                                ["eventName"] = new JsonArray("DeleteSchedule", "UpdateSchedule"),
                                ["requestParameters"] = new JsonObject { ["name"] = new JsonArray(CanaryNames.Schedule(config.NamePrefix)) },
                            }),
                    },
                },
                "A forwarding rule, a detection rule (the canary's included), a detection canary's schedule or the central bus was deleted, disabled or retargeted.",
                "Silencing detection comes before the attack it would have caught.",
                ["Re-deploy the account baseline (rollout --account <id>) or the audit stack.", "Identify the caller: only the deployment and rollout roles may change these."],
                [], []),
            Rule(CanaryId, "This system: detection canary arrived", Severity.Low,
                CanaryPattern(config.NamePrefix),
                "An account's detection canary (a scheduled SSM PutParameter on its canary parameter) reached the central bus; its latency is recorded, nobody is notified.",
                "A canary that keeps arriving proves the trail, the forwarding rule and the central bus work for that account and region; its silence raises the region's canary alarm.",
                ["Nothing to do for one arrival: it is measured, not notified.", "When a region's canary alarm fires: check that region's forwarding rule and target (aws events list-targets-by-rule --name " + names.ForwardingRuleName + "), the canary schedule, and the trail's status."],
                [], []) with { IsCanary = true },
            Rule("security-services-disabled", "GuardDuty or Security Hub disabled", Severity.High,
                """{"source":["aws.guardduty","aws.securityhub"],"detail":{"eventName":["DeleteDetector","DisassociateFromMasterAccount","DisassociateFromAdministratorAccount","UpdateDetector","DisableSecurityHub","DeleteMembers","DisassociateMembers"]}}""",
                "A detector or the account's membership in GuardDuty or Security Hub was removed or changed.",
                "Turning off threat detection is a common first step of an intrusion.",
                ["Re-enable the service and the membership; check who made the call."],
                [], []),
        ];
    }

    /// <summary>The catalog as configured: built-ins minus disabled ones, severities overridden, custom rules added.</summary>
    public static ImmutableArray<DetectionRule> For(AuditConfig config)
    {
        var settings = config.Detection;
        var rules = BuiltIn(config)
            .Where(r => !settings.Disabled.Contains(r.Id))
            .Select(r => settings.SeverityOverrides.TryGetValue(r.Id, out var severity) ? r with { Severity = severity } : r);
        return [.. rules, .. settings.Custom];
    }

    /// <summary>
    /// A conservative bound on an event pattern's size (EventBridge documents a limit on the
    /// pattern's characters; 2,048 keeps every rule well inside it).
    /// </summary>
    public const int MaxPatternCharacters = 2048;

    /// <summary>
    /// The envelope sources every account forwards to the central bus: the union of the sources
    /// the rules pin, or none (forward everything) when some rule does not pin its source.
    /// </summary>
    public static ImmutableArray<string> ForwardedSources(IEnumerable<DetectionRule> rules)
    {
        var sources = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            var pinned = Strings(rule.Pattern["source"]).ToList();
            if (pinned.Count == 0 || rule.Pattern["source"] is JsonArray a && a.Any(v => v is not JsonValue))
            {
                return [];
            }

            sources.UnionWith(pinned);
        }

        return [.. sources];
    }

    /// <summary>"iam.amazonaws.com" → "aws.iam": the envelope source EventBridge gives a CloudTrail record.</summary>
    public static string SourceOf(string eventSource) => "aws." + eventSource.Split('.')[0];

    private static IEnumerable<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : null).OfType<string>() : [];

    /// <summary>
    /// The canary's call: a management write event (EventBridge receives read-only ones only on
    /// rules opted in with ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS), made by the canary role
    /// on the canary parameter. PutEvents cannot forge it: sources starting with "aws." are refused.
    /// </summary>
    public static JsonObject CanaryPattern(string namePrefix) => new()
    {
        ["source"] = new JsonArray("aws.ssm"),
        ["detail-type"] = new JsonArray(ApiCall),
        ["detail"] = new JsonObject
        {
            ["eventSource"] = new JsonArray("ssm.amazonaws.com"),
            ["eventName"] = new JsonArray("PutParameter"),
            ["requestParameters"] = new JsonObject { ["name"] = new JsonArray(CanaryNames.Parameter(namePrefix)) },
            ["userIdentity"] = new JsonObject
            {
                ["sessionContext"] = new JsonObject { ["sessionIssuer"] = new JsonObject { ["userName"] = new JsonArray(CanaryNames.Role(namePrefix)) } },
            },
        },
    };

    private static JsonArray EventsRuleChanges() => new("DeleteRule", "DisableRule", "RemoveTargets", "PutRule", "PutTargets", "DeleteEventBus");

    private static JsonObject Calls(string eventSource, params string[] eventNames) => new()
    {
        ["source"] = new JsonArray(SourceOf(eventSource)),
        ["detail-type"] = new JsonArray(ApiCall),
        ["detail"] = new JsonObject
        {
            ["eventSource"] = new JsonArray(eventSource),
            ["eventName"] = new JsonArray([.. eventNames.Select(n => (JsonNode)JsonValue.Create(n))]),
        },
    };

    private static DetectionRule Rule(string id, string title, Severity severity, string pattern, string description, string why, string[] response, string[] cis, string[] securityHub) =>
        Rule(id, title, severity, (JsonObject)JsonNode.Parse(pattern)!, description, why, response, cis, securityHub);

    private static DetectionRule Rule(string id, string title, Severity severity, JsonObject pattern, string description, string why, string[] response, string[] cis, string[] securityHub)
    {
        // Built-ins go through the same validation as custom rules: a typo fails every test run.
        EventPattern.Compile(pattern);
        return new DetectionRule(id, title, severity, pattern, description, why, [.. response], [.. cis], [.. securityHub]);
    }
}
