using System.Collections.Concurrent;
using System.Globalization;
using AuditInfra.Core;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Query;

namespace AuditInfra.Cli.Query;

/// <summary>The log objects of one asked day (every region and account folder), in key order.</summary>
public sealed record BucketDay(DateOnly Day, IReadOnlyList<ObjectEntry> Objects);

/// <summary>What the listing of a question found: the log objects to read, by day in calendar order.</summary>
public sealed record BucketSelection(IReadOnlyList<BucketDay> Days)
{
    public IEnumerable<ObjectEntry> Objects => Days.SelectMany(d => d.Objects);

    public bool IsEmpty => Days.All(d => d.Objects.Count == 0);
}

/// <summary>
/// <c>query</c> over the log bucket itself, in two steps so that a check can run between them (storage classes,
/// restores): <see cref="ListAsync"/> lists only the asked account, regions and days
/// (<c>[prefix/]AWSLogs/[o-…/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/</c>); <see cref="OpenTimelineAsync"/> then reads one
/// day at a time: that day's objects are fetched into a private temporary folder (many requests in flight), read by
/// DuckDB in batches while the rest download (a day with a file that needs them goes through a local copy's checks),
/// their records kept with each one's object key, and the day's files deleted. Memory and disk hold one day's logs,
/// never the range; the answer is asked of the kept rows with the same SQL as a local copy, so both answer alike.
/// </summary>
public sealed class BucketCorpus(IObjectStore store, int parallelism = VerifyOptions.DefaultRemoteParallelism) : IDisposable
{
    private Task<DuckDbTimeline>? _preparing;

    private const string LogSuffix = ".json.gz";

    /// <summary>
    /// Ranges of up to this many days are listed one day folder at a time, all at once; wider ones walk the year,
    /// month and day folders, so that a range as wide as the calendar costs what the bucket holds.
    /// </summary>
    private const int ProbedDays = 31;

    /// <summary>
    /// How many of a day's objects DuckDB reads at once while the rest download: a few rounds of requests in flight,
    /// so that the reading of one batch overlaps the fetching of the next, and few enough calls that each is worth it.
    /// </summary>
    private const int ObjectsPerBatch = 128;

    /// <summary>How many listings are asked at once (S3 answers each in tens of milliseconds; a range asks hundreds).</summary>
    private const int ListingsInFlight = 32;

    /// <summary>
    /// How many day folders are listed at once: a day's folders in every known region (about 40) fit in one round, as
    /// many as the store's connections.
    /// </summary>
    private const int DayListingsInFlight = VerifyOptions.DefaultRemoteParallelism;

    /// <summary>Told each time DuckDB has read a batch of a day's objects (its index in the day), so a test can see the overlap.</summary>
    internal Action<int>? BatchStaged { get; init; }

    /// <summary>Told the folder each day's objects are fetched into, so a test can see where they went and that nothing stays.</summary>
    internal Action<string>? DayFolderCreated { get; init; }

    /// <summary>Told the temporary folder of the timeline prepared by <see cref="StartPreparing"/>.</summary>
    internal Action<string>? TimelinePrepared { get; init; }

    /// <summary>The source as a user names it: <c>s3://bucket/prefix/</c>.</summary>
    public string Url => $"s3://{store.Bucket}/{store.Prefix}";

    /// <summary>The objects of the question: its account (with or without the organization level), regions and days.</summary>
    public async Task<BucketSelection> ListAsync(TimelineQuery question, CancellationToken cancellationToken)
    {
        var days = question.To.DayNumber - question.From.DayNumber < ProbedDays ? DaysOf(question.From, question.To) : null;
        List<(DateOnly Day, string Trail, ObjectEntry Entry)> found;
        if (days is [var day] && question.Regions.Count == 0)
        {
            // One day, every region: the account's region folders are listed together with that day's folder in every
            // known region, so the day needs no round of listings of its own once the regions are known. Only what lies
            // in a region folder that the listing of regions names is kept, as if listed after it; a region folder that
            // is not a known region is listed after.
            var accountFolders = await AccountFoldersAsync(question.Account, cancellationToken);
            var known = accountFolders.SelectMany(a => Core.Configuration.Regions.All.Select(r => $"{a}CloudTrail/{r}/")).ToList();
            var discovering = RegionFoldersAsync(accountFolders, cancellationToken);
            var probing = ListDayFoldersAsync(known.Select(t => (day, t)), cancellationToken);
            await Task.WhenAll(discovering, probing);
            var trails = (await discovering).ToHashSet(StringComparer.Ordinal);
            found = [.. (await probing).Where(f => trails.Contains(f.Trail))];
            found.AddRange(await ListDayFoldersAsync(trails.Except(known).Select(t => (day, t)), cancellationToken));
        }
        else
        {
            var trails = await TrailFoldersAsync(question.Account, question.Regions, cancellationToken);
            var probes = new List<(DateOnly Day, string Trail)>();
            if (days is not null)
            {
                probes.AddRange(days.SelectMany(d => trails.Select(t => (d, t))));
            }
            else
            {
                var present = new ConcurrentBag<(DateOnly, string)>();
                await Parallel.ForEachAsync(trails, Listing(cancellationToken), async (trail, ct) =>
                {
                    foreach (var d in await DaysPresentAsync(trail, question.From, question.To, ct))
                    {
                        present.Add((d, trail));
                    }
                });
                probes.AddRange(present);
            }

            found = await ListDayFoldersAsync(probes, cancellationToken);
        }

        return new BucketSelection([.. found.GroupBy(f => f.Day).OrderBy(g => g.Key).Select(g => new BucketDay(g.Key, [.. g.Select(f => f.Entry).OrderBy(e => e.Key, StringComparer.Ordinal)]))]);
    }

    /// <summary>The days from <paramref name="from"/> to <paramref name="to"/>, in order.</summary>
    private static List<DateOnly> DaysOf(DateOnly from, DateOnly to)
    {
        var days = new List<DateOnly>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            days.Add(day);
            if (day == DateOnly.MaxValue)
            {
                break;
            }
        }

        return days;
    }

    /// <summary>The log files directly in each trail's folder of each day (<c>TRAIL/YYYY/MM/DD/</c>), as a local copy's day folder is read.</summary>
    private async Task<List<(DateOnly Day, string Trail, ObjectEntry Entry)>> ListDayFoldersAsync(IEnumerable<(DateOnly Day, string Trail)> probes, CancellationToken cancellationToken)
    {
        var found = new ConcurrentBag<(DateOnly, string, ObjectEntry)>();
        await Parallel.ForEachAsync(probes, new ParallelOptions { MaxDegreeOfParallelism = DayListingsInFlight, CancellationToken = cancellationToken }, async (probe, ct) =>
        {
            var folder = DayFolder(probe.Trail, probe.Day);
            var folderKey = store.Prefix + folder;
            await foreach (var entry in store.ListAsync(folder, ct))
            {
                var name = entry.Key[folderKey.Length..];
                if (!name.Contains('/') && name.EndsWith(LogSuffix, StringComparison.Ordinal))
                {
                    found.Add((probe.Day, probe.Trail, entry));
                }
            }
        });
        return [.. found];
    }

    /// <summary>
    /// Reads the selection one day at a time (see the class) and opens the answer over the kept rows. Files that cannot
    /// be read are named by their <c>s3://</c> URL: an error unless <paramref name="skipBad"/>, then left out and returned.
    /// The timeline owns the temporary folder and deletes it when disposed.
    /// </summary>
    public async Task<(DuckDbTimeline Timeline, IReadOnlyList<(string File, string Error)> Skipped)> OpenTimelineAsync(BucketSelection selection, bool skipBad, CancellationToken cancellationToken)
    {
        StartPreparing(cancellationToken);
        var preparing = _preparing!;
        _preparing = null;
        var timeline = await preparing;
        var work = timeline.OwnedFolder!;
        try
        {
            var skipped = new List<(string File, string Error)>();
            foreach (var day in selection.Days)
            {
                var logs = LogsFolder(work, day.Objects.Sum(o => o.Size), Environment.GetEnvironmentVariable("TMPDIR"));
                DayFolderCreated?.Invoke(logs);
                try
                {
                    await ReadDayAsync(day, logs, timeline, skipBad, skipped, cancellationToken);
                }
                finally
                {
                    // The day's logs are rows now (or the question ends here): the next day starts from an empty folder.
                    Directory.Delete(logs, recursive: true);
                }
            }

            if (!timeline.HasSourcedRows)
            {
                throw new QueryInputException("no selected log file could be read:" + Environment.NewLine + string.Join(Environment.NewLine, skipped.Select(s => $"{s.File}: {s.Error}")));
            }

            timeline.SealSourced();
            return (timeline, skipped);
        }
        catch
        {
            timeline.Dispose();
            throw;
        }
    }

    /// <summary>One day of the selection: fetched under <paramref name="logs"/>, read into the timeline, its unreadable files named or skipped.</summary>
    private async Task ReadDayAsync(BucketDay day, string logs, DuckDbTimeline timeline, bool skipBad, List<(string File, string Error)> skipped, CancellationToken cancellationToken)
    {
        var (files, inflatedSizes, unfetched, staged) = await FetchAndStageAsync(day.Objects, logs, timeline, cancellationToken);
        var bad = unfetched.Select(u => (UrlOf(u.Key), u.Error)).ToList();
        if (bad.Count > 0 && !skipBad)
        {
            throw new QueryInputException(string.Join(Environment.NewLine, bad.Select(b => $"{b.Item1}: {b.Error}; rerun with --skip-bad to leave it out")));
        }

        skipped.AddRange(bad);
        if (staged)
        {
            timeline.CommitStagedSourced();
        }
        else if (files.Count > 0)
        {
            // Some file is not a plain log: the local copy's checks name it, and leave it out when asked.
            timeline.DropStagedSourced();
            IReadOnlyList<(string File, string Error)> daySkipped;
            IReadOnlyDictionary<string, long> checkedSizes;
            try
            {
                var (check, found) = DuckDbTimeline.Open(files, skipBad, cancellationToken, noneReadableIsError: false);
                check.Dispose();
                daySkipped = found;
                checkedSizes = check.InflatedSizes;
            }
            catch (QueryInputException e)
            {
                throw new QueryInputException(e.Message.Replace(logs + Path.DirectorySeparatorChar, UrlRoot, StringComparison.Ordinal));
            }

            skipped.AddRange(daySkipped.Select(s => (UrlOf(Path.GetRelativePath(logs, s.File).Replace(Path.DirectorySeparatorChar, '/')), s.Error)));
            var readable = files.Except(daySkipped.Select(s => s.File)).ToList();
            if (readable.Count > 0 && (!timeline.TryStageSourced(readable, checkedSizes, logs) || timeline.StagedFileWithoutRecords()))
            {
                throw new QueryInputException($"the logs of {day.Day:yyyy-MM-dd} in {Url} could not be read together, though each could alone");
            }

            timeline.CommitStagedSourced();
        }
    }

    /// <summary>
    /// Starts DuckDB on another thread (its native library, a connection, and a first read of a small log through the
    /// very statements a day's batches use), so that its one-time costs are paid while the listing waits on S3, not
    /// after the first objects arrive. <see cref="OpenTimelineAsync"/> takes the prepared timeline; otherwise
    /// <see cref="Dispose"/> releases it.
    /// </summary>
    public void StartPreparing(CancellationToken cancellationToken) =>
        _preparing ??= Task.Run(() => PrepareTimeline(cancellationToken), CancellationToken.None);

    private DuckDbTimeline PrepareTimeline(CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("auditinfra-query-").FullName;
        TimelinePrepared?.Invoke(work);
        var timeline = DuckDbTimeline.CreateSourced(cancellationToken, ownedFolder: work);
        try
        {
            timeline.WarmUp(Path.Combine(work, "warm-up"));
            return timeline;
        }
        catch
        {
            timeline.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _preparing, null) is { } preparing)
        {
            // A question that ends before reading (nothing listed, archived objects) leaves no DuckDB and no folder behind.
            preparing.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Wait(CancellationToken.None);
        }
    }

    /// <summary>
    /// Where a day's objects are fetched: a private folder in memory-backed <c>/dev/shm</c> when the day is small
    /// against its free space (the files live for seconds, and creating and deleting hundreds of small files on a
    /// disk's file system cost more CPU than reading them), else under the timeline's temporary folder. A TMPDIR set
    /// by the user is always honoured.
    /// </summary>
    internal static string LogsFolder(string work, long dayBytes, string? userTemp)
    {
        if (userTemp is null && MemoryScratch.TryCreate(dayBytes) is { } inMemory)
        {
            return inMemory;
        }

        var logs = Path.Combine(work, "logs");
        Directory.CreateDirectory(logs);
        return logs;
    }

    /// <summary>Why the question found no objects, in the words a local copy's answer uses.</summary>
    public async Task<string> WhyEmptyAsync(TimelineQuery question, CancellationToken cancellationToken)
    {
        var where = question.Regions.Count > 0 ? $" in {string.Join(", ", question.Regions)}" : "";
        var trails = await TrailFoldersAsync(question.Account, [], cancellationToken);
        if (trails.Count == 0)
        {
            var present = await AccountsPresentAsync(cancellationToken);
            return present.Count == 0
                ? $"{Url}: no CloudTrail logs found (expected the bucket layout [prefix/]AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/; give the trail's bucket and key prefix)"
                : $"Account {question.Account} has no logs in {Url} (accounts present: {string.Join(", ", present)}).";
        }

        var dayLists = new ConcurrentBag<DateOnly>();
        await Parallel.ForEachAsync(trails.Where(t => question.Regions.Count == 0 || question.Regions.Contains(RegionOf(t))), Listing(cancellationToken), async (trail, ct) =>
        {
            foreach (var day in await DaysPresentAsync(trail, DateOnly.MinValue, DateOnly.MaxValue, ct))
            {
                dayLists.Add(day);
            }
        });
        var range = dayLists.IsEmpty ? "this bucket holds no dated logs for it" : $"logs of account {question.Account} in this bucket run from {dayLists.Min():yyyy-MM-dd} to {dayLists.Max():yyyy-MM-dd}";
        var outside = !dayLists.IsEmpty && (question.To < dayLists.Min() || question.From > dayLists.Max()) ? " (the date is outside the bucket)" : "";
        return $"No logs for account {question.Account} from {question.From:yyyy-MM-dd} to {question.To:yyyy-MM-dd}{where}: {range}{outside}.";
    }

    /// <summary>
    /// Fetches a day's objects into <paramref name="folder"/>, each at its key below it, many at a time, counting each
    /// one's inflated size as it arrives (-1 when it is not whole gzip or inflates past what a query reads). A key that
    /// cannot be a path inside the folder (a hostile <c>..</c>, a backslash) is never written: it is returned, with why,
    /// as are objects that vanished since the listing or are larger than a query reads.
    /// While the later objects download, DuckDB reads the earlier ones, batch by batch in key order, into the
    /// timeline's staged rows (<see cref="DuckDbTimeline.TryStageSourced"/>); <c>Staged</c> says whether every file
    /// was read so. Otherwise the staged rows are to be dropped and the day read through the local copy's checks.
    /// </summary>
    private async Task<(List<string> Files, Dictionary<string, long> InflatedSizes, List<(string Key, string Error)> Unfetched, bool Staged)> FetchAndStageAsync(IReadOnlyList<ObjectEntry> objects, string folder, DuckDbTimeline timeline, CancellationToken cancellationToken)
    {
        var files = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var unfetched = new ConcurrentBag<(string, string)>();
        var batches = objects.Chunk(ObjectsPerBatch).Select(b => new FetchBatch(b)).ToList();
        var fetching = Parallel.ForEachAsync(batches.SelectMany(b => b.Objects.Select(o => (Entry: o, Batch: b))), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var (entry, batch) = item;
            try
            {
                var (path, inflatedSize) = await FetchOneAsync(entry, folder, ct);
                files[path] = inflatedSize;
                batch.Files.Add(path);
            }
            catch (UnfetchedException e)
            {
                unfetched.Add((entry.Key, e.Message));
            }

            batch.Arrived();
        });

        // DuckDB reads on its own thread, so that its work overlaps the downloads' instead of holding a pool thread.
        var staging = Task.Factory.StartNew(() =>
        {
            foreach (var (index, batch) in batches.Index())
            {
                Task.WaitAny([batch.Complete, fetching], CancellationToken.None);
                if (!batch.Complete.IsCompleted)
                {
                    return false;
                }

                var batchFiles = batch.Files.Order(StringComparer.Ordinal).ToList();
                if (batchFiles.Count > 0 && !timeline.TryStageSourced(batchFiles, files, folder))
                {
                    // The day goes through the local copy's checks once all of it has arrived.
                    return false;
                }

                BatchStaged?.Invoke(index);
            }

            return true;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            await fetching;
        }
        catch
        {
            // The staging thread stops at its next batch once the fetching has ended; the timeline is not left in use.
            await staging.ContinueWith(_ => { }, TaskScheduler.Default);
            throw;
        }

        // A file without a Records list is found once the day is read (its row is marked), not batch by batch.
        var staged = await staging && !timeline.StagedFileWithoutRecords();
        return ([.. files.Keys.Order(StringComparer.Ordinal)], new Dictionary<string, long>(files, StringComparer.Ordinal), [.. unfetched.OrderBy(u => u.Item1, StringComparer.Ordinal)], staged);
    }

    /// <summary>Fetches one object to its file: its path and inflated size, or throws why it was not fetched.</summary>
    private async Task<(string Path, long InflatedSize)> FetchOneAsync(ObjectEntry entry, string folder, CancellationToken cancellationToken)
    {
        string path;
        try
        {
            path = ContainedPath.Resolve(folder, entry.Key);
        }
        catch (UnsafePathException e)
        {
            throw new UnfetchedException($"a key that cannot be a file name ({e.Message}), not read");
        }

        if (entry.Size > TimelineSql.MaximumLogFileBytes)
        {
            throw new UnfetchedException($"larger than the {TimelineSql.MaximumLogFileBytes >> 20} MiB query reads from one log file");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            await using var stored = await store.OpenAsync(entry.Key, withSignature: false, cancellationToken);
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            return (path, await CopyCountingAsync(stored.Content, file, cancellationToken));
        }
        catch (ObjectNotFoundException)
        {
            throw new UnfetchedException("listed, but gone when read (deleted or moved since)");
        }
    }

    private sealed class UnfetchedException(string message) : Exception(message);

    /// <summary>Objects of a day read by DuckDB together, once all of them have arrived.</summary>
    private sealed class FetchBatch(ObjectEntry[] objects)
    {
        private int _pending = objects.Length;

        private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ObjectEntry[] Objects { get; } = objects;

        public ConcurrentBag<string> Files { get; } = [];

        public Task Complete => _complete.Task;

        public void Arrived()
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _complete.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Copies an object's bytes to its file, at most one more than a query reads from a log file (an endpoint that
    /// sends more than it listed fills no disk), inflating them on the way to count the inflated size; -1 when they are
    /// not whole gzip or inflate past that bound (the file is then checked as a local copy's would be).
    /// </summary>
    private static async Task<long> CopyCountingAsync(Stream source, Stream target, CancellationToken cancellationToken)
    {
        var copy = new CopyingStream(source, target, TimelineSql.MaximumLogFileBytes + 1);
        var inflated = 0L;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            await using var gzip = new GzipMemberStream(copy, leaveOpen: true);
            for (int read; (read = await gzip.ReadAsync(buffer, cancellationToken)) > 0;)
            {
                inflated += read;
                if (inflated > TimelineSql.MaximumLogFileBytes)
                {
                    inflated = -1;
                    break;
                }
            }
        }
        catch (GzipFormatException)
        {
            inflated = -1;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        await copy.DrainAsync(cancellationToken);
        return inflated;
    }

    /// <summary>A read-only stream that writes what is read through it to a file, up to a bound, and can copy the rest.</summary>
    private sealed class CopyingStream(Stream source, Stream target, long limit) : Stream
    {
        private long copied;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => copied;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (copied >= limit)
            {
                return 0;
            }

            var read = await source.ReadAsync(buffer[..(int)Math.Min(buffer.Length, limit - copied)], cancellationToken);
            await target.WriteAsync(buffer[..read], cancellationToken);
            copied += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>Copies whatever the inflater left unread (bytes after a fault, or past its stop), up to the bound.</summary>
        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                while (await ReadAsync(buffer, cancellationToken) > 0)
                {
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// The account's trail folders (<c>…/ACCOUNT/CloudTrail/REGION/</c>, relative to the store's prefix) with and
    /// without the organization level: the asked regions, or every region folder present.
    /// </summary>
    private async Task<List<string>> TrailFoldersAsync(string account, IReadOnlyCollection<string> regions, CancellationToken cancellationToken)
    {
        var accountFolders = await AccountFoldersAsync(account, cancellationToken);
        return regions.Count > 0
            ? [.. accountFolders.SelectMany(a => regions.Select(r => $"{a}CloudTrail/{r}/"))]
            : await RegionFoldersAsync(accountFolders, cancellationToken);
    }

    /// <summary>The account's folders (<c>…/ACCOUNT/</c>, relative to the store's prefix) with and without the organization level.</summary>
    private async Task<List<string>> AccountFoldersAsync(string account, CancellationToken cancellationToken)
    {
        var root = LogsRoot;
        // The folder's children, filtered here: a listing of the partial name `AWSLogs/o-` is no cheaper on S3, and
        // S3-compatible stores may answer it by walking everything below AWSLogs/.
        var children = await FoldersAsync(root, cancellationToken);
        // The account's own folder only where the listing names it: an absent folder holds nothing to list.
        var accountFolders = children.Where(f => f == $"{root}{account}/").ToList();
        accountFolders.AddRange(children.Where(f => NameOf(f).StartsWith("o-", StringComparison.Ordinal)).Select(org => $"{org}{account}/"));
        return accountFolders;
    }

    /// <summary>The region folders present under the accounts' folders (<c>…/ACCOUNT/CloudTrail/REGION/</c>), in order.</summary>
    private async Task<List<string>> RegionFoldersAsync(IReadOnlyList<string> accountFolders, CancellationToken cancellationToken)
    {
        var trails = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(accountFolders, Listing(cancellationToken), async (accountFolder, ct) =>
        {
            foreach (var region in await FoldersAsync(accountFolder + "CloudTrail/", ct))
            {
                trails.Add(region);
            }
        });
        return [.. trails.Order(StringComparer.Ordinal)];
    }

    /// <summary>The accounts with a folder in the bucket (with or without the organization level), for an error message.</summary>
    private async Task<List<string>> AccountsPresentAsync(CancellationToken cancellationToken)
    {
        var children = await FoldersAsync(LogsRoot, cancellationToken);
        var accounts = new List<string>();
        foreach (var child in children)
        {
            var name = NameOf(child);
            if (name.StartsWith("o-", StringComparison.Ordinal))
            {
                accounts.AddRange((await FoldersAsync(child, cancellationToken)).Select(NameOf).Where(n => Core.Configuration.AwsFormats.AccountId(n) is null));
            }
            else if (Core.Configuration.AwsFormats.AccountId(name) is null)
            {
                accounts.Add(name);
            }
        }

        return [.. accounts.Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>The days between the bounds that have a folder under a region's trail folder, read from folder names only.</summary>
    private async Task<List<DateOnly>> DaysPresentAsync(string trail, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var days = new List<DateOnly>();
        foreach (var year in await FoldersAsync(trail, cancellationToken))
        {
            if (!int.TryParse(NameOf(year), NumberStyles.None, CultureInfo.InvariantCulture, out var y) || y < from.Year || y > to.Year)
            {
                continue;
            }

            foreach (var month in await FoldersAsync(year, cancellationToken))
            {
                if (!int.TryParse(NameOf(month), NumberStyles.None, CultureInfo.InvariantCulture, out var m) || (y, m).CompareTo((from.Year, from.Month)) < 0 || (y, m).CompareTo((to.Year, to.Month)) > 0)
                {
                    continue;
                }

                foreach (var day in await FoldersAsync(month, cancellationToken))
                {
                    if (DateOnly.TryParseExact($"{NameOf(year)}-{NameOf(month)}-{NameOf(day)}", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) && date >= from && date <= to)
                    {
                        days.Add(date);
                    }
                }
            }
        }

        return days;
    }

    /// <summary>The folders directly under a folder, relative to the store's prefix.</summary>
    private async Task<List<string>> FoldersAsync(string folder, CancellationToken cancellationToken)
    {
        var folders = new List<string>();
        await foreach (var found in store.ListFoldersAsync(folder, cancellationToken))
        {
            if (found.StartsWith(store.Prefix, StringComparison.Ordinal))
            {
                folders.Add(found[store.Prefix.Length..]);
            }
        }

        return folders;
    }

    /// <summary>Where <c>AWSLogs/</c> is, relative to the store's prefix: the prefix may name it already.</summary>
    private string LogsRoot => store.Prefix == "AWSLogs/" || store.Prefix.EndsWith("/AWSLogs/", StringComparison.Ordinal) ? "" : "AWSLogs/";

    private string UrlRoot => $"s3://{store.Bucket}/";

    private string UrlOf(string key) => UrlRoot + key;

    private static string DayFolder(string trail, DateOnly day) => $"{trail}{day:yyyy}/{day:MM}/{day:dd}/";

    private static string NameOf(string folder) => folder.TrimEnd('/')[(folder.TrimEnd('/').LastIndexOf('/') + 1)..];

    private static string RegionOf(string trail) => NameOf(trail);

    private static ParallelOptions Listing(CancellationToken cancellationToken) => new() { MaxDegreeOfParallelism = ListingsInFlight, CancellationToken = cancellationToken };
}
