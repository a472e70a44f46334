namespace AuditInfra.Core.Detection;

/// <summary>
/// The names of an account's detection canary, from the name prefix alone: the account baseline
/// (built from rollout inputs) and the catalog (built from the configuration) must agree on them.
/// </summary>
public static class CanaryNames
{
    /// <summary>The schedule, the same name in every governed region (names are unique per region and group).</summary>
    public static string Schedule(string namePrefix) => $"{namePrefix}-detection-canary";

    /// <summary>The role EventBridge Scheduler assumes to make the canary call.</summary>
    public static string Role(string namePrefix) => $"{namePrefix}-detection-canary";

    /// <summary>The SSM parameter the canary overwrites: nothing reads it, so writing it is harmless.</summary>
    public static string Parameter(string namePrefix) => $"/{namePrefix}/canary";
}
