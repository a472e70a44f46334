namespace AuditInfra.Core.Integrity;

/// <summary>
/// One UTC day of one chain (account, region, trail): the first and last digest of the day with their signatures
/// (hex, as stored), how many digests and the logs they list, whether the digests cover the whole day without a
/// gap (<see cref="Complete"/>) and whether no finding touches the day's digests, the logs they list, or the
/// account and region on that day (<see cref="Clean"/>). A digest belongs to the day its period starts in.
/// Attestations are built from the days that are both.
/// </summary>
public sealed record DayProof(
    string? OrgId,
    string Account,
    string Region,
    string Trail,
    DateOnly Day,
    string FirstDigest,
    string? FirstSignature,
    string LastDigest,
    string? LastSignature,
    int Digests,
    int Logs,
    bool Complete,
    bool Clean)
{
    /// <summary>Complete and clean: the day's chain segment is proven end to end.</summary>
    public bool Proven => Complete && Clean;
}

/// <summary>
/// Turns what the walker found into the report: per-unit summaries, merged per account and region; findings and
/// notes sorted; findings counted per chain; the <see cref="DayProof"/> of every day the run read digests of.
/// One builder serves one run.
/// </summary>
public sealed class IntegrityReportBuilder
{
    private readonly List<ChainSummary> summaries = [];
    private readonly List<DayDraft> days = [];
    private readonly Dictionary<string, ChainCheckpoint> checkpoints = new(StringComparer.Ordinal);

    /// <summary>A day being proven: its digests (oldest first) and whether a finding touched it so far.</summary>
    private sealed class DayDraft(string chainId, string? orgId, string account, string region, string trail, DateOnly day, DayProgress? prior)
    {
        public string ChainId { get; } = chainId;

        /// <summary>The part of the day earlier runs proved (from the chain's checkpoint), continued here.</summary>
        public DayProgress? Prior { get; } = prior;

        public string? OrgId { get; } = orgId;

        public string Account { get; } = account;

        public string Region { get; } = region;

        public string Trail { get; } = trail;

        public DateOnly Day { get; } = day;

        public List<DigestRead> Digests { get; } = [];

        public bool Tainted { get; set; }
    }

    /// <summary>Adds one unit: its summaries, and its days with the findings that touch them.</summary>
    public void AddUnit(
        IReadOnlyDictionary<string, DigestRead> reads,
        IReadOnlyDictionary<string, (CloudTrailKey Key, long Size)> logKeys,
        Dictionary<string, (string Hash, string Digest)> expected,
        IReadOnlyDictionary<string, bool> logResults,
        IReadOnlyCollection<IntegrityFinding> unitFindings,
        VerifyOptions options,
        Func<string, string, long> uncompressedBytesOf,
        IReadOnlyDictionary<string, ChainCheckpoint>? continued = null)
    {
        var unitSummaries = Summarize(reads, logKeys, expected, logResults, unitFindings, options, uncompressedBytesOf);

        var drafts = reads.Values
            .Where(r => !r.Context && !r.Key.Backfill && r.File is not null)
            .GroupBy(r => (r.Key.ChainId, r.Key.OrgId, r.Key.Account, r.Key.Region, Trail: r.Key.TrailName!, Day: DateOnly.FromDateTime(r.File!.Start.UtcDateTime)))
            .Select(g =>
            {
                var prior = continued?.GetValueOrDefault(g.Key.ChainId)?.Day is { } p && p.Date == g.Key.Day ? p : null;
                var draft = new DayDraft(g.Key.ChainId, g.Key.OrgId, g.Key.Account, g.Key.Region, g.Key.Trail, g.Key.Day, prior);
                draft.Digests.AddRange(g.OrderBy(r => r.File!.Start).ThenBy(r => r.Key.Key, StringComparer.Ordinal));
                return draft;
            })
            .ToList();
        var byDigest = drafts.SelectMany(d => d.Digests.Select(r => (r.Key.Key, Draft: d))).ToDictionary(x => x.Key, x => x.Draft, StringComparer.Ordinal);
        foreach (var finding in unitFindings)
        {
            if (byDigest.TryGetValue(finding.Key, out var draft))
            {
                draft.Tainted = true;
            }
            else if (expected.TryGetValue(finding.Key, out var listed) && byDigest.TryGetValue(listed.Digest, out var listing))
            {
                listing.Tainted = true;
            }

            TaintByKey(finding.Key, drafts);
        }

        // Each chain's newest digest read and proven so far; kept only if no finding touches its chain (see Build).
        var newest = reads.Values
            .Where(r => !r.Context && !r.Key.Backfill && r.File is not null && r.Sha256 is not null && !string.IsNullOrWhiteSpace(r.Signature))
            .GroupBy(r => r.Key.ChainId)
            .Select(g => g.MaxBy(r => r.File!.End)!)
            .ToList();

        lock (days)
        {
            summaries.AddRange(unitSummaries);
            days.AddRange(drafts);
            foreach (var read in newest)
            {
                var end = read.File!.End;
                var endMinute = new DateTimeOffset(end.Year, end.Month, end.Day, end.Hour, end.Minute, 0, TimeSpan.Zero);
                var provenAfter = read.File.LogFiles
                    .Where(l => CloudTrailKeys.Parse(l.S3Object) is { } k && k.Timestamp >= endMinute)
                    .Select(l => l.S3Object)
                    .Order(StringComparer.Ordinal)
                    .ToList();
                var day = drafts.First(d => d.ChainId == read.Key.ChainId && d.Day == DateOnly.FromDateTime(read.File.Start.UtcDateTime));
                var first = day.Digests[0];
                var progress = new DayProgress(
                    day.Day,
                    day.Prior?.FirstDigest ?? first.Key.Key,
                    day.Prior is null ? first.Signature?.Trim() : day.Prior.FirstSignature,
                    day.Prior?.FirstStart ?? first.File!.Start,
                    (day.Prior?.Digests ?? 0) + day.Digests.Count,
                    (day.Prior?.Logs ?? 0) + day.Digests.Sum(r => r.File!.LogFiles.Count));
                checkpoints[read.Key.ChainId] = new ChainCheckpoint(read.Key.Key, read.Signature!.Trim(), read.Sha256!, read.File.Start, end, provenAfter, progress);
            }
        }
    }

    /// <summary>The report, once every unit is added and the run-level findings (chain ends, links, accounts without data) are known.</summary>
    public IntegrityReport Build(string source, VerifyOptions options, IEnumerable<IntegrityFinding> findings, IEnumerable<IntegrityNote> notes, long bytesRead, long uncompressedBytes, TimeSpan elapsed, IReadOnlyCollection<IntegrityFinding> runFindings)
    {
        foreach (var finding in runFindings)
        {
            TaintByKey(finding.Key, days);
        }

        var merged = MergedSummaries();
        var findingList = findings
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .ThenBy(f => f.Kind)
            .ToList();
        var findingsByChain = findingList
            .Select(f => CloudTrailKeys.Parse(f.Key) is { } k ? (k.Account, Region: (string?)k.Region) : CloudTrailKeys.ParsePlace(f.Key) is { } p ? (p.Account, p.Region) : default)
            .Where(k => k.Account is not null)
            .GroupBy(k => k)
            .ToDictionary(g => g.Key, g => g.Count());
        var result = merged
            .Select(s => s with { Findings = findingsByChain.GetValueOrDefault((s.Account, s.Region)) })
            .OrderBy(s => s.Account, StringComparer.Ordinal)
            .ThenBy(s => s.Region, StringComparer.Ordinal)
            .ToList();
        return new IntegrityReport(
            source,
            options.Start,
            options.End,
            result,
            findingList,
            notes.OrderBy(n => n.Key, StringComparer.Ordinal).ThenBy(n => n.Kind).ToList(),
            bytesRead,
            uncompressedBytes,
            elapsed)
        {
            DayProofs = DayProofs(),
            // A chain with a finding is not advanced: its findings are reported again by every run until resolved.
            Checkpoints = checkpoints
                .Where(c => CloudTrailKeys.Parse(c.Value.LastDigest) is { } k && !findingsByChain.ContainsKey((k.Account, k.Region)))
                .ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>The summaries so far merged per account and region (before the findings are counted).</summary>
    public List<ChainSummary> MergedSummaries() => summaries
        .GroupBy(s => (s.Account, s.Region))
        .Select(g => Merge(g.ToList()))
        .ToList();

    private List<DayProof> DayProofs() => days
        .GroupBy(d => (d.ChainId, d.OrgId, d.Account, d.Region, d.Trail, d.Day))
        .Select(g =>
        {
            var digests = g.SelectMany(d => d.Digests).OrderBy(r => r.File!.Start).ThenBy(r => r.Key.Key, StringComparer.Ordinal).ToList();
            var prior = g.Select(d => d.Prior).FirstOrDefault(p => p is not null);
            var last = digests[^1];
            return prior is null
                ? new DayProof(g.Key.OrgId, g.Key.Account, g.Key.Region, g.Key.Trail, g.Key.Day, digests[0].Key.Key, digests[0].Signature?.Trim(), last.Key.Key, last.Signature?.Trim(), digests.Count, digests.Sum(r => r.File!.LogFiles.Count), Covers(g.Key.Day, digests), !g.Any(d => d.Tainted))
                : new DayProof(g.Key.OrgId, g.Key.Account, g.Key.Region, g.Key.Trail, g.Key.Day, prior.FirstDigest, prior.FirstSignature, last.Key.Key, last.Signature?.Trim(), prior.Digests + digests.Count, prior.Logs + digests.Sum(r => r.File!.LogFiles.Count), Covers(g.Key.Day, digests, prior.FirstStart), !g.Any(d => d.Tainted));
        })
        .OrderBy(p => p.Account, StringComparer.Ordinal)
        .ThenBy(p => p.Region, StringComparer.Ordinal)
        .ThenBy(p => p.Trail, StringComparer.Ordinal)
        .ThenBy(p => p.Day)
        .ToList();

    /// <summary>
    /// The digests cover the day without a gap: the first starts within its first hour (the minutes before belong to
    /// the previous day's last digest), each starts where the one before ended, and the last ends at midnight or later.
    /// </summary>
    /// <param name="priorStart">
    /// When the day was begun by earlier runs: the start of its first digest. Those runs proved it up to the checkpoint,
    /// and this run's first digest was checked to link to the checkpoint (a broken link is a finding, which leaves the
    /// day unclean), so coverage is judged from there.
    /// </param>
    public static bool Covers(DateOnly day, IReadOnlyList<DigestRead> digests, DateTimeOffset? priorStart = null)
    {
        var dayStart = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var dayEnd = dayStart.AddDays(1);
        if (digests.Count == 0 || (priorStart ?? digests[0].File!.Start) > dayStart + ChainWalker.Hour + ChainWalker.Slack || digests[^1].File!.End < dayEnd - ChainWalker.Slack)
        {
            return false;
        }

        for (var i = 1; i < digests.Count; i++)
        {
            if (digests[i].File!.Start > digests[i - 1].File!.End + ChainWalker.Slack || digests[i].File!.PreviousDigestS3Object != digests[i - 1].Key.Key)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A finding touches the days its key names: a digest's period start, a log's delivery (and the hour before, whose digest may list it).</summary>
    private static void TaintByKey(string key, IEnumerable<DayDraft> drafts)
    {
        if (CloudTrailKeys.Parse(key) is { } parsed)
        {
            var touched = parsed.Kind == CloudTrailObjectKind.Digest
                ? new[] { DateOnly.FromDateTime((parsed.Timestamp - ChainWalker.Hour).UtcDateTime) }
                : [DateOnly.FromDateTime(parsed.Timestamp.UtcDateTime), DateOnly.FromDateTime((parsed.Timestamp - ChainWalker.Hour).UtcDateTime)];
            foreach (var draft in drafts.Where(d => d.Account == parsed.Account && d.Region == parsed.Region && touched.Contains(d.Day)))
            {
                draft.Tainted = true;
            }
        }
        else if (CloudTrailKeys.ParsePlace(key) is { } place)
        {
            // An object that is not CloudTrail's has no reliable time: every day of its folder's account and region is in doubt.
            foreach (var draft in drafts.Where(d => d.Account == place.Account && (place.Region is null || d.Region == place.Region)))
            {
                draft.Tainted = true;
            }
        }
    }

    private static ChainSummary Merge(List<ChainSummary> parts) => parts.Count == 1 ? parts[0] : new ChainSummary(
        parts[0].Account,
        parts[0].Region,
        parts.Sum(p => p.Digests),
        parts.Sum(p => p.DigestsVerified),
        parts.Sum(p => p.Logs),
        parts.Sum(p => p.LogsVerified),
        0,
        parts.Select(p => p.FirstDigest).Where(k => k is not null).Min(StringComparer.Ordinal),
        parts.Select(p => p.LastDigest).Where(k => k is not null).Max(StringComparer.Ordinal),
        parts.Select(p => p.CoveredFrom).Min(),
        parts.Select(p => p.CoveredTo).Max(),
        parts.Sum(p => p.UncompressedBytes));

    private static List<ChainSummary> Summarize(
        IReadOnlyDictionary<string, DigestRead> reads,
        IReadOnlyDictionary<string, (CloudTrailKey Key, long Size)> logKeys,
        Dictionary<string, (string Hash, string Digest)> expected,
        IReadOnlyDictionary<string, bool> logResults,
        IEnumerable<IntegrityFinding> findings,
        VerifyOptions options,
        Func<string, string, long> uncompressedBytesOf)
    {
        var findingsByKey = findings.GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<ChainSummary>();
        var digestGroups = reads.Values.Where(r => !r.Context).GroupBy(r => (r.Key.Account, r.Key.Region));
        var logGroups = logKeys.Values
            .Where(l => expected.ContainsKey(l.Key.Key) || ChainWalker.InRange(l.Key.Timestamp, options, digest: false))
            .GroupBy(l => (l.Key.Account, l.Key.Region))
            .ToDictionary(g => g.Key, g => g.ToList());
        var all = digestGroups.Select(g => g.Key).Concat(logGroups.Keys).Distinct().OrderBy(k => k.Account, StringComparer.Ordinal).ThenBy(k => k.Region, StringComparer.Ordinal);
        var digestsBy = digestGroups.ToDictionary(g => g.Key, g => g.OrderBy(r => r.Key.Timestamp).ToList());
        foreach (var group in all)
        {
            var digests = digestsBy.GetValueOrDefault(group) ?? [];
            var logs = logGroups.GetValueOrDefault(group) ?? [];
            var files = digests.Where(d => d.File is not null).ToList();
            result.Add(new ChainSummary(
                group.Account,
                group.Region,
                digests.Count,
                digests.Count(d => d.File is not null && !findingsByKey.ContainsKey(d.Key.Key)),
                logs.Count,
                logs.Count(l => logResults.TryGetValue(l.Key.Key, out var ok) && ok && !findingsByKey.ContainsKey(l.Key.Key)),
                0,
                digests.FirstOrDefault()?.Key.Key,
                digests.LastOrDefault()?.Key.Key,
                files.Count == 0 ? null : files.Min(d => d.File!.Start),
                files.Count == 0 ? null : files.Max(d => d.File!.End),
                uncompressedBytesOf(group.Account, group.Region)));
        }

        return result;
    }
}
