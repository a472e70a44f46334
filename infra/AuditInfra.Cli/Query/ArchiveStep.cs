using System.Globalization;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Planning;
using Spectre.Console;

namespace AuditInfra.Cli.Query;

/// <summary>What the user asked about archived objects: a tier to restore them at, for how many days, and whether to wait.</summary>
public sealed record RestoreChoice(RestoreTier? Tier, int Days, bool Wait, TimeSpan WaitTimeout, string WaitTimeoutText)
{
    public const int DefaultDays = 7;

    /// <summary>S3 keeps a restored copy for the days asked; a year is far beyond any investigation's need.</summary>
    public const int MaxDays = 365;
}

/// <summary>
/// <c>query --source s3://</c> between its listing and its reads: objects in Glacier Flexible Retrieval or Deep Archive, or
/// in an Intelligent-Tiering archive tier, that are not restored are never skipped (Athena skips them silently; that is the trap). The command says what the
/// question needs and exits 3, or with <c>--restore</c> asks S3 for exactly those objects, and with <c>--wait</c> waits
/// until they read. Every run reads each object's own restore status, so runs resume where earlier ones stopped.
/// </summary>
public static class ArchiveStep
{
    /// <summary>How the wait polls: often at first (expedited restores take minutes), then every five minutes at most.</summary>
    public static readonly TimeSpan FirstPoll = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan LongestPoll = TimeSpan.FromMinutes(5);

    /// <summary>Null when every object the question reads can be read now; otherwise the exit code the command ends with.</summary>
    /// <param name="digests">With --verify, the digest objects the verifier reads for these logs: lifecycle archives them too.</param>
    public static async Task<int?> RunAsync(CliIo io, IArchiveStore store, string url, IReadOnlyCollection<ObjectEntry> objects, RestoreChoice choice, bool json, CancellationToken cancellationToken, IReadOnlyCollection<ObjectEntry>? digests = null)
    {
        digests ??= [];
        var gate = new ArchiveGate(store, TimeProvider.System);
        var plan = await gate.InspectAsync(objects.Concat(digests), cancellationToken);
        if (plan.IsReadable)
        {
            return null;
        }

        RestoreRequestReport? requested = null;
        if (choice.Tier is { } tier)
        {
            if (plan.RefusalOf(tier) is { } refusal)
            {
                io.Err.WriteLine($"--restore {ArchiveStorage.Name(tier)}: {refusal}");
                return ExitCodes.UsageOrInput;
            }

            requested = await gate.RequestAsync(plan, tier, choice.Days, cancellationToken);
            io.Err.WriteLine(RequestedLine(plan, tier, choice.Days, requested));
            if (requested.Started + requested.AlreadyInProgress + requested.AlreadyRestored > 0)
            {
                // What S3 says now, not what it said before the requests: the report and the wait start from it.
                var again = await gate.InspectAsync(plan.Pending.Select(o => o.Entry), fromListing: false, cancellationToken);
                plan = again with { Ready = plan.Ready + again.Ready };
                if (plan.IsReadable)
                {
                    io.Err.WriteLine($"All {plan.Ready} archived object(s) of the question are restored; reading.");
                    return null;
                }
            }
        }

        if (choice.Wait && (requested is not null || plan.NotRequested.Count == 0))
        {
            io.Err.WriteLine($"Waiting for {plan.Pending.Count} restore(s) in {url} (up to --wait-timeout {choice.WaitTimeoutText}; Ctrl+C stops waiting, the restores go on)...");

            plan = await WaitAsync(io, gate, plan, choice, cancellationToken);
            if (plan.IsReadable)
            {
                io.Err.WriteLine($"All {plan.Ready} archived object(s) of the question are restored; reading.");
                return null;
            }
        }

        Report(io, url, objects.Count, digests.Select(d => d.Key).ToHashSet(StringComparer.Ordinal), plan, choice, requested, json);
        return ExitCodes.NeedsRestore;
    }

    private static async Task<RestorePlan> WaitAsync(CliIo io, ArchiveGate gate, RestorePlan plan, RestoreChoice choice, CancellationToken cancellationToken)
    {
        var policy = new RestoreWaitPolicy(FirstPoll, LongestPoll, choice.WaitTimeout);
        if (!io.IsTerminal)
        {
            // Piped: no progress lines between the start and the outcome.
            return await gate.WaitAsync(plan, policy, null, cancellationToken);
        }

        var total = plan.Pending.Count + plan.Ready;
        return await io.Console.Status().StartAsync(StatusText(plan, total), async context =>
        {
            var progress = new SynchronousProgress<RestorePlan>(p => context.Status(StatusText(p, total)));
            return await gate.WaitAsync(plan, policy, progress, cancellationToken);
        });
    }

    private static string StatusText(RestorePlan plan, int total) =>
        Markup.Escape($"Restores: {plan.Ready} of {total} ready, {plan.InProgress} in progress (checked {plan.CheckedAt:HH:mm:ss} UTC)");

    private static string RequestedLine(RestorePlan plan, RestoreTier tier, int days, RestoreRequestReport requested)
    {
        var earlier = plan.InProgress > 0 || plan.Ready > 0 ? $"; requested earlier: {plan.InProgress} in progress, {plan.Ready} ready" : "";
        // Intelligent-Tiering objects take no days: S3 moves them back to Frequent Access, with no copy to expire.
        var kept = !plan.HasIntelligentTiering ? $"{days} day(s)"
            : plan.NotRequested.All(o => o.IsIntelligentTiering) ? "Intelligent-Tiering: back to Frequent Access, no days"
            : $"{days} day(s); Intelligent-Tiering: back to Frequent Access, no days";
        return requested.Started + requested.AlreadyInProgress + requested.AlreadyRestored == 0
            ? $"No new restore requested: every archived object the question reads was requested earlier ({plan.InProgress} in progress, {plan.Ready} ready)."
            : $"Restore requested ({ArchiveStorage.Name(tier)}, {kept}): {requested.Started} started, {requested.AlreadyInProgress} already in progress, {requested.AlreadyRestored} already restored{earlier}.";
    }

    private static void Report(CliIo io, string url, int logCount, HashSet<string> digestKeys, RestorePlan plan, RestoreChoice choice, RestoreRequestReport? requested, bool json)
    {
        var notRequested = plan.NotRequested;
        var objectCount = logCount + digestKeys.Count;
        var pendingDigests = plan.Pending.Where(o => digestKeys.Contains(o.Entry.Key)).ToList();
        var pendingLogs = plan.Pending.Count - pendingDigests.Count;
        if (json)
        {
            var document = new JsonObject
            {
                ["status"] = "needs-restore",
                ["source"] = url,
                ["objects"] = plan.Pending.Count,
                ["bytes"] = plan.PendingBytes,
                ["logObjects"] = pendingLogs,
                ["digestObjects"] = pendingDigests.Count,
                ["digestBytes"] = pendingDigests.Sum(o => o.Entry.Size),
                ["notRequested"] = notRequested.Count,
                ["inProgress"] = plan.InProgress,
                ["ready"] = plan.Ready,
                ["readDirectly"] = objectCount - plan.Pending.Count - plan.Ready,
                ["byStorageClass"] = new JsonArray([.. plan.ByClass.Select(c => (JsonNode)new JsonObject { ["storageClass"] = c.StorageClass, ["accessTier"] = c.AccessTier, ["objects"] = c.Objects, ["bytes"] = c.Bytes })]),
                ["tiers"] = new JsonArray([.. plan.Tiers.Select(t => (JsonNode)new JsonObject
                {
                    ["tier"] = ArchiveStorage.Name(t.Tier),
                    ["available"] = t.Available,
                    ["delay"] = t.Available ? t.Delay : null,
                    ["estimatedUsd"] = t.Available ? Math.Round(t.EstimatedUsd, 6) : null,
                    ["refusal"] = t.Refusal,
                })]),
                ["priceNote"] = PriceNote,
                ["requested"] = requested is null ? null : new JsonObject { ["started"] = requested.Started, ["alreadyInProgress"] = requested.AlreadyInProgress, ["alreadyRestored"] = requested.AlreadyRestored },
                ["keys"] = new JsonArray([.. plan.Pending.Select(o => (JsonNode)JsonValue.Create(o.Entry.Key))]),
            };
            io.Out.WriteLine(document.ToJsonString(JsonFormat.Indented));
            return;
        }

        var err = io.Err;
        err.WriteLine(digestKeys.Count == 0
            ? $"Needs restore: {plan.Pending.Count} of the {objectCount} log object(s) the question reads in {url} are archived and cannot be read yet ({Size(plan.PendingBytes)}):"
            : $"Needs restore: {plan.Pending.Count} of the {objectCount} object(s) the question reads in {url} are archived and cannot be read yet ({Size(plan.PendingBytes)}): {pendingLogs} of {logCount} log(s), {pendingDigests.Count} of {digestKeys.Count} digest(s) that --verify reads ({Size(pendingDigests.Sum(o => o.Entry.Size))})");
        foreach (var share in plan.ByClass)
        {
            err.WriteLine(share.AccessTier is null
                ? $"  {share.StorageClass} ({ArchiveStorage.Name(share.StorageClass)}): {share.Objects} object(s), {Size(share.Bytes)}"
                : $"  {share.StorageClass} {share.AccessTier} ({ArchiveStorage.Name(share.AccessTier)}): {share.Objects} object(s), {Size(share.Bytes)}");
        }

        err.WriteLine($"  restore: {notRequested.Count} not requested, {plan.InProgress} in progress, {plan.Ready} ready");
        if (notRequested.Count > 0)
        {
            err.WriteLine($"Restore tiers for the {notRequested.Count} not requested ({PriceNote}):");
            foreach (var tier in plan.Tiers)
            {
                err.WriteLine(tier.Available
                    ? $"  {ArchiveStorage.Name(tier.Tier),-10} {tier.Delay}; {Usd(tier.EstimatedUsd)}"
                    : $"  {ArchiveStorage.Name(tier.Tier),-10} not offered: {tier.Refusal}");
            }

            err.WriteLine($"Rerun with --restore bulk|standard|expedited [--restore-days N, default {RestoreChoice.DefaultDays}] to request exactly these restores, and --wait to wait for them and answer.");
        }
        else if (choice.Wait)
        {
            err.WriteLine($"Still {plan.InProgress} restore(s) in progress after --wait-timeout {choice.WaitTimeoutText}; they go on: rerun later (with --wait) to answer.");
        }
        else
        {
            err.WriteLine("Every restore is requested: rerun with --wait to wait for them and answer, or later.");
        }
    }

    private const string PriceNote = "S3's published retrieval times; prices are us-east-1 list prices per GB and per 1,000 requests, an estimate";

    private static string Usd(decimal usd) => usd == 0 ? "free" : usd < 0.01m ? "under $0.01" : "about $" + usd.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / 1073741824.0).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };
}
