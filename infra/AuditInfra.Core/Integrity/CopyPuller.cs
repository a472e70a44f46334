using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;

namespace AuditInfra.Core.Integrity;

/// <summary>What happened to each object of a pull.</summary>
public enum PullOutcome
{
    Downloaded,
    AlreadyPresent,

    /// <summary>The local file differs from the source: kept as it is, never overwritten.</summary>
    Conflict,

    /// <summary>The transfer did not deliver the listed size.</summary>
    Failed,

    /// <summary>
    /// The key cannot be a path inside the destination (climbs out, absolute, odd segments, a link on the way), or, in a
    /// local source, the entry is a link or special file (never followed, never opened): not written.
    /// </summary>
    Rejected,
}

public sealed record PullItem(string Key, PullOutcome Outcome, string? Message);

public sealed record PullReport(string Source, string Destination, int Downloaded, int AlreadyPresent, IReadOnlyList<PullItem> Conflicts, IReadOnlyList<PullItem> Failures, IReadOnlyList<PullItem> Rejected, long BytesDownloaded, TimeSpan Elapsed)
{
    public bool Complete => Conflicts.Count == 0 && Failures.Count == 0 && Rejected.Count == 0;

    public string ToJson() => JsonSerializer.Serialize(this, IntegrityReport.JsonOptions);
}

/// <summary>
/// Makes a local copy laid out like the bucket (logs, digests, <c>K.signature</c> files) that verifies
/// offline later. Each object is streamed to a temporary file while its SHA-256 is computed, checked
/// against the listed size, then renamed into place; a manifest records key, size, ETag and SHA-256,
/// so a second run skips what is already there (after checking its hash) and a file that differs from the
/// source or from what was pulled is reported, never overwritten. Keys are names chosen by whoever could write
/// to the bucket: one that would land outside the destination, or pass through a link in it, is rejected.
/// </summary>
public sealed class CopyPuller(IObjectStore source, string destination)
{
    public const string ManifestFileName = ".auditinfra-pull.jsonl";

    private readonly Lock manifestGate = new();

    private sealed record ManifestEntry(string Key, long Size, string? ETag, string Sha256, string? Signature);

    public async Task<PullReport> PullAsync(VerifyOptions filters, IProgress<VerifyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var createdDestination = !Directory.Exists(destination);
        try
        {
            return await PullIntoAsync(filters, progress, clock, cancellationToken);
        }
        catch when (createdDestination)
        {
            // A run that failed before writing anything (endpoint down, access denied) leaves no empty folder behind.
            RemoveIfEmpty(destination);
            throw;
        }
    }

    private async Task<PullReport> PullIntoAsync(VerifyOptions filters, IProgress<VerifyProgress>? progress, System.Diagnostics.Stopwatch clock, CancellationToken cancellationToken)
    {
        var selected = new List<ObjectEntry>();
        await foreach (var entry in source.ListAsync(string.Empty, cancellationToken))
        {
            var key = CloudTrailKeys.Parse(entry.Key);
            if (key is not null && Selected(key, filters))
            {
                selected.Add(entry);
            }
        }

        Directory.CreateDirectory(destination);
        string manifestPath;
        try
        {
            manifestPath = ContainedPath.Resolve(destination, ManifestFileName);
        }
        catch (UnsafePathException e)
        {
            throw new IntegrityInputException($"{Path.Combine(destination, ManifestFileName)}: {e.Message}; the pull manifest must be a file of the copy itself");
        }

        var manifest = ReadManifest(manifestPath);
        var results = new ConcurrentBag<PullItem>();
        long bytes = 0;
        long done = 0;
        using var manifestWriter = new StreamWriter(new FileStream(manifestPath, FileMode.Append, FileAccess.Write, FileShare.Read));
        await Parallel.ForEachAsync(selected, new ParallelOptions { MaxDegreeOfParallelism = filters.EffectiveParallelism(source), CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            PullItem item;
            try
            {
                item = await PullOneAsync(entry, manifest, manifestWriter, ct);
            }
            catch (UnsafePathException e)
            {
                item = new PullItem(entry.Key, PullOutcome.Rejected, $"not written: the key cannot be a path inside {destination} ({e.Message})");
            }

            if (item.Outcome == PullOutcome.Downloaded)
            {
                Interlocked.Add(ref bytes, entry.Size);
            }

            results.Add(item);
            progress?.Report(new VerifyProgress("pull", Interlocked.Increment(ref done), selected.Count, Interlocked.Read(ref bytes)));
        });

        var all = results.ToList();
        if (source is LocalDirectoryStore local)
        {
            // Links and special files of a local source were skipped by its listing (or found at open): each is
            // named, so that a copy made from it is not taken for a complete one.
            foreach (var entry in local.TakeIrregularEntries().Where(e => Wanted(e.Key, filters)))
            {
                all.RemoveAll(r => r.Key == entry.Key);
                all.Add(new PullItem(entry.Key, PullOutcome.Rejected, $"not pulled: {entry.Description} in the source ({(entry.Type == LocalEntryType.SymbolicLink ? "a link may loop or lead outside the source" : "only regular files are copied")})"));
            }
        }

        List<PullItem> Of(PullOutcome outcome) => all.Where(r => r.Outcome == outcome).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        return new PullReport(
            source.Description,
            Path.GetFullPath(destination),
            all.Count(r => r.Outcome == PullOutcome.Downloaded),
            all.Count(r => r.Outcome == PullOutcome.AlreadyPresent),
            Of(PullOutcome.Conflict),
            Of(PullOutcome.Failed),
            Of(PullOutcome.Rejected),
            bytes,
            clock.Elapsed);
    }

    /// <summary>Removes a folder this run created, only while nothing but empty folders and an empty manifest are in it.</summary>
    private static void RemoveIfEmpty(string folder)
    {
        try
        {
            if (!Directory.Exists(folder) || new FileInfo(folder).LinkTarget is not null)
            {
                return;
            }

            var manifest = Path.Combine(folder, ManifestFileName);
            var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToList();
            if (files.Count == 0 || (files.Count == 1 && files[0] == manifest && new FileInfo(manifest).Length == 0))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cleaning up is a courtesy; the error that ended the run is what the user needs to see.
        }
    }

    /// <summary>
    /// Whether a link or special file of a local source is inside what was asked for: its own name may not be a
    /// CloudTrail name (a folder link), so its place decides when the name does not.
    /// </summary>
    private static bool Wanted(string key, VerifyOptions filters)
    {
        if (CloudTrailKeys.Parse(key) is { } parsed)
        {
            return Selected(parsed, filters);
        }

        return CloudTrailKeys.ParsePlace(key) is not { } place
            || ((filters.OrgId is null || place.OrgId == filters.OrgId)
                && (filters.Accounts.Count == 0 || filters.Accounts.Contains(place.Account))
                && (filters.Regions.Count == 0 || place.Region is null || filters.Regions.Contains(place.Region)));
    }

    /// <summary>A pull takes a margin of an hour around the range, so the copy holds each chain's link into it.</summary>
    private static bool Selected(CloudTrailKey key, VerifyOptions filters) =>
        (filters.OrgId is null || key.OrgId == filters.OrgId)
        && (filters.Accounts.Count == 0 || filters.Accounts.Contains(key.Account))
        && (filters.Regions.Count == 0 || filters.Regions.Contains(key.Region))
        && (filters.Start is null || key.Timestamp >= filters.Start.Value.AddHours(-2))
        && (filters.End is null || key.Timestamp <= filters.End.Value.AddHours(2));

    private async Task<PullItem> PullOneAsync(ObjectEntry entry, Dictionary<string, ManifestEntry> manifest, StreamWriter manifestWriter, CancellationToken cancellationToken)
    {
        var path = ContainedPath.Resolve(destination, entry.Key);
        var signaturePath = ContainedPath.Resolve(destination, entry.Key + LocalDirectoryStore.SignatureSuffix);
        var isDigest = CloudTrailKeys.Parse(entry.Key)!.Kind == CloudTrailObjectKind.Digest;
        if (File.Exists(path)
            && manifest.TryGetValue(entry.Key, out var known)
            && known.Size == entry.Size
            && new FileInfo(path).Length == entry.Size
            && (entry.ETag is null || known.ETag is null || known.ETag == entry.ETag))
        {
            // Size alone would miss a same-size change made after the pull: the manifest's SHA-256 decides.
            // An empty file has nothing to hash (and a FIFO, which also reports 0 bytes, must never be opened).
            var current = entry.Size == 0 ? EmptySha256 : await HashFileAsync(path, cancellationToken);
            if (!string.Equals(current, known.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return new PullItem(entry.Key, PullOutcome.Conflict, $"the local file changed since it was pulled (SHA-256 {current}, pulled as {known.Sha256}); kept as it is — move it aside to pull again");
            }

            if (isDigest && known.Signature is not null)
            {
                if (!File.Exists(signaturePath))
                {
                    AtomicFile.WriteAllText(signaturePath, known.Signature);
                }
                else if (!string.Equals(ReadLocalSignature(signaturePath), known.Signature, StringComparison.OrdinalIgnoreCase))
                {
                    return new PullItem(entry.Key, PullOutcome.Conflict, $"the local {LocalDirectoryStore.SignatureSuffix} changed since it was pulled (the manifest records the source's x-amz-meta-signature); kept as it is");
                }
            }

            return new PullItem(entry.Key, PullOutcome.AlreadyPresent, null);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // A name of its own, created new: an entry planted at a predictable temporary name is never written through.
        var partial = $"{path}.{Guid.NewGuid():n}.partial";
        string sha;
        long length;
        string? signature;
        try
        {
            await using (var stored = await source.OpenAsync(entry.Key, withSignature: isDigest, cancellationToken))
            {
                signature = stored.Signature;
                await using var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                (sha, length) = await CopyAndHashAsync(stored.Content, output, cancellationToken);
            }
        }
        catch (ObjectNotFoundException)
        {
            File.Delete(partial);
            return new PullItem(entry.Key, PullOutcome.Failed, "listed but gone when read");
        }
        catch
        {
            File.Delete(partial);
            throw;
        }

        if (length != entry.Size)
        {
            File.Delete(partial);
            return new PullItem(entry.Key, PullOutcome.Failed, $"transfer incomplete: the listing says {entry.Size} bytes, {length} arrived");
        }

        if (File.Exists(path))
        {
            var localLength = new FileInfo(path).Length;
            if (localLength != length)
            {
                // A different size settles it without opening the local entry, which may not even be a regular file.
                File.Delete(partial);
                return new PullItem(entry.Key, PullOutcome.Conflict, $"the local file ({localLength} bytes) differs from the source ({length} bytes); kept as it is — move it aside to pull again");
            }

            var local = length == 0 ? EmptySha256 : await HashFileAsync(path, cancellationToken);
            File.Delete(partial);
            if (local != sha)
            {
                return new PullItem(entry.Key, PullOutcome.Conflict, $"the local file (SHA-256 {local}) differs from the source (SHA-256 {sha}); kept as it is — move it aside to pull again");
            }

            var localSignature = isDigest && File.Exists(signaturePath) ? ReadLocalSignature(signaturePath) : null;
            if (isDigest && signature is not null && localSignature is not null && !string.Equals(localSignature, signature, StringComparison.OrdinalIgnoreCase))
            {
                return new PullItem(entry.Key, PullOutcome.Conflict, "the local .signature differs from the source's x-amz-meta-signature; kept as it is");
            }

            if (isDigest && signature is not null && localSignature is null)
            {
                AtomicFile.WriteAllText(signaturePath, signature);
            }

            Record(manifestWriter, new ManifestEntry(entry.Key, entry.Size, entry.ETag, sha, signature));
            return new PullItem(entry.Key, PullOutcome.AlreadyPresent, null);
        }

        if (isDigest && signature is not null)
        {
            if (File.Exists(signaturePath) && !string.Equals(ReadLocalSignature(signaturePath), signature, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(partial);
                return new PullItem(entry.Key, PullOutcome.Conflict, "a local .signature that differs from the source's x-amz-meta-signature is already there; kept as it is");
            }

            AtomicFile.WriteAllText(signaturePath, signature);
        }

        File.Move(partial, path);
        Record(manifestWriter, new ManifestEntry(entry.Key, entry.Size, entry.ETag, sha, signature));
        return new PullItem(entry.Key, PullOutcome.Downloaded, null);
    }

    private void Record(StreamWriter writer, ManifestEntry entry)
    {
        var line = JsonSerializer.Serialize(entry, IntegrityReport.JsonOptions).ReplaceLineEndings(string.Empty);
        lock (manifestGate)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    private static Dictionary<string, ManifestEntry> ReadManifest(string path)
    {
        var result = new Dictionary<string, ManifestEntry>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return result;
        }

        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                var entry = JsonSerializer.Deserialize<ManifestEntry>(line, IntegrityReport.JsonOptions);
                if (entry is not null)
                {
                    result[entry.Key] = entry;
                }
            }
            catch (JsonException)
            {
                // A line cut short by a crash: the file it names is hashed again on this run.
                if (number < File.ReadLines(path).Count())
                {
                    throw new IntegrityInputException($"{path}:{number}: not a pull manifest line; the manifest is damaged (delete it to re-check every file by hash)");
                }
            }
        }

        return result;
    }

    private static async Task<(string Sha256, long Length)> CopyAndHashAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(GzipHash.BufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await input.ReadAsync(buffer.AsMemory(0, buffer.Length), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                total += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return (Convert.ToHexStringLower(hash.GetHashAndReset()), total);
    }

    private static readonly string EmptySha256 = Convert.ToHexStringLower(SHA256.HashData([]));

    /// <summary>A local signature's text; an entry of no bytes or far more than a signature is never opened, and never matches.</summary>
    private static string ReadLocalSignature(string path)
    {
        var length = new FileInfo(path).Length;
        return length is > 0 and <= 4096 ? File.ReadAllText(path).Trim() : $"({length} bytes: not a signature)";
    }

    private static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
