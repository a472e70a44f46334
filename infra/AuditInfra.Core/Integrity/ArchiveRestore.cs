using System.Globalization;

namespace AuditInfra.Core.Integrity;

/// <summary>How fast, and at what price, S3 brings an archived object back (RestoreObject's GlacierJobParameters.Tier).</summary>
public enum RestoreTier
{
    Bulk,
    Standard,
    Expedited,
}

/// <summary>Where an archived object's restore stands, from its <c>x-amz-restore</c> header (or the listing's RestoreStatus).</summary>
public enum RestoreState
{
    /// <summary>No restore requested (no header), or the restored copy has expired.</summary>
    NotRequested,
    InProgress,
    Restored,
}

/// <param name="AccessTier">
/// For an INTELLIGENT_TIERING object, its archive tier from HEAD's <c>x-amz-archive-status</c> (ARCHIVE_ACCESS or
/// DEEP_ARCHIVE_ACCESS), or null when it is in a tier that reads directly. A listing says INTELLIGENT_TIERING for every tier.
/// </param>
public sealed record ArchivedObjectStatus(RestoreState State, DateTimeOffset? ExpiresAt = null, string? AccessTier = null)
{
    public static readonly ArchivedObjectStatus None = new(RestoreState.NotRequested);

    /// <summary>A restored copy can be read until it expires; an expired one is gone, as if never restored.</summary>
    public bool IsReadable(DateTimeOffset now) => State == RestoreState.Restored && (ExpiresAt is not { } expiry || expiry > now);

    /// <summary>What to do about the object now: a copy past its expiry needs a new restore.</summary>
    public RestoreState Effective(DateTimeOffset now) => State == RestoreState.Restored && !IsReadable(now) ? RestoreState.NotRequested : State;
}

/// <summary>What S3 answered to one RestoreObject.</summary>
public enum RestoreRequestOutcome
{
    /// <summary>202: the restore began.</summary>
    Started,

    /// <summary>409 RestoreAlreadyInProgress: someone (an earlier run) asked before.</summary>
    AlreadyInProgress,

    /// <summary>200: a restored copy exists (its expiry is moved to the new days).</summary>
    AlreadyRestored,
}

/// <summary>A store whose objects may be archived (S3): restore status by HEAD, and RestoreObject.</summary>
public interface IArchiveStore
{
    /// <summary>
    /// The object's restore status from its <c>x-amz-restore</c> header and, for Intelligent-Tiering, its archive tier from
    /// <c>x-amz-archive-status</c> (HEAD). Throws <see cref="ObjectNotFoundException"/> when it is gone.
    /// </summary>
    Task<ArchivedObjectStatus> GetRestoreStatusAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Asks S3 to restore the object at <paramref name="tier"/>: a copy kept <paramref name="days"/> days (Glacier classes), or
    /// with null days a move back to Frequent Access (Intelligent-Tiering archive tiers, which S3 refuses Days for).
    /// </summary>
    Task<RestoreRequestOutcome> RequestRestoreAsync(string key, RestoreTier tier, int? days, CancellationToken cancellationToken);

    /// <summary>
    /// True once the store's listings are known to carry the restore status of every object that has one (ListObjectsV2 with
    /// <c>x-amz-optional-object-attributes: RestoreStatus</c>, answered by S3 and by endpoints that return the element): an
    /// archived object listed without one then has no restore, and needs no HEAD to say so. S3 omits the element for an object
    /// never restored, so an endpoint that ignores the header looks the same until some listed object carries one.
    /// </summary>
    bool ListingsReportRestoreStatus => false;
}

/// <summary>The storage classes a GET cannot read until restored; every other class (GLACIER_IR, STANDARD_IA, ...) reads directly.</summary>
public static class ArchiveStorage
{
    public const string Glacier = "GLACIER";
    public const string DeepArchive = "DEEP_ARCHIVE";
    public const string IntelligentTiering = "INTELLIGENT_TIERING";

    /// <summary>The Intelligent-Tiering tiers a GET cannot read until restored (HEAD's <c>x-amz-archive-status</c>).</summary>
    public const string ArchiveAccess = "ARCHIVE_ACCESS";
    public const string DeepArchiveAccess = "DEEP_ARCHIVE_ACCESS";

    /// <summary>A class whose every object must be restored before a GET (the listing says so).</summary>
    public static bool NeedsRestore(string? storageClass) => storageClass is Glacier or DeepArchive;

    /// <summary>A class whose objects may need a restore: Glacier's, and Intelligent-Tiering, whose archive tiers only HEAD names.</summary>
    public static bool MayNeedRestore(string? storageClass) => NeedsRestore(storageClass) || storageClass == IntelligentTiering;

    public static bool IsArchiveTier(string? accessTier) => accessTier is ArchiveAccess or DeepArchiveAccess;

    /// <summary>A storage class or an Intelligent-Tiering archive tier, as a person knows it.</summary>
    public static string Name(string storageClass) => storageClass switch
    {
        Glacier => "Glacier Flexible Retrieval",
        DeepArchive => "Glacier Deep Archive",
        ArchiveAccess => "Intelligent-Tiering Archive Access",
        DeepArchiveAccess => "Intelligent-Tiering Deep Archive Access",
        _ => storageClass,
    };

    public static string Name(RestoreTier tier) => tier.ToString().ToLowerInvariant();

    /// <summary>A tier as typed on the command line (bulk, standard, expedited), or null.</summary>
    public static RestoreTier? ParseTier(string text) => text switch
    {
        "bulk" => RestoreTier.Bulk,
        "standard" => RestoreTier.Standard,
        "expedited" => RestoreTier.Expedited,
        _ => null,
    };
}

/// <summary>
/// The <c>x-amz-restore</c> header: <c>ongoing-request="true"</c>, or <c>ongoing-request="false", expiry-date="RFC 1123 date"</c>.
/// The endpoint is untrusted: the header is read strictly (comma-separated <c>name="value"</c> pairs, each name once,
/// ongoing-request required and true or false, a date that is one) and only up to <see cref="MaxLength"/> characters.
/// </summary>
public static class RestoreHeader
{
    public const string Name = "x-amz-restore";

    /// <summary>S3's header is under 100 characters; anything far longer is not one.</summary>
    public const int MaxLength = 512;

    public static ArchivedObjectStatus Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return ArchivedObjectStatus.None;
        }

        if (value.Length > MaxLength)
        {
            throw new FormatException($"{Name} is {value.Length} characters long (at most {MaxLength} expected)");
        }

        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        var at = 0;
        while (true)
        {
            while (at < value.Length && value[at] == ' ')
            {
                at++;
            }

            var equals = value.IndexOf('=', at);
            if (equals <= at || equals + 1 >= value.Length || value[equals + 1] != '"')
            {
                throw Malformed(value);
            }

            var name = value[at..equals];
            if (!name.All(c => char.IsAsciiLetterLower(c) || c == '-'))
            {
                throw Malformed(value);
            }

            var close = value.IndexOf('"', equals + 2);
            if (close < 0 || !pairs.TryAdd(name, value[(equals + 2)..close]))
            {
                throw Malformed(value);
            }

            at = close + 1;
            if (at == value.Length)
            {
                break;
            }

            if (value[at] != ',')
            {
                throw Malformed(value);
            }

            at++;
        }

        if (!pairs.TryGetValue("ongoing-request", out var ongoing) || ongoing is not ("true" or "false"))
        {
            throw new FormatException($"{Name} \"{value}\" has no ongoing-request=\"true\" or \"false\"");
        }

        if (ongoing == "true")
        {
            return new ArchivedObjectStatus(RestoreState.InProgress);
        }

        if (!pairs.TryGetValue("expiry-date", out var expiry))
        {
            return new ArchivedObjectStatus(RestoreState.Restored);
        }

        if (!DateTimeOffset.TryParseExact(expiry, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
        {
            throw new FormatException($"{Name}: expiry-date \"{expiry}\" is not an HTTP date such as \"Sun, 23 Dec 2012 00:00:00 GMT\"");
        }

        return new ArchivedObjectStatus(RestoreState.Restored, expires);
    }

    private static FormatException Malformed(string value) => new($"{Name} \"{value}\" is not a list of name=\"value\" pairs");
}

/// <summary>One tier of one storage class: S3's published typical time and us-east-1 price.</summary>
public sealed record RestoreTerms(string StorageClass, RestoreTier Tier, string Delay, decimal UsdPerGb, decimal UsdPer1000Requests);

/// <summary>
/// S3's published restore times and us-east-1 prices, as looked up on 2026-12-04. Times: the S3 User Guide,
/// "Understanding archive retrieval options" (docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html):
/// Flexible Retrieval expedited 1-5 minutes (objects under 250 MB), standard 3-5 hours, bulk 5-12 hours; Deep Archive standard
/// within 12 hours, bulk within 48 hours; no expedited for Deep Archive. Prices per GB retrieved and per 1,000 restore requests:
/// Flexible Retrieval standard $0.01 and $0.05, expedited $0.03 and $10.00 (AWS re:Post knowledge center "s3-manage-data-retrieval"
/// worked example; the per-GB expedited rate also in awsnegotiations.com's May 2026 list); bulk free (the same User Guide page:
/// "Bulk retrievals are free for objects that are stored in S3 Glacier Flexible Retrieval"); Deep Archive standard $0.02 and $0.10,
/// bulk $0.0025 and $0.025 (awsnegotiations.com May 2026 list, gist casouri/56e1e634 of 2023). Prices change and differ by region:
/// the numbers are an estimate, printed as one, and https://aws.amazon.com/s3/pricing/ is authoritative.
/// Intelligent-Tiering archive tiers (looked up on 2026-12-05), the same User Guide page and the RestoreObject API reference
/// (docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html): Archive Access expedited 1-5 minutes, standard 3-5 hours,
/// bulk 5-12 hours; Deep Archive Access standard within 12 hours, bulk within 48 hours, no expedited; "Standard retrievals are
/// free for objects stored in S3 Intelligent-Tiering", and so are bulk ones; expedited ones are "charged at the Expedited
/// request and retrieval rate", estimated here at Flexible Retrieval's expedited rate.
/// </summary>
public static class RestorePricing
{
    public static readonly IReadOnlyList<RestoreTerms> Published =
    [
        new(ArchiveStorage.Glacier, RestoreTier.Expedited, "1-5 minutes", 0.03m, 10.00m),
        new(ArchiveStorage.Glacier, RestoreTier.Standard, "3-5 hours", 0.01m, 0.05m),
        new(ArchiveStorage.Glacier, RestoreTier.Bulk, "5-12 hours", 0m, 0m),
        new(ArchiveStorage.DeepArchive, RestoreTier.Standard, "within 12 hours", 0.02m, 0.10m),
        new(ArchiveStorage.DeepArchive, RestoreTier.Bulk, "within 48 hours", 0.0025m, 0.025m),
        new(ArchiveStorage.ArchiveAccess, RestoreTier.Expedited, "1-5 minutes", 0.03m, 10.00m),
        new(ArchiveStorage.ArchiveAccess, RestoreTier.Standard, "3-5 hours", 0m, 0m),
        new(ArchiveStorage.ArchiveAccess, RestoreTier.Bulk, "5-12 hours", 0m, 0m),
        new(ArchiveStorage.DeepArchiveAccess, RestoreTier.Standard, "within 12 hours", 0m, 0m),
        new(ArchiveStorage.DeepArchiveAccess, RestoreTier.Bulk, "within 48 hours", 0m, 0m),
    ];

    /// <summary>The terms of a tier for a class or Intelligent-Tiering archive tier, or null when S3 does not offer it (expedited for Deep Archive).</summary>
    public static RestoreTerms? Of(string storageClass, RestoreTier tier) => Published.FirstOrDefault(t => t.StorageClass == storageClass && t.Tier == tier);

    /// <summary>The price of restoring <paramref name="objects"/> objects of <paramref name="bytes"/> bytes in all (S3 bills GB as 2^30 bytes).</summary>
    public static decimal Estimate(RestoreTerms terms, int objects, long bytes) =>
        (terms.UsdPerGb * bytes / (1024m * 1024m * 1024m)) + (terms.UsdPer1000Requests * objects / 1000m);
}

/// <summary>An archived object the question reads, with its restore status.</summary>
public sealed record ArchivedObject(ObjectEntry Entry, ArchivedObjectStatus Status)
{
    public bool IsIntelligentTiering => Entry.StorageClass == ArchiveStorage.IntelligentTiering;

    /// <summary>What its restore terms depend on: the storage class, or for Intelligent-Tiering the archive tier it is in.</summary>
    public string ArchiveClass => IsIntelligentTiering ? Status.AccessTier ?? ArchiveStorage.IntelligentTiering : Entry.StorageClass!;

    /// <summary>
    /// A Glacier object reads while its restored copy lasts; an Intelligent-Tiering one once it is out of its archive tier
    /// (a restore moves it back to Frequent Access for good).
    /// </summary>
    public bool IsReadable(DateTimeOffset now) => IsIntelligentTiering ? Status.AccessTier is null || Status.State == RestoreState.Restored : Status.IsReadable(now);
}

/// <summary>Objects and bytes of one storage class (and Intelligent-Tiering archive tier).</summary>
public sealed record ClassShare(string StorageClass, int Objects, long Bytes, string? AccessTier = null)
{
    /// <summary>The key of its restore terms and its name: the archive tier for Intelligent-Tiering, else the class.</summary>
    public string ArchiveClass => AccessTier ?? StorageClass;
}

/// <summary>What one tier would take for the objects with no restore requested: null terms for a class it is not offered for.</summary>
public sealed record TierEstimate(RestoreTier Tier, bool Available, string Delay, decimal EstimatedUsd, string? Refusal);

/// <summary>
/// What a question needs before it can be read: the archived objects not readable yet (no restore requested, or one in
/// progress), their bytes by class, and per tier the published delay and a price estimate for those not requested.
/// Restored, unexpired archived objects read directly and are only counted.
/// </summary>
public sealed record RestorePlan(IReadOnlyList<ArchivedObject> Pending, int Ready, DateTimeOffset CheckedAt)
{
    public bool IsReadable => Pending.Count == 0;

    public long PendingBytes => Pending.Sum(o => o.Entry.Size);

    public IReadOnlyList<ArchivedObject> NotRequested => [.. Pending.Where(o => o.Status.Effective(CheckedAt) == RestoreState.NotRequested)];

    public int InProgress => Pending.Count(o => o.Status.Effective(CheckedAt) == RestoreState.InProgress);

    public IReadOnlyList<ClassShare> ByClass =>
        [.. Pending.GroupBy(o => (Class: o.Entry.StorageClass!, Tier: o.IsIntelligentTiering ? o.Status.AccessTier : null)).OrderBy(g => g.Key.Class, StringComparer.Ordinal).ThenBy(g => g.Key.Tier, StringComparer.Ordinal).Select(g => new ClassShare(g.Key.Class, g.Count(), g.Sum(o => o.Entry.Size), g.Key.Tier))];

    /// <summary>Whether any object to request is in an Intelligent-Tiering archive tier (restored with no days).</summary>
    public bool HasIntelligentTiering => NotRequested.Any(o => o.IsIntelligentTiering);

    /// <summary>Every tier, cheapest first, for the objects with no restore requested yet (those in progress are already paid for).</summary>
    public IReadOnlyList<TierEstimate> Tiers
    {
        get
        {
            var toRequest = NotRequested;
            // Only classes with published terms: an object whose archive tier HEAD did not name is already in progress.
            var classes = (toRequest.Count > 0 ? toRequest : Pending).Select(o => o.ArchiveClass).Where(c => RestorePricing.Published.Any(t => t.StorageClass == c)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            return [.. new[] { RestoreTier.Bulk, RestoreTier.Standard, RestoreTier.Expedited }.Select(tier => Estimate(tier, classes, toRequest))];
        }
    }

    /// <summary>Why a tier cannot restore these objects (expedited with Deep Archive among them), or null.</summary>
    public string? RefusalOf(RestoreTier tier) => Tiers.First(t => t.Tier == tier).Refusal;

    private static TierEstimate Estimate(RestoreTier tier, IReadOnlyList<string> classes, IReadOnlyList<ArchivedObject> toRequest)
    {
        var missing = classes.Where(c => RestorePricing.Of(c, tier) is null).ToList();
        if (missing.Count > 0)
        {
            var count = toRequest.Count(o => missing.Contains(o.ArchiveClass));
            return new TierEstimate(tier, false, "not offered", 0m, $"{ArchiveStorage.Name(tier)} restores are not offered for {string.Join(" or ", missing.Select(ArchiveStorage.Name))} ({missing[0]}){(count > 0 ? $", which {count} of the objects are in" : "")}; use --restore standard or bulk");
        }

        var delays = classes.Select(c => classes.Count > 1 ? $"{RestorePricing.Of(c, tier)!.Delay} ({ArchiveStorage.Name(c)})" : RestorePricing.Of(c, tier)!.Delay);
        var usd = toRequest.Where(o => RestorePricing.Of(o.ArchiveClass, tier) is not null).GroupBy(o => o.ArchiveClass, StringComparer.Ordinal).Sum(g => RestorePricing.Estimate(RestorePricing.Of(g.Key, tier)!, g.Count(), g.Sum(o => o.Entry.Size)));
        return new TierEstimate(tier, true, string.Join(", ", delays), usd, null);
    }
}

/// <summary>How <see cref="ArchiveGate.WaitAsync"/> polls: the first wait, doubled up to the longest, until the timeout.</summary>
public sealed record RestoreWaitPolicy(TimeSpan FirstPoll, TimeSpan LongestPoll, TimeSpan Timeout);

/// <summary>What a run of <see cref="ArchiveGate.RequestAsync"/> asked for and what S3 answered.</summary>
public sealed record RestoreRequestReport(int Started, int AlreadyInProgress, int AlreadyRestored);

/// <summary>
/// Between a listing and its reads: finds the archived objects a question needs that cannot be read yet, asks S3 to
/// restore exactly those (idempotent: objects already in progress or restored are not asked again; a second run only
/// reports), and waits for them. The restore status of each object comes from S3 (the listing's RestoreStatus, or the
/// object's own x-amz-restore header), so a run picks up where an earlier one left off.
/// </summary>
public sealed class ArchiveGate(IArchiveStore store, TimeProvider time, int parallelism = 16)
{
    /// <summary>
    /// The plan for <paramref name="entries"/> as listed: a Glacier object's restore status comes from the listing when it
    /// carries one (or is known to report every one: <see cref="IArchiveStore.ListingsReportRestoreStatus"/>), else from a
    /// HEAD; an Intelligent-Tiering object always needs a HEAD, since only HEAD names its archive tier. Other classes read directly.
    /// </summary>
    public Task<RestorePlan> InspectAsync(IEnumerable<ObjectEntry> entries, CancellationToken cancellationToken) =>
        InspectAsync(entries, fromListing: true, cancellationToken);

    /// <param name="fromListing">False to ask each object afresh by HEAD: after requests, and on every poll, the listing is old.</param>
    public async Task<RestorePlan> InspectAsync(IEnumerable<ObjectEntry> entries, bool fromListing, CancellationToken cancellationToken)
    {
        var candidates = entries.Where(e => ArchiveStorage.MayNeedRestore(e.StorageClass)).ToList();
        var statuses = new ArchivedObjectStatus?[candidates.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, candidates.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            if (fromListing && Listed(candidates[i]) is { } listed)
            {
                statuses[i] = listed;
                return;
            }

            try
            {
                statuses[i] = await store.GetRestoreStatusAsync(candidates[i].Key, ct);
            }
            catch (ObjectNotFoundException)
            {
                // Deleted since the listing: nothing to restore; the read names it as gone.
                statuses[i] = null;
            }
        });
        return PlanOf(candidates
            .Select((e, i) => statuses[i] is { } status ? new ArchivedObject(e, status) : null)
            .OfType<ArchivedObject>()
            // An Intelligent-Tiering object outside the archive tiers, never restored, was never archived: it reads directly.
            .Where(o => !(o.IsIntelligentTiering && o.Status.AccessTier is null && o.Status.State == RestoreState.NotRequested)));
    }

    private ArchivedObjectStatus? Listed(ObjectEntry entry) =>
        !ArchiveStorage.NeedsRestore(entry.StorageClass) ? null
        : entry.ListedRestore ?? (store.ListingsReportRestoreStatus ? ArchivedObjectStatus.None : null);

    /// <summary>
    /// RestoreObject for each object of the plan with no restore requested (or an expired copy), and nothing else: a Glacier
    /// copy for <paramref name="days"/> days; an Intelligent-Tiering object with no days (S3 refuses them: it returns to Frequent Access).
    /// </summary>
    public async Task<RestoreRequestReport> RequestAsync(RestorePlan plan, RestoreTier tier, int days, CancellationToken cancellationToken)
    {
        if (plan.RefusalOf(tier) is { } refusal)
        {
            throw new ArgumentException(refusal, nameof(tier));
        }

        var toRequest = plan.NotRequested;
        var outcomes = new RestoreRequestOutcome?[toRequest.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, toRequest.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            try
            {
                outcomes[i] = await store.RequestRestoreAsync(toRequest[i].Entry.Key, tier, toRequest[i].IsIntelligentTiering ? null : days, ct);
            }
            catch (ObjectNotFoundException)
            {
                // Deleted since the listing: nothing to restore; the read names it as gone.
                outcomes[i] = null;
            }
        });
        return new RestoreRequestReport(
            outcomes.Count(o => o == RestoreRequestOutcome.Started),
            outcomes.Count(o => o == RestoreRequestOutcome.AlreadyInProgress),
            outcomes.Count(o => o == RestoreRequestOutcome.AlreadyRestored));
    }

    /// <summary>
    /// Polls the pending objects (only those) until all are readable or the policy's timeout passes, each wait twice
    /// the last up to its longest: restores take minutes to hours and every poll is a HEAD per object. Returns the
    /// last plan: readable, or what is still pending when the time ran out or when some object has no restore requested.
    /// Cancellation ends the wait at once.
    /// </summary>
    public async Task<RestorePlan> WaitAsync(RestorePlan plan, RestoreWaitPolicy policy, IProgress<RestorePlan>? progress, CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp() + (long)(policy.Timeout.TotalSeconds * time.TimestampFrequency);
        var wait = policy.FirstPoll;
        while (!plan.IsReadable)
        {
            var left = TimeSpan.FromSeconds((double)(deadline - time.GetTimestamp()) / time.TimestampFrequency);
            if (left <= TimeSpan.Zero)
            {
                return plan;
            }

            await Task.Delay(wait < left ? wait : left, time, cancellationToken);
            wait = wait * 2 < policy.LongestPoll ? wait * 2 : policy.LongestPoll;
            var again = await InspectAsync(plan.Pending.Select(o => o.Entry), fromListing: false, cancellationToken);
            plan = again with { Ready = plan.Ready + again.Ready };
            progress?.Report(plan);
            if (plan.NotRequested.Count > 0)
            {
                // Nothing will make these readable (never requested, or the copy expired meanwhile): waiting on is pointless.
                return plan;
            }
        }

        return plan;
    }

    private RestorePlan PlanOf(IEnumerable<ArchivedObject> archived)
    {
        var now = time.GetUtcNow();
        var all = archived.ToList();
        return new RestorePlan([.. all.Where(o => !o.IsReadable(now)).OrderBy(o => o.Entry.Key, StringComparer.Ordinal)], all.Count(o => o.IsReadable(now)), now);
    }
}
