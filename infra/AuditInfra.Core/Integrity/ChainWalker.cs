using System.Globalization;

namespace AuditInfra.Core.Integrity;

/// <summary>Hours of a chain without a digest, with the digest that shows them missing.</summary>
public sealed record ChainHole(string Location, DateTimeOffset From, DateTimeOffset To, string Digest);

/// <summary>An unlisted log delivered after the last digest of its chain (or with no digest at all), judged once every unit is read.</summary>
public sealed record ChainTail(string Log, DateTimeOffset Time, string Location, DateTimeOffset? LastEnd, string? LastDigest);

/// <summary>The newest digest read of one chain location, and the trail it belongs to.</summary>
public sealed record ChainEnd(string Location, string Trail, DateTimeOffset LastEnd, string LastDigest);

/// <summary>What walking one unit's chains and logs found: findings, notes, and what is judged at the end of the run.</summary>
public sealed class WalkOutcome
{
    public List<IntegrityFinding> Findings { get; } = [];

    public List<IntegrityNote> Notes { get; } = [];

    public List<ChainHole> Holes { get; } = [];

    public List<ChainTail> Tails { get; } = [];

    public List<ChainEnd> ChainEnds { get; } = [];

    /// <summary>Per log: true when it was read and hashed to the value its digest lists.</summary>
    public Dictionary<string, bool> LogResults { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The chain walk, free of I/O, gzip and RSA: given the keys listed and the digests as read (<see cref="DigestRead"/>),
/// it checks every digest's previous* fields against the digest actually read before it, names missing digests and
/// hours, judges every log (hashed as listed, missing, unlisted, unverifiable) and, once every unit is walked, the
/// ends of the chains. Everything here is a function of its arguments.
/// </summary>
public static class ChainWalker
{
    public static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>CloudTrail's digest periods meet exactly; a little slack keeps clock rounding from reading as a gap.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a chain may end before the newest digest of its trail's other chains, and before --end, without
    /// a finding: CloudTrail delivers a digest within about an hour after its period, and regions lag one another.
    /// </summary>
    public static readonly TimeSpan ChainEndGrace = TimeSpan.FromHours(2);

    /// <summary>The digest chains of a listing (one per trail, account and region; backfill digests apart), each oldest first.</summary>
    public static Dictionary<string, List<(CloudTrailKey Key, long Size)>> Chains(IEnumerable<(CloudTrailKey Key, long Size)> digests) =>
        digests
            .GroupBy(d => d.Key.ChainId + (d.Key.Backfill ? "|backfill" : string.Empty))
            .ToDictionary(g => g.Key, g => g.OrderBy(d => d.Key.Timestamp).ThenBy(d => d.Key.Key, StringComparer.Ordinal).ToList());

    /// <summary>The digests to read: those in range, plus each chain's digest just before the range (as context, to check the first link).</summary>
    public static List<(CloudTrailKey Key, bool Context)> DigestsToRead(Dictionary<string, List<(CloudTrailKey Key, long Size)>> chains, VerifyOptions options, IReadOnlyDictionary<string, ChainCheckpoint>? checkpoints = null)
    {
        var toRead = new List<(CloudTrailKey Key, bool Context)>();
        foreach (var (chainId, chain) in chains)
        {
            if (checkpoints?.GetValueOrDefault(chainId) is { } checkpoint)
            {
                // The checkpoint is the context: only digests after it are read.
                toRead.AddRange(chain.Where(d => d.Key.Timestamp > checkpoint.LastEnd && d.Key.Key != checkpoint.LastDigest && InRange(d.Key.Timestamp, options, digest: true)).Select(d => (d.Key, false)));
                continue;
            }

            var first = chain.FindIndex(d => InRange(d.Key.Timestamp, options, digest: true));
            if (first < 0)
            {
                continue;
            }

            if (first > 0 && !chain[first].Key.Backfill)
            {
                toRead.Add((chain[first - 1].Key, true));
            }

            toRead.AddRange(chain.Skip(first).Where(d => InRange(d.Key.Timestamp, options, digest: true)).Select(d => (d.Key, false)));
        }

        return toRead;
    }

    /// <summary>Walks every chain of a unit: links, missing digests, gaps, chain starts and backfills.</summary>
    public static void WalkChains(
        Dictionary<string, List<(CloudTrailKey Key, long Size)>> chains,
        IReadOnlyDictionary<string, DigestRead> reads,
        VerifyOptions options,
        WalkOutcome outcome,
        IReadOnlyDictionary<string, DigestRead>? starts = null)
    {
        var allDigestKeys = chains.Values.SelectMany(c => c).Select(d => d.Key.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (chainId, chain) in chains)
        {
            var present = chain.Where(d => reads.ContainsKey(d.Key.Key)).Select(d => reads[d.Key.Key]).ToList();
            if (starts?.GetValueOrDefault(chainId) is { } start)
            {
                // A checkpoint comes first, as remembered, whether or not its digest is still listed.
                present.RemoveAll(r => r.Key.Key == start.Key.Key);
                present.Insert(0, start);
            }

            WalkChain(chainId.EndsWith("|backfill", StringComparison.Ordinal), present, reads, allDigestKeys, options, outcome);
        }
    }

    /// <summary>Walks one chain oldest to newest, checking each link against the digest actually read before it.</summary>
    public static void WalkChain(
        bool backfill,
        IReadOnlyList<DigestRead> present,
        IReadOnlyDictionary<string, DigestRead> reads,
        IReadOnlySet<string> allDigestKeys,
        VerifyOptions options,
        WalkOutcome outcome)
    {
        var findings = outcome.Findings;
        var notes = outcome.Notes;
        DigestRead? previous = null;
        foreach (var current in present)
        {
            var p = previous;
            previous = current;
            if (current.Context)
            {
                continue;
            }

            var key = current.Key.Key;
            if (backfill)
            {
                notes.Add(new IntegrityNote(NoteKind.BackfillDigest, key, "a digest delivered late for an earlier period; verified like the others"));
            }

            var file = current.File;
            if (file is null)
            {
                continue;
            }

            if (file.IsChainStart)
            {
                if (backfill)
                {
                    continue;
                }

                var why = p?.File is { } pf ? $"the chain restarts at {file.DigestStartTime} after {Hours(file.Start - pf.End)} without digests (logging was stopped)" : "the first digest of its chain (logging started)";
                notes.Add(new IntegrityNote(NoteKind.ChainStart, key, why));
                continue;
            }

            var named = file.PreviousDigestS3Object!;
            if (backfill)
            {
                // A backfill digest names a digest of the main chain: check that link where it was read.
                if (reads.TryGetValue(named, out var target))
                {
                    CompareLink(current, target, findings);
                }
                else if (!allDigestKeys.Contains(named) && !Before(named, options))
                {
                    findings.Add(new IntegrityFinding(FindingKind.MissingDigest, named, $"present (named as previous by {key})", "absent", "a digest named by a backfill digest is not in the source"));
                }

                continue;
            }

            if (p is not null && named == p.Key.Key)
            {
                CompareLink(current, p, findings);
                if (p.File is not null && file.Start > p.File.End + Slack)
                {
                    findings.Add(new IntegrityFinding(FindingKind.MissingHours, key, $"digestStartTime {p.File.DigestEndTime} (the end of {p.Key.Key})", file.DigestStartTime, $"{Hours(file.Start - p.File.End)} without a digest inside a continuing chain"));
                    outcome.Holes.Add(new ChainHole(Location(current.Key), p.File.End, file.Start, key));
                }

                continue;
            }

            if (allDigestKeys.Contains(named))
            {
                findings.Add(new IntegrityFinding(FindingKind.BrokenChain, key, $"previousDigestS3Object {p?.Key.Key ?? "(the digest before it)"}", named, "the digest links past the digest actually before it in its chain"));
                continue;
            }

            var namedKey = CloudTrailKeys.Parse(named);
            if (p is null && (options.Start is null || namedKey is null || namedKey.Timestamp <= options.Start))
            {
                notes.Add(new IntegrityNote(NoteKind.ChainBeforeRange, key, $"its previous digest {named} is not in the source: the chain continues before the earliest digest available (expired by lifecycle, or outside the copy)"));
                continue;
            }

            findings.Add(new IntegrityFinding(FindingKind.MissingDigest, named, $"present (named as previous by {key})", "absent", "a digest of the chain was removed"));
            var namedEnd = namedKey?.Timestamp ?? file.Start;
            var holeFrom = namedEnd - Hour;
            if (p?.File is not null)
            {
                // Each hourly digest between the last one read and the one named is missing too, under the key CloudTrail would have given it.
                var missingBefore = (int)Math.Round((namedEnd - Hour - p.File.End).TotalHours);
                for (var i = 1; i <= missingBefore; i++)
                {
                    var end = p.File.End + (i * Hour);
                    var reconstructed = CloudTrailKeys.DigestKeyLike(current.Key, end);
                    findings.Add(new IntegrityFinding(FindingKind.MissingDigest, reconstructed, $"an hourly digest for {Iso(end - Hour)}..{Iso(end)} between {p.Key.Key} and {named}", "absent", "a digest of the chain was removed (its name is reconstructed from the hourly layout)"));
                }

                holeFrom = p.File.End;
            }

            outcome.Holes.Add(new ChainHole(Location(current.Key), holeFrom, file.Start, named));
        }
    }

    /// <summary>
    /// Checks a digest's previous* fields against the digest read before it: the hash of its bytes and its signature.
    /// The same comparison links a new digest to the one a verification state remembers.
    /// </summary>
    public static void CompareLink(DigestRead current, DigestRead previous, ICollection<IntegrityFinding> findings)
    {
        var file = current.File!;
        var key = current.Key.Key;
        if (previous.Sha256 is not null && !string.Equals(file.PreviousDigestHashValue, previous.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(new IntegrityFinding(FindingKind.PreviousHashMismatch, key, $"{previous.Sha256} (SHA-256 of {previous.Key.Key} as read)", file.PreviousDigestHashValue ?? "null", "previousDigestHashValue does not match the previous digest: one of the two was altered"));
        }

        if (!string.Equals(file.PreviousDigestSignature?.Trim(), previous.Signature?.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(new IntegrityFinding(FindingKind.PreviousSignatureMismatch, key, $"{Abbreviate(previous.Signature)} (signature of {previous.Key.Key})", Abbreviate(file.PreviousDigestSignature), "previousDigestSignature does not match the previous digest's signature: it was re-signed or replaced"));
        }
    }

    /// <summary>The logs the digests read list, each with its hash and the first digest (by key) listing it.</summary>
    public static Dictionary<string, (string Hash, string Digest)> ExpectedLogs(IEnumerable<DigestRead> reads)
    {
        var expected = new Dictionary<string, (string Hash, string Digest)>(StringComparer.Ordinal);
        foreach (var read in reads.Where(r => !r.Context && r.File is not null).OrderBy(r => r.Key.Key, StringComparer.Ordinal))
        {
            foreach (var log in read.File!.LogFiles)
            {
                expected.TryAdd(log.S3Object, (log.HashValue, read.Key.Key));
            }
        }

        return expected;
    }

    /// <summary>Listed logs absent from the source (findings) and the ones present, to be hashed.</summary>
    public static List<(CloudTrailKey Key, string Hash, string Digest)> LogsToHash(
        Dictionary<string, (string Hash, string Digest)> expected,
        IReadOnlyDictionary<string, (CloudTrailKey Key, long Size)> logKeys,
        WalkOutcome outcome)
    {
        var work = new List<(CloudTrailKey Key, string Hash, string Digest)>();
        foreach (var (logKey, (hash, digest)) in expected)
        {
            if (logKeys.TryGetValue(logKey, out var present))
            {
                work.Add((present.Key, hash, digest));
            }
            else
            {
                outcome.Findings.Add(new IntegrityFinding(FindingKind.LogMissing, logKey, $"present (listed by {digest})", "absent", "a log listed by a digest is not in the source"));
                outcome.LogResults[logKey] = false;
            }
        }

        return work;
    }

    /// <summary>Judges a hashed log against the hash its digest lists.</summary>
    public static void JudgeLog(string key, string hash, string digest, GunzipResult result, WalkOutcome outcome)
    {
        var ok = false;
        if (result.Error == DigestRead.GoneWhenRead)
        {
            outcome.Findings.Add(new IntegrityFinding(FindingKind.LogMissing, key, $"present (listed by {digest})", DigestRead.GoneWhenRead, "a log listed by a digest disappeared from the source during verification"));
        }
        else if (result.Error is not null)
        {
            outcome.Findings.Add(new IntegrityFinding(FindingKind.CorruptGzip, key, $"a complete gzip whose content hashes to {hash}", result.Error, $"the log listed by {digest} cannot be decompressed"));
        }
        else if (!string.Equals(result.Sha256Hex, hash, StringComparison.OrdinalIgnoreCase))
        {
            outcome.Findings.Add(new IntegrityFinding(FindingKind.LogHashMismatch, key, hash, result.Sha256Hex!, $"the log's SHA-256 after gunzip differs from the hash in {digest}"));
        }
        else
        {
            ok = true;
        }

        outcome.LogResults[key] = ok;
    }

    /// <summary>Logs present but listed by no digest: inserted (their hour's digest exists), unverifiable (it does not), or judged at the end (after the chain's last digest).</summary>
    public static void ClassifyUnlistedLogs(
        IReadOnlyDictionary<string, (CloudTrailKey Key, long Size)> logKeys,
        Dictionary<string, (string Hash, string Digest)> expected,
        IReadOnlyDictionary<string, DigestRead> reads,
        VerifyOptions options,
        WalkOutcome outcome)
    {
        var periods = reads.Values
            .Where(r => r.File is not null)
            .GroupBy(r => Location(r.Key))
            .ToDictionary(g => g.Key, g => g.Select(r => (From: r.File!.Start, To: r.File.End, Digest: r.Key.Key)).OrderBy(p => p.From).ToList());
        foreach (var (location, own) in periods)
        {
            var last = own.MaxBy(p => p.To);
            var lastKey = CloudTrailKeys.Parse(last.Digest)!;
            outcome.ChainEnds.Add(new ChainEnd(location, $"{lastKey.Prefix}|{lastKey.OrgId}|{lastKey.TrailName}|{lastKey.HomeRegion}", last.To, last.Digest));
        }

        foreach (var (logKey, (key, _)) in logKeys.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if (expected.ContainsKey(logKey) || !InRange(key.Timestamp, options, digest: false))
            {
                continue;
            }

            var location = Location(key);
            // Log names carry minutes; a log named in the minute a period starts belongs to it.
            var time = key.Timestamp;
            var own = periods.GetValueOrDefault(location);
            var covering = own?.FirstOrDefault(p => time >= Minute(p.From) && time < p.To);
            if (covering is { Digest: not null } c)
            {
                outcome.Findings.Add(new IntegrityFinding(FindingKind.LogNotListed, logKey, $"listed by {c.Digest}, the digest for {Iso(c.From)}..{Iso(c.To)}", "not listed by any digest", "a log was added to the source after its digest was delivered"));
                continue;
            }

            var hole = outcome.Holes.FirstOrDefault(h => h.Location == location && time >= Minute(h.From) && time < h.To);
            if (hole is not null)
            {
                outcome.Findings.Add(new IntegrityFinding(FindingKind.LogUnverifiable, logKey, $"a digest covering {Iso(time)}", $"its digest is missing ({hole.Digest})", "the log cannot be verified"));
                continue;
            }

            var last = own?.MaxBy(p => p.To);
            if (last is null || time >= last.Value.To)
            {
                outcome.Tails.Add(new ChainTail(logKey, time, location, last?.To, last?.Digest));
                continue;
            }

            outcome.Findings.Add(new IntegrityFinding(FindingKind.LogUnverifiable, logKey, $"a digest covering {Iso(time)}", "no digest for that hour", "the log cannot be verified: no digest of its chain covers the hour it was delivered in"));
        }
    }

    /// <summary>
    /// The ends of the chains, once every unit is read. A log after the last digest of its chain is awaiting its
    /// digest only while no digest it should be in can be due: once its trail's newest digest, --end, or its
    /// chain's newest log less the grace is more than an hour past it, it is unverifiable and its chain is missing hours. A chain that stops before --end,
    /// or more than <see cref="ChainEndGrace"/> before its trail's other chains, is missing hours too.
    /// </summary>
    public static void ClassifyTails(VerifyOptions options, IReadOnlyList<ChainTail> tails, IReadOnlyList<ChainEnd> chainEnds, DateTimeOffset now, ICollection<IntegrityFinding> findings, ICollection<IntegrityNote> notes)
    {
        var newestDigest = chainEnds.Count == 0 ? DateTimeOffset.MinValue : chainEnds.Max(c => c.LastEnd);

        // Digests of the last hours before now may not be delivered yet: --end is held to them only up to the grace before now.
        var end = options.End is { } requested && requested > now - ChainEndGrace ? now - ChainEndGrace : options.End;
        var trailNewest = chainEnds.GroupBy(c => c.Trail).ToDictionary(g => g.Key, g => g.Max(c => c.LastEnd));
        var trailOf = chainEnds.GroupBy(c => c.Location).ToDictionary(g => g.Key, g => g.MaxBy(c => c.LastEnd)!.Trail);

        var newestLog = tails.GroupBy(t => t.Location).ToDictionary(g => g.Key, g => g.Max(t => t.Time));

        // The time up to which a chain's digests must be delivered: its trail's newest digest, --end, or - for a
        // trail with a single chain, which has no sibling to compare with - its newest log less the grace.
        DateTimeOffset DueBy(string location)
        {
            var due = trailOf.TryGetValue(location, out var trail) ? trailNewest[trail] : newestDigest;
            if (end is { } e && e > due)
            {
                due = e;
            }

            return newestLog.TryGetValue(location, out var log) && log - ChainEndGrace > due ? log - ChainEndGrace : due;
        }

        var chainsEndingEarly = new HashSet<string>();
        foreach (var tail in tails)
        {
            var due = DueBy(tail.Location);
            if (due <= tail.Time + Hour + Slack)
            {
                notes.Add(new IntegrityNote(NoteKind.LogAwaitingDigest, tail.Log, tail.LastEnd is { } lastEnd
                    ? $"delivered after the newest digest of its chain ({Iso(lastEnd)}): verify again once its digest is delivered"
                    : "no digest for its account and region yet: verify again once one is delivered"));
                continue;
            }

            findings.Add(new IntegrityFinding(FindingKind.LogUnverifiable, tail.Log, $"a digest covering {Iso(tail.Time)}", tail.LastEnd is null ? "no digest for its account and region" : "no digest for that hour", "the log cannot be verified: no digest of its chain covers the hour it was delivered in"));
            if (tail.LastEnd is { } chainEnd && chainsEndingEarly.Add(tail.Location))
            {
                findings.Add(new IntegrityFinding(FindingKind.MissingHours, tail.LastDigest!, $"hourly digests until {Iso(due)} ({(end is { } e && e >= due ? "--end" : due > trailNewest.GetValueOrDefault(trailOf.GetValueOrDefault(tail.Location) ?? string.Empty) ? $"{Hours(ChainEndGrace)} before the chain's newest log" : "the newest digest of the trail's chains")})", $"the chain ends at {Iso(chainEnd)} while logs were still delivered", $"the trail was logging in hours that have no digest ({MissingHoursText(chainEnd, due)}): the newest digests were removed or never delivered"));
            }
        }

        foreach (var (location, trail, lastEnd, lastDigest) in chainEnds)
        {
            if (chainsEndingEarly.Contains(location))
            {
                continue;
            }

            var siblings = trailNewest[trail];
            if (end is { } e && lastEnd < e - Slack)
            {
                findings.Add(new IntegrityFinding(FindingKind.MissingHours, lastDigest, $"hourly digests until {Iso(e)} (--end)", $"the chain ends at {Iso(lastEnd)}", $"no digest for {MissingHoursText(lastEnd, e)} before --end: the chain's newest digests were removed, or the trail stopped logging"));
            }
            else if (siblings - lastEnd > ChainEndGrace)
            {
                findings.Add(new IntegrityFinding(FindingKind.MissingHours, lastDigest, $"hourly digests until {Iso(siblings)} (the newest digest of the trail's other chains)", $"the chain ends at {Iso(lastEnd)}", $"no digest for {MissingHoursText(lastEnd, siblings)} while the trail's other chains go on, more than {Hours(ChainEndGrace)} of grace: the chain's newest digests were removed, or logging stopped for this account and region"));
            }
            else if (siblings - lastEnd > Hour + Slack)
            {
                notes.Add(new IntegrityNote(NoteKind.ChainEndsEarly, lastDigest, $"the chain ends at {Iso(lastEnd)}, {Hours(siblings - lastEnd)} before the newest digest of the trail's other chains: within the {Hours(ChainEndGrace)} grace for late delivery"));
            }
        }
    }

    /// <summary>An object in a log or digest folder that CloudTrail did not write there: evidence of tampering, or of a copy gone wrong.</summary>
    public static IntegrityFinding ForeignObject(ObjectPlace place)
    {
        var folder = place.Folder == CloudTrailObjectKind.Digest ? "digest" : "log";
        var here = $"account {place.Account}, region {place.Region ?? "(none)"}";
        if (place.NamedAccount is not null && (place.NamedAccount != place.Account || place.NamedRegion != place.Region || place.NamedKind != place.Folder))
        {
            var named = place.NamedKind == CloudTrailObjectKind.Digest ? "digest" : "log";
            return new IntegrityFinding(FindingKind.MisplacedObject, place.Key, $"a {folder} file of {here} (the folder it is in)", $"a {named} file name of account {place.NamedAccount}, region {place.NamedRegion}", "the file name says it belongs to another account, region or folder: it was copied or moved here, and is not evidence of this folder");
        }

        var what = place.FileName.StartsWith('.') ? "a hidden file"
            : place.FileName.EndsWith(".partial", StringComparison.Ordinal) ? "a partial download (.partial)"
            : "a file name CloudTrail does not write";
        return new IntegrityFinding(FindingKind.UnexpectedObject, place.Key, $"only CloudTrail {folder} files (<account>_CloudTrail{(place.Folder == CloudTrailObjectKind.Digest ? "-Digest" : string.Empty)}_<region>_..._.json.gz under YYYY/MM/DD/)", what, $"an object CloudTrail did not write is in a {folder} folder");
    }

    public static bool SelectedPlace(ObjectPlace place, VerifyOptions options) =>
        (options.OrgId is null || place.OrgId == options.OrgId)
        && (options.Accounts.Count == 0 || options.Accounts.Contains(place.Account))
        && (options.Regions.Count == 0 || place.Region is null || options.Regions.Contains(place.Region))
        && (options.Shard is null || options.Shard.Contains(place.Account));

    public static bool Selected(CloudTrailKey key, VerifyOptions options) =>
        (options.OrgId is null || key.OrgId == options.OrgId)
        && (options.Accounts.Count == 0 || options.Accounts.Contains(key.Account))
        && (options.Regions.Count == 0 || options.Regions.Contains(key.Region))
        && (options.Shard is null || options.Shard.Contains(key.Account));

    /// <summary>A digest (named after its end) belongs to the range when its hour overlaps it; a log when it was delivered inside it.</summary>
    public static bool InRange(DateTimeOffset time, VerifyOptions options, bool digest)
    {
        var start = options.Start ?? DateTimeOffset.MinValue;
        var end = options.End ?? DateTimeOffset.MaxValue;
        return digest
            ? time > start && (end == DateTimeOffset.MaxValue || time < end + Hour)
            : time >= start && time <= end;
    }

    private static bool Before(string key, VerifyOptions options) =>
        options.Start is not null && CloudTrailKeys.Parse(key) is { } k && k.Timestamp <= options.Start;

    /// <summary>Where a chain's objects are: prefix, organization, account and region (all its trails).</summary>
    public static string Location(CloudTrailKey key) => $"{key.Prefix}|{key.OrgId}|{key.Account}|{key.Region}";

    /// <summary>The hours from <paramref name="from"/> to <paramref name="to"/> (rounded up to the hour), named one by one when few.</summary>
    private static string MissingHoursText(DateTimeOffset from, DateTimeOffset to)
    {
        var hours = (int)Math.Ceiling((to - from - Slack).TotalHours);
        if (hours <= 0)
        {
            return $"{Iso(from)}..{Iso(to)}";
        }

        var named = hours <= 6 ? ": " + string.Join(", ", Enumerable.Range(0, hours).Select(i => $"{Iso(from + (i * Hour))}..{Iso(from + ((i + 1) * Hour))}")) : string.Empty;
        return $"{hours} hour(s) from {Iso(from)} to {Iso(from + (hours * Hour))}{named}";
    }

    private static DateTimeOffset Minute(DateTimeOffset time) => new(time.Year, time.Month, time.Day, time.Hour, time.Minute, 0, TimeSpan.Zero);

    internal static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static string Hours(TimeSpan span) => span.TotalHours >= 1 ? $"{Math.Round(span.TotalHours, 1).ToString(CultureInfo.InvariantCulture)} h" : $"{Math.Round(span.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min";

    internal static string Abbreviate(string? text) => text is null ? "null" : text.Length <= 24 ? text : text[..16] + "…" + text[^8..];
}
