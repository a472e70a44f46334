using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuditInfra.Core.Integrity;

/// <summary>What to verify: filters on organization, accounts, regions and time (digest end times and log delivery times).</summary>
public sealed record VerifyOptions
{
    public string? OrgId { get; init; }

    public IReadOnlySet<string> Accounts { get; init; } = new HashSet<string>();

    public IReadOnlySet<string> Regions { get; init; } = new HashSet<string>();

    public DateTimeOffset? Start { get; init; }

    public DateTimeOffset? End { get; init; }

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
public sealed class IntegrityVerifier(IObjectStore store, PublicKeySet keys)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>CloudTrail's digest periods meet exactly; a little slack keeps clock rounding from reading as a gap.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromMinutes(5);

    private const long LargeHeapBytes = 64L * 1024 * 1024;

    /// <summary>Units read at once from a remote store; its requests share one gate of --parallel permits.</summary>
    private const int ConcurrentRemoteUnits = 8;

    private SemaphoreSlim requestGate = new(1);

    private readonly ConcurrentDictionary<(string Account, string Region), long> uncompressedByChain = new();
    private long bytesRead;
    private long uncompressedBytes;

    public async Task<IntegrityReport> VerifyAsync(VerifyOptions options, IProgress<VerifyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var run = new Run(options, progress);
        bytesRead = 0;
        uncompressedBytes = 0;
        uncompressedByChain.Clear();

        // One account and region at a time on a local copy (all cores inside it); against S3 a few units
        // overlap so that request latency between a unit's phases is hidden. Memory holds those units' keys,
        // never the whole source.
        progress?.Report(new VerifyProgress("listing", 0, 0, 0));
        var units = await SourceLayout.DiscoverAsync(store, options, cancellationToken);
        var parallelism = options.EffectiveParallelism(store);
        requestGate = new SemaphoreSlim(parallelism);
        run.UnitsTotal = units.Count;
        await Parallel.ForEachAsync(units, new ParallelOptions { MaxDegreeOfParallelism = store.IsLocal ? 1 : ConcurrentRemoteUnits, CancellationToken = cancellationToken }, async (unit, ct) =>
        {
            await VerifyUnitAsync(unit, run, ct);
            // A unit's keys and digests all die here; a long chain's can be tens of MB, which would otherwise sit
            // in gen2 until the GC's own budget. Collecting then keeps the heap at about one unit's size.
            if (GC.GetTotalMemory(forceFullCollection: false) > LargeHeapBytes)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }

            Interlocked.Increment(ref run.UnitsDone);
            ReportProgress(run);
        });

        ClassifyTails(run);
        if (store is LocalDirectoryStore local)
        {
            foreach (var entry in local.TakeIrregularEntries())
            {
                run.Findings.Add(entry.Type == LocalEntryType.SymbolicLink
                    ? new IntegrityFinding(FindingKind.SymbolicLink, entry.Key, "a regular file or folder", entry.Description, "a symbolic link in the evidence: links are never followed (one may loop, or point outside the copy), so nothing behind it is verified")
                    : new IntegrityFinding(FindingKind.NotARegularFile, entry.Key, "a regular file or folder", entry.Description, "a special file in the evidence: it is never opened (a FIFO would block the verification)"));
            }

            foreach (var (key, signs) in local.TakeOrphanSignatures())
            {
                if (CloudTrailKeys.ParsePlace(key) is not { } place || SelectedPlace(place, options))
                {
                    run.Findings.Add(new IntegrityFinding(FindingKind.UnexpectedObject, key, $"a .signature file beside the digest it signs ({signs})", "no object of that name", "a signature whose digest is not in the source: the digest was removed, or the signature was put there"));
                }
            }
        }

        var merged = run.Summaries
            .GroupBy(s => (s.Account, s.Region))
            .Select(g => Merge(g.ToList()))
            .ToList();
        await ReportAccountsWithoutDataAsync(run, merged, cancellationToken);

        var findingList = run.Findings
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .ThenBy(f => f.Kind)
            .ToList();
        var findingsByChain = findingList
            .Select(f => CloudTrailKeys.Parse(f.Key) is { } k ? (k.Account, Region: (string?)k.Region) : CloudTrailKeys.ParsePlace(f.Key) is { } p ? (p.Account, p.Region) : default)
            .Where(k => k.Account is not null)
            .GroupBy(k => k)
            .ToDictionary(g => g.Key, g => g.Count());
        var summaries = merged
            .Select(s => s with { Findings = findingsByChain.GetValueOrDefault((s.Account, s.Region)) })
            .OrderBy(s => s.Account, StringComparer.Ordinal)
            .ThenBy(s => s.Region, StringComparer.Ordinal)
            .ToList();
        return new IntegrityReport(
            store.Description,
            options.Start,
            options.End,
            summaries,
            findingList,
            run.Notes.OrderBy(n => n.Key, StringComparer.Ordinal).ThenBy(n => n.Kind).ToList(),
            Interlocked.Read(ref bytesRead),
            Interlocked.Read(ref uncompressedBytes),
            clock.Elapsed);
    }

    /// <summary>What a run gathers across units: findings, notes, summaries, and the logs and chain ends judged once every unit is read.</summary>
    private sealed class Run(VerifyOptions options, IProgress<VerifyProgress>? progress)
    {
        public VerifyOptions Options { get; } = options;

        public IProgress<VerifyProgress>? Progress { get; } = progress;

        public ConcurrentBag<IntegrityFinding> Findings { get; } = [];

        public List<IntegrityNote> Notes { get; } = [];

        public List<ChainSummary> Summaries { get; } = [];

        /// <summary>Unlisted logs delivered after the last digest of their chain (or with no digest at all).</summary>
        public List<(string Log, DateTimeOffset Time, string Location, DateTimeOffset? LastEnd, string? LastDigest)> Tails { get; } = [];

        public List<(string Location, string Trail, DateTimeOffset LastEnd, string LastDigest)> ChainEnds { get; } = [];

        public DateTimeOffset NewestDigest { get; set; } = DateTimeOffset.MinValue;

        /// <summary>Any object in the CloudTrail layout was listed, whatever the filters.</summary>
        public bool SawCloudTrailObject { get; set; }

        public int UnitsTotal { get; set; }

        // A field, for Interlocked.
        public int UnitsDone;
    }

    /// <summary>Progress in account/region chains done, with the bytes read so far (the bar moves as objects are read).</summary>
    private void ReportProgress(Run run) =>
        run.Progress?.Report(new VerifyProgress("account/region chains", Volatile.Read(ref run.UnitsDone), run.UnitsTotal, Interlocked.Read(ref bytesRead)));

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

    private async Task VerifyUnitAsync(SourceLayout.Unit unit, Run run, CancellationToken cancellationToken)
    {
        var options = run.Options;
        var findings = run.Findings;
        var notes = new List<IntegrityNote>();
        var parallelism = options.EffectiveParallelism(store);

        // 1. Listing: every digest and log of the unit, whatever the time range (within a day of it), so
        // that a digest named as "previous" can be told missing from merely outside the range.
        var digestKeys = new List<(CloudTrailKey Key, long Size)>();
        var logKeys = new Dictionary<string, (CloudTrailKey Key, long Size)>(StringComparer.Ordinal);
        await foreach (var entry in unit.ListAsync(store, options, cancellationToken))
        {
            var key = CloudTrailKeys.Parse(entry.Key);
            if (key is not null || entry.Key.Contains("AWSLogs/", StringComparison.Ordinal))
            {
                run.SawCloudTrailObject = run.SawCloudTrailObject || key is not null || CloudTrailKeys.ParsePlace(entry.Key) is not null;
            }

            if (key is null)
            {
                if (CloudTrailKeys.ParsePlace(entry.Key) is { } place)
                {
                    if (SelectedPlace(place, options))
                    {
                        findings.Add(ForeignObject(place));
                    }
                }
                else if (entry.Key.Contains("AWSLogs/", StringComparison.Ordinal))
                {
                    notes.Add(new IntegrityNote(NoteKind.UnrecognizedObject, entry.Key, "not under an account's CloudTrail or CloudTrail-Digest folder, and not a CloudTrail log or digest file name; not verified"));
                }

                continue;
            }

            if (!Selected(key, options))
            {
                continue;
            }

            if (key.Kind == CloudTrailObjectKind.Digest)
            {
                digestKeys.Add((key, entry.Size));
            }
            else
            {
                logKeys[key.Key] = (key, entry.Size);
            }
        }

        // 2. Digests in range, plus each chain's digest just before the range (to check the first link).
        var chains = digestKeys
            .GroupBy(d => d.Key.ChainId + (d.Key.Backfill ? "|backfill" : string.Empty))
            .ToDictionary(g => g.Key, g => g.OrderBy(d => d.Key.Timestamp).ThenBy(d => d.Key.Key, StringComparer.Ordinal).ToList());
        var toRead = new List<(CloudTrailKey Key, long Size, bool Context)>();
        foreach (var chain in chains.Values)
        {
            var first = chain.FindIndex(d => InRange(d.Key.Timestamp, options, digest: true));
            if (first < 0)
            {
                continue;
            }

            if (first > 0 && !chain[first].Key.Backfill)
            {
                toRead.Add((chain[first - 1].Key, chain[first - 1].Size, true));
            }

            toRead.AddRange(chain.Skip(first).Where(d => InRange(d.Key.Timestamp, options, digest: true)).Select(d => (d.Key, d.Size, false)));
        }

        var reads = new ConcurrentDictionary<string, DigestRead>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(toRead, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            await requestGate.WaitAsync(ct);
            try
            {
                reads[item.Key.Key] = await ReadDigestAsync(item.Key, item.Context, ct);
            }
            finally
            {
                requestGate.Release();
            }
        });

        foreach (var read in reads.Values.Where(r => !r.Context))
        {
            CheckDigest(read, findings);
        }

        // 3. The chains: previous* fields against the digest actually read before, missing digests, gaps.
        var holes = new List<(string Location, DateTimeOffset From, DateTimeOffset To, string Digest)>();
        var allDigestKeys = digestKeys.Select(d => d.Key.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (chainId, chain) in chains)
        {
            var present = chain.Where(d => reads.ContainsKey(d.Key.Key)).Select(d => reads[d.Key.Key]).ToList();
            WalkChain(chainId.EndsWith("|backfill", StringComparison.Ordinal), present, reads, allDigestKeys, options, findings, notes, holes);
        }

        // 4. Logs: every listed log hashed; every present log in range listed by some digest.
        var expected = new Dictionary<string, (string Hash, string Digest)>(StringComparer.Ordinal);
        foreach (var read in reads.Values.Where(r => !r.Context && r.File is not null).OrderBy(r => r.Key.Key, StringComparer.Ordinal))
        {
            foreach (var log in read.File!.LogFiles)
            {
                expected.TryAdd(log.S3Object, (log.HashValue, read.Key.Key));
            }
        }

        var logResults = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var logWork = new List<(CloudTrailKey Key, string Hash, string Digest)>();
        foreach (var (logKey, (hash, digest)) in expected)
        {
            if (logKeys.TryGetValue(logKey, out var present))
            {
                logWork.Add((present.Key, hash, digest));
            }
            else
            {
                findings.Add(new IntegrityFinding(FindingKind.LogMissing, logKey, $"present (listed by {digest})", "absent", "a log listed by a digest is not in the source"));
                logResults[logKey] = false;
            }
        }

        await Parallel.ForEachAsync(logWork, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (work, ct) =>
        {
            var key = work.Key.Key;
            GunzipResult result;
            await requestGate.WaitAsync(ct);
            try
            {
                result = await HashAsync(work.Key, ct);
            }
            finally
            {
                requestGate.Release();
            }

            var ok = false;
            if (result.Error == GoneWhenRead)
            {
                findings.Add(new IntegrityFinding(FindingKind.LogMissing, key, $"present (listed by {work.Digest})", GoneWhenRead, "a log listed by a digest disappeared from the source during verification"));
            }
            else if (result.Error is not null)
            {
                findings.Add(new IntegrityFinding(FindingKind.CorruptGzip, key, $"a complete gzip whose content hashes to {work.Hash}", result.Error, $"the log listed by {work.Digest} cannot be decompressed"));
            }
            else if (!string.Equals(result.Sha256Hex, work.Hash, StringComparison.OrdinalIgnoreCase))
            {
                findings.Add(new IntegrityFinding(FindingKind.LogHashMismatch, key, work.Hash, result.Sha256Hex!, $"the log's SHA-256 after gunzip differs from the hash in {work.Digest}"));
            }
            else
            {
                ok = true;
            }

            logResults[key] = ok;
            ReportProgress(run);
        });

        ClassifyUnlistedLogs(logKeys, expected, reads, holes, options, findings, run);
        var summaries = Summarize(reads, logKeys, expected, logResults, findings, options);
        lock (run)
        {
            run.Notes.AddRange(notes);
            run.Summaries.AddRange(summaries);
        }
    }

    /// <summary>An object in a log or digest folder that CloudTrail did not write there: evidence of tampering, or of a copy gone wrong.</summary>
    private static IntegrityFinding ForeignObject(ObjectPlace place)
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

    private static bool SelectedPlace(ObjectPlace place, VerifyOptions options) =>
        (options.OrgId is null || place.OrgId == options.OrgId)
        && (options.Accounts.Count == 0 || options.Accounts.Contains(place.Account))
        && (options.Regions.Count == 0 || place.Region is null || options.Regions.Contains(place.Region));

    private static bool Selected(CloudTrailKey key, VerifyOptions options) =>
        (options.OrgId is null || key.OrgId == options.OrgId)
        && (options.Accounts.Count == 0 || options.Accounts.Contains(key.Account))
        && (options.Regions.Count == 0 || options.Regions.Contains(key.Region));

    /// <summary>A digest (named after its end) belongs to the range when its hour overlaps it; a log when it was delivered inside it.</summary>
    private static bool InRange(DateTimeOffset time, VerifyOptions options, bool digest)
    {
        var start = options.Start ?? DateTimeOffset.MinValue;
        var end = options.End ?? DateTimeOffset.MaxValue;
        return digest
            ? time > start && (end == DateTimeOffset.MaxValue || time < end + Hour)
            : time >= start && time <= end;
    }

    private sealed record DigestRead(CloudTrailKey Key, bool Context, string? Signature, string? Sha256, DigestFile? File, string? GzipError, string? ParseError, GzipFault Fault = GzipFault.None);

    /// <summary>Remote reads that break off mid-stream are read again from the start, a few times.</summary>
    private const int RemoteReadAttempts = 3;

    private const string GoneWhenRead = "listed, but gone when read (deleted while verifying?)";

    private async Task<T> WithRereadAsync<T>(Func<Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (Exception e) when (!store.IsLocal && attempt < RemoteReadAttempts && e is IOException or System.Net.Http.HttpRequestException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
        }
    }

    private Task<DigestRead> ReadDigestAsync(CloudTrailKey key, bool context, CancellationToken cancellationToken) =>
        WithRereadAsync(async () =>
        {
            try
            {
                return await ReadDigestOnceAsync(key, context, cancellationToken);
            }
            catch (ObjectNotFoundException)
            {
                return new DigestRead(key, context, null, null, null, null, GoneWhenRead);
            }
        });

    private async Task<DigestRead> ReadDigestOnceAsync(CloudTrailKey key, bool context, CancellationToken cancellationToken)
    {
        await using var stored = await store.OpenAsync(key.Key, withSignature: true, cancellationToken);
        using var plain = new MemoryStream();
        var result = store.IsLocal
            ? GzipHash.Compute(stored.Content, plain, DigestFile.MaxInflatedBytes)
            : await GzipHash.ComputeAsync(stored.Content, plain, cancellationToken, DigestFile.MaxInflatedBytes);
        Count(key, result);
        if (result.Error is not null)
        {
            return new DigestRead(key, context, stored.Signature, null, null, result.Error, null, result.Fault);
        }

        try
        {
            return new DigestRead(key, context, stored.Signature, result.Sha256Hex, DigestFile.Parse(plain.GetBuffer().AsSpan(0, (int)plain.Length)), null, null);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return new DigestRead(key, context, stored.Signature, result.Sha256Hex, null, null, e.Message);
        }
    }

    private Task<GunzipResult> HashAsync(CloudTrailKey key, CancellationToken cancellationToken) =>
        WithRereadAsync(async () =>
        {
            try
            {
                return await HashOnceAsync(key, cancellationToken);
            }
            catch (ObjectNotFoundException)
            {
                return new GunzipResult(null, 0, 0, GoneWhenRead);
            }
        });

    private async Task<GunzipResult> HashOnceAsync(CloudTrailKey key, CancellationToken cancellationToken)
    {
        await using var stored = await store.OpenAsync(key.Key, withSignature: false, cancellationToken);
        var result = store.IsLocal
            ? GzipHash.Compute(stored.Content)
            : await GzipHash.ComputeAsync(stored.Content, null, cancellationToken);
        Count(key, result);
        return result;
    }

    private void Count(CloudTrailKey key, GunzipResult result)
    {
        Interlocked.Add(ref bytesRead, result.CompressedBytes);
        Interlocked.Add(ref uncompressedBytes, result.UncompressedBytes);
        uncompressedByChain.AddOrUpdate((key.Account, key.Region), result.UncompressedBytes, (_, total) => total + result.UncompressedBytes);
    }

    /// <summary>The digest's own checks: readable, where it says it is, signed by a known key valid at its time.</summary>
    private void CheckDigest(DigestRead read, ConcurrentBag<IntegrityFinding> findings)
    {
        var key = read.Key.Key;
        if (read.Fault == GzipFault.TooLarge)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestTooLarge, key, $"a digest of at most {DigestFile.MaxInflatedBytes} bytes uncompressed", read.GzipError!, "the digest is not read: no CloudTrail digest is this large (a gzip bomb?)"));
            return;
        }

        if (read.GzipError is not null)
        {
            findings.Add(new IntegrityFinding(FindingKind.CorruptGzip, key, "a complete gzip digest file", read.GzipError, "the digest cannot be decompressed, so nothing it lists can be verified through it"));
            return;
        }

        if (read.File is null)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestMalformed, key, "a CloudTrail digest JSON document", read.ParseError!, "the digest cannot be read"));
            return;
        }

        var file = read.File;
        if (file.DigestS3Object != key)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestLocationMismatch, key, key, file.DigestS3Object, "digestS3Object names another key than the one the digest was read from"));
        }

        if (store.Bucket is not null && file.DigestS3Bucket != store.Bucket)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestLocationMismatch, key, store.Bucket, file.DigestS3Bucket, "digestS3Bucket names another bucket than the one the digest was read from"));
        }

        if (file.AwsAccountId != read.Key.Account)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestLocationMismatch, key, read.Key.Account, file.AwsAccountId, "awsAccountId differs from the account folder the digest is in"));
        }

        if (file.DigestSignatureAlgorithm is not null && file.DigestSignatureAlgorithm != "SHA256withRSA")
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestMalformed, key, "SHA256withRSA", file.DigestSignatureAlgorithm, "unsupported digestSignatureAlgorithm"));
            return;
        }

        if (string.IsNullOrWhiteSpace(read.Signature))
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestSignatureMissing, key, "a hex signature in x-amz-meta-signature (or the .signature file of a local copy)", "none", "the digest is unsigned, so nothing it states can be trusted"));
            return;
        }

        if (file.DigestPublicKeyFingerprint is null)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestMalformed, key, "digestPublicKeyFingerprint", "absent", "the digest does not name the key it was signed with"));
            return;
        }

        var publicKey = keys.Find(file.DigestPublicKeyFingerprint);
        if (publicKey is null)
        {
            findings.Add(new IntegrityFinding(FindingKind.UnknownPublicKey, key, "a fingerprint from the public keys file", file.DigestPublicKeyFingerprint, "the digest was signed with a key CloudTrail did not publish for this period"));
            return;
        }

        // A backfill digest is signed when it is generated, after its period, with the key of that time (the
        // AWS CLI looks keys up around its generation time): the key must not have expired before the period ended.
        var keyValid = read.Key.Backfill ? publicKey.ValidTo >= file.End : publicKey.IsValidAt(file.End);
        if (!keyValid)
        {
            findings.Add(new IntegrityFinding(FindingKind.PublicKeyNotValid, key, $"a time within {Iso(publicKey.ValidFrom)}..{Iso(publicKey.ValidTo)}", file.DigestEndTime, $"key {publicKey.Fingerprint} was not valid when the digest was signed"));
            return;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromHexString(read.Signature.Trim());
        }
        catch (FormatException)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestSignatureInvalid, key, "a hex RSA signature", Abbreviate(read.Signature), "the signature is not hex"));
            return;
        }

        var signed = Encoding.UTF8.GetBytes(file.SigningString(read.Sha256!));
        if (!keys.RsaFor(publicKey).VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestSignatureInvalid, key, $"a SHA256withRSA signature by key {publicKey.Fingerprint} over the digest as read (SHA-256 {read.Sha256})", Abbreviate(read.Signature), "the signature does not verify: the digest or its signature was altered"));
        }
    }

    /// <summary>Walks one chain oldest to newest, checking each link against the digest actually read before it.</summary>
    private static void WalkChain(
        bool backfill,
        List<DigestRead> present,
        ConcurrentDictionary<string, DigestRead> reads,
        HashSet<string> allDigestKeys,
        VerifyOptions options,
        ConcurrentBag<IntegrityFinding> findings,
        List<IntegrityNote> notes,
        List<(string Location, DateTimeOffset From, DateTimeOffset To, string Digest)> holes)
    {
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
                    holes.Add((Location(current.Key), p.File.End, file.Start, key));
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

            holes.Add((Location(current.Key), holeFrom, file.Start, named));
        }
    }

    private static void CompareLink(DigestRead current, DigestRead previous, ConcurrentBag<IntegrityFinding> findings)
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

    private static bool Before(string key, VerifyOptions options) =>
        options.Start is not null && CloudTrailKeys.Parse(key) is { } k && k.Timestamp <= options.Start;

    private static string Location(CloudTrailKey key) => $"{key.Prefix}|{key.OrgId}|{key.Account}|{key.Region}";

    /// <summary>Logs present but listed by no digest: inserted (their hour's digest exists), unverifiable (it does not), or judged at the end (after the chain's last digest).</summary>
    private static void ClassifyUnlistedLogs(
        Dictionary<string, (CloudTrailKey Key, long Size)> logKeys,
        Dictionary<string, (string Hash, string Digest)> expected,
        ConcurrentDictionary<string, DigestRead> reads,
        List<(string Location, DateTimeOffset From, DateTimeOffset To, string Digest)> holes,
        VerifyOptions options,
        ConcurrentBag<IntegrityFinding> findings,
        Run run)
    {
        var periods = reads.Values
            .Where(r => r.File is not null)
            .GroupBy(r => Location(r.Key))
            .ToDictionary(g => g.Key, g => g.Select(r => (From: r.File!.Start, To: r.File.End, Digest: r.Key.Key)).OrderBy(p => p.From).ToList());
        foreach (var (location, own) in periods)
        {
            var last = own.MaxBy(p => p.To);
            var lastKey = CloudTrailKeys.Parse(last.Digest)!;
            lock (run)
            {
                run.ChainEnds.Add((location, $"{lastKey.Prefix}|{lastKey.OrgId}|{lastKey.TrailName}|{lastKey.HomeRegion}", last.To, last.Digest));
                run.NewestDigest = last.To > run.NewestDigest ? last.To : run.NewestDigest;
            }
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
                findings.Add(new IntegrityFinding(FindingKind.LogNotListed, logKey, $"listed by {c.Digest}, the digest for {Iso(c.From)}..{Iso(c.To)}", "not listed by any digest", "a log was added to the source after its digest was delivered"));
                continue;
            }

            var hole = holes.FirstOrDefault(h => h.Location == location && time >= Minute(h.From) && time < h.To);
            if (hole.Digest is not null)
            {
                findings.Add(new IntegrityFinding(FindingKind.LogUnverifiable, logKey, $"a digest covering {Iso(time)}", $"its digest is missing ({hole.Digest})", "the log cannot be verified"));
                continue;
            }

            var last = own?.MaxBy(p => p.To);
            if (last is null || time >= last.Value.To)
            {
                lock (run)
                {
                    run.Tails.Add((logKey, time, location, last?.To, last?.Digest));
                }

                continue;
            }

            findings.Add(new IntegrityFinding(FindingKind.LogUnverifiable, logKey, $"a digest covering {Iso(time)}", "no digest for that hour", "the log cannot be verified: no digest of its chain covers the hour it was delivered in"));
        }
    }

    /// <summary>
    /// How long a chain may end before the newest digest of its trail's other chains, and before --end, without
    /// a finding: CloudTrail delivers a digest within about an hour after its period, and regions lag one another.
    /// </summary>
    public static readonly TimeSpan ChainEndGrace = TimeSpan.FromHours(2);

    /// <summary>
    /// The ends of the chains, once every unit is read. A log after the last digest of its chain is awaiting its
    /// digest only while no digest it should be in can be due: once its trail's newest digest, --end, or its
    /// chain's newest log less the grace is more than an hour past it, it is unverifiable and its chain is missing hours. A chain that stops before --end,
    /// or more than <see cref="ChainEndGrace"/> before its trail's other chains, is missing hours too.
    /// </summary>
    private static void ClassifyTails(Run run)
    {
        // Digests of the last hours before now may not be delivered yet: --end is held to them only up to the grace before now.
        var end = run.Options.End is { } requested && requested > DateTimeOffset.UtcNow - ChainEndGrace ? DateTimeOffset.UtcNow - ChainEndGrace : run.Options.End;
        var trailNewest = run.ChainEnds.GroupBy(c => c.Trail).ToDictionary(g => g.Key, g => g.Max(c => c.LastEnd));
        var trailOf = run.ChainEnds.GroupBy(c => c.Location).ToDictionary(g => g.Key, g => g.MaxBy(c => c.LastEnd).Trail);

        var newestLog = run.Tails.GroupBy(t => t.Location).ToDictionary(g => g.Key, g => g.Max(t => t.Time));

        // The time up to which a chain's digests must be delivered: its trail's newest digest, --end, or - for a
        // trail with a single chain, which has no sibling to compare with - its newest log less the grace.
        DateTimeOffset DueBy(string location)
        {
            var due = trailOf.TryGetValue(location, out var trail) ? trailNewest[trail] : run.NewestDigest;
            if (end is { } e && e > due)
            {
                due = e;
            }

            return newestLog.TryGetValue(location, out var log) && log - ChainEndGrace > due ? log - ChainEndGrace : due;
        }

        var chainsEndingEarly = new HashSet<string>();
        foreach (var tail in run.Tails)
        {
            var due = DueBy(tail.Location);
            if (due <= tail.Time + Hour + Slack)
            {
                run.Notes.Add(new IntegrityNote(NoteKind.LogAwaitingDigest, tail.Log, tail.LastEnd is { } lastEnd
                    ? $"delivered after the newest digest of its chain ({Iso(lastEnd)}): verify again once its digest is delivered"
                    : "no digest for its account and region yet: verify again once one is delivered"));
                continue;
            }

            run.Findings.Add(new IntegrityFinding(FindingKind.LogUnverifiable, tail.Log, $"a digest covering {Iso(tail.Time)}", tail.LastEnd is null ? "no digest for its account and region" : "no digest for that hour", "the log cannot be verified: no digest of its chain covers the hour it was delivered in"));
            if (tail.LastEnd is { } chainEnd && chainsEndingEarly.Add(tail.Location))
            {
                run.Findings.Add(new IntegrityFinding(FindingKind.MissingHours, tail.LastDigest!, $"hourly digests until {Iso(due)} ({(end is { } e && e >= due ? "--end" : due > trailNewest.GetValueOrDefault(trailOf.GetValueOrDefault(tail.Location) ?? string.Empty) ? $"{Hours(ChainEndGrace)} before the chain's newest log" : "the newest digest of the trail's chains")})", $"the chain ends at {Iso(chainEnd)} while logs were still delivered", $"the trail was logging in hours that have no digest ({MissingHoursText(chainEnd, due)}): the newest digests were removed or never delivered"));
            }
        }

        foreach (var (location, trail, lastEnd, lastDigest) in run.ChainEnds)
        {
            if (chainsEndingEarly.Contains(location))
            {
                continue;
            }

            var siblings = trailNewest[trail];
            if (end is { } e && lastEnd < e - Slack)
            {
                run.Findings.Add(new IntegrityFinding(FindingKind.MissingHours, lastDigest, $"hourly digests until {Iso(e)} (--end)", $"the chain ends at {Iso(lastEnd)}", $"no digest for {MissingHoursText(lastEnd, e)} before --end: the chain's newest digests were removed, or the trail stopped logging"));
            }
            else if (siblings - lastEnd > ChainEndGrace)
            {
                run.Findings.Add(new IntegrityFinding(FindingKind.MissingHours, lastDigest, $"hourly digests until {Iso(siblings)} (the newest digest of the trail's other chains)", $"the chain ends at {Iso(lastEnd)}", $"no digest for {MissingHoursText(lastEnd, siblings)} while the trail's other chains go on, more than {Hours(ChainEndGrace)} of grace: the chain's newest digests were removed, or logging stopped for this account and region"));
            }
            else if (siblings - lastEnd > Hour + Slack)
            {
                run.Notes.Add(new IntegrityNote(NoteKind.ChainEndsEarly, lastDigest, $"the chain ends at {Iso(lastEnd)}, {Hours(siblings - lastEnd)} before the newest digest of the trail's other chains: within the {Hours(ChainEndGrace)} grace for late delivery"));
            }
        }
    }

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

    /// <summary>Accounts asked for that the source holds nothing of; the caller tells a source with no layout at all apart.</summary>
    private async Task ReportAccountsWithoutDataAsync(Run run, IReadOnlyList<ChainSummary> summaries, CancellationToken cancellationToken)
    {
        var options = run.Options;
        var missing = options.Accounts.Where(a => !summaries.Any(s => s.Account == a) && !run.Findings.Any(f => CloudTrailKeys.ParsePlace(f.Key)?.Account == a)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        // Only a source that holds CloudTrail data of other accounts shows that an account is missing from it;
        // a source with none at all is a wrong source, which the caller reports as such.
        var others = await SourceLayout.DiscoverAsync(store, options with { Accounts = new HashSet<string>(), Regions = new HashSet<string>() }, cancellationToken);
        if (!others.Any(u => u.AccountRoot is not null) && !run.SawCloudTrailObject)
        {
            return;
        }

        foreach (var account in missing)
        {
            var scope = options.Regions.Count == 0 ? string.Empty : $" in region(s) {string.Join(", ", options.Regions.Order(StringComparer.Ordinal))}";
            run.Findings.Add(new IntegrityFinding(FindingKind.AccountWithoutData, account, $"CloudTrail digests and logs of account {account}{scope}{(options.Start is null && options.End is null ? string.Empty : " in the time range")}", "none in the source", "--account names an account the source holds no CloudTrail data for: its logs and digests were removed, or were never delivered here"));
        }
    }

    private List<ChainSummary> Summarize(
        ConcurrentDictionary<string, DigestRead> reads,
        Dictionary<string, (CloudTrailKey Key, long Size)> logKeys,
        Dictionary<string, (string Hash, string Digest)> expected,
        ConcurrentDictionary<string, bool> logResults,
        IEnumerable<IntegrityFinding> findings,
        VerifyOptions options)
    {
        var findingsByKey = findings.GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<ChainSummary>();
        var digestGroups = reads.Values.Where(r => !r.Context).GroupBy(r => (r.Key.Account, r.Key.Region));
        var logGroups = logKeys.Values
            .Where(l => expected.ContainsKey(l.Key.Key) || InRange(l.Key.Timestamp, options, digest: false))
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
                uncompressedByChain.GetValueOrDefault(group)));
        }

        return result;
    }

    private static DateTimeOffset Minute(DateTimeOffset time) => new(time.Year, time.Month, time.Day, time.Hour, time.Minute, 0, TimeSpan.Zero);

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Hours(TimeSpan span) => span.TotalHours >= 1 ? $"{Math.Round(span.TotalHours, 1).ToString(CultureInfo.InvariantCulture)} h" : $"{Math.Round(span.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min";

    private static string Abbreviate(string? text) => text is null ? "null" : text.Length <= 24 ? text : text[..16] + "…" + text[^8..];
}
