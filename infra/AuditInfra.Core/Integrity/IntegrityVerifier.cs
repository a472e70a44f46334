using System.Collections.Concurrent;
using System.Diagnostics;

namespace AuditInfra.Core.Integrity;

/// <summary>What to verify: filters on organization, accounts, regions and time (digest end times and log delivery times).</summary>
public sealed record VerifyOptions
{
    public string? OrgId { get; init; }

    public IReadOnlySet<string> Accounts { get; init; } = new HashSet<string>();

    public IReadOnlySet<string> Regions { get; init; } = new HashSet<string>();

    public DateTimeOffset? Start { get; init; }

    public DateTimeOffset? End { get; init; }

    /// <summary>Only the chains (account, region) of this shard; null for all.</summary>
    public ChainShard? Shard { get; init; }

    /// <summary>
    /// Where each chain was last proven (from a verify state): a chain with a checkpoint is verified only from its
    /// newest proven digest on, its first new digest linked to that digest as remembered. Ignored when <see cref="Full"/>.
    /// </summary>
    public IReadOnlyDictionary<string, ChainCheckpoint> Checkpoints { get; init; } = new Dictionary<string, ChainCheckpoint>();

    /// <summary>Verify everything in range whatever the checkpoints (a periodic full pass catches what changed before them).</summary>
    public bool Full { get; init; }

    /// <summary>Concurrent reads; 0 picks one per core for a local copy and 64 for S3.</summary>
    public int Parallelism { get; init; }

    public const int DefaultRemoteParallelism = 64;

    public int EffectiveParallelism(IObjectStore store) =>
        Parallelism > 0 ? Parallelism : store.IsLocal ? Environment.ProcessorCount : DefaultRemoteParallelism;
}

/// <summary>Where the verifier is: listing, then digests, then logs. Totals are known once listing is done.</summary>
public sealed record VerifyProgress(string Phase, long Done, long Total, long Bytes);

/// <summary>
/// Verifies CloudTrail log-file integrity from a bucket or a local copy: every digest's signature and
/// key, every digest's previous* fields against the previous digest actually read, every listed log's
/// SHA-256 after gunzip, logs no digest lists, missing digests (each named, also several in a row),
/// gaps in the hourly chain, backfill digests and chain restarts. Objects are streamed: memory
/// depends on the number of keys, never on their size.
/// </summary>
/// <remarks>
/// The work is split three ways: <see cref="IntegrityReader"/> does the I/O (under the store's one retry
/// policy), <see cref="ChainWalker"/> judges what was read (pure), <see cref="IntegrityReportBuilder"/> builds
/// the report. This class only sequences them; everything of one run lives in that run's objects.
/// </remarks>
public sealed class IntegrityVerifier(IObjectStore store, PublicKeySet keys)
{
    /// <summary>See <see cref="ChainWalker.ChainEndGrace"/>.</summary>
    public static readonly TimeSpan ChainEndGrace = ChainWalker.ChainEndGrace;

    private const long LargeHeapBytes = 64L * 1024 * 1024;

    /// <summary>A unit listing this many keys may leave megabytes behind (about 1 KB per key).</summary>
    private const int LargeUnitKeys = 10_000;

    /// <summary>Units read at once from a remote store; its requests share one gate of --parallel permits.</summary>
    private const int ConcurrentRemoteUnits = 8;

    private const int IncrementalRemoteUnits = 32;

    public async Task<IntegrityReport> VerifyAsync(VerifyOptions options, IProgress<VerifyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var run = new Run(options, progress, new IntegrityReader(store, options.EffectiveParallelism(store)));

        // One account and region at a time on a local copy (all cores inside it); against S3 a few units
        // overlap so that request latency between a unit's phases is hidden. Memory holds those units' keys,
        // never the whole source.
        progress?.Report(new VerifyProgress("listing", 0, 0, 0));
        var units = await SourceLayout.DiscoverAsync(store, options, cancellationToken);
        run.UnitsTotal = units.Count;
        // A run from checkpoints holds an hour or so per unit: more units overlap, each being a few listings.
        var concurrentUnits = store.IsLocal ? 1 : options.Checkpoints.Count > 0 && !options.Full ? IncrementalRemoteUnits : ConcurrentRemoteUnits;
        await Parallel.ForEachAsync(units, new ParallelOptions { MaxDegreeOfParallelism = concurrentUnits, CancellationToken = cancellationToken }, async (unit, ct) =>
        {
            var keysListed = await VerifyUnitAsync(unit, run, ct);
            // A unit's keys and digests all die here; a long chain's can be tens of MB, which would otherwise sit
            // in gen2 until the GC's own budget. Collecting then keeps the heap at about one unit's size. A small
            // unit (an incremental run's hour) leaves too little to be worth a full collection.
            if (keysListed > LargeUnitKeys && GC.GetTotalMemory(forceFullCollection: false) > LargeHeapBytes)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }

            Interlocked.Increment(ref run.UnitsDone);
            run.ReportProgress();
        });

        // Findings known only once every unit is read: they touch days of several units.
        var runFindings = new List<IntegrityFinding>();
        ChainWalker.ClassifyTails(options, run.Tails, run.ChainEnds, DateTimeOffset.UtcNow, runFindings, run.Notes);
        if (store is LocalDirectoryStore local)
        {
            foreach (var entry in local.TakeIrregularEntries())
            {
                runFindings.Add(entry.Type == LocalEntryType.SymbolicLink
                    ? new IntegrityFinding(FindingKind.SymbolicLink, entry.Key, "a regular file or folder", entry.Description, "a symbolic link in the evidence: links are never followed (one may loop, or point outside the copy), so nothing behind it is verified")
                    : new IntegrityFinding(FindingKind.NotARegularFile, entry.Key, "a regular file or folder", entry.Description, "a special file in the evidence: it is never opened (a FIFO would block the verification)"));
            }

            foreach (var (key, signs) in local.TakeOrphanSignatures())
            {
                if (CloudTrailKeys.ParsePlace(key) is not { } place || ChainWalker.SelectedPlace(place, options))
                {
                    runFindings.Add(new IntegrityFinding(FindingKind.UnexpectedObject, key, $"a .signature file beside the digest it signs ({signs})", "no object of that name", "a signature whose digest is not in the source: the digest was removed, or the signature was put there"));
                }
            }
        }

        runFindings.AddRange(await AccountsWithoutDataAsync(run, run.Report.MergedSummaries(), runFindings, cancellationToken));
        return run.Report.Build(
            store.Description,
            options,
            run.Findings.Concat(runFindings),
            run.Notes,
            run.Reader.BytesRead,
            run.Reader.UncompressedBytes,
            clock.Elapsed,
            runFindings);
    }

    /// <summary>
    /// Verifies a given set of log files (bucket keys, as a query found them) against the digests of the hours
    /// covering them, without walking whole chains: for each log, the digests of its account and region that end
    /// within two hours after its delivery are listed (its day's and the next day's digest folders), read and
    /// checked (signature, key, location), and the log is hashed against the digest listing it. The answer per
    /// key: <see cref="LogIntegrityStatus.Verified"/>; <see cref="LogIntegrityStatus.Tampered"/> (hash mismatch or
    /// corrupt, listed but gone, the digest listing it fails its checks - save a key the public keys lack or date
    /// otherwise, which leaves it unverifiable - or not listed although a validly signed
    /// digest of its chain covers its delivery time); otherwise <see cref="LogIntegrityStatus.Unverifiable"/>
    /// (no digest, signature or key covering it). Keys that are not CloudTrail log keys are unverifiable.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, LogIntegrity>> VerifyLogsAsync(IEnumerable<string> logKeys, CancellationToken cancellationToken = default)
    {
        var reader = new IntegrityReader(store, new VerifyOptions().EffectiveParallelism(store));
        var result = new Dictionary<string, LogIntegrity>(StringComparer.Ordinal);
        var logs = new List<CloudTrailKey>();
        foreach (var key in logKeys.Distinct(StringComparer.Ordinal))
        {
            if (CloudTrailKeys.Parse(key) is { Kind: CloudTrailObjectKind.Log } parsed)
            {
                logs.Add(parsed);
            }
            else
            {
                result[key] = new LogIntegrity(LogIntegrityStatus.Unverifiable, null, "not a CloudTrail log key ([prefix/]AWSLogs/[org/]account/CloudTrail/region/YYYY/MM/DD/account_CloudTrail_region_..._.json.gz)");
            }
        }

        var wanted = (await DigestsCoveringAsync(store, logs, cancellationToken)).Select(d => d.Key).ToList();
        var reads = await reader.ReadDigestsAsync(wanted.Select(d => (d, false)), cancellationToken);
        var check = new DigestSignatureCheck(keys, store.Bucket);
        var failures = reads.Values.ToDictionary(r => r.Key.Key, r => check.Check(r), StringComparer.Ordinal);
        RefuseWrongRoot(reads.Values);
        var listing = new Dictionary<string, List<(DigestRead Digest, string Hash)>>(StringComparer.Ordinal);
        foreach (var read in reads.Values.Where(r => r.File is not null).OrderBy(r => r.Key.Key, StringComparer.Ordinal))
        {
            foreach (var file in read.File!.LogFiles)
            {
                (listing.TryGetValue(file.S3Object, out var list) ? list : listing[file.S3Object] = []).Add((read, file.HashValue));
            }
        }

        var toHash = new List<(CloudTrailKey Log, DigestRead Digest, string Hash)>();
        foreach (var log in logs)
        {
            var listers = listing.GetValueOrDefault(log.Key) ?? [];
            var good = listers.FirstOrDefault(l => failures[l.Digest.Key.Key].Count == 0);
            if (good.Digest is not null)
            {
                toHash.Add((log, good.Digest, good.Hash));
                continue;
            }

            if (listers.Count > 0)
            {
                var bad = listers[0].Digest.Key.Key;
                // A key the keys file lacks (or holds with other dates) disproves nothing: the digest may be genuine.
                result[log.Key] = failures[bad].All(f => f.Kind is FindingKind.UnknownPublicKey or FindingKind.PublicKeyNotValid)
                    ? new LogIntegrity(LogIntegrityStatus.Unverifiable, bad, $"the digest listing it is signed with a key the public keys do not prove valid: {string.Join("; ", failures[bad].Select(f => $"{f.Kind}: {f.Message}"))}")
                    : new LogIntegrity(LogIntegrityStatus.Tampered, bad, $"the digest listing it fails its checks: {string.Join("; ", failures[bad].Select(f => f.Kind))}");
                continue;
            }

            var location = ChainWalker.Location(log);
            var covering = reads.Values.FirstOrDefault(r => r.File is not null && ChainWalker.Location(r.Key) == location && failures[r.Key.Key].Count == 0 && !r.Key.Backfill
                && log.Timestamp >= r.File.Start.AddSeconds(-r.File.Start.Second) && log.Timestamp < r.File.End);
            result[log.Key] = covering is not null
                ? new LogIntegrity(LogIntegrityStatus.Tampered, covering.Key.Key, "not listed by the validly signed digest covering its delivery time: added after the digest was delivered")
                : new LogIntegrity(LogIntegrityStatus.Unverifiable, null, "no validly signed digest covering its delivery time lists it (digest missing, unsigned, or signed by an unknown or expired key)");
        }

        var hashed = await reader.HashLogsAsync(toHash.Select(t => t.Log), null, cancellationToken);
        foreach (var (log, digest, hash) in toHash)
        {
            var outcome = new WalkOutcome();
            ChainWalker.JudgeLog(log.Key, hash, digest.Key.Key, hashed[log.Key], outcome);
            result[log.Key] = outcome.Findings.Count == 0
                ? new LogIntegrity(LogIntegrityStatus.Verified, digest.Key.Key, "its SHA-256 matches the validly signed digest listing it")
                : new LogIntegrity(LogIntegrityStatus.Tampered, digest.Key.Key, $"{outcome.Findings[0].Kind}: {outcome.Findings[0].Message}");
        }

        return result;
    }

    /// <summary>
    /// The digest objects <see cref="VerifyLogsAsync"/> reads to judge these logs (with their storage classes, as
    /// listed): those delivered within two hours after a log, found in the digest folders of each log's day and the
    /// next (a day's last digest arrives after midnight). A gate that must make them readable first asks here.
    /// </summary>
    public static async Task<IReadOnlyList<ObjectEntry>> DigestObjectsForLogsAsync(IObjectStore store, IEnumerable<string> logKeys, CancellationToken cancellationToken = default)
    {
        var logs = logKeys.Distinct(StringComparer.Ordinal).Select(CloudTrailKeys.Parse).Where(k => k is { Kind: CloudTrailObjectKind.Log }).Select(k => k!).ToList();
        return [.. (await DigestsCoveringAsync(store, logs, cancellationToken)).Select(d => d.Entry)];
    }

    private static async Task<List<(CloudTrailKey Key, ObjectEntry Entry)>> DigestsCoveringAsync(IObjectStore store, IReadOnlyList<CloudTrailKey> logs, CancellationToken cancellationToken)
    {
        // The digest folders to list: each log's day and the next (a digest is delivered after its hour).
        static string DigestFolder(CloudTrailKey log, DateTime day) =>
            $"{log.Prefix}AWSLogs/{(log.OrgId is null ? string.Empty : log.OrgId + "/")}{log.Account}/CloudTrail-Digest/{log.Region}/{day:yyyy'/'MM'/'dd}/";
        var folders = logs.SelectMany(l => new[] { DigestFolder(l, l.Timestamp.UtcDateTime.Date), DigestFolder(l, l.Timestamp.UtcDateTime.Date.AddDays(1)) }).Distinct(StringComparer.Ordinal).ToList();
        var listed = new ConcurrentBag<(CloudTrailKey Key, ObjectEntry Entry)>();
        await Parallel.ForEachAsync(folders, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (folder, ct) =>
        {
            var relative = folder.StartsWith(store.Prefix, StringComparison.Ordinal) ? folder[store.Prefix.Length..] : folder;
            await foreach (var entry in store.ListAsync(relative, ct))
            {
                if (CloudTrailKeys.Parse(entry.Key) is { Kind: CloudTrailObjectKind.Digest } digest)
                {
                    listed.Add((digest, entry));
                }
            }
        });

        var byLocation = listed.GroupBy(d => ChainWalker.Location(d.Key)).ToDictionary(g => g.Key, g => g.ToList());
        return [.. logs
            .SelectMany(l => byLocation.GetValueOrDefault(ChainWalker.Location(l)) ?? [])
            .Where(d => logs.Any(l => ChainWalker.Location(l) == ChainWalker.Location(d.Key) && d.Key.Timestamp > l.Timestamp && d.Key.Timestamp <= l.Timestamp + (2 * ChainWalker.Hour)))
            .DistinctBy(d => d.Key.Key)
            .OrderBy(d => d.Key.Key, StringComparer.Ordinal)];
    }

    /// <summary>
    /// When not one digest read is at the key it records, the source is not the root the keys are relative to (a local
    /// copy given by a subfolder): every log would look tampered. That is an input error, said once; a digest moved
    /// among others that are in place stays a finding.
    /// </summary>
    private static void RefuseWrongRoot(IEnumerable<DigestRead> reads)
    {
        var parsed = reads.Where(r => r.File is not null).ToList();
        if (parsed.Count == 0 || parsed.Any(r => r.File!.DigestS3Object == r.Key.Key))
        {
            return;
        }

        var sample = parsed.OrderBy(r => r.Key.Key, StringComparer.Ordinal).First();
        var recorded = sample.File!.DigestS3Object;
        var root = recorded.EndsWith("/" + sample.Key.Key, StringComparison.Ordinal)
            ? $"; the source looks like a subfolder: give the folder holding {recorded[..^(sample.Key.Key.Length + 1)]}/ as its root"
            : "; give the copy's root, the folder the keys the digests record are relative to";
        throw new IntegrityInputException($"no digest of these hours ({parsed.Count}) is at the key it records (e.g. {sample.Key.Key} records {recorded}): the source is not the root of the copy{root}");
    }

    /// <summary>What a run gathers across units: findings, notes, the chain ends and tails judged once every unit is read, and the report being built.</summary>
    private sealed class Run(VerifyOptions options, IProgress<VerifyProgress>? progress, IntegrityReader reader)
    {
        public VerifyOptions Options { get; } = options;

        public IntegrityReader Reader { get; } = reader;

        public IntegrityReportBuilder Report { get; } = new();

        public ConcurrentBag<IntegrityFinding> Findings { get; } = [];

        public List<IntegrityNote> Notes { get; } = [];

        public List<ChainTail> Tails { get; } = [];

        public List<ChainEnd> ChainEnds { get; } = [];

        /// <summary>Any object in the CloudTrail layout was listed, whatever the filters.</summary>
        public bool SawCloudTrailObject { get; set; }

        public int UnitsTotal { get; set; }

        // A field, for Interlocked.
        public int UnitsDone;

        /// <summary>Progress in account/region chains done, with the bytes read so far (the bar moves as objects are read).</summary>
        public void ReportProgress() =>
            progress?.Report(new VerifyProgress("account/region chains", Volatile.Read(ref UnitsDone), UnitsTotal, Reader.BytesRead));
    }

    /// <summary>The checkpoints of a unit's account and region, unless the run is full.</summary>
    private static Dictionary<string, ChainCheckpoint> CheckpointsOf(SourceLayout.Unit unit, VerifyOptions options)
    {
        var result = new Dictionary<string, ChainCheckpoint>(StringComparer.Ordinal);
        if (options.Full)
        {
            return result;
        }

        foreach (var (chain, checkpoint) in options.Checkpoints)
        {
            var key = CloudTrailKeys.Parse(checkpoint.LastDigest);
            if (key is not null && ChainWalker.Selected(key, options) && (unit.AccountRoot is null || (key.Region == unit.Region && unit.AccountRoot.TrimEnd('/').EndsWith("/" + key.Account, StringComparison.Ordinal))))
            {
                result[chain] = checkpoint;
            }
        }

        return result;
    }

    /// <returns>How many keys the unit listed.</returns>
    private async Task<int> VerifyUnitAsync(SourceLayout.Unit unit, Run run, CancellationToken cancellationToken)
    {
        var reader = run.Reader;

        // With checkpoints, the unit is listed and its logs judged only from the oldest of them on: what came
        // before was proven by an earlier run, and the chain stays proven because the first new digest must link
        // to the checkpoint as remembered.
        var checkpoints = CheckpointsOf(unit, run.Options);
        var options = run.Options;
        if (checkpoints.Count > 0)
        {
            var from = checkpoints.Values.Min(c => c.LastEnd);
            options = options with { Start = options.Start is { } start && start > from ? start : from };
        }

        // 1. Listing: every digest and log of the unit, whatever the time range (within a day of it), so
        // that a digest named as "previous" can be told missing from merely outside the range.
        var listing = await reader.ListAsync(unit, options, cancellationToken, fromCheckpoint: checkpoints.Count > 0);
        var outcome = new WalkOutcome();
        outcome.Findings.AddRange(listing.Findings);
        outcome.Notes.AddRange(listing.Notes);

        // 2. Digests in range, plus each chain's digest just before the range (to check the first link): read,
        // or for a chain with a checkpoint, the checkpoint itself.
        var chains = ChainWalker.Chains(listing.Digests);
        var reads = await reader.ReadDigestsAsync(ChainWalker.DigestsToRead(chains, options, checkpoints), cancellationToken);
        var starts = checkpoints.ToDictionary(c => c.Key, c => c.Value.AsContext(), StringComparer.Ordinal);
        foreach (var context in starts.Values)
        {
            reads.TryAdd(context.Key.Key, context);
        }
        var check = new DigestSignatureCheck(keys, store.Bucket);
        foreach (var read in reads.Values.Where(r => !r.Context))
        {
            outcome.Findings.AddRange(check.Check(read));
        }

        // 3. The chains: previous* fields against the digest actually read before, missing digests, gaps.
        ChainWalker.WalkChains(chains, reads, options, outcome, starts);

        // 4. Logs: every listed log hashed; every present log in range listed by some digest.
        var expected = ChainWalker.ExpectedLogs(reads.Values);
        var toHash = ChainWalker.LogsToHash(expected, listing.Logs, outcome);
        var hashed = await reader.HashLogsAsync(toHash.Select(w => w.Key), run.ReportProgress, cancellationToken);
        foreach (var (key, hash, digest) in toHash)
        {
            ChainWalker.JudgeLog(key.Key, hash, digest, hashed[key.Key], outcome);
        }

        var proven = checkpoints.Values.SelectMany(c => c.ProvenLogs).ToHashSet(StringComparer.Ordinal);
        var unjudged = proven.Count == 0 ? listing.Logs : listing.Logs.Where(l => !proven.Contains(l.Key)).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        ChainWalker.ClassifyUnlistedLogs(unjudged, expected, reads, options, outcome);
        run.Report.AddUnit(reads, listing.Logs, expected, outcome.LogResults, outcome.Findings, options, reader.UncompressedBytesOf, checkpoints);
        foreach (var finding in outcome.Findings)
        {
            run.Findings.Add(finding);
        }

        lock (run)
        {
            run.SawCloudTrailObject |= listing.SawCloudTrailObject;
            run.Notes.AddRange(outcome.Notes);
            run.Tails.AddRange(outcome.Tails);
            run.ChainEnds.AddRange(outcome.ChainEnds);
        }

        return listing.Digests.Count + listing.Logs.Count;
    }

    /// <summary>Accounts asked for that the source holds nothing of; the caller tells a source with no layout at all apart.</summary>
    private async Task<List<IntegrityFinding>> AccountsWithoutDataAsync(Run run, IReadOnlyList<ChainSummary> summaries, IReadOnlyList<IntegrityFinding> runFindings, CancellationToken cancellationToken)
    {
        var options = run.Options;
        var found = new List<IntegrityFinding>();
        var missing = options.Accounts
            .Where(a => !summaries.Any(s => s.Account == a) && !run.Findings.Concat(runFindings).Any(f => CloudTrailKeys.ParsePlace(f.Key)?.Account == a))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (missing.Count == 0)
        {
            return found;
        }

        // Only a source that holds CloudTrail data of other accounts shows that an account is missing from it;
        // a source with none at all is a wrong source, which the caller reports as such.
        var others = await SourceLayout.DiscoverAsync(store, options with { Accounts = new HashSet<string>(), Regions = new HashSet<string>(), Shard = null }, cancellationToken);
        if (!others.Any(u => u.AccountRoot is not null) && !run.SawCloudTrailObject)
        {
            return found;
        }

        foreach (var account in missing)
        {
            // A shard sees only its accounts' chains: an account without data is reported by the shard that owns it, once.
            if (options.Shard is { } shard && !shard.Contains(account))
            {
                continue;
            }

            var scope = options.Regions.Count == 0 ? string.Empty : $" in region(s) {string.Join(", ", options.Regions.Order(StringComparer.Ordinal))}";
            found.Add(new IntegrityFinding(FindingKind.AccountWithoutData, account, $"CloudTrail digests and logs of account {account}{scope}{(options.Start is null && options.End is null ? string.Empty : " in the time range")}", "none in the source", "--account names an account the source holds no CloudTrail data for: its logs and digests were removed, or were never delivered here"));
        }

        return found;
    }
}

/// <summary>What <see cref="IntegrityVerifier.VerifyLogsAsync"/> found of one log.</summary>
public enum LogIntegrityStatus
{
    /// <summary>Listed by a validly signed digest, and its SHA-256 after gunzip matches.</summary>
    Verified,

    /// <summary>No digest, signature or key covers it: nothing proves or disproves it.</summary>
    Unverifiable,

    /// <summary>Hash mismatch or corrupt, gone, its digest fails its checks, or added after its digest.</summary>
    Tampered,
}

/// <summary>One log's integrity: the status, the digest that decided it (if any) and why, in words.</summary>
public sealed record LogIntegrity(LogIntegrityStatus Status, string? Digest, string Reason);
