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
