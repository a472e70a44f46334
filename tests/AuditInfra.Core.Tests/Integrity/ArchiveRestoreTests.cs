using System.Collections.Concurrent;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>The Glacier layer between a listing and its reads: the restore header, the plan per tier, and the gate's request and wait.</summary>
public class ArchiveRestoreTests
{
    private const long GiB = 1024L * 1024 * 1024;

    [Theory]
    [InlineData("ongoing-request=\"true\"", RestoreState.InProgress, null)]
    [InlineData("ongoing-request=\"false\", expiry-date=\"Sun, 23 Dec 2012 00:00:00 GMT\"", RestoreState.Restored, "2012-12-23T00:00:00+00:00")]
    [InlineData("ongoing-request=\"false\",expiry-date=\"Sun, 23 Dec 2012 00:00:00 GMT\"", RestoreState.Restored, "2012-12-23T00:00:00+00:00")]
    [InlineData("ongoing-request=\"false\"", RestoreState.Restored, null)]
    [InlineData("ongoing-request=\"false\", restore-request-date=\"whatever\"", RestoreState.Restored, null)]
    [InlineData("", RestoreState.NotRequested, null)]
    [InlineData(null, RestoreState.NotRequested, null)]
    public void The_restore_header_reads_progress_and_expiry(string? header, RestoreState state, string? expiry)
    {
        var status = RestoreHeader.Parse(header);

        Assert.Equal(state, status.State);
        Assert.Equal(expiry is null ? null : DateTimeOffset.Parse(expiry, System.Globalization.CultureInfo.InvariantCulture), status.ExpiresAt);
    }

    [Theory]
    [InlineData("ongoing-request=true")]
    [InlineData("ongoing-request=\"maybe\"")]
    [InlineData("expiry-date=\"Sun, 23 Dec 2012 00:00:00 GMT\"")]
    [InlineData("ongoing-request=\"false\", expiry-date=\"tomorrow\"")]
    [InlineData("ongoing-request=\"false\", ongoing-request=\"true\"")]
    [InlineData("ongoing-request=\"false\" expiry-date=\"Sun, 23 Dec 2012 00:00:00 GMT\"")]
    [InlineData("ongoing-request=\"false\", ")]
    [InlineData("ongoing-request=\"false")]
    [InlineData("Ongoing-Request=\"false\"")]
    public void A_malformed_restore_header_is_refused(string header)
    {
        Assert.Throws<FormatException>(() => RestoreHeader.Parse(header));
    }

    [Fact]
    public void An_oversized_restore_header_is_refused_without_being_parsed()
    {
        var header = "ongoing-request=\"false\", x=\"" + new string('a', RestoreHeader.MaxLength) + "\"";

        var error = Assert.Throws<FormatException>(() => RestoreHeader.Parse(header));
        Assert.Contains("at most 512", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_glacier_and_deep_archive_objects_not_readable_are_pending_and_an_expired_copy_needs_a_new_restore()
    {
        var now = DateTimeOffset.UtcNow;
        var store = new FakeArchive(
            ("standard", null, null),
            ("local", null, null),
            ("ir", "GLACIER_IR", null),
            ("ia", "STANDARD_IA", null),
            ("g-new", "GLACIER", null),
            ("g-busy", "GLACIER", new ArchivedObjectStatus(RestoreState.InProgress)),
            ("g-ready", "GLACIER", new ArchivedObjectStatus(RestoreState.Restored, now.AddDays(2))),
            ("g-expired", "GLACIER", new ArchivedObjectStatus(RestoreState.Restored, now.AddDays(-1))),
            ("d-new", "DEEP_ARCHIVE", null));

        var plan = await new ArchiveGate(store, TimeProvider.System).InspectAsync(store.Entries, CancellationToken.None);

        Assert.False(plan.IsReadable);
        Assert.Equal(["d-new", "g-busy", "g-expired", "g-new"], plan.Pending.Select(o => o.Entry.Key));
        Assert.Equal(["d-new", "g-expired", "g-new"], plan.NotRequested.Select(o => o.Entry.Key));
        Assert.Equal(1, plan.InProgress);
        Assert.Equal(1, plan.Ready);
        Assert.Equal(4 * 100L, plan.PendingBytes);
        Assert.Equal([new ClassShare("DEEP_ARCHIVE", 1, 100), new ClassShare("GLACIER", 3, 300)], plan.ByClass);
        // Only archived objects are asked about: the others read directly.
        Assert.Equal(["d-new", "g-busy", "g-expired", "g-new", "g-ready"], store.Heads.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Nothing_archived_or_everything_restored_is_readable_without_a_request()
    {
        var store = new FakeArchive(("a", "STANDARD", null), ("b", "GLACIER_IR", null), ("c", "DEEP_ARCHIVE", new ArchivedObjectStatus(RestoreState.Restored, DateTimeOffset.UtcNow.AddDays(1))));

        var plan = await new ArchiveGate(store, TimeProvider.System).InspectAsync(store.Entries, CancellationToken.None);

        Assert.True(plan.IsReadable);
        Assert.Equal(1, plan.Ready);
        Assert.Empty(store.Requests);
    }

    [Fact]
    public void Each_tier_has_its_published_delay_and_a_price_per_gb_and_per_thousand_requests()
    {
        var plan = new RestorePlan(
            [
                new ArchivedObject(new ObjectEntry("g1", GiB / 2, StorageClass: "GLACIER"), ArchivedObjectStatus.None),
                new ArchivedObject(new ObjectEntry("g2", GiB / 2, StorageClass: "GLACIER"), ArchivedObjectStatus.None),
                new ArchivedObject(new ObjectEntry("d1", 2 * GiB, StorageClass: "DEEP_ARCHIVE"), ArchivedObjectStatus.None),
                new ArchivedObject(new ObjectEntry("d2", 4 * GiB, StorageClass: "DEEP_ARCHIVE"), new ArchivedObjectStatus(RestoreState.InProgress)),
            ],
            0,
            DateTimeOffset.UtcNow);

        var tiers = plan.Tiers.ToDictionary(t => t.Tier);

        // Bulk: Flexible Retrieval free; Deep Archive 2 GiB x $0.0025 + 1 request x $0.025/1000. The object in progress is already paid for.
        Assert.Equal(2 * 0.0025m + 0.025m / 1000, tiers[RestoreTier.Bulk].EstimatedUsd);
        Assert.Equal("within 48 hours (Glacier Deep Archive), 5-12 hours (Glacier Flexible Retrieval)", tiers[RestoreTier.Bulk].Delay);
        // Standard: 1 GiB x $0.01 + 2 x $0.05/1000, and 2 GiB x $0.02 + 1 x $0.10/1000.
        Assert.Equal(0.01m + (2 * 0.05m / 1000) + (2 * 0.02m) + (0.10m / 1000), tiers[RestoreTier.Standard].EstimatedUsd);
        Assert.True(tiers[RestoreTier.Standard].Available);
        Assert.False(tiers[RestoreTier.Expedited].Available);
        Assert.Contains("Deep Archive", tiers[RestoreTier.Expedited].Refusal, StringComparison.Ordinal);
        Assert.Contains("1 of the objects", tiers[RestoreTier.Expedited].Refusal, StringComparison.Ordinal);
        Assert.Null(plan.RefusalOf(RestoreTier.Bulk));
    }

    [Fact]
    public void Expedited_is_offered_for_flexible_retrieval_alone()
    {
        var plan = new RestorePlan([new ArchivedObject(new ObjectEntry("g", GiB, StorageClass: "GLACIER"), ArchivedObjectStatus.None)], 0, DateTimeOffset.UtcNow);

        var expedited = plan.Tiers.Single(t => t.Tier == RestoreTier.Expedited);

        Assert.True(expedited.Available);
        Assert.Equal("1-5 minutes", expedited.Delay);
        Assert.Equal(0.03m + (10.00m / 1000), expedited.EstimatedUsd);
    }

    [Fact]
    public async Task Restores_are_requested_once_per_object_and_a_second_run_only_reports_progress()
    {
        var store = new FakeArchive(("g1", "GLACIER", null), ("g2", "GLACIER", null), ("d1", "DEEP_ARCHIVE", null), ("s", "STANDARD", null)) { PollsUntilReady = 3 };
        var gate = new ArchiveGate(store, TimeProvider.System);

        var first = await gate.RequestAsync(await gate.InspectAsync(store.Entries, CancellationToken.None), RestoreTier.Bulk, 7, CancellationToken.None);
        var again = await gate.InspectAsync(store.Entries, CancellationToken.None);
        var second = await gate.RequestAsync(again, RestoreTier.Bulk, 7, CancellationToken.None);

        Assert.Equal(new RestoreRequestReport(3, 0, 0), first);
        Assert.Equal(new RestoreRequestReport(0, 0, 0), second);
        Assert.Equal(3, again.InProgress);
        Assert.Empty(again.NotRequested);
        Assert.Equal(["d1", "g1", "g2"], store.Requests.Keys.Order(StringComparer.Ordinal));
        Assert.All(store.Requests.Values, r => Assert.Equal((RestoreTier.Bulk, (int?)7, 1), r));
    }

    [Fact]
    public async Task An_object_deleted_since_the_listing_is_left_to_the_read_to_name()
    {
        var store = new FakeArchive(("g1", "GLACIER", null), ("g2", "GLACIER", null)) { PollsUntilReady = 5 };
        var gate = new ArchiveGate(store, TimeProvider.System);
        var plan = await gate.InspectAsync(store.Entries, CancellationToken.None);
        store.Gone.Add("g1");

        var report = await gate.RequestAsync(plan, RestoreTier.Bulk, 1, CancellationToken.None);
        var again = await gate.InspectAsync(store.Entries, CancellationToken.None);

        Assert.Equal(new RestoreRequestReport(1, 0, 0), report);
        Assert.Equal(["g2"], again.Pending.Select(o => o.Entry.Key));
    }

    [Fact]
    public async Task Expedited_with_deep_archive_is_refused_before_any_request()
    {
        var store = new FakeArchive(("g1", "GLACIER", null), ("d1", "DEEP_ARCHIVE", null));
        var gate = new ArchiveGate(store, TimeProvider.System);
        var plan = await gate.InspectAsync(store.Entries, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => gate.RequestAsync(plan, RestoreTier.Expedited, 7, CancellationToken.None));

        Assert.Contains("DEEP_ARCHIVE", error.Message, StringComparison.Ordinal);
        Assert.Empty(store.Requests);
    }

    [Fact]
    public async Task Waiting_polls_only_the_pending_objects_until_all_are_readable_and_reports_each_poll()
    {
        var store = new FakeArchive(("g1", "GLACIER", null), ("g2", "GLACIER", null), ("ir", "GLACIER_IR", null)) { PollsUntilReady = 3 };
        var gate = new ArchiveGate(store, TimeProvider.System);
        var plan = await gate.InspectAsync(store.Entries, CancellationToken.None);
        await gate.RequestAsync(plan, RestoreTier.Standard, 1, CancellationToken.None);
        var reports = new List<RestorePlan>();

        var done = await gate.WaitAsync(plan, new RestoreWaitPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(4), TimeSpan.FromSeconds(30)), new InlineProgress(reports.Add), CancellationToken.None);

        Assert.True(done.IsReadable);
        Assert.Equal(2, done.Ready);
        Assert.Equal(3, reports.Count);
        Assert.Equal([2, 2, 0], reports.Select(r => r.InProgress));
        Assert.DoesNotContain("ir", store.Heads.Keys);
    }

    [Fact]
    public async Task Waiting_gives_up_at_the_timeout_with_what_is_still_pending()
    {
        var store = new FakeArchive(("g1", "GLACIER", null)) { PollsUntilReady = int.MaxValue };
        var gate = new ArchiveGate(store, TimeProvider.System);
        var plan = await gate.InspectAsync(store.Entries, CancellationToken.None);
        await gate.RequestAsync(plan, RestoreTier.Standard, 1, CancellationToken.None);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var last = await gate.WaitAsync(plan, new RestoreWaitPolicy(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300)), null, CancellationToken.None);

        Assert.False(last.IsReadable);
        Assert.Equal(1, last.InProgress);
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Waiting_stops_when_an_object_has_no_restore_requested_and_on_cancellation()
    {
        var store = new FakeArchive(("g1", "GLACIER", null));
        var gate = new ArchiveGate(store, TimeProvider.System);
        var plan = await gate.InspectAsync(store.Entries, CancellationToken.None);
        var policy = new RestoreWaitPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));

        var unrequested = await gate.WaitAsync(plan, policy, null, CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await gate.RequestAsync(plan, RestoreTier.Bulk, 1, CancellationToken.None);
        store.PollsUntilReady = int.MaxValue;

        Assert.Single(unrequested.NotRequested);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.WaitAsync(plan, policy with { LongestPoll = TimeSpan.FromMilliseconds(10) }, null, cancel.Token));
    }

    [Fact]
    public async Task A_listed_restore_status_needs_no_head_and_an_object_listed_without_one_is_asked_unless_listings_report_every_one()
    {
        var now = DateTimeOffset.UtcNow;
        // What S3 answers by HEAD differs from the listing here only so that the test sees where each status came from.
        var store = new FakeArchive(("g-busy", "GLACIER", null), ("g-ready", "GLACIER", null), ("g-plain", "GLACIER", new ArchivedObjectStatus(RestoreState.InProgress)), ("it", "INTELLIGENT_TIERING", new ArchivedObjectStatus(RestoreState.NotRequested, AccessTier: "ARCHIVE_ACCESS")));
        var entries = store.Entries.Select(e => e.Key switch
        {
            "g-busy" => e with { ListedRestore = new ArchivedObjectStatus(RestoreState.InProgress) },
            "g-ready" => e with { ListedRestore = new ArchivedObjectStatus(RestoreState.Restored, now.AddDays(2)) },
            _ => e,
        }).ToList();
        var gate = new ArchiveGate(store, TimeProvider.System);

        var unknown = await gate.InspectAsync(entries, CancellationToken.None);
        var headsWhenUnknown = store.Heads.Keys.Order(StringComparer.Ordinal).ToList();
        store.Heads.Clear();
        store.ListingsReportRestoreStatus = true;
        var reported = await gate.InspectAsync(entries, CancellationToken.None);
        var headsWhenReported = store.Heads.Keys.Order(StringComparer.Ordinal).ToList();
        store.Heads.Clear();
        var asked = await gate.InspectAsync(entries, fromListing: false, CancellationToken.None);

        // An endpoint that may ignore the header: only the object listed without a status is asked; Intelligent-Tiering always
        // is (only HEAD names its archive tier).
        Assert.Equal(["g-plain", "it"], headsWhenUnknown);
        Assert.Equal(["g-busy", "g-plain", "it"], unknown.Pending.Select(o => o.Entry.Key));
        Assert.Equal(2, unknown.InProgress);
        Assert.Equal(1, unknown.Ready);
        // Listings that report every restore: no status means none, and no Glacier object is asked.
        Assert.Equal(["it"], headsWhenReported);
        Assert.Equal(["g-plain", "it"], reported.NotRequested.Select(o => o.Entry.Key));
        // Rechecks and polls ask S3 afresh: the listing is old by then.
        Assert.Equal(["g-busy", "g-plain", "g-ready", "it"], store.Heads.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["g-busy", "g-ready", "it"], asked.NotRequested.Select(o => o.Entry.Key));
    }

    [Fact]
    public async Task Intelligent_tiering_objects_in_an_archive_tier_are_pending_with_their_tiers_terms_and_are_restored_without_days()
    {
        var store = new FakeArchive(
            ("it-frequent", "INTELLIGENT_TIERING", null),
            ("it-restored", "INTELLIGENT_TIERING", new ArchivedObjectStatus(RestoreState.Restored)),
            ("it-archive", "INTELLIGENT_TIERING", new ArchivedObjectStatus(RestoreState.NotRequested, AccessTier: "ARCHIVE_ACCESS")),
            ("it-deep", "INTELLIGENT_TIERING", new ArchivedObjectStatus(RestoreState.NotRequested, AccessTier: "DEEP_ARCHIVE_ACCESS")),
            ("g", "GLACIER", null));
        var gate = new ArchiveGate(store, TimeProvider.System);

        var plan = await gate.InspectAsync(store.Entries, CancellationToken.None);
        var tiers = plan.Tiers.ToDictionary(t => t.Tier);

        // Never silently skipped: an Intelligent-Tiering object in an archive tier is pending like a Glacier one; one in
        // Frequent Access reads directly, and one restored earlier counts as ready.
        Assert.Equal(["g", "it-archive", "it-deep"], plan.Pending.Select(o => o.Entry.Key));
        Assert.Equal(1, plan.Ready);
        Assert.Equal([new ClassShare("GLACIER", 1, 100), new ClassShare("INTELLIGENT_TIERING", 1, 100, "ARCHIVE_ACCESS"), new ClassShare("INTELLIGENT_TIERING", 1, 100, "DEEP_ARCHIVE_ACCESS")], plan.ByClass);
        Assert.Equal("5-12 hours (Intelligent-Tiering Archive Access), within 48 hours (Intelligent-Tiering Deep Archive Access), 5-12 hours (Glacier Flexible Retrieval)", tiers[RestoreTier.Bulk].Delay);
        Assert.Equal("3-5 hours (Intelligent-Tiering Archive Access), within 12 hours (Intelligent-Tiering Deep Archive Access), 3-5 hours (Glacier Flexible Retrieval)", tiers[RestoreTier.Standard].Delay);
        // Intelligent-Tiering standard and bulk restores are free: only the Glacier object costs (0.01/GB and 0.05 per 1,000).
        Assert.Equal(0m, tiers[RestoreTier.Bulk].EstimatedUsd);
        Assert.Equal((0.01m * 100 / GiB) + (0.05m / 1000), tiers[RestoreTier.Standard].EstimatedUsd);
        Assert.Equal("expedited restores are not offered for Intelligent-Tiering Deep Archive Access (DEEP_ARCHIVE_ACCESS), which 1 of the objects are in; use --restore standard or bulk", plan.RefusalOf(RestoreTier.Expedited));
        await Assert.ThrowsAsync<ArgumentException>(() => gate.RequestAsync(plan, RestoreTier.Expedited, 7, CancellationToken.None));
        Assert.Empty(store.Requests);

        var report = await gate.RequestAsync(plan, RestoreTier.Bulk, 7, CancellationToken.None);
        var done = await gate.WaitAsync(plan, new RestoreWaitPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromSeconds(30)), null, CancellationToken.None);

        // S3 refuses Days for an Intelligent-Tiering archive tier: those requests carry none; the Glacier copy keeps its 7 days.
        Assert.Equal(new RestoreRequestReport(3, 0, 0), report);
        Assert.Equal((RestoreTier.Bulk, (int?)null, 1), store.Requests["it-archive"]);
        Assert.Equal((RestoreTier.Bulk, (int?)null, 1), store.Requests["it-deep"]);
        Assert.Equal((RestoreTier.Bulk, (int?)7, 1), store.Requests["g"]);
        Assert.True(done.IsReadable);
    }

    [Fact]
    public void Expedited_is_offered_for_the_intelligent_tiering_archive_access_tier_alone()
    {
        var plan = new RestorePlan([new ArchivedObject(new ObjectEntry("it", GiB, StorageClass: "INTELLIGENT_TIERING"), new ArchivedObjectStatus(RestoreState.NotRequested, AccessTier: "ARCHIVE_ACCESS"))], 0, DateTimeOffset.UtcNow);

        var expedited = plan.Tiers.Single(t => t.Tier == RestoreTier.Expedited);

        Assert.True(expedited.Available);
        Assert.Equal("1-5 minutes", expedited.Delay);
        Assert.Equal(0.03m + (10.00m / 1000), expedited.EstimatedUsd);
        Assert.True(plan.HasIntelligentTiering);
    }

    private sealed class InlineProgress(Action<RestorePlan> report) : IProgress<RestorePlan>
    {
        public void Report(RestorePlan value) => report(value);
    }

    /// <summary>An archive in memory: a requested restore completes after a number of HEADs of its object.</summary>
    private sealed class FakeArchive : IArchiveStore
    {
        private readonly ConcurrentDictionary<string, ArchivedObjectStatus> statuses = new(StringComparer.Ordinal);

        public FakeArchive(params (string Key, string? StorageClass, ArchivedObjectStatus? Status)[] objects)
        {
            Entries = [.. objects.Select(o => new ObjectEntry(o.Key, 100, StorageClass: o.StorageClass))];
            foreach (var (key, _, status) in objects)
            {
                statuses[key] = status ?? ArchivedObjectStatus.None;
            }
        }

        public IReadOnlyList<ObjectEntry> Entries { get; }

        public int PollsUntilReady { get; set; } = 1;

        public ConcurrentDictionary<string, int> Heads { get; } = new(StringComparer.Ordinal);

        public ConcurrentBag<string> Gone { get; } = [];

        public ConcurrentDictionary<string, (RestoreTier Tier, int? Days, int Count)> Requests { get; } = new(StringComparer.Ordinal);

        public bool ListingsReportRestoreStatus { get; set; }

        public Task<ArchivedObjectStatus> GetRestoreStatusAsync(string key, CancellationToken cancellationToken)
        {
            if (Gone.Contains(key))
            {
                throw new ObjectNotFoundException(key);
            }

            var heads = Heads.AddOrUpdate(key, 1, (_, n) => n + 1);
            if (Requests.ContainsKey(key) && statuses[key].State == RestoreState.InProgress && heads >= PollsUntilReady)
            {
                // A Glacier copy lasts its days; an Intelligent-Tiering object is back in Frequent Access, out of its archive tier.
                statuses[key] = statuses[key].AccessTier is null ? new ArchivedObjectStatus(RestoreState.Restored, DateTimeOffset.UtcNow.AddDays(1)) : new ArchivedObjectStatus(RestoreState.Restored);
            }

            return Task.FromResult(statuses[key]);
        }

        public Task<RestoreRequestOutcome> RequestRestoreAsync(string key, RestoreTier tier, int? days, CancellationToken cancellationToken)
        {
            if (Gone.Contains(key))
            {
                throw new ObjectNotFoundException(key);
            }

            Requests.AddOrUpdate(key, (tier, days, 1), (_, r) => (tier, days, r.Count + 1));
            Heads[key] = 0;
            var current = statuses[key];
            if (current.State == RestoreState.InProgress)
            {
                return Task.FromResult(RestoreRequestOutcome.AlreadyInProgress);
            }

            statuses[key] = new ArchivedObjectStatus(RestoreState.InProgress, AccessTier: current.AccessTier);
            return Task.FromResult(current.IsReadable(DateTimeOffset.UtcNow) ? RestoreRequestOutcome.AlreadyRestored : RestoreRequestOutcome.Started);
        }
    }
}
