using System.Collections.Immutable;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Detection;

/// <summary>Section <c>auditinfra:detection</c>: switch detections off, change severities, add custom ones, add targets.</summary>
public sealed record DetectionSettings
{
    public ImmutableArray<string> Disabled { get; init; } = [];

    public ImmutableDictionary<string, Severity> SeverityOverrides { get; init; } = ImmutableDictionary<string, Severity>.Empty;

    public ImmutableArray<DetectionRule> Custom { get; init; } = [];

    /// <summary>Extra targets (ARNs of SNS topics, SQS queues, Lambda functions, buses) for every detection rule.</summary>
    public ImmutableArray<string> ExtraTargetArns { get; init; } = [];

    /// <summary>How often each account and governed region sends its detection canary.</summary>
    public int CanaryIntervalMinutes { get; init; } = 5;

    /// <summary>How long a region may stay without a canary at the central bus before its alarm fires.</summary>
    public int CanaryAlarmMinutes { get; init; } = 30;

    /// <summary>Ids of the built-in detections, for validation without a full configuration.</summary>
    public static readonly ImmutableArray<string> BuiltInIds =
    [
        "root-account-use", "console-login-without-mfa", "console-authentication-failures", "unauthorized-api-calls", "iam-policy-changes",
        "cloudtrail-changes", "kms-key-disabled-or-deleted", "s3-bucket-policy-changes", "config-changes", "security-group-changes",
        "nacl-changes", "network-gateway-changes", "route-table-changes", "vpc-changes", "organizations-changes", "audit-trail-tampering",
        "audit-log-bucket-tampering", "audit-key-tampering", "detection-forwarding-tampering", "security-services-disabled",
        DetectionCatalog.CanaryId,
    ];

    public static DetectionSettings Bind(ConfigScope scope)
    {
        string? KnownId(string id) => BuiltInIds.Contains(id) ? null : $"a built-in detection id{(KeyHints.Nearest(id, BuiltInIds) is { } hint ? $" (did you mean '{hint}'?)" : "")}";
        var severityNames = string.Join(", ", Enum.GetValues<Severity>().Select(s => s.ToString().ToLowerInvariant()));
        var overrides = scope.StringMap("severity", KnownId, v => Enum.TryParse<Severity>(v, ignoreCase: true, out _) ? null : "one of " + severityNames);
        var custom = scope.ListOf("custom", BindCustom);
        foreach (var duplicate in custom.GroupBy(c => c.Id).Where(g => g.Count() > 1 || BuiltInIds.Contains(g.Key)))
        {
            scope.Error("custom", $"detection id '{duplicate.Key}' is used twice (custom ids must differ from each other and from the built-ins)");
        }

        var canaryInterval = scope.Int("canaryIntervalMinutes", 5, 1, 60, "minutes");
        var canaryAlarm = scope.Int("canaryAlarmMinutes", 30, 5, 1440, "minutes");
        if (canaryAlarm < 2 * canaryInterval)
        {
            // One late or retried canary must not raise the alarm on its own.
            scope.Error("canaryAlarmMinutes", $"must be at least twice canaryIntervalMinutes ({canaryInterval}), found {canaryAlarm}");
        }

        return new DetectionSettings
        {
            CanaryIntervalMinutes = canaryInterval,
            CanaryAlarmMinutes = canaryAlarm,
            Disabled = scope.StringList("disabled", check: KnownId),
            SeverityOverrides = overrides.ToImmutableDictionary(kv => kv.Key, kv => Enum.Parse<Severity>(kv.Value, ignoreCase: true)),
            Custom = custom,
            ExtraTargetArns = scope.StringList("extraTargetArns", check: v =>
                System.Text.RegularExpressions.Regex.IsMatch(v, "^arn:aws(-cn|-us-gov)?:(sns|sqs|lambda|events):[a-z0-9-]+:[0-9]{12}:.+\\z") ? null : "an SNS topic, SQS queue, Lambda function or event bus ARN"),
        };
    }

    private static DetectionRule? BindCustom(ConfigScope scope)
    {
        var id = scope.String("id", required: true, check: v => System.Text.RegularExpressions.Regex.IsMatch(v, "^[a-z0-9][a-z0-9-]{1,35}\\z") ? null : "2 to 36 lowercase letters, digits or hyphens (the rule name <prefix>-detect-<id> must fit EventBridge's 64 characters)");
        var title = scope.String("title", required: true);
        var severity = scope.Enum("severity", Severity.Medium, s => s.ToString().ToLowerInvariant());
        var description = scope.String("description", defaultValue: "") ?? "";
        var response = scope.StringList("firstResponse");
        var raw = scope.Raw("pattern");
        JsonObject? pattern = null;
        if (raw is null)
        {
            scope.Error("pattern", "is required: an EventBridge event pattern, as a map or as JSON text");
        }
        else
        {
            try
            {
                var node = raw is ConfigScalar { Text: { } text } ? JsonNode.Parse(text) : ToJson(raw);
                pattern = EventPattern.Compile(node).Source;
            }
            catch (System.Text.Json.JsonException ex)
            {
                scope.Error("pattern", $"is not valid JSON: {ex.Message}");
            }
            catch (EventPatternException ex)
            {
                scope.Error("pattern", $"is not a valid event pattern: {ex.Message}");
            }
        }

        return id is null || title is null || pattern is null
            ? null
            : new DetectionRule(id, title, severity, pattern, description, "Custom detection of this organization.", response, [], []) { IsCustom = true };
    }

    /// <summary>A YAML map as the JSON EventBridge reads: scalars that look like numbers, booleans or null become those.</summary>
    private static JsonNode? ToJson(ConfigValue value) => value switch
    {
        ConfigMapping map => new JsonObject(map.Entries.Select(e => new KeyValuePair<string, JsonNode?>(e.Key, ToJson(e.Value)))),
        ConfigSequence seq => new JsonArray([.. seq.Items.Select(ToJson)]),
        ConfigScalar { Text: null } => null,
        ConfigScalar { Quoted: true } quoted => JsonValue.Create(quoted.Text),
        ConfigScalar { Text: "true" } => JsonValue.Create(true),
        ConfigScalar { Text: "false" } => JsonValue.Create(false),
        ConfigScalar { Text: { } t } when double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        ConfigScalar s => JsonValue.Create(s.Text),
        _ => null,
    };
}
