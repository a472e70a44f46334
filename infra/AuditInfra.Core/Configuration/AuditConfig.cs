using System.Collections.Immutable;

namespace AuditInfra.Core.Configuration;

/// <summary>
/// The validated configuration of one stack, identical for the Pulumi program and the CLI.
/// Built only by <see cref="AuditConfigBinder"/>, so every instance has passed validation.
/// </summary>
public sealed record AuditConfig
{
    public required string File { get; init; }

    public required string StackName { get; init; }

    public required OrganizationSettings Organization { get; init; }

    /// <summary>Where the trail, log archive and detection hub live; also Pulumi's aws:region.</summary>
    public required string HomeRegion { get; init; }

    /// <summary>The regions member accounts may use: detections are forwarded from each of them.</summary>
    public required ImmutableArray<string> GovernedRegions { get; init; }

    public required string NamePrefix { get; init; }

    public required string TrailName { get; init; }

    /// <summary>Empty, or the prefix under which the trail writes AWSLogs/…</summary>
    public required string S3KeyPrefix { get; init; }

    public required int RetentionYears { get; init; }

    public required LifecycleSettings Lifecycle { get; init; }

    public required ObjectLockSettings ObjectLock { get; init; }

    public required int KmsDeletionWindowDays { get; init; }

    /// <summary>The role CI deploys with: the only principal besides break-glass allowed to change the audit resources.</summary>
    public required string DeploymentRoleArn { get; init; }

    public required string BreakGlassRoleArn { get; init; }

    /// <summary>Principals of the audit account allowed to read and decrypt the logs (auditors, the query layer).</summary>
    public required ImmutableArray<string> LogReaderPrincipalArns { get; init; }

    public required ImmutableSortedDictionary<string, string> Tags { get; init; }

    /// <summary>How the Automation host rolls the account baseline out to member accounts.</summary>
    public Rollout.RolloutSettings Rollout { get; init; } = new();

    /// <summary>The organization trail's options.</summary>
    public Trail.TrailSettings Trail { get; init; } = new();

    /// <summary>Detection overrides: disabled ids, severities, custom detections, extra targets.</summary>
    public Detection.DetectionSettings Detection { get; init; } = new();

    /// <summary>The dedicated audit account: created or adopted, its OU and the principals who read in it.</summary>
    public AuditAccount.AuditAccountSettings AuditAccount { get; init; } = new();

    /// <summary>Where the guardrail SCPs attach.</summary>
    public Guardrails.GuardrailSettings Guardrails { get; init; } = new();

    /// <summary>The continuous integrity monitor of the audit stack (off unless enabled).</summary>
    public Integrity.Monitor.IntegrityMonitorSettings Integrity { get; init; } = new();

    public string Partition => AwsFormats.PartitionOf(HomeRegion);

    public int RetentionDays => RetentionYears * 365;
}

public sealed record OrganizationSettings(string OrganizationId, string ManagementAccountId, string AuditAccountId);

/// <summary>
/// Days after creation at which log objects move to each colder tier; a null tier is skipped.
/// </summary>
public sealed record LifecycleSettings(
    int? StandardIaDays,
    int? GlacierIrDays,
    int? GlacierDays,
    int? DeepArchiveDays,
    bool TransitionSmallObjects,
    int NoncurrentVersionExpirationDays,
    int AbortIncompleteMultipartUploadDays)
{
    /// <summary>The tiers in the order S3 moves objects through them, with the days they start.</summary>
    public IEnumerable<(StorageTier Tier, int Days)> Tiers()
    {
        if (StandardIaDays is { } ia)
        {
            yield return (StorageTier.StandardIa, ia);
        }

        if (GlacierIrDays is { } gir)
        {
            yield return (StorageTier.GlacierIr, gir);
        }

        if (GlacierDays is { } g)
        {
            yield return (StorageTier.Glacier, g);
        }

        if (DeepArchiveDays is { } da)
        {
            yield return (StorageTier.DeepArchive, da);
        }
    }
}

public enum StorageTier
{
    StandardIa,
    GlacierIr,
    Glacier,
    DeepArchive,
}

public static class StorageTiers
{
    /// <summary>The S3 storage class name as the lifecycle API spells it.</summary>
    public static string StorageClass(this StorageTier tier) => tier switch
    {
        StorageTier.StandardIa => "STANDARD_IA",
        StorageTier.GlacierIr => "GLACIER_IR",
        StorageTier.Glacier => "GLACIER",
        StorageTier.DeepArchive => "DEEP_ARCHIVE",
        _ => throw new ArgumentOutOfRangeException(nameof(tier)),
    };

    /// <summary>S3's minimum storage duration: leaving a tier earlier is billed as if the object stayed.</summary>
    public static int MinimumStorageDays(this StorageTier tier) => tier switch
    {
        StorageTier.StandardIa => 30,
        StorageTier.GlacierIr => 90,
        StorageTier.Glacier => 90,
        StorageTier.DeepArchive => 180,
        _ => throw new ArgumentOutOfRangeException(nameof(tier)),
    };
}

public enum ObjectLockMode
{
    /// <summary>Locked versions can be deleted only with s3:BypassGovernanceRetention.</summary>
    Governance,

    /// <summary>Nobody, the root user included, can delete or shorten the lock until it ends.</summary>
    Compliance,
}

public sealed record ObjectLockSettings(ObjectLockMode Mode, int RetentionDays)
{
    public string ModeName => Mode == ObjectLockMode.Compliance ? "COMPLIANCE" : "GOVERNANCE";
}
