using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>Two s3rvers whose restores take a minute (so every run here sees them in progress): one lists RestoreStatus, one ignores the header.</summary>
public sealed class RestoreListingServers : IDisposable
{
    public S3Server Reporting { get; } = new(0, 60_000, ignoreOptionalAttributes: false);

    public S3Server Ignoring { get; } = new(0, 60_000, ignoreOptionalAttributes: true);

    public void Dispose()
    {
        Reporting.Dispose();
        Ignoring.Dispose();
    }
}

/// <summary>
/// The archive gate reads restore progress from the listing (ListObjectsV2 with x-amz-optional-object-attributes:
/// RestoreStatus) and sends a HEAD per archived object only when the listing cannot tell: counted from s3rver's log.
/// </summary>
[Trait("Category", "S3")]
public sealed class ArchiveListingTests(RestoreListingServers servers) : IClassFixture<RestoreListingServers>
{
    private const string Bucket = ArchiveQueryTests.Bucket;

    private static readonly string[] Range = ["--start", "2026-11-20", "--end", "2026-11-21", "--format", "csv"];

    private static Task<CliResult> QueryAsync(S3Server server, string url, params string[] args) =>
        CliRunner.RunAsync(["query", "--source", url, "--endpoint-url", server.Endpoint, "--account", ArchiveQueryTests.Account, .. Range, .. args]);

    /// <summary>How many HEADs of archive-class objects under the prefix the server has answered.</summary>
    private static int Heads(S3Server server, string prefix)
    {
        lock (server.Log)
        {
            return server.Log.Count(l => l.StartsWith($"HEAD {Bucket}/{prefix}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_run_after_the_restores_were_requested_reads_their_progress_from_the_listing_with_no_head()
    {
        var server = servers.Reporting;
        var (_, url, prefix) = await ArchiveQueryTests.ArchivedCorpusAsync(server, ("us-east-1/2026/11/20", "GLACIER"), ("eu-west-1/2026/11/20", "DEEP_ARCHIVE"));
        var requested = await QueryAsync(server, url, "--restore", "bulk");
        Assert.True(requested.ExitCode == 3, requested.Err);
        var headsSoFar = Heads(server, prefix);

        var again = await QueryAsync(server, url);

        Assert.True(again.ExitCode == 3, again.Err);
        Assert.Contains("restore: 0 not requested, 2 in progress, 0 ready", again.Err, StringComparison.Ordinal);
        Assert.Equal(headsSoFar, Heads(server, prefix));
    }

    [Fact]
    public async Task An_endpoint_that_ignores_the_header_gets_one_head_per_archived_object_and_the_same_answer()
    {
        var server = servers.Ignoring;
        var (_, url, prefix) = await ArchiveQueryTests.ArchivedCorpusAsync(server, ("us-east-1/2026/11/20", "GLACIER"), ("eu-west-1/2026/11/20", "DEEP_ARCHIVE"));
        var requested = await QueryAsync(server, url, "--restore", "bulk");
        Assert.True(requested.ExitCode == 3, requested.Err);
        var headsSoFar = Heads(server, prefix);

        var again = await QueryAsync(server, url);

        Assert.True(again.ExitCode == 3, again.Err);
        Assert.Contains("restore: 0 not requested, 2 in progress, 0 ready", again.Err, StringComparison.Ordinal);
        Assert.Equal(headsSoFar + 2, Heads(server, prefix));
    }

    [Fact]
    public async Task The_store_lists_restore_statuses_and_trusts_a_listing_without_one_only_once_the_endpoint_has_shown_it_reports_them()
    {
        var reporting = servers.Reporting;
        var (_, _, prefix) = await ArchiveQueryTests.ArchivedCorpusAsync(reporting, ("us-east-1/2026/11/20", "GLACIER"), ("eu-west-1/2026/11/20", "GLACIER"));
        using var client = reporting.Client();
        using var store = new S3ObjectStore(client, Bucket, prefix);
        var folder = $"AWSLogs/o-a1b2c3d4e5/{ArchiveQueryTests.Account}/CloudTrail/";

        // Nothing restored: S3 lists no RestoreStatus, and an endpoint that ignores the header would list the same.
        var before = await ListAsync(store, folder);
        var trustedBefore = store.ListingsReportRestoreStatus;
        var restoring = before.First(e => e.StorageClass == "GLACIER");
        await store.RequestRestoreAsync(restoring.Key, RestoreTier.Standard, 1, CancellationToken.None);
        var after = await ListAsync(store, folder);

        Assert.All(before, e => Assert.Null(e.ListedRestore));
        Assert.False(trustedBefore);
        Assert.Equal(new ArchivedObjectStatus(RestoreState.InProgress), after.Single(e => e.Key == restoring.Key).ListedRestore);
        Assert.All(after.Where(e => e.Key != restoring.Key), e => Assert.Null(e.ListedRestore));
        Assert.True(store.ListingsReportRestoreStatus);

        // The same objects behind an endpoint that ignores the header: no status listed, and none trusted.
        var ignoring = servers.Ignoring;
        var (_, _, ignoredPrefix) = await ArchiveQueryTests.ArchivedCorpusAsync(ignoring, ("us-east-1/2026/11/20", "GLACIER"));
        using var ignoringClient = ignoring.Client();
        using var ignoringStore = new S3ObjectStore(ignoringClient, Bucket, ignoredPrefix);
        var glacier = (await ListAsync(ignoringStore, folder)).First(e => e.StorageClass == "GLACIER");
        await ignoringStore.RequestRestoreAsync(glacier.Key, RestoreTier.Standard, 1, CancellationToken.None);

        Assert.All(await ListAsync(ignoringStore, folder), e => Assert.Null(e.ListedRestore));
        Assert.False(ignoringStore.ListingsReportRestoreStatus);
    }

    [Fact]
    public async Task Listings_known_to_report_restore_status_need_no_head_even_before_any_restore()
    {
        // As for S3 itself (no --endpoint-url), whose ListObjectsV2 documents RestoreStatus.
        var server = servers.Reporting;
        var (_, _, prefix) = await ArchiveQueryTests.ArchivedCorpusAsync(server, ("us-east-1/2026/11/20", "GLACIER"), ("eu-west-1/2026/11/20", "DEEP_ARCHIVE"));
        using var client = server.Client();
        using var store = new S3ObjectStore(client, Bucket, prefix, listingsReportRestoreStatus: true);
        var entries = await ListAsync(store, $"AWSLogs/o-a1b2c3d4e5/{ArchiveQueryTests.Account}/CloudTrail/");

        var plan = await new ArchiveGate(store, TimeProvider.System).InspectAsync(entries, CancellationToken.None);

        Assert.Equal(2, plan.NotRequested.Count);
        Assert.Equal(0, Heads(server, prefix));
    }

    private static async Task<List<ObjectEntry>> ListAsync(S3ObjectStore store, string folder)
    {
        var entries = new List<ObjectEntry>();
        await foreach (var entry in store.ListAsync(folder, CancellationToken.None))
        {
            entries.Add(entry);
        }

        return entries;
    }
}
