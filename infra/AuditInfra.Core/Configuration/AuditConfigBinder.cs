namespace AuditInfra.Core.Configuration;

/// <summary>
/// Types and validates a stack's raw configuration. Returns every issue at once; a config is
/// produced only when there is no error.
/// </summary>
public static class AuditConfigBinder
{
    /// <summary>
    /// Every top-level key of the <c>auditinfra:</c> namespace, found by binding an empty
    /// configuration: where Pulumi's config can only be read key by key, these are the keys to read.
    /// </summary>
    public static IReadOnlyCollection<string> TopLevelKeys()
    {
        var root = ConfigScope.Root(new RawConfig("(none)", "(none)", []), []);
        BindScope(new RawConfig("(none)", "(none)", []), root, []);
        return root.KnownKeys;
    }

    public static (AuditConfig? Config, ValidationReport Report) Bind(RawConfig raw)
    {
        var issues = new List<ConfigIssue>();
        var root = ConfigScope.Root(raw, issues);
        var config = BindScope(raw, root, issues);
        return (config, new ValidationReport(issues));
    }

    private static AuditConfig? BindScope(RawConfig raw, ConfigScope root, List<ConfigIssue> issues)
    {
        CheckNamespaces(raw, issues);

        var organization = new OrganizationSettings(
            root.String("organizationId", required: true, check: AwsFormats.OrganizationId) ?? "",
            root.String("managementAccountId", required: true, check: AwsFormats.AccountId) ?? "",
            root.String("auditAccountId", required: true, check: AwsFormats.AccountId) ?? "");
        if (organization.ManagementAccountId.Length > 0 && organization.ManagementAccountId == organization.AuditAccountId)
        {
            root.Error("auditAccountId", "must differ from managementAccountId: logs belong in a separate account that the management account's users cannot write to");
        }

        var homeRegion = root.String("homeRegion", required: true, check: AwsFormats.Region) ?? "";
        CheckAwsRegion(raw, homeRegion, issues);
        var governed = root.StringList("governedRegions", required: true, check: AwsFormats.Region, allowEmpty: false);
        if (homeRegion.Length > 0 && governed.Length > 0 && !governed.Contains(homeRegion))
        {
            root.Error("governedRegions", $"must include the home region '{homeRegion}'");
        }

        if (homeRegion.Length > 0 && governed.Any(r => AwsFormats.PartitionOf(r) != AwsFormats.PartitionOf(homeRegion)))
        {
            root.Error("governedRegions", $"must all be in the partition of the home region ({AwsFormats.PartitionOf(homeRegion)})");
        }

        var prefix = root.String("namePrefix", required: true, check: AwsFormats.NamePrefix) ?? "";
        var trailName = root.String("trailName", required: true, check: AwsFormats.TrailName) ?? "";
        var keyPrefix = root.String("s3KeyPrefix", defaultValue: "", check: AwsFormats.S3KeyPrefix) ?? "";
        var retentionYears = root.Int("retentionYears", 7, 1, 100, "years");
        var lifecycle = BindLifecycle(root.Section("lifecycle"), retentionYears);
        var objectLock = BindObjectLock(root.Section("objectLock"), retentionYears);
        var deletionWindow = root.Int("kmsDeletionWindowDays", 30, 7, 30, "days");
        var deploymentRole = root.String("deploymentRoleArn", required: true, check: AwsFormats.RoleArn) ?? "";
        var breakGlassRole = root.String("breakGlassRoleArn", required: true, check: AwsFormats.RoleArn) ?? "";
        if (deploymentRole.Length > 0 && deploymentRole == breakGlassRole)
        {
            root.Error("breakGlassRoleArn", "must differ from deploymentRoleArn: break-glass access is a separate, separately audited path");
        }

        var readers = root.StringList("logReaderPrincipalArns", check: AwsFormats.PrincipalArn);
        var tags = root.StringMap("tags", AwsFormats.TagKey, AwsFormats.TagValue);
        if (tags.Count > 40)
        {
            root.Error("tags", $"expected at most 40 tags (found {tags.Count}); the design adds its own and AWS allows 50 per resource");
        }

        var rollout = Rollout.RolloutSettings.Bind(root.Section("rollout"));
        var detection = Detection.DetectionSettings.Bind(root.Section("detection"));
        var auditAccountScope = root.Section("auditAccount");
        var auditAccount = new AuditAccount.AuditAccountSettings();
        if (Stacks.StackRoles.FromStackName(raw.StackName) == Stacks.StackRole.Audit || root.Has("auditAccount"))
        {
            auditAccount = AuditAccount.AuditAccountSettings.Bind(auditAccountScope);
            AuditAccount.AuditAccountSettings.CheckDeploymentRole(root, auditAccountScope, auditAccount, deploymentRole, organization.AuditAccountId);
        }

        var trail = Trail.TrailSettings.Bind(root.Section("trail"), organization);
        var guardrails = Guardrails.GuardrailSettings.Bind(root.Section("guardrails"), required: Stacks.StackRoles.FromStackName(raw.StackName) == Stacks.StackRole.Management);
        var integrity = Integrity.Monitor.IntegrityMonitorSettings.Bind(root.Section("integrity"));
        if (integrity.Enabled && Stacks.StackRoles.FromStackName(raw.StackName) == Stacks.StackRole.Management)
        {
            root.Error("integrity", "the integrity monitor is deployed by the audit stack: enable it in Pulumi.audit.yaml, not in the prod stack");
        }

        root.ReportUnknownKeys();
        if (issues.Any(i => i.Severity == IssueSeverity.Error))
        {
            return null;
        }

        var config = new AuditConfig
        {
            File = raw.File,
            StackName = raw.StackName,
            Organization = organization,
            HomeRegion = homeRegion,
            GovernedRegions = governed,
            NamePrefix = prefix,
            TrailName = trailName,
            S3KeyPrefix = keyPrefix,
            RetentionYears = retentionYears,
            Lifecycle = lifecycle,
            ObjectLock = objectLock,
            KmsDeletionWindowDays = deletionWindow,
            DeploymentRoleArn = deploymentRole,
            BreakGlassRoleArn = breakGlassRole,
            LogReaderPrincipalArns = readers,
            Tags = tags,
            Rollout = rollout,
            Trail = trail,
            Detection = detection,
            AuditAccount = auditAccount,
            Guardrails = guardrails,
            Integrity = integrity,
        };
        return config;
    }

    /// <summary>Binds, and throws with the full report when the configuration is invalid (the Pulumi program's fail-fast).</summary>
    public static AuditConfig BindOrThrow(RawConfig raw)
    {
        var (config, report) = Bind(raw);
        return config ?? throw new ConfigValidationException(report);
    }

    /// <summary>Reads and binds <c>Pulumi.&lt;stack&gt;.yaml</c> from a folder.</summary>
    public static (AuditConfig? Config, ValidationReport Report) Load(string configDirectory, string stack)
    {
        var path = Path.Combine(configDirectory, $"Pulumi.{stack}.yaml");
        var (raw, error) = RawConfig.Load(path, stack);
        return raw is null ? (null, new ValidationReport([error!])) : Bind(raw);
    }

    private static LifecycleSettings BindLifecycle(ConfigScope scope, int retentionYears)
    {
        var lifecycle = new LifecycleSettings(
            scope.OptionalInt("standardIaDays", 30, 36500, "days") ?? DefaultIf(scope, "standardIaDays", 30),
            scope.OptionalInt("glacierIrDays", 1, 36500, "days") ?? DefaultIf(scope, "glacierIrDays", 90),
            scope.OptionalInt("glacierDays", 1, 36500, "days") ?? DefaultIf(scope, "glacierDays", 180),
            scope.OptionalInt("deepArchiveDays", 1, 36500, "days") ?? DefaultIf(scope, "deepArchiveDays", 365),
            scope.Bool("transitionSmallObjects", false),
            scope.Int("noncurrentVersionExpirationDays", 90, 1, 36500, "days"),
            scope.Int("abortIncompleteMultipartUploadDays", 7, 1, 365, "days"));

        var previous = ((StorageTier Tier, int Days)?)null;
        foreach (var (tier, days) in lifecycle.Tiers())
        {
            if (previous is { } p)
            {
                var earliest = p.Days + p.Tier.MinimumStorageDays();
                if (days < earliest)
                {
                    scope.Error(KeyOf(tier), $"expected at least {earliest} days: tiers must ascend and an object must stay {p.Tier.MinimumStorageDays()} days in {p.Tier.StorageClass()} (from day {p.Days}) before it moves on (found {days})");
                }
            }

            previous = (tier, days);
        }

        var retentionDays = retentionYears * 365;
        if (previous is { } last && retentionDays < last.Days + last.Tier.MinimumStorageDays())
        {
            scope.Error(KeyOf(last.Tier), $"retention ({retentionYears} years = {retentionDays} days) must cover the last tier: objects moved to {last.Tier.StorageClass()} on day {last.Days} are billed for at least {last.Tier.MinimumStorageDays()} days there, so retention must be at least {last.Days + last.Tier.MinimumStorageDays()} days");
        }

        if (lifecycle.NoncurrentVersionExpirationDays > retentionDays)
        {
            scope.Error("noncurrentVersionExpirationDays", $"expected at most the retention ({retentionDays} days)");
        }

        return lifecycle;
    }

    /// <summary>A tier written as null (or ~) is switched off; an absent tier takes its default.</summary>
    private static int? DefaultIf(ConfigScope scope, string key, int defaultDays) =>
        scope.Raw(key) is null ? defaultDays : null;

    private static string KeyOf(StorageTier tier) => tier switch
    {
        StorageTier.StandardIa => "standardIaDays",
        StorageTier.GlacierIr => "glacierIrDays",
        StorageTier.Glacier => "glacierDays",
        _ => "deepArchiveDays",
    };

    private static ObjectLockSettings BindObjectLock(ConfigScope scope, int retentionYears)
    {
        var mode = scope.Enum("mode", ObjectLockMode.Governance, m => m == ObjectLockMode.Compliance ? "COMPLIANCE" : "GOVERNANCE");
        var days = scope.Int("retentionDays", 365, 1, 36500, "days");
        if (days > retentionYears * 365)
        {
            scope.Error("retentionDays", $"expected at most the retention ({retentionYears} years = {retentionYears * 365} days): lifecycle expiration cannot remove a locked version, so logs would outlive the retention");
        }

        if (mode == ObjectLockMode.Compliance)
        {
            scope.Warning("mode", $"COMPLIANCE: nobody, the root user included, can delete a log version or shorten its lock for {days} days after it is written, and the bucket cannot be deleted while such versions exist");
        }

        return new ObjectLockSettings(mode, days);
    }

    /// <summary>A namespace one typo away from ours is almost certainly meant to be ours.</summary>
    private static void CheckNamespaces(RawConfig raw, List<ConfigIssue> issues)
    {
        foreach (var (key, value) in raw.Entries)
        {
            var colon = key.IndexOf(':');
            var ns = colon < 0 ? key : key[..colon];
            if (colon < 0)
            {
                issues.Add(new ConfigIssue(IssueSeverity.Error, raw.File, value.Line, key, $"expected '<namespace>:<key>', e.g. '{RawConfig.Namespace}:{key}'"));
            }
            else if (ns != RawConfig.Namespace && KeyHints.Distance(ns, RawConfig.Namespace) <= 2)
            {
                issues.Add(new ConfigIssue(IssueSeverity.Error, raw.File, value.Line, key, $"unknown namespace '{ns}'; did you mean '{RawConfig.Namespace}:{key[(colon + 1)..]}'?"));
            }
        }
    }

    private static void CheckAwsRegion(RawConfig raw, string homeRegion, List<ConfigIssue> issues)
    {
        if (raw.Get("aws:region") is ConfigScalar { Text: { } awsRegion } scalar && homeRegion.Length > 0 && awsRegion != homeRegion)
        {
            issues.Add(new ConfigIssue(IssueSeverity.Error, raw.File, scalar.Line, "aws:region", $"expected the home region '{homeRegion}' (found \"{awsRegion}\"): the stack's provider must deploy where the trail lives"));
        }
    }
}
