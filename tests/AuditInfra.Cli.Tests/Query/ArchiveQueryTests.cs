using System.Text.Json.Nodes;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>s3rver whose restores take <see cref="RestoreDelayMs"/>: long enough for a second run to see them in progress.</summary>
public sealed class GlacierServer : IDisposable
{
    public const int RestoreDelayMs = 3000;

    public S3Server Server { get; } = new(0, RestoreDelayMs);

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// `query --source s3://` over archived logs against s3rver's Glacier emulation (tools/s3rver/glacier.mjs): nothing
/// archived is skipped, restores are asked once per object, and the answer after the wait is the local copy's.
/// </summary>
[Trait("Category", "S3")]
public sealed class ArchiveQueryTests(GlacierServer glacier) : IClassFixture<GlacierServer>
{
    internal const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";
    internal const string Account = "333333333333";

    private S3Server Server => glacier.Server;

    private Task<(string Local, string Url, string Prefix)> ArchivedCorpusAsync(params (string Folder, string StorageClass)[] classes) => ArchivedCorpusAsync(Server, classes);

    /// <summary>
    /// The query corpus under its own prefix, each day/region folder named in <paramref name="classes"/> put again in that
    /// class; "INTELLIGENT_TIERING:ARCHIVE_ACCESS" puts it in that Intelligent-Tiering archive tier (s3rver's x-s3rver-archive-status).
    /// </summary>
    internal static async Task<(string Local, string Url, string Prefix)> ArchivedCorpusAsync(S3Server server, params (string Folder, string StorageClass)[] classes)
    {
        var corpus = QueryCommandTests.Corpus();
        var prefix = "g-" + Guid.NewGuid().ToString("N")[..10] + "/";
        using var client = server.Client();
        await S3Upload.UploadDirectoryAsync(corpus, client, Bucket, prefix);
        foreach (var (folder, storageClass) in classes)
        {
            var keyPrefix = $"{prefix}AWSLogs/o-a1b2c3d4e5/{Account}/CloudTrail/{folder}/";
            var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = keyPrefix });
            Assert.NotEmpty(listing.S3Objects);
            var parts = storageClass.Split(':');
            foreach (var item in listing.S3Objects)
            {
                var path = Path.Combine(corpus, item.Key[prefix.Length..].Replace('/', Path.DirectorySeparatorChar));
                var put = new PutObjectRequest { BucketName = Bucket, Key = item.Key, FilePath = path, StorageClass = S3StorageClass.FindValue(parts[0]), UseChunkEncoding = false };
                if (parts.Length > 1)
                {
                    put.Headers["x-s3rver-archive-status"] = parts[1];
                }

                await client.PutObjectAsync(put);
            }
        }

        return (corpus, $"s3://{Bucket}/{prefix.TrimEnd('/')}", prefix);
    }

    private Task<CliResult> QueryAsync(string source, params string[] args) =>
        CliRunner.RunAsync(["query", "--source", source, .. source.StartsWith("s3://", StringComparison.Ordinal) ? new[] { "--endpoint-url", Server.Endpoint } : [], "--account", Account, .. args]);

    /// <summary>The RestoreObject requests s3rver accepted or refused for keys under the prefix: "key tier days status".</summary>
    private List<string> Restores(string prefix)
    {
        lock (Server.Log)
        {
            return [.. Server.Log.Where(l => l.StartsWith($"RESTORE {Bucket}/{prefix}", StringComparison.Ordinal)).Select(l => l[$"RESTORE {Bucket}/".Length..])];
        }
    }

    private static readonly string[] Range = ["--start", "2026-11-20", "--end", "2026-11-21", "--format", "csv"];

    [Fact]
    public async Task Archived_logs_are_not_skipped_they_are_restored_once_and_after_the_wait_the_answer_is_the_local_copys()
    {
        var (local, url, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER"), ("eu-west-1/2026/11/20", "DEEP_ARCHIVE"), ("us-east-1/2026/11/21", "GLACIER_IR"));
        var expected = await QueryAsync(local, Range);
        Assert.True(expected.ExitCode == 0, expected.Err);

        // Asked plainly: what the question needs, exit 3, nothing on standard output and nothing requested.
        var needs = await QueryAsync(url, Range);
        Assert.True(needs.ExitCode == 3, needs.Err);
        Assert.Equal("", needs.Out);
        Assert.Contains($"Needs restore: 2 of the 3 log object(s) the question reads in {url}/ are archived", needs.Err, StringComparison.Ordinal);
        Assert.Contains("GLACIER (Glacier Flexible Retrieval): 1 object(s)", needs.Err, StringComparison.Ordinal);
        Assert.Contains("DEEP_ARCHIVE (Glacier Deep Archive): 1 object(s)", needs.Err, StringComparison.Ordinal);
        Assert.Contains("restore: 2 not requested, 0 in progress, 0 ready", needs.Err, StringComparison.Ordinal);
        Assert.Matches(@"bulk +within 48 hours \(Glacier Deep Archive\), 5-12 hours \(Glacier Flexible Retrieval\); under \$0\.01", needs.Err);
        Assert.Matches(@"standard +within 12 hours \(Glacier Deep Archive\), 3-5 hours \(Glacier Flexible Retrieval\); under \$0\.01", needs.Err);
        Assert.Contains("expedited  not offered: expedited restores are not offered for Glacier Deep Archive (DEEP_ARCHIVE)", needs.Err, StringComparison.Ordinal);

        var asJson = await QueryAsync(url, ["--start", "2026-11-20", "--end", "2026-11-21", "--format", "json"]);
        Assert.Equal(3, asJson.ExitCode);
        var plan = JsonNode.Parse(asJson.Out)!.AsObject();
        Assert.Equal("needs-restore", (string?)plan["status"]);
        Assert.Equal(2, (int)plan["objects"]!);
        Assert.Equal(1, (int)plan["readDirectly"]!);
        Assert.Equal(2, (int)plan["notRequested"]!);
        Assert.Equal(["bulk", "standard", "expedited"], plan["tiers"]!.AsArray().Select(t => (string?)t!["tier"]));
        Assert.False((bool)plan["tiers"]![2]!["available"]!);
        Assert.Null(plan["tiers"]![2]!["estimatedUsd"]);
        Assert.Equal("within 48 hours (Glacier Deep Archive), 5-12 hours (Glacier Flexible Retrieval)", (string?)plan["tiers"]![0]!["delay"]);
        // Bulk: Flexible Retrieval free, Deep Archive $0.025 per 1,000 requests plus $0.0025 per GB of a tiny object.
        Assert.InRange((decimal)plan["tiers"]![0]!["estimatedUsd"]!, 0.000025m, 0.000026m);
        Assert.All(plan["keys"]!.AsArray(), k => Assert.DoesNotContain("/2026/11/21/", (string?)k, StringComparison.Ordinal));
        Assert.Empty(Restores(prefix));

        // Expedited cannot restore Deep Archive: refused before any request.
        var expedited = await QueryAsync(url, [.. Range, "--restore", "expedited"]);
        Assert.Equal(2, expedited.ExitCode);
        Assert.Contains("--restore expedited: expedited restores are not offered for Glacier Deep Archive (DEEP_ARCHIVE), which 1 of the objects are in; use --restore standard or bulk", expedited.Err, StringComparison.Ordinal);
        Assert.Empty(Restores(prefix));

        // Requested: one RestoreObject per archived object, at the asked tier and days; still exit 3 without --wait.
        var requested = await QueryAsync(url, [.. Range, "--restore", "bulk"]);
        Assert.True(requested.ExitCode == 3, requested.Err);
        Assert.Contains("Restore requested (bulk, 7 day(s)): 2 started, 0 already in progress, 0 already restored.", requested.Err, StringComparison.Ordinal);
        Assert.Contains("restore: 0 not requested, 2 in progress, 0 ready", requested.Err, StringComparison.Ordinal);
        var first = Restores(prefix);
        Assert.Equal(2, first.Count);
        Assert.All(first, r => Assert.EndsWith(" Bulk 7 202", r, StringComparison.Ordinal));
        Assert.Equal(2, first.Select(r => r.Split(' ')[0]).Distinct().Count());

        // A second run reads each object's x-amz-restore and asks nothing again.
        var again = await QueryAsync(url, [.. Range, "--restore", "bulk", "--restore-days", "3"]);
        Assert.True(again.ExitCode == 3, again.Err);
        Assert.Contains("No new restore requested: every archived object the question reads was requested earlier (2 in progress, 0 ready).", again.Err, StringComparison.Ordinal);
        Assert.Equal(first, Restores(prefix));

        // Waiting: once restored, the answer is exactly the local copy's.
        var waited = await QueryAsync(url, [.. Range, "--wait"]);
        Assert.True(waited.ExitCode == 0, waited.Err);
        Assert.Equal(expected.Out, waited.Out);
        Assert.Contains("All 2 archived object(s) of the question are restored; reading.", waited.Err, StringComparison.Ordinal);
        // Piped: the wait says when it starts and ends, with no progress lines between.
        Assert.Equal(2, waited.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain("Restores:", waited.Err + waited.Out, StringComparison.Ordinal);
        Assert.Equal(first, Restores(prefix));

        // Restored and unexpired objects read directly on later runs, with no wait and no request.
        var later = await QueryAsync(url, Range);
        Assert.True(later.ExitCode == 0, later.Err);
        Assert.Equal(expected.Out, later.Out);
    }

    [Fact]
    public async Task A_wait_longer_than_the_timeout_does_not_use_up_the_timeout_of_the_reading_after_it()
    {
        var (local, url, _) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER"), ("us-east-1/2026/11/21", "STANDARD"));
        var expected = await QueryAsync(local, Range);
        Assert.True(expected.ExitCode == 0, expected.Err);

        // The restore takes 3 s; --timeout 2s bounds the listing and the reading, not the wait (--wait-timeout does).
        var waited = await QueryAsync(url, [.. Range, "--restore", "standard", "--wait", "--timeout", "2s"]);

        Assert.True(waited.ExitCode == 0, waited.Err);
        Assert.Equal(expected.Out, waited.Out);
    }

    [Fact]
    public async Task Intelligent_tiering_archive_tiers_are_not_skipped_they_are_restored_without_days_and_then_answer_as_the_local_copy()
    {
        var (local, url, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "INTELLIGENT_TIERING:ARCHIVE_ACCESS"), ("eu-west-1/2026/11/20", "INTELLIGENT_TIERING:DEEP_ARCHIVE_ACCESS"), ("us-east-1/2026/11/21", "INTELLIGENT_TIERING"));
        var expected = await QueryAsync(local, Range);
        Assert.True(expected.ExitCode == 0, expected.Err);

        // The listing says INTELLIGENT_TIERING for every tier: HEAD names the archived ones, which are never skipped.
        var needs = await QueryAsync(url, Range);
        Assert.True(needs.ExitCode == 3, needs.Err);
        Assert.Equal("", needs.Out);
        Assert.Contains($"Needs restore: 2 of the 3 log object(s) the question reads in {url}/ are archived", needs.Err, StringComparison.Ordinal);
        Assert.Contains("INTELLIGENT_TIERING ARCHIVE_ACCESS (Intelligent-Tiering Archive Access): 1 object(s)", needs.Err, StringComparison.Ordinal);
        Assert.Contains("INTELLIGENT_TIERING DEEP_ARCHIVE_ACCESS (Intelligent-Tiering Deep Archive Access): 1 object(s)", needs.Err, StringComparison.Ordinal);
        Assert.Matches(@"bulk +5-12 hours \(Intelligent-Tiering Archive Access\), within 48 hours \(Intelligent-Tiering Deep Archive Access\); free", needs.Err);
        Assert.Matches(@"standard +3-5 hours \(Intelligent-Tiering Archive Access\), within 12 hours \(Intelligent-Tiering Deep Archive Access\); free", needs.Err);
        Assert.Contains("expedited  not offered: expedited restores are not offered for Intelligent-Tiering Deep Archive Access (DEEP_ARCHIVE_ACCESS)", needs.Err, StringComparison.Ordinal);

        var asJson = await QueryAsync(url, ["--start", "2026-11-20", "--end", "2026-11-21", "--format", "json"]);
        Assert.Equal(3, asJson.ExitCode);
        var plan = JsonNode.Parse(asJson.Out)!.AsObject();
        Assert.Equal(1, (int)plan["readDirectly"]!);
        Assert.Equal(["ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"], plan["byStorageClass"]!.AsArray().Select(c => (string?)c!["accessTier"]));
        Assert.All(plan["byStorageClass"]!.AsArray(), c => Assert.Equal("INTELLIGENT_TIERING", (string?)c!["storageClass"]));

        // Expedited is not offered for the Deep Archive Access tier: one line, exit 2, nothing requested.
        var expedited = await QueryAsync(url, [.. Range, "--restore", "expedited"]);
        Assert.Equal(2, expedited.ExitCode);
        Assert.Equal("--restore expedited: expedited restores are not offered for Intelligent-Tiering Deep Archive Access (DEEP_ARCHIVE_ACCESS), which 1 of the objects are in; use --restore standard or bulk", expedited.Err.Trim());
        Assert.Empty(Restores(prefix));

        // Requested without Days (S3 refuses them for these tiers), at the tier asked.
        var requested = await QueryAsync(url, [.. Range, "--restore", "standard", "--restore-days", "3"]);
        Assert.True(requested.ExitCode == 3, requested.Err);
        Assert.Contains("Restore requested (standard, Intelligent-Tiering: back to Frequent Access, no days): 2 started, 0 already in progress, 0 already restored.", requested.Err, StringComparison.Ordinal);
        Assert.Contains("restore: 0 not requested, 2 in progress, 0 ready", requested.Err, StringComparison.Ordinal);
        var first = Restores(prefix);
        Assert.Equal(2, first.Count);
        Assert.All(first, r => Assert.EndsWith(" Standard - 202", r, StringComparison.Ordinal));

        // Progress is read as for Glacier, and once restored the answer is the local copy's.
        var waited = await QueryAsync(url, [.. Range, "--wait"]);
        Assert.True(waited.ExitCode == 0, waited.Err);
        Assert.Equal(expected.Out, waited.Out);
        Assert.Contains("All 2 archived object(s) of the question are restored; reading.", waited.Err, StringComparison.Ordinal);
        Assert.Equal(first, Restores(prefix));
    }

    [Fact]
    public async Task The_emulator_keeps_intelligent_tiering_archive_tiers_as_s3_does()
    {
        var (_, _, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "INTELLIGENT_TIERING:ARCHIVE_ACCESS"));
        using var client = Server.Client();
        var key = (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix + $"AWSLogs/o-a1b2c3d4e5/{Account}/CloudTrail/us-east-1/2026/11/20/" })).S3Objects.Single().Key;
        using var store = new S3ObjectStore(client, Bucket, prefix);

        var get = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.GetObjectAsync(Bucket, key));
        var head = await client.GetObjectMetadataAsync(Bucket, key);
        var withDays = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.RestoreObjectAsync(new RestoreObjectRequest { BucketName = Bucket, Key = key, Days = 1, Tier = GlacierJobTier.Standard }));

        Assert.Equal((System.Net.HttpStatusCode.Forbidden, "InvalidObjectState"), (get.StatusCode, get.ErrorCode));
        Assert.Equal(ArchiveStatus.ARCHIVE_ACCESS, head.ArchiveStatus);
        Assert.Equal(S3StorageClass.IntelligentTiering, head.StorageClass);
        Assert.Equal((System.Net.HttpStatusCode.BadRequest, "InvalidArgument"), (withDays.StatusCode, withDays.ErrorCode));
        Assert.Contains("Do not specify Days", withDays.Message, StringComparison.Ordinal);
        Assert.Equal(new ArchivedObjectStatus(RestoreState.NotRequested, AccessTier: "ARCHIVE_ACCESS"), await store.GetRestoreStatusAsync(key, CancellationToken.None));

        Assert.Equal(RestoreRequestOutcome.Started, await store.RequestRestoreAsync(key, RestoreTier.Bulk, null, CancellationToken.None));
        Assert.Equal(new ArchivedObjectStatus(RestoreState.InProgress, AccessTier: "ARCHIVE_ACCESS"), await store.GetRestoreStatusAsync(key, CancellationToken.None));
        await Task.Delay(GlacierServer.RestoreDelayMs + 200);

        // Back in Frequent Access for good: no archive tier, no expiry, and it reads.
        Assert.Equal(new ArchivedObjectStatus(RestoreState.Restored), await store.GetRestoreStatusAsync(key, CancellationToken.None));
        await using (var read = await store.OpenAsync(key, false, CancellationToken.None))
        {
            Assert.True(read.Content.ReadByte() >= 0);
        }

        Assert.Equal(["Bulk - 202"], Restores(prefix).Select(r => r[(r.IndexOf(' ', StringComparison.Ordinal) + 1)..]));
    }

    [Fact]
    public async Task Glacier_instant_retrieval_and_standard_ia_read_directly()
    {
        var (local, url, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER_IR"), ("eu-west-1/2026/11/20", "STANDARD_IA"));
        using (var client = Server.Client())
        {
            var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix });
            Assert.Contains(listed.S3Objects, o => o.StorageClass == S3StorageClass.GlacierInstantRetrieval);
            Assert.Contains(listed.S3Objects, o => o.StorageClass == S3StorageClass.StandardInfrequentAccess);
        }

        var fromCopy = await QueryAsync(local, "--date", "2026-11-20", "--format", "json");
        var fromBucket = await QueryAsync(url, "--date", "2026-11-20", "--format", "json");

        Assert.True(fromBucket.ExitCode == 0, fromBucket.Err);
        Assert.Equal(fromCopy.Out, fromBucket.Out);
        Assert.Contains("ScheduleKeyDeletion", fromBucket.Out, StringComparison.Ordinal);
        Assert.Empty(Restores(prefix));
    }

    [Fact]
    public async Task A_wait_that_outlasts_its_timeout_ends_with_exit_3_and_the_restores_in_progress()
    {
        var (_, url, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER"));

        var result = await QueryAsync(url, "--date", "2026-11-20", "--region", "us-east-1", "--restore", "expedited", "--restore-days", "1", "--wait", "--wait-timeout", "1s");

        Assert.True(result.ExitCode == 3, result.Err);
        Assert.Contains("Still 1 restore(s) in progress after --wait-timeout 1s", result.Err, StringComparison.Ordinal);
        Assert.Equal([" Expedited 1 202"], Restores(prefix).Select(r => r[r.IndexOf(' ', StringComparison.Ordinal)..]));
    }

    [Fact]
    public async Task On_a_terminal_the_wait_runs_under_a_status_line_and_then_answers()
    {
        var (_, url, _) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER"));

        var (code, output) = await TerminalOutput.RunAsync(200, "query", "--source", url, "--endpoint-url", Server.Endpoint, "--account", Account, "--date", "2026-11-20", "--region", "us-east-1", "--restore", "expedited", "--wait");

        Assert.Equal(0, code);
        TerminalOutput.AssertWhole(output, "AttachRolePolicy", "ConsoleLogin");
    }

    [Fact]
    public async Task Ctrl_c_stops_the_wait_at_once_and_the_restores_go_on()
    {
        var (_, url, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER"));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var io = CliIo.Capture(output, error);
        // Past the request, before the wait's first poll (2 s) and long before the restore completes (3 s).
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var code = await CliApp.RunAsync(CliApp.BuildRoot(io), ["query", "--source", url, "--endpoint-url", Server.Endpoint, "--account", Account, "--date", "2026-11-20", "--region", "us-east-1", "--restore", "standard", "--wait"], io, cancel.Token);

        Assert.Equal(130, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
        Assert.EndsWith("auditinfra: cancelled", error.ToString().TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("Waiting for 1 restore(s)", error.ToString(), StringComparison.Ordinal);
        Assert.Single(Restores(prefix));
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task Restore_options_are_checked_before_anything_is_read()
    {
        var (local, url, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER"));

        var onLocal = await QueryAsync(local, "--date", "2026-11-20", "--restore", "bulk");
        var zeroDays = await QueryAsync(url, "--date", "2026-11-20", "--restore", "bulk", "--restore-days", "0");
        var badTier = await QueryAsync(url, "--date", "2026-11-20", "--restore", "fast");
        var badTimeout = await QueryAsync(url, "--date", "2026-11-20", "--wait", "--wait-timeout", "soon");

        Assert.Equal(2, onLocal.ExitCode);
        Assert.Contains("--restore applies to an s3:// source", onLocal.Err, StringComparison.Ordinal);
        Assert.Equal(2, zeroDays.ExitCode);
        Assert.Contains("--restore-days: expected a number of days from 1 to 365 (found 0)", zeroDays.Err, StringComparison.Ordinal);
        Assert.Equal(2, badTier.ExitCode);
        Assert.Contains("fast", badTier.Err, StringComparison.Ordinal);
        Assert.Equal(2, badTimeout.ExitCode);
        Assert.Contains("--wait-timeout: expected a duration", badTimeout.Err, StringComparison.Ordinal);
        Assert.Empty(Restores(prefix));
    }

    [Fact]
    public async Task The_s3_store_lists_storage_classes_reads_the_restore_header_and_requests_restores()
    {
        var (_, _, prefix) = await ArchivedCorpusAsync(("us-east-1/2026/11/20", "GLACIER"), ("eu-west-1/2026/11/20", "DEEP_ARCHIVE"));
        using var client = Server.Client();
        using var store = new S3ObjectStore(client, Bucket, prefix);
        var entries = new List<ObjectEntry>();
        await foreach (var entry in store.ListAsync($"AWSLogs/o-a1b2c3d4e5/{Account}/CloudTrail/", CancellationToken.None))
        {
            entries.Add(entry);
        }

        var glacier = entries.Single(e => e.Key.Contains("/us-east-1/2026/11/20/", StringComparison.Ordinal));
        var deep = entries.Single(e => e.Key.Contains("/eu-west-1/", StringComparison.Ordinal));
        Assert.Equal("GLACIER", glacier.StorageClass);
        Assert.Equal("DEEP_ARCHIVE", deep.StorageClass);
        Assert.Equal("STANDARD", entries.Single(e => e.Key.Contains("/2026/11/21/", StringComparison.Ordinal)).StorageClass);

        // An unrestored archived object cannot be read, and says why.
        var unreadable = await Assert.ThrowsAsync<IntegrityInputException>(() => store.OpenAsync(glacier.Key, false, CancellationToken.None));
        Assert.Contains("InvalidObjectState", unreadable.Message, StringComparison.Ordinal);
        Assert.Contains("--restore", unreadable.Message, StringComparison.Ordinal);

        Assert.Equal(RestoreState.NotRequested, (await store.GetRestoreStatusAsync(glacier.Key, CancellationToken.None)).State);
        Assert.Equal(RestoreRequestOutcome.Started, await store.RequestRestoreAsync(glacier.Key, RestoreTier.Standard, 2, CancellationToken.None));
        Assert.Equal(RestoreRequestOutcome.AlreadyInProgress, await store.RequestRestoreAsync(glacier.Key, RestoreTier.Standard, 2, CancellationToken.None));
        Assert.Equal(RestoreState.InProgress, (await store.GetRestoreStatusAsync(glacier.Key, CancellationToken.None)).State);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetRestoreStatusAsync(glacier.Key + ".gone", CancellationToken.None));

        await Task.Delay(GlacierServer.RestoreDelayMs + 200);
        var restored = await store.GetRestoreStatusAsync(glacier.Key, CancellationToken.None);
        Assert.Equal(RestoreState.Restored, restored.State);
        // s3rver, as S3, keeps the copy until midnight UTC after the days asked.
        Assert.Equal(DateTime.UtcNow.Date.AddDays(3), restored.ExpiresAt!.Value.UtcDateTime);
        Assert.Equal(RestoreRequestOutcome.AlreadyRestored, await store.RequestRestoreAsync(glacier.Key, RestoreTier.Standard, 2, CancellationToken.None));
        await using (var read = await store.OpenAsync(glacier.Key, false, CancellationToken.None))
        {
            Assert.True(read.Content.ReadByte() >= 0);
        }

        Assert.Equal(["Standard 2 202", "Standard 2 409", "Standard 2 200"], Restores(prefix).Select(r => r[(r.IndexOf(' ', StringComparison.Ordinal) + 1)..]));
    }

    /// <summary>A signed sample (one account, two regions, six hours) under its own prefix, its digests (only) put again in the given classes, in key order, cycling.</summary>
    private async Task<(SampleResult Sample, string Url, string Prefix, List<string> Digests)> SignedCorpusWithArchivedDigestsAsync(params string[] digestClasses)
    {
        var prefix = "gd-" + Guid.NewGuid().ToString("N")[..10];
        var sample = SampleCorpus.Write(Path.Combine(CliRunner.TempDir(), prefix), new SampleOptions
        {
            Prefix = prefix,
            Accounts = [VerifiedAccount],
            Hours = 6,
            EventsPerLog = 3,
            RestartChain = false,
            Backfill = false,
        });
        using var client = Server.Client();
        await S3Upload.UploadDirectoryAsync(sample.Directory, client, Bucket);
        var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix + "/" });
        var digests = listing.S3Objects.Select(o => o.Key).Where(k => k.Contains("/CloudTrail-Digest/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(digests);
        for (var i = 0; i < digests.Count; i++)
        {
            var path = Path.Combine(sample.Directory, digests[i].Replace('/', Path.DirectorySeparatorChar));
            var request = new PutObjectRequest { BucketName = Bucket, Key = digests[i], FilePath = path, StorageClass = S3StorageClass.FindValue(digestClasses[i % digestClasses.Length]), UseChunkEncoding = false };
            request.Metadata[S3ObjectStore.SignatureMetadata] = (await File.ReadAllTextAsync(path + LocalDirectoryStore.SignatureSuffix)).Trim();
            await client.PutObjectAsync(request);
        }

        return (sample, $"s3://{Bucket}/{prefix}", prefix, digests);
    }

    private const string VerifiedAccount = "111111111111";

    private Task<CliResult> VerifyQueryAsync(string source, SampleResult sample, params string[] args) =>
        CliRunner.RunAsync(["query", "--source", source, .. source.StartsWith("s3://", StringComparison.Ordinal) ? new[] { "--endpoint-url", Server.Endpoint } : [], "--account", VerifiedAccount, "--date", "2026-11-20", "--verify", "--public-keys", sample.PublicKeysFile, .. args]);

    [Fact]
    public async Task With_verify_archived_digests_are_named_restored_and_waited_for_and_the_answer_is_the_local_copys()
    {
        var (sample, url, prefix, digests) = await SignedCorpusWithArchivedDigestsAsync("GLACIER");
        var expected = await VerifyQueryAsync(sample.Directory, sample, "--format", "csv");
        Assert.True(expected.ExitCode == 0, expected.Err);

        // Without --verify no digest is read: the logs are all readable.
        var plain = await CliRunner.RunAsync(["query", "--source", url, "--endpoint-url", Server.Endpoint, "--account", VerifiedAccount, "--date", "2026-11-20", "--format", "csv"]);
        Assert.True(plain.ExitCode == 0, plain.Err);

        // With --verify the digests the verifier reads are part of the question: named, never a failed read.
        var needs = await VerifyQueryAsync(url, sample, "--format", "csv");
        Assert.True(needs.ExitCode == 3, needs.Err);
        Assert.Equal("", needs.Out);
        Assert.DoesNotContain("cannot read the source", needs.Err, StringComparison.Ordinal);
        var header = System.Text.RegularExpressions.Regex.Match(needs.Err, @"Needs restore: (\d+) of the (\d+) object\(s\) the question reads in \S+ are archived and cannot be read yet \([^)]+\): 0 of (\d+) log\(s\), (\d+) of (\d+) digest\(s\) that --verify reads");
        Assert.True(header.Success, needs.Err);
        var pendingDigests = int.Parse(header.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(header.Groups[1].Value, header.Groups[4].Value);
        Assert.Equal(header.Groups[4].Value, header.Groups[5].Value);
        Assert.True(pendingDigests >= 12, needs.Err);
        Assert.Contains($"GLACIER (Glacier Flexible Retrieval): {pendingDigests} object(s)", needs.Err, StringComparison.Ordinal);
        Assert.Contains("expedited ", needs.Err, StringComparison.Ordinal);

        var asJson = await VerifyQueryAsync(url, sample, "--format", "json");
        Assert.Equal(3, asJson.ExitCode);
        var plan = JsonNode.Parse(asJson.Out)!.AsObject();
        Assert.Equal(0, (int)plan["logObjects"]!);
        Assert.Equal(pendingDigests, (int)plan["digestObjects"]!);
        var keys = plan["keys"]!.AsArray().Select(k => (string)k!).ToList();
        Assert.All(keys, k => Assert.Contains(k, digests));
        Assert.Empty(Restores(prefix + "/"));

        // Restored (both kinds would be: here only digests are archived) and waited for: the local copy's verified answer.
        var answered = await VerifyQueryAsync(url, sample, "--format", "csv", "--restore", "expedited", "--wait");
        Assert.True(answered.ExitCode == 0, answered.Err);
        Assert.Contains($"{pendingDigests} started", answered.Err, StringComparison.Ordinal);
        Assert.Equal(expected.Out, answered.Out);
        var marks = answered.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l[(l.LastIndexOf(',') + 1)..]).ToList();
        Assert.NotEmpty(marks);
        Assert.All(marks, m => Assert.Equal("verified", m));
        var requested = Restores(prefix + "/");
        Assert.Equal(pendingDigests, requested.Count);
        Assert.All(requested, r => Assert.Contains("/CloudTrail-Digest/", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_verify_a_deep_archive_digest_refuses_an_expedited_restore()
    {
        var (sample, url, prefix, _) = await SignedCorpusWithArchivedDigestsAsync("DEEP_ARCHIVE", "GLACIER");

        var expedited = await VerifyQueryAsync(url, sample, "--restore", "expedited");
        Assert.True(expedited.ExitCode == 2, expedited.Err);
        Assert.Contains("--restore expedited: expedited restores are not offered for Glacier Deep Archive (DEEP_ARCHIVE)", expedited.Err, StringComparison.Ordinal);
        Assert.Empty(Restores(prefix + "/"));

        var needs = await VerifyQueryAsync(url, sample);
        Assert.True(needs.ExitCode == 3, needs.Err);
        Assert.Contains("DEEP_ARCHIVE (Glacier Deep Archive): ", needs.Err, StringComparison.Ordinal);
        Assert.Contains("expedited  not offered", needs.Err, StringComparison.Ordinal);
    }
}
