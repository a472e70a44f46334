using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace AuditInfra.Core.Integrity;

/// <summary>
/// Walks a source's CloudTrail layout by folders — <c>[prefix/]AWSLogs/[org/]account/CloudTrail[-Digest]/region/</c> —
/// into units of one account and region, so each is listed and verified on its own.
/// </summary>
public static partial class SourceLayout
{
    /// <summary>How deep to look for AWSLogs/ under the source (the trail's key prefix may have several levels).</summary>
    private const int MaxPrefixDepth = 4;

    private const int DaysListedAtOnce = 8;

    [GeneratedRegex(@"^o-[a-z0-9]{10,32}/\z")]
    private static partial Regex OrgFolder();

    [GeneratedRegex(@"^\d{12}/\z")]
    private static partial Regex AccountFolder();

    /// <summary>
    /// One account and region (<see cref="AccountRoot"/> null: the whole source as one unit, when the source
    /// already points inside an AWSLogs/ tree).
    /// </summary>
    public sealed record Unit(string? AccountRoot, string? Region)
    {
        /// <param name="fromCheckpoint">
        /// Listing for a run that continues from checkpoints (<see cref="VerifyOptions.Start"/> is the oldest): the day
        /// before the start (where a range's context digest is) is not needed, and no folder after today can exist
        /// yet (a quarter hour of clock skew allowed), so an hourly monitor lists one day per kind, two after midnight.
        /// </param>
        public async IAsyncEnumerable<ObjectEntry> ListAsync(IObjectStore store, VerifyOptions options, [EnumeratorCancellation] CancellationToken cancellationToken, bool fromCheckpoint = false)
        {
            if (AccountRoot is null)
            {
                await foreach (var entry in store.ListAsync(string.Empty, cancellationToken))
                {
                    yield return entry;
                }

                yield break;
            }

            // Digests and logs are listed at once: against S3 that halves the listing's round trips.
            var kinds = await Task.WhenAll(new[] { "CloudTrail-Digest/", "CloudTrail/" }.Select(kind => CollectAsync(store, Relative(store, $"{AccountRoot}{kind}{Region}/"), options, fromCheckpoint, cancellationToken)));
            foreach (var entry in kinds.SelectMany(k => k))
            {
                yield return entry;
            }
        }

        /// <summary>
        /// The digests of the unit's first and last day, found by descending its year/month/day folders
        /// rather than listing every key: enough to tell the trail's home regions and the span of its digests.
        /// </summary>
        public async Task<IReadOnlyList<CloudTrailKey>> EdgeDigestsAsync(IObjectStore store, CancellationToken cancellationToken)
        {
            var found = new List<CloudTrailKey>();
            if (AccountRoot is null)
            {
                await foreach (var entry in store.ListAsync(string.Empty, cancellationToken))
                {
                    if (CloudTrailKeys.Parse(entry.Key) is { Kind: CloudTrailObjectKind.Digest } key)
                    {
                        found.Add(key);
                    }
                }

                return found;
            }

            var root = Relative(store, $"{AccountRoot}CloudTrail-Digest/{Region}/");
            var days = new[] { await EdgeDayAsync(store, root, last: false, cancellationToken), await EdgeDayAsync(store, root, last: true, cancellationToken) };
            foreach (var day in days.OfType<string>().Distinct(StringComparer.Ordinal))
            {
                await foreach (var entry in store.ListAsync(day, cancellationToken))
                {
                    if (CloudTrailKeys.Parse(entry.Key) is { Kind: CloudTrailObjectKind.Digest } key)
                    {
                        found.Add(key);
                    }
                }
            }

            return found;
        }

        /// <summary>The first or last yyyy/MM/dd/ folder under a region folder (relative to the store), or null when it holds none.</summary>
        private static async Task<string?> EdgeDayAsync(IObjectStore store, string regionFolder, bool last, CancellationToken cancellationToken)
        {
            string? current = regionFolder;
            for (var level = 0; level < 3 && current is not null; level++)
            {
                string? edge = null;
                await foreach (var child in store.ListFoldersAsync(current, cancellationToken))
                {
                    if (edge is null || (last ? string.CompareOrdinal(child, edge) > 0 : string.CompareOrdinal(child, edge) < 0))
                    {
                        edge = child;
                    }
                }

                current = edge is null ? null : Relative(store, edge);
            }

            return current;
        }

        private static async Task<List<ObjectEntry>> CollectAsync(IObjectStore store, string folder, VerifyOptions options, bool fromCheckpoint, CancellationToken cancellationToken)
        {
            var result = new List<ObjectEntry>();
            var first = (options.Start ?? DateTimeOffset.UnixEpoch).UtcDateTime.Date.AddDays(fromCheckpoint ? 0 : -1);
            var last = fromCheckpoint && options.End is null
                ? DateTimeOffset.UtcNow.AddMinutes(15).UtcDateTime.Date
                : (options.End ?? DateTimeOffset.UtcNow).UtcDateTime.Date.AddDays(1);
            if (options.Start is null || (last - first).TotalDays > 3660)
            {
                await foreach (var entry in store.ListAsync(folder, cancellationToken))
                {
                    result.Add(entry);
                }

                return result;
            }

            // A range lists its days and one day either side (the link into the range, late digests);
            // the days are listed a few at once, since against S3 each is a round trip of its own.
            var days = Enumerable.Range(0, (int)(last - first).TotalDays + 1).Select(i => first.AddDays(i)).ToArray();
            var perDay = new List<ObjectEntry>[days.Length];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, days.Length),
                new ParallelOptions { MaxDegreeOfParallelism = DaysListedAtOnce, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    var entries = new List<ObjectEntry>();
                    await foreach (var entry in store.ListAsync($"{folder}{days[i]:yyyy'/'MM'/'dd}/", ct))
                    {
                        entries.Add(entry);
                    }

                    perDay[i] = entries;
                });
            foreach (var entries in perDay)
            {
                result.AddRange(entries);
            }

            return result;
        }
    }

    /// <summary>Keys from ListFoldersAsync are bucket-relative; listings take them relative to the store prefix.</summary>
    private static string Relative(IObjectStore store, string key) => key.StartsWith(store.Prefix, StringComparison.Ordinal) ? key[store.Prefix.Length..] : key;

    public static async Task<IReadOnlyList<Unit>> DiscoverAsync(IObjectStore store, VerifyOptions options, CancellationToken cancellationToken)
    {
        if (store.Prefix.Contains("AWSLogs/", StringComparison.Ordinal) || store.Prefix.EndsWith("AWSLogs", StringComparison.Ordinal))
        {
            return [new Unit(null, null)];
        }

        var roots = new List<string>();
        var frontier = new List<string> { string.Empty };
        for (var depth = 0; depth <= MaxPrefixDepth && frontier.Count > 0; depth++)
        {
            var next = new List<string>();
            foreach (var folder in frontier)
            {
                await foreach (var child in store.ListFoldersAsync(Relative(store, folder.Length == 0 ? store.Prefix : folder), cancellationToken))
                {
                    if (child.EndsWith("/AWSLogs/", StringComparison.Ordinal) || child == store.Prefix + "AWSLogs/")
                    {
                        roots.Add(child);
                    }
                    else if (!AccountFolder().IsMatch(Last(child)))
                    {
                        next.Add(child);
                    }
                }
            }

            frontier = next;
        }

        var accounts = new List<string>();
        foreach (var root in roots)
        {
            await foreach (var child in store.ListFoldersAsync(Relative(store, root), cancellationToken))
            {
                var name = Last(child);
                if (OrgFolder().IsMatch(name))
                {
                    if (options.OrgId is not null && name != options.OrgId + "/")
                    {
                        continue;
                    }

                    await foreach (var account in store.ListFoldersAsync(Relative(store, child), cancellationToken))
                    {
                        accounts.Add(account);
                    }
                }
                else if (AccountFolder().IsMatch(name) && options.OrgId is null)
                {
                    accounts.Add(child);
                }
            }
        }

        var perAccount = await Task.WhenAll(accounts.Select(a => UnitsOfAccountAsync(store, a, options, cancellationToken)));
        var units = perAccount.SelectMany(u => u).ToList();

        // A store whose folder listing found no layout still gets one full listing, so nothing is missed.
        return units.Count > 0 ? units : [new Unit(null, null)];
    }

    private static async Task<IEnumerable<Unit>> UnitsOfAccountAsync(IObjectStore store, string accountRoot, VerifyOptions options, CancellationToken cancellationToken)
    {
        var account = Last(accountRoot).TrimEnd('/');
        // Another shard's account is not even listed: shards split the organization by account (ChainShard).
        if (!AccountFolder().IsMatch(account + "/") || (options.Accounts.Count > 0 && !options.Accounts.Contains(account)) || (options.Shard is not null && !options.Shard.Contains(account)))
        {
            return [];
        }

        var kinds = await Task.WhenAll(new[] { "CloudTrail-Digest/", "CloudTrail/" }.Select(async kind =>
        {
            var found = new List<string>();
            await foreach (var region in store.ListFoldersAsync(Relative(store, accountRoot + kind), cancellationToken))
            {
                found.Add(Last(region).TrimEnd('/'));
            }

            return found;
        }));
        return kinds.SelectMany(k => k)
            .Where(r => options.Regions.Count == 0 || options.Regions.Contains(r))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .Select(r => new Unit(accountRoot, r));
    }

    private static string Last(string folder)
    {
        var trimmed = folder.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return trimmed[(slash + 1)..] + "/";
    }
}
