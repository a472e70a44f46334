using AuditInfra.Cli.Query;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Query;
using static AuditInfra.Cli.Tests.Query.QueryCommandTests;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>A bucket's day read by DuckDB batch by batch while the rest of it downloads, answering as the whole day read at once.</summary>
public sealed class BucketPipelineTests
{
    private const string Account = "333333333333";

    private static readonly DateOnly Day = new(2026, 11, 20);

    private static readonly TimelineQuery Question = new(Account, Day, Day, [], null, [], [], false, null);

    private const string Folder = $"AWSLogs/{Account}/CloudTrail/us-east-1/2026/11/20/";

    /// <summary>A day of <paramref name="count"/> logs of two records each, on disk (the local copy) and as the store's objects.</summary>
    private static (string Local, Dictionary<string, byte[]> Objects) Day_(int count)
    {
        var local = CliRunner.TempDir();
        for (var i = 0; i < count; i++)
        {
            Write(local, Account, "us-east-1", Day, $"{i:D16}", Record($"2026-11-20T{i % 24:D2}:00:00Z", "s3.amazonaws.com", "GetObject"), Record($"2026-11-20T{i % 24:D2}:00:00Z", "iam.amazonaws.com", $"Call{i}"));
        }

        var objects = Directory.GetFiles(local, "*.json.gz", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(local, f).Replace(Path.DirectorySeparatorChar, '/').Replace($"AWSLogs/o-a1b2c3d4e5/{Account}/", $"AWSLogs/{Account}/", StringComparison.Ordinal), File.ReadAllBytes, StringComparer.Ordinal);
        return (local, objects);
    }

    [Fact]
    public async Task The_first_objects_are_read_while_the_last_are_still_downloading()
    {
        var (local, objects) = Day_(300);
        var lastKeys = objects.Keys.Order(StringComparer.Ordinal).TakeLast(10).ToHashSet();
        var firstBatchRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The last objects arrive only once DuckDB has read the first ones: fetch-everything-then-read never gets there.
        var store = new InMemoryBucket("pipeline", objects, key => lastKeys.Contains(key) ? firstBatchRead.Task.WaitAsync(TimeSpan.FromSeconds(30)) : Task.CompletedTask);
        var bucket = new BucketCorpus(store) { BatchStaged = index => firstBatchRead.TrySetResult() };

        var listed = await bucket.ListAsync(Question, CancellationToken.None);
        Assert.Equal(300, listed.Objects.Count());
        var (timeline, skipped) = await bucket.OpenTimelineAsync(listed, skipBad: false, CancellationToken.None);

        using (timeline)
        {
            Assert.Empty(skipped);
            AssertSameAnswer(local, timeline, rows: 600);
        }
    }

    [Fact]
    public async Task A_bad_log_in_a_late_batch_leaves_no_rows_of_the_early_batches_twice()
    {
        var (local, objects) = Day_(300);
        var lastKey = objects.Keys.Max(StringComparer.Ordinal)!;
        objects[lastKey] = [0x1f, 0x8b, 0x08, 0x00, 0x01];
        File.WriteAllBytes(Directory.GetFiles(local, Path.GetFileName(lastKey), SearchOption.AllDirectories).Single(), objects[lastKey]);
        var store = new InMemoryBucket("pipeline", objects);
        var staged = new List<int>();
        var bucket = new BucketCorpus(store) { BatchStaged = staged.Add };
        var listed = await bucket.ListAsync(Question, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<QueryInputException>(() => bucket.OpenTimelineAsync(listed, skipBad: false, CancellationToken.None));
        Assert.Contains($"s3://pipeline/{lastKey}: malformed or truncated CloudTrail log", refused.Message, StringComparison.Ordinal);

        staged.Clear();
        var (timeline, skipped) = await bucket.OpenTimelineAsync(listed, skipBad: true, CancellationToken.None);
        using (timeline)
        {
            Assert.Equal($"s3://pipeline/{lastKey}", Assert.Single(skipped).File);
            // The early batches were read before the bad one arrived, then dropped with the day for the local checks.
            Assert.Equal([0, 1], staged);
            AssertSameAnswer(local, timeline, rows: 598, skipBad: true);
        }
    }

    [SkippableFact]
    public async Task A_small_day_is_fetched_into_a_private_folder_in_memory_that_is_gone_after_the_answer_and_after_a_failure()
    {
        Skip.IfNot(MemoryScratch.TryCreate(1) is { } probe && Directory.Exists(probe) && DeleteAndTrue(probe), "no memory-backed /dev/shm here");
        var (local, objects) = Day_(20);
        var folders = new List<string>();
        var modes = new List<UnixFileMode>();
        var bucket = new BucketCorpus(new InMemoryBucket("pipeline", objects)) { DayFolderCreated = folder => { folders.Add(folder); modes.Add(OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(folder)); } };
        var listed = await bucket.ListAsync(Question, CancellationToken.None);

        var (timeline, _) = await bucket.OpenTimelineAsync(listed, skipBad: false, CancellationToken.None);
        using (timeline)
        {
            AssertSameAnswer(local, timeline, rows: 40);
        }

        var folder = Assert.Single(folders);
        Assert.StartsWith("/dev/shm/auditinfra-query-", folder, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, Assert.Single(modes));
        Assert.False(Directory.Exists(folder));

        // A question that fails mid-day (a bad log, not skipped) leaves nothing in memory either.
        objects[objects.Keys.Max(StringComparer.Ordinal)!] = [0x1f, 0x8b, 0x08, 0x00, 0x01];
        folders.Clear();
        var failing = new BucketCorpus(new InMemoryBucket("pipeline", objects)) { DayFolderCreated = folders.Add };
        await Assert.ThrowsAsync<QueryInputException>(async () => await failing.OpenTimelineAsync(await failing.ListAsync(Question, CancellationToken.None), skipBad: false, CancellationToken.None));
        Assert.False(Directory.Exists(Assert.Single(folders)));
    }

    [Fact]
    public void A_day_too_large_for_memory_or_a_user_temp_folder_goes_under_the_timelines_folder()
    {
        var work = CliRunner.TempDir();
        Assert.Null(MemoryScratch.TryCreate(MemoryScratch.LargestDay + 1));
        Assert.Equal(Path.Combine(work, "logs"), BucketCorpus.LogsFolder(work, MemoryScratch.LargestDay + 1, userTemp: null));
        Directory.Delete(Path.Combine(work, "logs"));
        Assert.Equal(Path.Combine(work, "logs"), BucketCorpus.LogsFolder(work, 1000, userTemp: "/var/tmp"));
        Assert.True(Directory.Exists(Path.Combine(work, "logs")));
    }

    [Fact]
    public async Task DuckDB_prepared_during_the_listing_is_released_when_nothing_is_read_and_its_warm_up_leaves_no_rows()
    {
        var (local, objects) = Day_(3);
        var prepared = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var unread = new BucketCorpus(new InMemoryBucket("pipeline", objects)) { TimelinePrepared = prepared.SetResult };
        unread.StartPreparing(CancellationToken.None);
        var folder = await prepared.Task.WaitAsync(TimeSpan.FromSeconds(30));
        unread.Dispose();
        Assert.False(Directory.Exists(folder));

        using var bucket = new BucketCorpus(new InMemoryBucket("pipeline", objects));
        bucket.StartPreparing(CancellationToken.None);
        var (timeline, _) = await bucket.OpenTimelineAsync(await bucket.ListAsync(Question, CancellationToken.None), skipBad: false, CancellationToken.None);
        using (timeline)
        {
            AssertSameAnswer(local, timeline, rows: 6);
            Assert.Equal(0L, timeline.Run("SELECT count(*) FROM cloudtrail_sources WHERE event_name = 'WarmUp' OR log_key LIKE '%warm-up%'").Rows[0][0]);
        }
    }

    [Theory]
    [InlineData("""{"Records":[{"eventName":"A"}],"Records":[{"eventName":"B"}]}""", "malformed or truncated CloudTrail log")]
    [InlineData("""{"Records":{"eventName":"A"}}""", "not a CloudTrail log file (its JSON holds no Records list)")]
    [InlineData("""{"Records":"A"}""", "not a CloudTrail log file (its JSON holds no Records list)")]
    [InlineData("""[{"eventName":"A"}]""", "not a CloudTrail log file (its JSON holds no Records list)")]
    [InlineData("""{"Records":[{"eventName":"A"}]""", "malformed or truncated CloudTrail log")]
    public async Task A_document_of_another_shape_is_named_alike_from_a_local_copy_and_from_a_bucket_and_never_read_as_records(string document, string why)
    {
        var (local, objects) = Day_(3);
        var folder = Path.Combine(local, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "20");
        var name = $"{Account}_CloudTrail_us-east-1_20261120T2300Z_odd0000000000000.json.gz";
        var bytes = Gzip(document);
        File.WriteAllBytes(Path.Combine(folder, name), bytes);
        objects[Folder + name] = bytes;

        var files = Directory.GetFiles(local, "*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var (fromCopy, copySkipped) = DuckDbTimeline.Open(files, skipBad: true);
        fromCopy.Dispose();
        Assert.StartsWith(why, Assert.Single(copySkipped).Error, StringComparison.Ordinal);

        var bucket = new BucketCorpus(new InMemoryBucket("pipeline", objects));
        var (timeline, skipped) = await bucket.OpenTimelineAsync(await bucket.ListAsync(Question, CancellationToken.None), skipBad: true, CancellationToken.None);
        using (timeline)
        {
            Assert.Equal(($"s3://pipeline/{Folder}{name}", why), (Assert.Single(skipped).File, Assert.Single(skipped).Error[..why.Length]));
            Assert.Equal(6L, timeline.Run("SELECT count(*) FROM cloudtrail").Rows[0][0]);
            Assert.Equal(0L, timeline.Run("SELECT count(*) FROM cloudtrail WHERE event_name IN ('A', 'B')").Rows[0][0]);
        }
    }

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    [Fact]
    public async Task A_one_day_question_lists_every_known_regions_day_folder_while_the_regions_are_listed_and_keeps_only_listed_regions()
    {
        var (_, objects) = Day_(2);
        var other = objects.ToDictionary(o => o.Key.Replace("/us-east-1/", "/eu-west-1/", StringComparison.Ordinal).Replace("_us-east-1_", "_eu-west-1_", StringComparison.Ordinal), o => o.Value);
        var lab = objects.ToDictionary(o => o.Key.Replace("/us-east-1/", "/zz-lab-1/", StringComparison.Ordinal), o => o.Value);
        var all = objects.Concat(other).Concat(lab).ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal);
        var dayListed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The regions' listing answers only once a day folder is being listed: listing the days after the regions never gets there.
        var store = new InMemoryBucket("pipeline", all)
        {
            ListingGate = listing =>
            {
                if (listing.StartsWith("objects ", StringComparison.Ordinal))
                {
                    dayListed.TrySetResult();
                    return Task.CompletedTask;
                }

                return listing.EndsWith("/CloudTrail/", StringComparison.Ordinal) ? dayListed.Task.WaitAsync(TimeSpan.FromSeconds(30)) : Task.CompletedTask;
            },
        };
        var bucket = new BucketCorpus(store);

        var listed = await bucket.ListAsync(Question, CancellationToken.None);

        Assert.Equal(all.Keys.Order(StringComparer.Ordinal), listed.Objects.Select(o => o.Key));
        var dayListings = store.Listed.Where(l => l.StartsWith("objects ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Core.Configuration.Regions.All.Count + 1, dayListings.Count);
        Assert.Equal($"objects AWSLogs/{Account}/CloudTrail/zz-lab-1/2026/11/20/", dayListings[^1]);
        // The same question over two days lists the regions first, then only their day folders.
        var twoDays = await new BucketCorpus(new InMemoryBucket("pipeline", all)).ListAsync(Question with { To = Day.AddDays(1) }, CancellationToken.None);
        Assert.Equal(listed.Objects.Select(o => o.Key), twoDays.Objects.Select(o => o.Key));
    }

    private static bool DeleteAndTrue(string folder)
    {
        Directory.Delete(folder);
        return true;
    }

    private static void AssertSameAnswer(string local, DuckDbTimeline fromBucket, int rows, bool skipBad = false)
    {
        var (fromCopy, _) = DuckDbTimeline.Open(Directory.GetFiles(local, "*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList(), skipBad);
        using (fromCopy)
        {
            const string Sql = "SELECT * EXCLUDE (raw) FROM cloudtrail ORDER BY event_time, event_id";
            var expected = fromCopy.Run(Sql);
            Assert.Equal(rows, expected.Rows.Count);
            Assert.Equal(expected.Rows, fromBucket.Run(Sql).Rows);
        }
    }
}
