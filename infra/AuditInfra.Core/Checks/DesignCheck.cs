using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace AuditInfra.Core.Checks;

public sealed record Violation(string InvariantId, string Resource, string Message)
{
    public override string ToString() => $"{InvariantId}: {Resource}: {Message}";
}

/// <summary>
/// Evaluates the design's invariants offline over a plan in its JSON form (the output of
/// <c>auditinfra plan --json</c>): the same shape the policy pack's fixtures use, so the two
/// implementations are tested on the same inputs. Properties are Pulumi wire names; policies may
/// be JSON objects (plans) or JSON strings (previews).
/// </summary>
public static class DesignCheck
{
    public static ImmutableArray<Violation> Evaluate(JsonNode plan, int? minimumKeyDeletionWindowDays = null)
    {
        var stack = Text(plan.Field("stack")) ?? "";
        var resources = (plan.Field("components") as JsonArray ?? [])
            .OfType<JsonObject>()
            .SelectMany(c => (c.Field("resources") as JsonArray ?? []).OfType<JsonObject>().Select(r => new Res(r, c)))
            .ToList();
        var violations = new List<Violation>();
        void Fail(string id, string resource, string message) => violations.Add(new Violation(Invariants.Get(id).Id, resource, message));

        CheckTrails(stack, resources, Fail);
        CheckLogBuckets(stack, resources, Fail);
        CheckKeys(resources, minimumKeyDeletionWindowDays ?? Invariants.MinimumKeyDeletionWindowDays, Fail);
        CheckGuardrails(resources, Fail);
        CheckDetection(resources, Fail);
        CheckLockdown(stack, resources, Fail);
        CheckActingRoleExempt(stack, resources, Fail);
        CheckLockdownAfterContents(stack, resources, Fail);
        CheckIntegrityMonitor(resources, Fail);
        return [.. violations];
    }

    private static void CheckTrails(string stack, List<Res> resources, Action<string, string, string> fail)
    {
        var trails = resources.Where(r => r.Type == "aws:cloudtrail/trail:Trail").ToList();
        if (trails.Count == 0 && stack == "prod")
        {
            fail("trail-organization", "(stack prod)", "the management-account stack creates no organization trail");
        }

        foreach (var trail in trails)
        {
            var p = trail.Properties;
            if (!IsTrue(p["isOrganizationTrail"]))
            {
                fail("trail-organization", trail.Name, "isOrganizationTrail must be true");
            }

            if (!IsTrue(p["isMultiRegionTrail"]))
            {
                fail("trail-multi-region", trail.Name, "isMultiRegionTrail must be true");
            }

            if (IsFalse(p["includeGlobalServiceEvents"]))
            {
                fail("trail-global-service-events", trail.Name, "includeGlobalServiceEvents must not be false");
            }

            if (!IsTrue(p["enableLogFileValidation"]))
            {
                fail("trail-log-file-validation", trail.Name, "enableLogFileValidation must be true");
            }

            if (Text(p["kmsKeyId"]) is not { Length: > 0 })
            {
                fail("trail-kms-encrypted", trail.Name, "kmsKeyId must name the trail key");
            }

            if (IsFalse(p["enableLogging"]))
            {
                fail("trail-logging-enabled", trail.Name, "enableLogging is false: the trail records nothing");
            }

            if (ManagementEventsProblem(p) is { } problem)
            {
                fail("trail-management-events-read-write", trail.Name, problem);
            }

            if (!trail.Protect)
            {
                fail("resources-protected", trail.Name, "the trail must be protected");
            }
        }
    }

    private static string? ManagementEventsProblem(JsonObject trail)
    {
        if (trail["advancedEventSelectors"] is JsonArray { Count: > 0 } advanced)
        {
            var management = advanced.Where(s => ((s.Field("fieldSelectors") as JsonArray) ?? []).Any(f =>
                Text(f.Field("field")) == "eventCategory" && Strings(f.Field("equals")).Contains("Management"))).ToList();
            if (management.Count == 0)
            {
                return "no advanced event selector records management events";
            }

            return management.Any(s => !((s.Field("fieldSelectors") as JsonArray) ?? []).Any(f => Text(f.Field("field")) == "readOnly"))
                ? null
                : "management events are filtered by readOnly: both read and write events must be recorded";
        }

        if (trail["eventSelectors"] is JsonArray { Count: > 0 } basic)
        {
            return basic.Any(s => !IsFalse(s.Field("includeManagementEvents")) && (Text(s.Field("readWriteType")) ?? "All") == "All")
                ? null
                : "no event selector records management events with readWriteType All";
        }

        return null;
    }

    private static void CheckLogBuckets(string stack, List<Res> resources, Action<string, string, string> fail)
    {
        var buckets = resources.Where(r => r.Type == "aws:s3/bucket:Bucket").ToList();
        var loggingTargets = resources.Where(r => r.Type == "aws:s3/bucketLogging:BucketLogging")
            .Select(r => Text(r.Properties["targetBucket"])).ToHashSet();

        // The log bucket is the one whose policy lets CloudTrail write; without such a policy,
        // every bucket that is not the target of another's access logs.
        var policies = resources.Where(r => r.Type == "aws:s3/bucketPolicy:BucketPolicy").ToList();
        var logBuckets = buckets.Where(b => policies.Any(p => RefersTo(p.Properties["bucket"], b) && AllowsCloudTrailWrites(p.Properties["policy"]))).ToList();
        if (logBuckets.Count == 0)
        {
            logBuckets = buckets.Where(b => !loggingTargets.Contains(Text(b.Properties["bucket"])) && !loggingTargets.Contains(b.Name)).ToList();
        }

        if (logBuckets.Count == 0 && stack == "audit")
        {
            fail("log-bucket-present", "(stack audit)", "the audit stack creates no log bucket");
        }

        foreach (var bucket in logBuckets)
        {
            var subs = resources.Where(r => r.Type.StartsWith("aws:s3/", StringComparison.Ordinal) && r.Type != "aws:s3/bucket:Bucket" && RefersTo(r.Properties["bucket"], bucket)).ToList();
            Res? Sub(string type) => subs.FirstOrDefault(s => s.Type == type);
            var name = bucket.Name;

            if (!bucket.Protect)
            {
                fail("resources-protected", name, "the log bucket must be protected");
            }

            if (Text(Sub("aws:s3/bucketVersioning:BucketVersioning")?.Properties["versioningConfiguration"].Field("status")) != "Enabled")
            {
                fail("bucket-versioning", name, "no BucketVersioning with status Enabled");
            }

            var retention = Sub("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")?.Properties["rule"].Field("defaultRetention");
            if (!IsTrue(bucket.Properties["objectLockEnabled"]) || retention is null || (Number(retention.Field("days")) ?? 0) + (Number(retention.Field("years")) ?? 0) <= 0)
            {
                fail("bucket-object-lock", name, "Object Lock must be enabled with a default retention");
            }

            var sse = (Sub("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")?.Properties["rules"] as JsonArray)?
                .Select(r => Text(r.Field("applyServerSideEncryptionByDefault").Field("sseAlgorithm"))).ToList() ?? [];
            if (!sse.Any(a => a is "aws:kms" or "aws:kms:dsse"))
            {
                fail("bucket-sse-kms", name, "default encryption must be SSE-KMS (aws:kms)");
            }

            var pab = Sub("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")?.Properties;
            if (pab is null || !new[] { "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets" }.All(k => IsTrue(pab[k])))
            {
                fail("bucket-public-access-blocked", name, "all four public access block settings must be true");
            }

            if (Text(Sub("aws:s3/bucketOwnershipControls:BucketOwnershipControls")?.Properties["rule"].Field("objectOwnership")) != "BucketOwnerEnforced")
            {
                fail("bucket-owner-enforced", name, "object ownership must be BucketOwnerEnforced");
            }

            if (!DeniesInsecureTransport(Sub("aws:s3/bucketPolicy:BucketPolicy")?.Properties["policy"]))
            {
                fail("bucket-tls-only", name, "the bucket policy must deny s3:* when aws:SecureTransport is false");
            }

            var rules = Sub("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")?.Properties["rules"] as JsonArray ?? [];
            if (!rules.Any(r => Text(r.Field("status")) == "Enabled" && (Number(r.Field("expiration").Field("days")) ?? 0) > 0))
            {
                fail("bucket-lifecycle", name, "an enabled lifecycle rule with an expiration is required");
            }

            var logging = Sub("aws:s3/bucketLogging:BucketLogging");
            var target = Text(logging?.Properties["targetBucket"]);
            if (logging is null || target is null || target == Text(bucket.Properties["bucket"]) || RefersTo(logging.Properties["targetBucket"], bucket))
            {
                fail("bucket-access-logging", name, "server access logs must go to a different bucket");
            }

            var sseRules = Sub("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")?.Properties["rules"] as JsonArray ?? [];
            foreach (var keyRef in sseRules.Select(r => Text(r.Field("applyServerSideEncryptionByDefault").Field("kmsMasterKeyId"))).OfType<string>())
            {
                var key = resources.FirstOrDefault(r => r.Type == "aws:kms/key:Key" && keyRef.StartsWith("${" + r.Name + ".", StringComparison.Ordinal));
                if (key is not null && !key.Protect)
                {
                    fail("resources-protected", key.Name, "the trail key must be protected");
                }
            }
        }
    }

    private static void CheckKeys(List<Res> resources, int minimumDeletionWindow, Action<string, string, string> fail)
    {
        foreach (var key in resources.Where(r => r.Type == "aws:kms/key:Key"))
        {
            // KMS rotates symmetric encryption keys only.
            var symmetric = (Text(key.Properties["customerMasterKeySpec"]) ?? "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT";
            if (symmetric && !IsTrue(key.Properties["enableKeyRotation"]))
            {
                fail("key-rotation", key.Name, "enableKeyRotation must be true");
            }

            if ((Number(key.Properties["deletionWindowInDays"]) ?? 30) < minimumDeletionWindow)
            {
                fail("key-deletion-window", key.Name, $"deletionWindowInDays must be at least {minimumDeletionWindow}");
            }
        }
    }

    private static void CheckGuardrails(List<Res> resources, Action<string, string, string> fail)
    {
        var attachments = resources.Where(r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment").ToList();
        foreach (var policy in resources.Where(r => r.Type == "aws:organizations/policy:Policy" && (Text(r.Properties["type"]) ?? "SERVICE_CONTROL_POLICY") == "SERVICE_CONTROL_POLICY"))
        {
            if (!attachments.Any(a => RefersTo(a.Properties["policyId"], policy)))
            {
                fail("guardrails-attached", policy.Name, "the SCP is attached to no root or OU");
            }
        }
    }

    /// <summary>An attached SCP denies log-object writes and deletes to all but at most two exempt principals.</summary>
    private static void CheckLockdown(string stack, List<Res> resources, Action<string, string, string> fail)
    {
        if (stack != "audit")
        {
            return;
        }

        var attachments = resources.Where(r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment").ToList();
        var locked = resources.Where(r => r.Type == "aws:organizations/policy:Policy" && attachments.Any(a => RefersTo(a.Properties["policyId"], r)))
            .SelectMany(r => Statements(r.Properties["content"]))
            .Any(s => Text(s.Field("Effect")) == "Deny"
                && Strings(s.Field("Action")).Contains("s3:PutObject") && Strings(s.Field("Action")).Contains("s3:DeleteObjectVersion")
                && Strings(s.Field("Resource")).Any(r => r.EndsWith("/*", StringComparison.Ordinal))
                && Strings(s.Field("Condition").Field("ArnNotLike").Field("aws:PrincipalArn")).Count is > 0 and <= 2);
        if (!locked)
        {
            fail("audit-account-lockdown", "(stack audit)", "no attached SCP denies writes to the log objects outside the deployment and break-glass roles");
        }
    }

    /// <summary>
    /// Every deny of every attached SCP exempts each role the audit stack's AWS providers assume:
    /// otherwise the stack locks itself out of the audit account once the SCP is attached.
    /// </summary>
    private static void CheckActingRoleExempt(string stack, List<Res> resources, Action<string, string, string> fail)
    {
        if (stack != "audit")
        {
            return;
        }

        var actingRoles = resources.Where(r => r.Type == "pulumi:providers:aws")
            .SelectMany(p => AssumedRoles(p.Properties["assumeRoles"]).Select(role => (Provider: p.Name, Role: role)))
            .ToList();
        var attachments = resources.Where(r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment").ToList();
        foreach (var scp in resources.Where(r => r.Type == "aws:organizations/policy:Policy" && attachments.Any(a => RefersTo(a.Properties["policyId"], r))))
        {
            foreach (var (statement, index) in Statements(scp.Properties["content"]).Select((s, i) => (s, i)).Where(x => Text(x.s.Field("Effect")) == "Deny"))
            {
                var exempt = ExemptPrincipalPatterns(statement);
                foreach (var (provider, role) in actingRoles.Where(a => !exempt.Any(pattern => ArnLike(pattern, a.Role))))
                {
                    var sid = Text(statement.Field("Sid")) ?? $"#{index}";
                    fail("audit-stack-role-exempt", scp.Name, $"statement {sid} denies {role}, the role provider '{provider}' assumes to build inside the audit account: once attached, every later update there is denied (exempt that role: it is deploymentRoleArn)");
                }
            }
        }
    }

    /// <summary>
    /// Every lock-down attachment of the audit stack waits for everything the stack builds inside
    /// the audit account (through a provider that assumes a role there): named itself or by its
    /// component in the attachment's dependsOn. Otherwise the first run races its own lock-down.
    /// </summary>
    private static void CheckLockdownAfterContents(string stack, List<Res> resources, Action<string, string, string> fail)
    {
        if (stack != "audit")
        {
            return;
        }

        var assumingProviders = resources.Where(r => r.Type == "pulumi:providers:aws" && AssumedRoles(r.Properties["assumeRoles"]).Count > 0)
            .Select(r => r.Name).ToHashSet();
        var inside = resources.Where(r => r.EffectiveProvider is { } p && assumingProviders.Contains(p)).ToList();
        var scps = resources.Where(r => r.Type == "aws:organizations/policy:Policy").ToList();
        foreach (var attachment in resources.Where(r => r.Type == "aws:organizations/policyAttachment:PolicyAttachment" && scps.Any(p => RefersTo(r.Properties["policyId"], p))))
        {
            foreach (var missing in inside.Where(r => !attachment.DependsOn.Contains(r.Name) && !attachment.DependsOn.Contains(r.Component)))
            {
                fail("audit-lockdown-after-contents", attachment.Name, $"does not wait for '{missing.Name}', built inside the audit account through provider '{missing.EffectiveProvider}': on the first run the lock-down can be attached before it exists and deny creating it");
            }
        }
    }

    /// <summary>The role ARNs a provider assumes: assumeRoles is a list (a JSON string in a preview's provider inputs).</summary>
    private static List<string> AssumedRoles(JsonNode? assumeRoles)
    {
        if (Text(assumeRoles) is { } json)
        {
            try
            {
                assumeRoles = JsonNode.Parse(json);
            }
            catch (System.Text.Json.JsonException)
            {
                return [];
            }
        }

        return assumeRoles switch
        {
            JsonArray list => [.. list.Select(r => Text(r.Field("roleArn"))).OfType<string>()],
            JsonObject single => [.. new[] { Text(single.Field("roleArn")) }.OfType<string>()],
            _ => [],
        };
    }

    /// <summary>The principals a deny leaves out: aws:PrincipalArn under a negated ARN or string operator.</summary>
    private static List<string> ExemptPrincipalPatterns(JsonNode? statement) =>
        [.. new[] { "ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals" }
            .SelectMany(op => Strings(statement.Field("Condition").Field(op).Field("aws:PrincipalArn")))];

    /// <summary>IAM's ArnLike: '*' any run of characters, '?' one character, nothing else special.</summary>
    private static bool ArnLike(string pattern, string arn) =>
        System.Text.RegularExpressions.Regex.IsMatch(arn, "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + @"\z");

    /// <summary>Actions that delete, unlock or unprotect stored objects: never for a role tasks assume.</summary>
    private static readonly string[] DestructiveS3Actions =
    [
        "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
        "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration", "s3:DeleteBucket",
    ];

    /// <summary>
    /// The integrity monitor's invariants: its schedules run, the roles its tasks assume cannot
    /// delete or unlock evidence, and only such a role can sign with a signing key.
    /// </summary>
    private static void CheckIntegrityMonitor(List<Res> resources, Action<string, string, string> fail)
    {
        foreach (var schedule in resources.Where(r => r.Type == "aws:scheduler/schedule:Schedule"))
        {
            if (Text(schedule.Properties["state"]) == "DISABLED")
            {
                fail("monitor-schedule-enabled", schedule.Name, "the schedule is DISABLED: the archive is no longer proven continuously");
            }
        }

        var taskRoles = resources.Where(r => r.Type == "aws:iam/role:Role" && TrustsService(r.Properties["assumeRolePolicy"], "ecs-tasks.amazonaws.com")).ToList();
        foreach (var policy in resources.Where(r => r.Type == "aws:iam/rolePolicy:RolePolicy"))
        {
            if (taskRoles.FirstOrDefault(role => RefersToRole(policy.Properties["role"], role)) is not { } role)
            {
                continue;
            }

            foreach (var statement in Statements(policy.Properties["policy"]).Where(st => Text(st.Field("Effect")) == "Allow"))
            {
                var allowed = Strings(statement.Field("NotAction")).Count > 0
                    ? DestructiveS3Actions.Where(a => !Strings(statement.Field("NotAction")).Any(p => ActionLike(p, a)))
                    : DestructiveS3Actions.Where(a => Strings(statement.Field("Action")).Any(p => ActionLike(p, a)));
                foreach (var action in allowed)
                {
                    fail("monitor-task-role-no-delete", policy.Name, $"statement {Text(statement.Field("Sid")) ?? "(no Sid)"} allows {action} to role '{role.Name}', which ECS/Batch tasks assume: a task must never delete, unlock or unprotect evidence");
                }
            }
        }

        foreach (var attachment in resources.Where(r => r.Type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"))
        {
            if (taskRoles.FirstOrDefault(role => RefersToRole(attachment.Properties["role"], role)) is { } role)
            {
                fail("monitor-task-role-no-delete", attachment.Name, $"attaches {Text(attachment.Properties["policyArn"]) ?? "a managed policy"} to role '{role.Name}', which ECS/Batch tasks assume: only inline policies, which this check reads, may grant it permissions");
            }
        }

        var taskRoleNames = taskRoles.Select(r => Text(r.Properties["name"])).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var key in resources.Where(r => r.Type == "aws:kms/key:Key" && Text(r.Properties["keyUsage"]) == "SIGN_VERIFY"))
        {
            var signers = new HashSet<string>(StringComparer.Ordinal);
            foreach (var statement in Statements(key.Properties["policy"]).Where(st => Text(st.Field("Effect")) == "Allow"))
            {
                var signs = Strings(statement.Field("NotAction")).Count > 0
                    ? !Strings(statement.Field("NotAction")).Any(p => ActionLike(p, "kms:Sign"))
                    : Strings(statement.Field("Action")).Any(p => ActionLike(p, "kms:Sign"));
                if (!signs)
                {
                    continue;
                }

                var principal = statement.Field("Principal");
                if (Text(principal) is { } anyone)
                {
                    signers.Add(anyone);
                }
                else if (principal is JsonObject map)
                {
                    foreach (var (kind, values) in map)
                    {
                        foreach (var value in Strings(values))
                        {
                            signers.Add(kind == "AWS" ? value : $"{kind}:{value}");
                        }
                    }
                }
                else
                {
                    signers.Add("(a NotPrincipal or no principal)");
                }
            }

            if (signers.Count > 1)
            {
                fail("monitor-kms-sign-only-task-role", key.Name, $"kms:Sign is allowed to {signers.Count} principals ({string.Join(", ", signers.Order(StringComparer.Ordinal))}): only the integrity monitor's task role may sign attestations");
            }
            else if (signers.Count == 1 && signers.Single() is var signer && !IsTaskRoleArn(signer, taskRoleNames))
            {
                fail("monitor-kms-sign-only-task-role", key.Name, $"kms:Sign is allowed to {signer}: only a role that ECS/Batch tasks assume (the integrity monitor's task role), named by its ARN without wildcards, may sign attestations");
            }
        }
    }

    private static bool IsTaskRoleArn(string arn, HashSet<string> taskRoleNames) =>
        System.Text.RegularExpressions.Regex.IsMatch(arn, @"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+\z")
        && taskRoleNames.Contains(arn.Split('/')[^1]);

    private static bool TrustsService(JsonNode? trust, string service) =>
        Statements(trust).Any(st => Text(st.Field("Effect")) == "Allow" && Strings(st.Field("Principal").Field("Service")).Contains(service));

    /// <summary>A role policy's role: "${name.id}" (or .name) in plans, the role's name or id at preview time.</summary>
    private static bool RefersToRole(JsonNode? value, Res role)
    {
        var text = Text(value);
        return text is not null && (text.StartsWith("${" + role.Name + ".", StringComparison.Ordinal) || text == Text(role.Properties["name"]) || text == role.Id);
    }

    /// <summary>IAM action matching: case-insensitive, '*' any run of characters, '?' one character.</summary>
    private static bool ActionLike(string pattern, string action) =>
        System.Text.RegularExpressions.Regex.IsMatch(action, "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + @"\z", System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    private static void CheckDetection(List<Res> resources, Action<string, string, string> fail)
    {
        foreach (var policy in resources.Where(r => r.Type == "aws:cloudwatch/eventBusPolicy:EventBusPolicy"))
        {
            var allows = Statements(policy.Properties["policy"]).Where(s => Text(s.Field("Effect")) == "Allow").ToList();
            if (allows.Count == 0 || allows.Any(s => s.Field("Condition") is not JsonObject c || !c.Any(op => op.Value is JsonObject keys && keys.ContainsKey("aws:PrincipalOrgID"))))
            {
                fail("detection-bus-org-only", policy.Name, "every Allow of the bus policy must be conditioned on aws:PrincipalOrgID");
            }
        }

        foreach (var rule in resources.Where(r => r.Type == "aws:cloudwatch/eventRule:EventRule"))
        {
            if (Text(rule.Properties["state"]) is "DISABLED" || IsFalse(rule.Properties["isEnabled"]))
            {
                fail("event-rules-enabled", rule.Name, "the rule is disabled");
            }
        }

        foreach (var alarm in resources.Where(r => r.Type == "aws:cloudwatch/metricAlarm:MetricAlarm" && Text(r.Properties["namespace"]) == Detection.CanaryHubDesign.MetricNamespace))
        {
            if (Text(alarm.Properties["treatMissingData"]) != "breaching")
            {
                fail("detection-canary-alarmed", alarm.Name, "missing data must be breaching: silent canaries publish nothing");
            }

            if (IsFalse(alarm.Properties["actionsEnabled"]) || !Strings(alarm.Properties["alarmActions"]).Any())
            {
                fail("detection-canary-alarmed", alarm.Name, "the alarm notifies nobody (no alarm action, or actions disabled)");
            }
        }
    }

    private static bool AllowsCloudTrailWrites(JsonNode? policy) =>
        Statements(policy).Any(s =>
            Text(s.Field("Effect")) == "Allow"
            && Strings(s.Field("Principal").Field("Service")).Contains("cloudtrail.amazonaws.com")
            && Strings(s.Field("Action")).Contains("s3:PutObject"));

    private static List<JsonNode?> Statements(JsonNode? policy)
    {
        if (policy is JsonValue v && v.TryGetValue<string>(out var text))
        {
            try
            {
                policy = JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                return [];
            }
        }

        return policy.Field("Statement") switch
        {
            JsonArray array => [.. array],
            JsonObject single => [single],
            _ => [],
        };
    }

    private static bool DeniesInsecureTransport(JsonNode? policy)
    {
        var statements = Statements(policy);
        return statements.Any(s =>
            Text(s.Field("Effect")) == "Deny"
            && Strings(s.Field("Action")).Any(a => a is "s3:*" or "*")
            && Strings(s.Field("Condition").Field("Bool").Field("aws:SecureTransport")).Any(x => x.Equals("false", StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>A sub-resource's reference to a resource: "${name.output}" in plans, or the bucket's name or id at preview time.</summary>
    private static bool RefersTo(JsonNode? value, Res resource)
    {
        var text = Text(value);
        return text is not null && (text.StartsWith("${" + resource.Name + ".", StringComparison.Ordinal)
            || text == Text(resource.Properties["bucket"]) || text == resource.Id);
    }

    /// <summary>A property of an object; null for anything else, so a plan of the wrong shape fails invariants instead of the check.</summary>
    private static JsonNode? Field(this JsonNode? node, string name) => node is JsonObject o ? o[name] : null;

    private static bool IsTrue(JsonNode? node) => node is JsonValue v && (v.TryGetValue<bool>(out var b) ? b : v.TryGetValue<string>(out var s) && s == "true");

    private static bool IsFalse(JsonNode? node) => node is JsonValue v && (v.TryGetValue<bool>(out var b) ? !b : v.TryGetValue<string>(out var s) && s == "false");

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static double? Number(JsonNode? node)
    {
        if (node is not JsonValue v)
        {
            return null;
        }

        // Values built in memory keep their CLR type; parsed ones are JSON elements: ask for each.
        return v.TryGetValue<int>(out var i) ? i
            : v.TryGetValue<long>(out var l) ? l
            : v.TryGetValue<double>(out var d) ? d
            : v.TryGetValue<string>(out var s) && double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var p) ? p
            : null;
    }

    private static List<string> Strings(JsonNode? node) => node switch
    {
        JsonArray a => [.. a.Select(Text).OfType<string>()],
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        JsonValue v when v.TryGetValue<bool>(out var b) => [b ? "true" : "false"],
        _ => [],
    };

    private sealed class Res(JsonObject node, JsonObject component)
    {
        /// <summary>The component the resource belongs to (its parent).</summary>
        public string Component { get; } = Text(component["name"]) ?? "";

        /// <summary>The provider resource it is created through: its own, else its component's; null: the default provider.</summary>
        public string? EffectiveProvider { get; } = Text(node["provider"]) ?? Text(component["provider"]);

        public HashSet<string> DependsOn { get; } = [.. (node["dependsOn"] as JsonArray ?? []).Select(Text).OfType<string>()];

        public string Type { get; } = Text(node["type"]) ?? "";

        public string Name { get; } = Text(node["name"]) ?? "";

        public string? Id { get; } = Text(node["id"]);

        public JsonObject Properties { get; } = node["properties"] as JsonObject ?? [];

        public bool Protect { get; } = node["protect"] is JsonValue p && p.TryGetValue<bool>(out var b) && b;
    }
}
