using System.Collections.Concurrent;
using System.Text.Json;

namespace AuditInfra.Core.Integrity;

/// <summary>
/// A digest as read: its key, signature, SHA-256 of its uncompressed bytes and parsed content, or why it could not
/// be read. <see cref="Context"/> marks a digest read only to check the first link into the range. These are the
/// facts the <see cref="ChainWalker"/> judges; tests build them directly, without gzip or RSA.
/// </summary>
public sealed record DigestRead(CloudTrailKey Key, bool Context, string? Signature, string? Sha256, DigestFile? File, string? GzipError, string? ParseError, GzipFault Fault = GzipFault.None)
{
    /// <summary>The reason recorded for an object listed but gone when it was read.</summary>
    public const string GoneWhenRead = "listed, but gone when read (deleted while verifying?)";
}

/// <summary>The keys of one unit's listing, sorted by kind, with what the listing itself showed (foreign objects, unrecognized keys).</summary>
public sealed class UnitListing
{
    public List<(CloudTrailKey Key, long Size)> Digests { get; } = [];

    public Dictionary<string, (CloudTrailKey Key, long Size)> Logs { get; } = new(StringComparer.Ordinal);

    public List<IntegrityFinding> Findings { get; } = [];

    public List<IntegrityNote> Notes { get; } = [];

    /// <summary>Any object in the CloudTrail layout was listed, whatever the filters.</summary>
    public bool SawCloudTrailObject { get; set; }
}

/// <summary>
/// The verifier's I/O, and only that: listings, digests read (gunzipped, hashed, parsed), logs hashed. Every object
/// read goes through <see cref="IObjectStore.ReadAsync{T}"/>, so the store's one retry policy applies once; remote
/// requests share one gate of <c>parallelism</c> permits. One reader serves one run and counts its bytes.
/// </summary>
public sealed class IntegrityReader(IObjectStore store, int parallelism)
{
    private readonly SemaphoreSlim requestGate = new(Math.Max(1, parallelism));
    private readonly ConcurrentDictionary<(string Account, string Region), long> uncompressedByChain = new();
    private long bytesRead;
    private long uncompressedBytes;

    public IObjectStore Store => store;

    public long BytesRead => Interlocked.Read(ref bytesRead);

    public long UncompressedBytes => Interlocked.Read(ref uncompressedBytes);

    public long UncompressedBytesOf(string account, string region) => uncompressedByChain.GetValueOrDefault((account, region));

    /// <summary>Lists one unit: every digest and log of its account and region passing the filters, and whatever else is in its folders.</summary>
    public async Task<UnitListing> ListAsync(SourceLayout.Unit unit, VerifyOptions options, CancellationToken cancellationToken, bool fromCheckpoint = false)
    {
        var listing = new UnitListing();
        await foreach (var entry in unit.ListAsync(store, options, cancellationToken, fromCheckpoint))
        {
            var key = CloudTrailKeys.Parse(entry.Key);
            if (key is not null || entry.Key.Contains("AWSLogs/", StringComparison.Ordinal))
            {
                listing.SawCloudTrailObject = listing.SawCloudTrailObject || key is not null || CloudTrailKeys.ParsePlace(entry.Key) is not null;
            }

            if (key is null)
            {
                if (CloudTrailKeys.ParsePlace(entry.Key) is { } place)
                {
                    if (ChainWalker.SelectedPlace(place, options))
                    {
                        listing.Findings.Add(ChainWalker.ForeignObject(place));
                    }
                }
                else if (entry.Key.Contains("AWSLogs/", StringComparison.Ordinal))
                {
                    listing.Notes.Add(new IntegrityNote(NoteKind.UnrecognizedObject, entry.Key, "not under an account's CloudTrail or CloudTrail-Digest folder, and not a CloudTrail log or digest file name; not verified"));
                }

                continue;
            }

            if (!ChainWalker.Selected(key, options))
            {
                continue;
            }

            if (key.Kind == CloudTrailObjectKind.Digest)
            {
                listing.Digests.Add((key, entry.Size));
            }
            else
            {
                listing.Logs[key.Key] = (key, entry.Size);
            }
        }

        return listing;
    }

    /// <summary>Reads digests, many at once; the result is keyed by digest key.</summary>
    public async Task<ConcurrentDictionary<string, DigestRead>> ReadDigestsAsync(IEnumerable<(CloudTrailKey Key, bool Context)> digests, CancellationToken cancellationToken)
    {
        var reads = new ConcurrentDictionary<string, DigestRead>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(digests, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            reads[item.Key.Key] = await Gated(() => ReadDigestAsync(item.Key, item.Context, ct), ct);
        });
        return reads;
    }

    /// <summary>Hashes logs, many at once; <paramref name="done"/> is told of each as it finishes.</summary>
    public async Task<ConcurrentDictionary<string, GunzipResult>> HashLogsAsync(IEnumerable<CloudTrailKey> logs, Action? done, CancellationToken cancellationToken)
    {
        var results = new ConcurrentDictionary<string, GunzipResult>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(logs, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (key, ct) =>
        {
            results[key.Key] = await Gated(() => HashAsync(key, ct), ct);
            done?.Invoke();
        });
        return results;
    }

    private async Task<T> Gated<T>(Func<Task<T>> read, CancellationToken cancellationToken)
    {
        await requestGate.WaitAsync(cancellationToken);
        try
        {
            return await read();
        }
        finally
        {
            requestGate.Release();
        }
    }

    public async Task<DigestRead> ReadDigestAsync(CloudTrailKey key, bool context, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ReadAsync(key.Key, withSignature: true, async (stored, ct) =>
            {
                using var plain = new MemoryStream();
                var result = store.IsLocal
                    ? GzipHash.Compute(stored.Content, plain, DigestFile.MaxInflatedBytes)
                    : await GzipHash.ComputeAsync(stored.Content, plain, ct, DigestFile.MaxInflatedBytes);
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
            }, cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
            return new DigestRead(key, context, null, null, null, null, DigestRead.GoneWhenRead);
        }
    }

    public async Task<GunzipResult> HashAsync(CloudTrailKey key, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ReadAsync(key.Key, withSignature: false, async (stored, ct) =>
            {
                var result = store.IsLocal
                    ? GzipHash.Compute(stored.Content)
                    : await GzipHash.ComputeAsync(stored.Content, null, ct);
                Count(key, result);
                return result;
            }, cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
            return new GunzipResult(null, 0, 0, DigestRead.GoneWhenRead);
        }
    }

    private void Count(CloudTrailKey key, GunzipResult result)
    {
        Interlocked.Add(ref bytesRead, result.CompressedBytes);
        Interlocked.Add(ref uncompressedBytes, result.UncompressedBytes);
        uncompressedByChain.AddOrUpdate((key.Account, key.Region), result.UncompressedBytes, (_, total) => total + result.UncompressedBytes);
    }
}
