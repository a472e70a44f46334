using System.Collections.Immutable;
using System.Globalization;
using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Checks;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Guardrails;
using AuditInfra.Core.Naming;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Stacks;
using AuditInfra.Core.Storage;
using AuditInfra.Core.Trail;

namespace AuditInfra.Core.Documentation;

/// <summary>
/// Auditor documentation generated from the same configuration and designs the Pulumi program
/// deploys: an organization index, one page per account, a control matrix.
/// </summary>
public static class DocumentationGenerator
{
    public static DocSite Build(AuditConfig config, ImmutableArray<OrgAccount>? accounts = null, ImmutableArray<VerificationSummary>? evidence = null, ImmutableArray<CanaryMeasurement>? canary = null, ImmutableArray<Integrity.Attestations.AccountAttestations>? attestations = null)
    {
        var names = new ResourceNames(config);
        var org = config.Organization;
        var coverage = accounts ?? [new OrgAccount(org.ManagementAccountId, "management account", "ACTIVE"), new OrgAccount(org.AuditAccountId, "audit account", "ACTIVE")];
        var plans = new[] { StackPlanner.Plan(config with { StackName = "audit" }), StackPlanner.Plan(config with { StackName = "prod" }) };
        var pages = ImmutableArray.CreateBuilder<DocPage>();
        pages.Add(Index(config, names, coverage, accounts is null, evidence, canary, attestations));
        pages.AddRange(coverage.Select(a => AccountPage(config, names, a, evidence, canary: canary, attestations: attestations)));
        pages.Add(ControlMatrix(config, plans));
        return new DocSite(pages.ToImmutable());
    }

    public static string AccountPath(string accountId) => $"accounts/{accountId}";

    /// <summary>One account's page, as the rollout host rewrites it after deploying the account's baseline.</summary>
    public static DocPage AccountPageAfterRollout(AuditConfig config, OrgAccount account, string version, DateTimeOffset deployedAt) =>
        AccountPage(config, new ResourceNames(config), account, null, (version, deployedAt));

    private static DocPage Index(AuditConfig config, ResourceNames names, ImmutableArray<OrgAccount> accounts, bool partial, ImmutableArray<VerificationSummary>? evidence, ImmutableArray<CanaryMeasurement>? canary, ImmutableArray<Integrity.Attestations.AccountAttestations>? attestations)
    {
        var org = config.Organization;
        var trail = OrganizationTrailDesigner.Design(config);
        var archive = LogArchiveDesigner.Design(config);
        var hub = DetectionHubDesigner.Design(config);
        var guardrails = GuardrailsDesigner.Design(config);
        var audit = AuditAccountDesigner.Design(config);
        var sections = ImmutableArray.CreateBuilder<DocSection>();

        sections.Add(new DocSection("Organization", [
            new Table(["fact", "value"], [
                Row("Organization", org.OrganizationId),
                Row("Management account", org.ManagementAccountId),
                Row("Audit (log archive) account", $"{org.AuditAccountId} ({(config.AuditAccount.Mode == AuditAccountMode.Create ? "created by this design" : "adopted")})"),
                Row("Home region", config.HomeRegion),
                Row("Governed regions", string.Join(", ", config.GovernedRegions)),
            ]),
        ]));

        sections.Add(new DocSection("Coverage", [
            new Paragraph(partial
                ? "PARTIAL LIST: no account list was given (export one with `aws organizations list-accounts --output json` and pass --accounts); only the accounts named in the configuration are shown. The organization trail covers every account of the organization all the same."
                : $"{accounts.Length} accounts, from the organization's account list. The organization trail records every one of them, in every region; accounts created later inherit it."),
            new Table(["account", "name", "status", "trail", "detection baseline"], [.. accounts.Select(a => ImmutableArray.Create<Cell>(
                new Cell(a.Id, AccountPath(a.Id)),
                a.Name,
                a.Status,
                a.Status == "ACTIVE" ? $"{trail.Name} (organization trail)" : "retired: logs kept",
                a.Id == org.ManagementAccountId ? "prod stack" : $"stack account-{a.Id}"))]),
        ]));

        sections.Add(new DocSection("Organization trail", [
            new Table(["setting", "value"], [
                Row("Trail", $"{trail.Name} ({trail.TrailArn})"),
                Row("Organization trail", Yes(trail.IsOrganizationTrail)),
                Row("All regions", Yes(trail.IsMultiRegionTrail)),
                Row("Global service events (IAM, STS, Organizations)", Yes(trail.IncludeGlobalServiceEvents)),
                Row("Log file validation (signed hourly digests)", Yes(trail.EnableLogFileValidation)),
                Row("Management events", "read and write" + (trail.Settings.ExcludeManagementEventSources.IsEmpty ? "" : $", except {string.Join(", ", trail.Settings.ExcludeManagementEventSources)}")),
                Row("Data events", DataEvents(trail.Settings)),
                Row("CloudTrail Insights", trail.InsightTypes.IsEmpty ? "off" : string.Join(", ", trail.InsightTypes)),
                Row("CloudWatch Logs copy", trail.CloudWatch is { } cw ? $"{cw.LogGroupName}, kept {cw.RetentionInDays} days" : "off"),
            ]),
            new Paragraph("Member accounts need no trail of their own; a second trail recording management events would be billed as a paid copy of every event."),
        ]));

        sections.Add(new DocSection("Where logs live", [
            new Table(["what", "where"], [
                Row("Log bucket", $"s3://{archive.LogBucket.Name} (account {org.AuditAccountId}, {config.HomeRegion})"),
                Row("Log files", $"s3://{archive.LogBucket.Name}/{names.OrganizationLogsPrefix}<account>/CloudTrail/<region>/YYYY/MM/DD/"),
                Row("Signed digests", $"s3://{archive.LogBucket.Name}/{names.OrganizationLogsPrefix}<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/"),
                Row("Server access logs of the log bucket", $"s3://{archive.AccessLogBucket.Name}/{archive.LogBucket.Logging!.TargetPrefix}"),
            ]),
        ]));

        sections.Add(new DocSection("Protection", [
            new Table(["control", "setting"], [
                Row("Encryption", $"SSE-KMS with {archive.Key.AliasName}, S3 bucket keys; key rotation every {archive.Key.RotationPeriodInDays} days; deletion waiting period {archive.Key.DeletionWindowInDays} days"),
                Row("Immutability", $"Object Lock {archive.LogBucket.ObjectLock!.Mode}, {archive.LogBucket.ObjectLock.Days} days from each object's creation" + (archive.LogBucket.ObjectLock.Mode == "COMPLIANCE" ? " (nobody, root included, can shorten it)" : " (bypass requires s3:BypassGovernanceRetention, denied by the lock-down SCP)")),
                Row("Versioning", Yes(archive.LogBucket.VersioningEnabled)),
                Row("Public access", archive.LogBucket.PublicAccess.BlocksEverything ? "blocked (all four settings)" : "NOT fully blocked"),
                Row("Object ownership", archive.LogBucket.ObjectOwnership),
                Row("Bucket policy", "CloudTrail may write only for this trail (aws:SourceArn); every request without TLS is denied; principals outside the organization are denied"),
                Row("Who can change the audit resources", string.Join(" and ", GuardrailPolicies.ExemptPrincipals(config))),
            ]),
        ]));

        sections.Add(new DocSection("Retention and lifecycle", [
            new Table(["from day", "storage class"], [.. LogArchiveDesigner.Timeline(config).Select(t => ImmutableArray.Create<Cell>(t.FromDay.ToString(CultureInfo.InvariantCulture), t.StorageClass == "EXPIRED" ? "deleted (expired)" : t.StorageClass))]),
            new Paragraph($"Logs are kept {config.RetentionYears} years ({config.RetentionDays} days). " + (config.Lifecycle.TransitionSmallObjects
                ? "Objects under 128 KB move to colder tiers too."
                : "Objects under 128 KB (most CloudTrail files) stay in STANDARD until they expire (S3's default since 2024).") +
                $" Noncurrent versions expire after {config.Lifecycle.NoncurrentVersionExpirationDays} days; incomplete uploads are aborted after {config.Lifecycle.AbortIncompleteMultipartUploadDays}."),
        ]));

        sections.Add(new DocSection("Detections", [
            new Paragraph($"Catalog {DetectionCatalog.Version}: {hub.Rules.Length} detections on bus {hub.BusName} in the audit account, delivered to SNS topic {hub.TopicName}" + (hub.ExtraTargetArns.IsEmpty ? "" : $" and {string.Join(", ", hub.ExtraTargetArns)}") + $"; failed deliveries are kept in {hub.DeadLetterQueueName}. Every account forwards its events from {string.Join(", ", config.GovernedRegions)}."),
            new Table(["detection", "severity", "CIS", "Security Hub"], [.. hub.Rules.Select(r => ImmutableArray.Create<Cell>(r.Detection.Title, r.Detection.Severity.ToString().ToLowerInvariant(), string.Join(", ", r.Detection.Cis), string.Join(", ", r.Detection.SecurityHub)))]),
        ]));

        sections.Add(CanarySection(config, hub, canary, null, accounts.Select(a => a.Id)));

        sections.Add(new DocSection("Guardrails", [
            new Paragraph($"Service control policies {string.Join(", ", guardrails.Policies.Select(p => p.Name))} attached to {string.Join(", ", guardrails.TargetIds.IsEmpty ? ["(no target configured)"] : guardrails.TargetIds)}; exempt: {string.Join(" and ", guardrails.ExemptPrincipals)}."),
            new BulletList([.. guardrails.Policies.SelectMany(p => p.Document.Statements).Select(s => $"{s.Sid}: denies {string.Join(", ", s.Actions.Take(6))}{(s.Actions.Length > 6 ? ", …" : "")}")]),
            new Paragraph($"Audit account lock-down ({string.Join(", ", audit.LockdownPolicies.Select(p => p.Name))}) on {config.AuditAccount.SecurityOuId ?? config.AuditAccount.CreateSecurityOuName}: no IAM users or access keys, no writes to the logs, no changes to the log bucket, key, detection hub or CloudTrail, security services stay on" + (config.AuditAccount.DenyRegionsOutsideGoverned ? ", regions outside the governed ones denied." : ".")),
        ]));

        sections.Add(EvidenceSection(evidence, null));
        if (attestations is { } attested)
        {
            sections.Add(AttestationEvidence.Section(attested, null));
        }

        sections.Add(new DocSection("More", [
            new BulletList(["[Control matrix](controls)", .. accounts.Select(a => $"[Account {a.Id}]({AccountPath(a.Id)})")]),
        ]));
        return new DocPage("index", $"Audit logging of {org.OrganizationId}", sections.ToImmutable());
    }

    /// <summary>
    /// The canary per account and governed region, with its measured latency when a metrics file
    /// was given; "not measured" otherwise (no file, or no canary of that account and region in it).
    /// </summary>
    private static DocSection CanarySection(AuditConfig config, DetectionHubDesign hub, ImmutableArray<CanaryMeasurement>? canary, string? accountId, IEnumerable<string> accounts)
    {
        if (hub.Canary is not { } design)
        {
            return new DocSection("Detection canary", [new Paragraph("No detection canary: the detection-canary detection is disabled, so nothing proves continuously that forwarding works.")]);
        }

        var measured = canary ?? [];
        var shown = accountId is null
            ? accounts.Concat(measured.Select(m => m.AccountId)).Distinct().Order(StringComparer.Ordinal).ToList()
            : [accountId];
        // The region alarms cannot see one silent account among live ones: the file can, against its newest arrival.
        var newest = measured.IsEmpty ? (DateTimeOffset?)null : measured.Max(m => m.LastArrival);
        var rows = shown.SelectMany(account => config.GovernedRegions.Select(region =>
        {
            var m = measured.FirstOrDefault(x => x.AccountId == account && x.Region == region);
            if (m is null)
            {
                return ImmutableArray.Create<Cell>(region, account, "not measured", "", "");
            }

            var silent = newest - m.LastArrival > TimeSpan.FromMinutes(design.AlarmMinutes);
            return ImmutableArray.Create<Cell>(region, account, silent ? $"SILENT: no canary for {(newest!.Value - m.LastArrival).TotalMinutes:0} min" : CanaryMetrics.Seconds(m.LastLatencySeconds), CanaryMetrics.Seconds(m.MaxLatencySeconds), $"{m.LastArrival.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        }));
        var intro = $"Every {config.Detection.CanaryIntervalMinutes} minute(s), in each governed region, each account's schedule {CanaryNames.Schedule(config.NamePrefix)} overwrites SSM parameter {CanaryNames.Parameter(config.NamePrefix)}; " +
            $"the call travels like any event (trail, forwarding rule, central bus) to {design.FunctionName}, which records its latency as {CanaryHubDesign.MetricNamespace}/{CanaryHubDesign.LatencyMetric}. " +
            $"Alarms {string.Join(", ", design.Alarms.Select(a => a.AlarmName))} notify {hub.TopicName} when a region has had no canary for {design.AlarmMinutes} minutes.";
        return new DocSection("Detection canary", [
            new Paragraph(intro),
            new Table(["region", "account", "latest latency", "highest latency", "last arrival"], [.. rows]),
            new Paragraph(canary is null
                ? "Latencies are not measured in this build of the documentation: write them with the command below and pass the file as `auditinfra docs --canary-metrics FILE`."
                : "Latencies from the metrics file given to `auditinfra docs --canary-metrics`; \"not measured\" means no canary of that account and region in it."),
            new CodeBlock(CanaryMetrics.Command(config.HomeRegion)),
        ]);
    }

    private static DocPage AccountPage(AuditConfig config, ResourceNames names, OrgAccount account, ImmutableArray<VerificationSummary>? evidence, (string Version, DateTimeOffset At)? deployed = null, ImmutableArray<CanaryMeasurement>? canary = null, ImmutableArray<Integrity.Attestations.AccountAttestations>? attestations = null)
    {
        var archive = LogArchiveDesigner.Design(config);
        var org = config.Organization;
        var bucket = archive.LogBucket.Name;
        var prefix = $"{names.OrganizationLogsPrefix}{account.Id}";
        var sections = ImmutableArray.CreateBuilder<DocSection>();
        sections.Add(new DocSection("Account", [
            new Table(["fact", "value"], [
                Row("Account", account.Id),
                Row("Name", account.Name),
                Row("Status", account.Status),
                Row("Role", account.Id == org.ManagementAccountId ? "management account (owns the organization trail)" : account.Id == org.AuditAccountId ? "audit account (holds the logs)" : "member account"),
                Row("Covered by", $"organization trail {config.TrailName} ({names.TrailArn}), every region"),
                Row("Detection baseline", account.Id == org.ManagementAccountId ? "stack prod (management account)"
                    : deployed is { } d ? $"stack account-{account.Id}, version {d.Version}, deployed {d.At.UtcDateTime:yyyy-MM-dd HH:mm} UTC by the AuditInfra.Automation host"
                    : $"stack account-{account.Id}, deployed by the AuditInfra.Automation host; `auditinfra rollout status` shows its version"),
                Row("Detections forwarded from", string.Join(", ", config.GovernedRegions)),
            ]),
        ]));
        sections.Add(new DocSection("Log paths", [
            new Table(["region", "logs", "digests"], [.. config.GovernedRegions.Select(r => ImmutableArray.Create<Cell>(r, $"s3://{bucket}/{prefix}/CloudTrail/{r}/", $"s3://{bucket}/{prefix}/CloudTrail-Digest/{r}/"))]),
            new Paragraph($"Kept {config.RetentionDays} days, Object Lock {config.ObjectLock.ModeName} for {config.ObjectLock.RetentionDays} days, encrypted with {archive.Key.AliasName}."),
        ]));
        var region = config.HomeRegion;
        sections.Add(new DocSection("How to query and verify these logs", [
            new Paragraph("Copy the logs, digests and signatures (a forensically preserved copy), verify their integrity, then ask what happened. "
                + "The public keys must cover the days verified: --start-time an hour before the first, --end-time the last (without them CloudTrail returns only today's key, and older digests cannot be checked). "
                + "Without --public-keys, verify fetches them itself this way with the AWS CLI."),
            new CodeBlock(string.Join('\n',
                $"aws cloudtrail list-public-keys --region {region} --start-time YYYY-MM-DDT00:00:00Z --end-time YYYY-MM-DDT23:59:59Z --output json > keys.json",
                $"auditinfra pull --source s3://{bucket}/{config.S3KeyPrefix} --out ./logs --account {account.Id}",
                $"auditinfra verify --source ./logs --public-keys keys.json --account {account.Id} --region {region}",
                $"auditinfra query --source ./logs --account {account.Id} --start YYYY-MM-DD")),
            new Paragraph("The same integrity check with the AWS CLI (slower, and without the checks listed in the README's verify section):"),
            new CodeBlock($"aws cloudtrail validate-logs --trail-arn {names.TrailArn} --start-time YYYY-MM-DDT00:00:00Z --account-id {account.Id} --s3-bucket {bucket}" + (config.S3KeyPrefix.Length > 0 ? $" --s3-prefix {config.S3KeyPrefix}" : "") + " --verbose"),
        ]));
        sections.Add(CanarySection(config, DetectionHubDesigner.Design(config), canary, account.Id, []));
        sections.Add(EvidenceSection(evidence, account.Id));
        if (attestations is { } attested)
        {
            sections.Add(AttestationEvidence.Section(attested, account.Id));
        }

        sections.Add(new DocSection("More", [new BulletList(["[Organization index](../index)", "[Control matrix](../controls)"])]));
        return new DocPage(AccountPath(account.Id), $"Account {account.Id} {account.Name}".Trim(), sections.ToImmutable());
    }

    private static DocPage ControlMatrix(AuditConfig config, IEnumerable<StackPlan> plans)
    {
        var resources = plans.SelectMany(p => p.AllResources.Select(r => (p.Stack, Resource: r))).ToList();
        string Implementing(Invariant invariant)
        {
            var matches = resources.Where(r => invariant.ResourceType == "*" ? r.Resource.Protect : r.Resource.Type == invariant.ResourceType).Select(r => $"{r.Stack}: {r.Resource.Name}").Distinct().Take(4).ToList();
            return matches.Count == 0 ? "not in this design version" : string.Join("; ", matches);
        }

        var rows = Invariants.All
            .SelectMany(i => (i.Controls.IsEmpty ? ["(design)"] : i.Controls).Select(c => (Control: c, Invariant: i)))
            .OrderBy(r => r.Control, StringComparer.Ordinal)
            .Select(r => ImmutableArray.Create<Cell>(r.Control, r.Invariant.Description, r.Invariant.Id, Implementing(r.Invariant)));
        var detections = DetectionCatalog.For(config)
            .SelectMany(d => d.Cis.Concat(d.SecurityHub).Select(c => (Control: c, Detection: d)))
            .OrderBy(r => r.Control, StringComparer.Ordinal)
            .Select(r => ImmutableArray.Create<Cell>(r.Control, $"Detection: {r.Detection.Title} ({r.Detection.Severity.ToString().ToLowerInvariant()})", r.Detection.Id, $"audit: {new ResourceNames(config).DetectionRuleNamePrefix}{r.Detection.Id}"));
        return new DocPage("controls", "Control matrix", [
            new DocSection("Logging controls (CIS logging, Security Hub CloudTrail.1–7)", [
                new Paragraph("Each control, how the design meets it (an invariant checked offline by `auditinfra check` and on every preview by the policy pack), and the resource that implements it."),
                new Table(["control", "how the design meets it", "invariant", "implemented by"], [.. rows]),
            ]),
            new DocSection("Monitoring controls (CIS monitoring)", [
                new Table(["control", "how the design meets it", "detection", "implemented by"], [.. detections]),
            ]),
            new DocSection("More", [new BulletList(["[Organization index](index)"])]),
        ]);
    }

    private static DocSection EvidenceSection(ImmutableArray<VerificationSummary>? evidence, string? account)
    {
        if (evidence is not { } summaries)
        {
            return new DocSection("Integrity evidence", [new Paragraph("No verification report was supplied (--verify-report): this page states the design, not a verification result.")]);
        }

        var rows = summaries.Where(s => account is null || s.Account == account).OrderBy(s => s.Account, StringComparer.Ordinal).ThenBy(s => s.Region, StringComparer.Ordinal).ToList();
        return new DocSection("Integrity evidence", rows.Count == 0
            ? [new Paragraph(account is null ? "The verification report holds no summaries." : $"The verification report has no result for account {account}.")]
            : [new Table(["account", "region", "verdict", "digests", "logs", "findings", "from", "to"], [.. rows.Select(s => ImmutableArray.Create<Cell>(s.Account, s.Region, s.Verdict, N(s.DigestsVerified), N(s.LogsVerified), N(s.Findings), s.FirstDigest ?? "", s.LastDigest ?? ""))])]);
    }

    private static string DataEvents(TrailSettings s) =>
        string.Join("; ", new[]
        {
            s.S3DataEvents switch { S3DataEvents.All => "S3 objects, all buckets", S3DataEvents.Buckets => $"S3 objects of {string.Join(", ", s.S3DataEventBuckets)}", _ => null },
            s.LambdaDataEvents ? "Lambda invocations" : null,
        }.OfType<string>().DefaultIfEmpty("none"));

    private static ImmutableArray<Cell> Row(string key, string value) => [key, value];

    private static string Yes(bool value) => value ? "yes" : "NO";

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
}
