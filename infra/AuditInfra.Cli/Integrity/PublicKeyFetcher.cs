using System.Globalization;
using System.Text;
using AuditInfra.Core.Aws;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>
/// The trails' home regions and the time span of a source's digests: what <c>list-public-keys</c> must be asked
/// for, so that the keys of every digest are returned (without a start time CloudTrail returns only today's key).
/// </summary>
public sealed record PublicKeySpan(IReadOnlyList<string> HomeRegions, DateTimeOffset From, DateTimeOffset To)
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    /// <summary>The CLI arguments for one home region (the runner adds <c>--output json</c>).</summary>
    public IReadOnlyList<string> Arguments(string homeRegion) =>
        ["cloudtrail", "list-public-keys", "--region", homeRegion, "--start-time", Time(From), "--end-time", Time(To)];

    /// <summary>How to produce the keys file by hand: the exact commands.</summary>
    public string Hint
    {
        get
        {
            var commands = HomeRegions.Select(h => $"aws {string.Join(' ', Arguments(h))} --output json").ToList();
            return commands.Count == 1
                ? $"Produce it with: {commands[0]} > public-keys.json"
                : $"Produce it with these commands and merge their outputs into one JSON array: {string.Join(" ; ", commands)}";
        }
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);
}

/// <summary>
/// Fetches the public keys CloudTrail signed a source's digests with, through the AWS CLI
/// (<c>aws cloudtrail list-public-keys</c> per home region, over the digests' time span), for
/// <c>verify</c> and <c>query --verify</c> when no <c>--public-keys</c> file is given.
/// </summary>
public static class PublicKeyFetcher
{
    /// <summary>
    /// The home regions and time span of the source's digests within the filters, or null when it holds none.
    /// Only each chain's first and last day of digests are listed: this must not cost a listing of the whole bucket.
    /// </summary>
    public static async Task<PublicKeySpan?> SpanAsync(IObjectStore store, VerifyOptions options, CancellationToken cancellationToken, DateTimeOffset? now = null)
    {
        var units = await SourceLayout.DiscoverAsync(store, options, cancellationToken);
        var edges = await Task.WhenAll(units.Select(unit => unit.EdgeDigestsAsync(store, cancellationToken)));
        var homes = new SortedSet<string>(StringComparer.Ordinal);
        DateTimeOffset? first = null, last = null;
        foreach (var key in edges.SelectMany(e => e))
        {
            homes.Add(key.HomeRegion!);
            first = first is null || key.Timestamp < first ? key.Timestamp : first;
            last = last is null || key.Timestamp > last ? key.Timestamp : last;
        }

        if (homes.Count == 0)
        {
            return null;
        }

        // An hour before: the first digest of a span is signed with the key valid when it was written.
        // CloudTrail refuses an end time in the future.
        var from = (options.Start ?? first!.Value).AddHours(-1);
        var to = options.End ?? last!.Value;
        var latest = now ?? DateTimeOffset.UtcNow;
        return new PublicKeySpan([.. homes], from, to > latest && latest > from ? latest : to);
    }

    /// <summary>
    /// The keys of the source's digests from CloudTrail; none are needed (an empty set) when the source holds no digest.
    /// </summary>
    /// <exception cref="IntegrityInputException">The keys could not be fetched (no CLI, no credentials, no access): one line with the command to produce them by hand.</exception>
    public static async Task<PublicKeySet> FetchAsync(AwsCli cli, IObjectStore store, VerifyOptions options, CancellationToken cancellationToken)
    {
        if (await SpanAsync(store, options, cancellationToken) is not { } span)
        {
            return new PublicKeySet([]);
        }

        return await FetchAsync(cli, span, cancellationToken);
    }

    /// <inheritdoc cref="FetchAsync(AwsCli, IObjectStore, VerifyOptions, CancellationToken)"/>
    public static async Task<PublicKeySet> FetchAsync(AwsCli cli, PublicKeySpan span, CancellationToken cancellationToken)
    {
        var lists = new StringBuilder("[");
        foreach (var home in span.HomeRegions)
        {
            string printed;
            try
            {
                printed = await cli.RunAsync(span.Arguments(home), cancellationToken);
            }
            catch (AwsCliException e)
            {
                throw new IntegrityInputException($"cannot fetch the trail's public keys: {e.Message}. Give them with --public-keys FILE instead. {span.Hint}", e);
            }

            lists.Append(lists.Length > 1 ? "," : "").Append(printed);
        }

        try
        {
            return PublicKeySet.Parse(lists.Append(']').ToString(), $"aws cloudtrail list-public-keys ({string.Join(", ", span.HomeRegions)})");
        }
        catch (IntegrityInputException e)
        {
            throw new IntegrityInputException($"{e.Message}. {span.Hint}", e);
        }
    }
}
