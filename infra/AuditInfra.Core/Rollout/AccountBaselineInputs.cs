using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Planning;

namespace AuditInfra.Core.Rollout;

/// <summary>
/// Everything one member account's stack (<c>account-&lt;id&gt;</c>) is built from: one stack covers
/// every governed region (Pulumi.Aws 7 resources take a Region input).
/// </summary>
public sealed record AccountBaselineInputs(
    string AccountId,
    string HomeRegion,
    ImmutableArray<string> GovernedRegions,
    string CentralBusArn,
    string ExecutionRoleArn,
    string NamePrefix,
    ImmutableSortedDictionary<string, string> Tags)
{
    /// <summary>The event sources the detection catalog needs; empty forwards every CloudTrail-delivered event.</summary>
    public ImmutableArray<string> ForwardedSources { get; init; } = [];

    /// <summary>Minutes between detection canaries in each governed region; null when the canary detection is disabled.</summary>
    public int? CanaryIntervalMinutes { get; init; } = 5;

    public string StackName => StackNames.ForAccount(AccountId);

    /// <summary>The stack's configuration as the Automation host sets it (<c>namespace:key</c> to value).</summary>
    public ImmutableSortedDictionary<string, string> StackConfig() =>
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["aws:region"] = HomeRegion,
            ["auditinfra:accountId"] = AccountId,
            ["auditinfra:governedRegions"] = new JsonArray([.. GovernedRegions.Select(r => (JsonNode)JsonValue.Create(r))]).ToJsonString(),
            ["auditinfra:centralBusArn"] = CentralBusArn,
            ["auditinfra:executionRoleArn"] = ExecutionRoleArn,
            ["auditinfra:namePrefix"] = NamePrefix,
            ["auditinfra:forwardedSources"] = new JsonArray([.. ForwardedSources.Select(r => (JsonNode)JsonValue.Create(r))]).ToJsonString(),
            ["auditinfra:canaryIntervalMinutes"] = CanaryIntervalMinutes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "off",
        });
}

public static class StackNames
{
    public const string AccountPrefix = "account-";

    public static string ForAccount(string accountId) => AccountPrefix + accountId;

    public static string? AccountOf(string stackName) =>
        stackName.StartsWith(AccountPrefix, StringComparison.Ordinal) && AwsFormats.AccountId(stackName[AccountPrefix.Length..]) is null
            ? stackName[AccountPrefix.Length..]
            : null;
}

/// <summary>What the host deploys to each account, and the version stamp that says when a stack is stale.</summary>
public sealed record RolloutTarget(AuditConfig Config, RolloutSettings Settings, string ProgramVersion)
{
    public string CentralBusArn =>
        Settings.CentralBusArn ?? new Naming.ResourceNames(Config).DetectionBusArn;

    public string ExecutionRoleArn(string accountId) => $"arn:{Config.Partition}:iam::{accountId}:role/{Settings.ExecutionRoleName}";

    public AccountBaselineInputs InputsFor(string accountId) => new(
        accountId,
        Config.HomeRegion,
        Config.GovernedRegions,
        CentralBusArn,
        ExecutionRoleArn(accountId),
        Config.NamePrefix,
        Config.Tags)
    {
        ForwardedSources = Detection.DetectionCatalog.ForwardedSources(Detection.DetectionCatalog.For(Config)),
        CanaryIntervalMinutes = CanaryInterval,
    };

    private int? CanaryInterval =>
        Detection.DetectionCatalog.For(Config).Any(r => r.IsCanary) ? Config.Detection.CanaryIntervalMinutes : null;

    /// <summary>
    /// Program version plus a digest of every input shared by all accounts: a stack deployed at
    /// another version (new program, new regions, new bus, new role) is redeployed.
    /// </summary>
    public string Version
    {
        get
        {
            var shared = new JsonObject
            {
                ["regions"] = new JsonArray([.. Config.GovernedRegions.Select(r => (JsonNode)JsonValue.Create(r))]),
                ["homeRegion"] = Config.HomeRegion,
                ["bus"] = CentralBusArn,
                ["role"] = Settings.ExecutionRoleName,
                ["prefix"] = Config.NamePrefix,
                ["sources"] = new JsonArray([.. Detection.DetectionCatalog.ForwardedSources(Detection.DetectionCatalog.For(Config)).Select(s => (JsonNode)JsonValue.Create(s))]),
                ["tags"] = PlannedResource.Tags(Config.Tags),
                ["canaryIntervalMinutes"] = CanaryInterval,
            };
            var digest = SHA256.HashData(Encoding.UTF8.GetBytes(shared.ToJsonString(JsonFormat.Compact)));
            return $"{ProgramVersion}+{Convert.ToHexStringLower(digest)[..12]}";
        }
    }

    /// <summary>Whether the host rolls out to this account at all.</summary>
    public bool Governs(string accountId) =>
        accountId != Config.Organization.ManagementAccountId && !Settings.ExcludeAccountIds.Contains(accountId);
}
