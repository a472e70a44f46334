using System.Collections.Immutable;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Rollout;

/// <summary>
/// How the Automation host rolls the account baseline out to member accounts (section
/// <c>auditinfra:rollout</c>, optional: every key has a default).
/// </summary>
public sealed record RolloutSettings
{
    public const string OrganizationAccountAccessRole = "OrganizationAccountAccessRole";
    public const string ControlTowerExecutionRole = "AWSControlTowerExecution";

    /// <summary>The role the host assumes in each member account (Organizations' or Control Tower's).</summary>
    public string ExecutionRoleName { get; init; } = OrganizationAccountAccessRole;

    /// <summary>The central event bus in the audit account; null derives it from the name prefix.</summary>
    public string? CentralBusArn { get; init; }

    /// <summary>Accounts deployed at the same time (each stack is still deployed by one operation at a time).</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Attempts per account and version before the account is marked failed.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>First retry delay; it doubles per attempt, with jitter.</summary>
    public int RetryBaseDelaySeconds { get; init; } = 10;

    /// <summary>How often the host lists the organization's accounts to catch lost events.</summary>
    public int ReconcileIntervalMinutes { get; init; } = 15;

    /// <summary>How long a host owns an account's operation without renewing (renewed every third of it).</summary>
    public int LeaseSeconds { get; init; } = 600;

    /// <summary>
    /// How long an account at the current version goes without a refresh (pulumi refresh) before
    /// reconciliation refreshes it; drift found by the refresh is repaired by a deployment.
    /// </summary>
    public int RefreshHours { get; init; } = 24;

    /// <summary>Accounts never rolled out to (the management account always is excluded).</summary>
    public ImmutableArray<string> ExcludeAccountIds { get; init; } = [];

    /// <summary>The SQS queue the account-event rule feeds (its DLQ is '&lt;name&gt;-dlq'); null derives it.</summary>
    public string? QueueName { get; init; }

    /// <summary>Receives before a message the host cannot handle goes to the DLQ.</summary>
    public int MaxReceiveCount { get; init; } = 5;

    public static RolloutSettings Bind(ConfigScope scope)
    {
        var role = scope.String("executionRoleName", defaultValue: OrganizationAccountAccessRole, check: AwsFormats.RoleName) ?? OrganizationAccountAccessRole;
        var bus = scope.String("centralBusArn", check: EventBusArn);
        var settings = new RolloutSettings
        {
            ExecutionRoleName = role,
            CentralBusArn = bus,
            Concurrency = scope.Int("concurrency", 4, 1, 64, "accounts"),
            MaxAttempts = scope.Int("maxAttempts", 5, 1, 50, "attempts"),
            RetryBaseDelaySeconds = scope.Int("retryBaseDelaySeconds", 10, 1, 3600, "seconds"),
            ReconcileIntervalMinutes = scope.Int("reconcileIntervalMinutes", 15, 1, 1440, "minutes"),
            LeaseSeconds = scope.Int("leaseSeconds", 600, 60, 86400, "seconds"),
            RefreshHours = scope.Int("refreshHours", 24, 1, 8760, "hours"),
            ExcludeAccountIds = scope.StringList("excludeAccountIds", check: AwsFormats.AccountId),
            QueueName = scope.String("queueName", check: QueueNameCheck),
            MaxReceiveCount = scope.Int("maxReceiveCount", 5, 1, 1000, "receives"),
        };
        if (role is not OrganizationAccountAccessRole and not ControlTowerExecutionRole)
        {
            scope.Warning("executionRoleName", $"'{role}' is neither {OrganizationAccountAccessRole} (accounts created by Organizations) nor {ControlTowerExecutionRole} (Control Tower): it must exist in every member account and trust the management account");
        }

        return settings;
    }

    public static string? EventBusArn(string value) =>
        System.Text.RegularExpressions.Regex.IsMatch(value, "^arn:aws(-cn|-us-gov)?:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._\\-/]{1,256}\\z")
            ? null
            : "an event bus ARN: arn:<partition>:events:<region>:<12-digit account>:event-bus/<name>";

    private static string? QueueNameCheck(string value) =>
        System.Text.RegularExpressions.Regex.IsMatch(value, "^[A-Za-z0-9_-]{1,76}\\z")
            ? null
            : "an SQS queue name: 1 to 76 letters, digits, '-' or '_' (the DLQ adds '-dlq')";
}
