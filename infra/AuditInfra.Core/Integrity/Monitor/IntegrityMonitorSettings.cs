using System.Collections.Immutable;
using System.Text.RegularExpressions;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Integrity.Monitor;

/// <summary>
/// The continuous integrity monitor of the audit stack (section <c>auditinfra:integrity</c>):
/// off unless <c>enabled: true</c>, then it needs the image tag CI pushed and the subnets its
/// Fargate tasks run in.
/// </summary>
public sealed partial record IntegrityMonitorSettings
{
    public static readonly ImmutableArray<int> FargateCpuUnits = [256, 512, 1024, 2048, 4096, 8192, 16384];

    /// <summary>The values CloudWatch Logs accepts for a log group's retention.</summary>
    public static readonly ImmutableArray<int> LogRetentionDayValues =
        [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

    public bool Enabled { get; init; }

    /// <summary>The tag of the CLI image in the component's repository (tags are immutable: never "latest").</summary>
    public string ImageTag { get; init; } = "";

    public ImmutableArray<string> SubnetIds { get; init; } = [];

    /// <summary>At least one when enabled: Batch on Fargate requires it, and the tasks use the same.</summary>
    public ImmutableArray<string> SecurityGroupIds { get; init; } = [];

    public bool AssignPublicIp { get; init; }

    public string ScheduleExpression { get; init; } = "rate(1 hour)";

    /// <summary>The periodic full pass: catches a digest deleted or altered before a chain's state point.</summary>
    public string FullScheduleExpression { get; init; } = "rate(1 day)";

    /// <summary>Hours without a completed run before the alarm fires.</summary>
    public int AlarmAfterHours { get; init; } = 2;

    public int Cpu { get; init; } = 1024;

    public int MemoryMiB { get; init; } = 2048;

    public int LogRetentionDays { get; init; } = 365;

    public BackfillSettings Backfill { get; init; } = new();

    public static IntegrityMonitorSettings Bind(ConfigScope scope)
    {
        var enabled = scope.Bool("enabled", false);
        var tag = scope.String("imageTag", required: enabled, check: ImageTagCheck) ?? "";
        var subnets = scope.StringList("subnetIds", required: enabled, allowEmpty: !enabled, check: v => SubnetId().IsMatch(v) ? null : "a subnet id (subnet- and 8 or 17 hex digits)");
        var groups = scope.StringList("securityGroupIds", required: enabled, allowEmpty: !enabled, check: v => SecurityGroupId().IsMatch(v) ? null : "a security group id (sg- and 8 or 17 hex digits)");
        if (subnets.Length > 16)
        {
            scope.Error("subnetIds", $"expected at most 16 subnets (EventBridge Scheduler's limit for a task) (found {subnets.Length})");
        }

        if (groups.Length > 5)
        {
            scope.Error("securityGroupIds", $"expected at most 5 security groups (found {groups.Length})");
        }

        var cpu = scope.Int("cpu", 1024, 256, 16384, "CPU units");
        if (!FargateCpuUnits.Contains(cpu))
        {
            scope.Error("cpu", $"expected one of Fargate's CPU sizes {string.Join(", ", FargateCpuUnits)} (found {cpu})");
        }

        var memory = scope.Int("memoryMiB", 2048, 512, 122880, "MiB");
        if (FargateCpuUnits.Contains(cpu) && FargateMemoryProblem(cpu, memory) is { } memoryProblem)
        {
            scope.Error("memoryMiB", memoryProblem);
        }

        var retention = scope.Int("logRetentionDays", 365, 1, 3653, "days");
        if (!LogRetentionDayValues.Contains(retention))
        {
            scope.Error("logRetentionDays", $"expected one of CloudWatch Logs' retention periods ({string.Join(", ", LogRetentionDayValues)}) (found {retention})");
        }

        var settings = new IntegrityMonitorSettings
        {
            Enabled = enabled,
            ImageTag = tag,
            SubnetIds = subnets,
            SecurityGroupIds = groups,
            AssignPublicIp = scope.Bool("assignPublicIp", false),
            ScheduleExpression = scope.String("scheduleExpression", defaultValue: "rate(1 hour)", check: ScheduleExpressionCheck) ?? "rate(1 hour)",
            FullScheduleExpression = scope.String("fullScheduleExpression", defaultValue: "rate(1 day)", check: ScheduleExpressionCheck) ?? "rate(1 day)",
            AlarmAfterHours = scope.Int("alarmAfterHours", 2, 1, 24, "hours"),
            Cpu = cpu,
            MemoryMiB = memory,
            LogRetentionDays = retention,
            Backfill = BackfillSettings.Bind(scope.Section("backfill")),
        };
        if (!enabled && settings.Backfill.Enabled)
        {
            scope.Error("backfill", "backfill.enabled needs integrity.enabled: true (the backfill runs the monitor's image with its roles)");
        }

        return settings;
    }

    /// <summary>Fargate's memory sizes per CPU size (MiB).</summary>
    public static string? FargateMemoryProblem(int cpu, int memory)
    {
        var (min, max, step) = cpu switch
        {
            256 => (512, 2048, 512),
            512 => (1024, 4096, 1024),
            1024 => (2048, 8192, 1024),
            2048 => (4096, 16384, 1024),
            4096 => (8192, 30720, 1024),
            8192 => (16384, 61440, 4096),
            _ => (32768, 122880, 8192),
        };
        var fits = cpu == 256 ? memory is 512 or 1024 or 2048 : memory >= min && memory <= max && memory % step == 0;
        return fits ? null : $"expected a Fargate memory size for {cpu} CPU units: {(cpu == 256 ? "512, 1024 or 2048" : $"{min} to {max} in steps of {step}")} MiB (found {memory})";
    }

    public static string? ImageTagCheck(string value)
    {
        if (!ImageTagPattern().IsMatch(value))
        {
            return "an image tag: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-' (CI pushes the commit id)";
        }

        return value == "latest" ? "an immutable tag (the repository's tags are immutable, so 'latest' can never move): e.g. the commit id CI pushed" : null;
    }

    public static string? ScheduleExpressionCheck(string value) =>
        RateExpression().IsMatch(value) || CronExpression().IsMatch(value)
            ? null
            : "an EventBridge Scheduler expression: rate(<n> minute(s)|hour(s)|day(s)) or cron(<6 fields>)";

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\\z")]
    private static partial Regex ImageTagPattern();

    [GeneratedRegex("^subnet-([0-9a-f]{8}|[0-9a-f]{17})\\z")]
    private static partial Regex SubnetId();

    [GeneratedRegex("^sg-([0-9a-f]{8}|[0-9a-f]{17})\\z")]
    private static partial Regex SecurityGroupId();

    [GeneratedRegex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]{1,3}) (minutes|hours|days))\\)\\z")]
    private static partial Regex RateExpression();

    [GeneratedRegex("^cron\\(\\S+( \\S+){5}\\)\\z")]
    private static partial Regex CronExpression();
}

/// <summary>Backfills as AWS Batch array jobs (section <c>auditinfra:integrity.backfill</c>): shipped, but its queue disabled.</summary>
public sealed record BackfillSettings
{
    /// <summary>false: the job queue exists in state DISABLED and refuses submissions.</summary>
    public bool Enabled { get; init; }

    public int MaxVcpus { get; init; } = 64;

    public int JobTimeoutHours { get; init; } = 24;

    public static BackfillSettings Bind(ConfigScope scope) => new()
    {
        Enabled = scope.Bool("enabled", false),
        MaxVcpus = scope.Int("maxVcpus", 64, 1, 4096, "vCPUs"),
        JobTimeoutHours = scope.Int("jobTimeoutHours", 24, 1, 336, "hours"),
    };
}
