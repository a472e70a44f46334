using System.Globalization;
using System.Text.RegularExpressions;

namespace AuditInfra.Core.Integrity;

/// <summary>What a key in the bucket is, by the CloudTrail layout.</summary>
public enum CloudTrailObjectKind
{
    Log,
    Digest,
}

/// <summary>
/// A log or digest key parsed by the CloudTrail layout:
/// <c>[prefix/]AWSLogs/[org/]account/CloudTrail[-Digest]/region/YYYY/MM/DD/file</c>.
/// </summary>
public sealed record CloudTrailKey(
    string Key,
    CloudTrailObjectKind Kind,
    string Prefix,
    string? OrgId,
    string Account,
    string Region,
    DateTimeOffset Timestamp,
    string? TrailName,
    string? HomeRegion,
    bool Backfill)
{
    /// <summary>The digest chain this digest belongs to (one per trail, account and region).</summary>
    public string ChainId => $"{Prefix}|{OrgId}|{Account}|{Region}|{TrailName}|{HomeRegion}";
}

/// <summary>An object under an account's CloudTrail or CloudTrail-Digest folder, and what its file name claims.</summary>
public sealed record ObjectPlace(
    string Key,
    string Prefix,
    string? OrgId,
    string Account,
    CloudTrailObjectKind Folder,
    string? Region,
    string FileName,
    string? NamedAccount,
    string? NamedRegion,
    CloudTrailObjectKind? NamedKind);

/// <summary>Parses and builds CloudTrail log and digest keys.</summary>
public static partial class CloudTrailKeys
{
    [GeneratedRegex(@"^(?<prefix>(?:.*/)?)AWSLogs/(?:(?<org>o-[a-z0-9]{10,32})/)?(?<account>\d{12})/(?<type>CloudTrail|CloudTrail-Digest)/(?<region>[a-z0-9-]+)/(?<y>\d{4})/(?<m>\d{2})/(?<d>\d{2})/(?<file>[^/]+)\z")]
    private static partial Regex PathRegex();

    [GeneratedRegex(@"^(?<account>\d{12})_CloudTrail_(?<region>[a-z0-9-]+)_(?<ts>\d{8}T\d{4}Z)_(?<rand>[A-Za-z0-9]+)\.json\.gz\z")]
    private static partial Regex LogFileRegex();

    [GeneratedRegex(@"^(?<account>\d{12})_CloudTrail-Digest_(?<region>[a-z0-9-]+)_(?<trail>.+)_(?<home>[a-z]{2}(?:-[a-z]+)+-\d)_(?<ts>\d{8}T\d{6}Z)(?<backfill>_backfill)?\.json\.gz\z")]
    private static partial Regex DigestFileRegex();

    /// <summary>Parses a key; null when it is not a CloudTrail log or digest file.</summary>
    public static CloudTrailKey? Parse(string key)
    {
        var m = PathRegex().Match(key);
        if (!m.Success)
        {
            return null;
        }

        var file = m.Groups["file"].Value;
        var account = m.Groups["account"].Value;
        var region = m.Groups["region"].Value;
        var org = m.Groups["org"].Success ? m.Groups["org"].Value : null;
        if (m.Groups["type"].Value == "CloudTrail")
        {
            var f = LogFileRegex().Match(file);
            if (!f.Success || f.Groups["account"].Value != account || f.Groups["region"].Value != region)
            {
                return null;
            }

            var ts = DateTimeOffset.ParseExact(f.Groups["ts"].Value, "yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            return new CloudTrailKey(key, CloudTrailObjectKind.Log, m.Groups["prefix"].Value, org, account, region, ts, null, null, false);
        }

        var d = DigestFileRegex().Match(file);
        if (!d.Success || d.Groups["account"].Value != account || d.Groups["region"].Value != region)
        {
            return null;
        }

        var dts = DateTimeOffset.ParseExact(d.Groups["ts"].Value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        return new CloudTrailKey(key, CloudTrailObjectKind.Digest, m.Groups["prefix"].Value, org, account, region, dts, d.Groups["trail"].Value, d.Groups["home"].Value, d.Groups["backfill"].Success);
    }

    [GeneratedRegex(@"^(?<prefix>(?:.*/)?)AWSLogs/(?:(?<org>o-[a-z0-9]{10,32})/)?(?<account>\d{12})/(?<type>CloudTrail|CloudTrail-Digest)/(?<rest>.+)\z")]
    private static partial Regex FolderRegex();

    [GeneratedRegex(@"^(?<account>\d{12})_(?<type>CloudTrail|CloudTrail-Digest)_(?<region>[a-z0-9-]+)_")]
    private static partial Regex NamedPlaceRegex();

    /// <summary>
    /// Where an object sits in the layout when it is under an account's CloudTrail or CloudTrail-Digest folder,
    /// whatever its name; null elsewhere. <see cref="ObjectPlace.NamedAccount"/> and <see cref="ObjectPlace.NamedRegion"/>
    /// are what a CloudTrail-like file name says, so that a file moved to another account or region is told apart.
    /// </summary>
    public static ObjectPlace? ParsePlace(string key)
    {
        var m = FolderRegex().Match(key);
        if (!m.Success)
        {
            return null;
        }

        var rest = m.Groups["rest"].Value;
        var slash = rest.IndexOf('/');
        var region = slash < 0 ? null : rest[..slash];
        var file = key[(key.LastIndexOf('/') + 1)..];
        var named = NamedPlaceRegex().Match(file);
        return new ObjectPlace(
            key,
            m.Groups["prefix"].Value,
            m.Groups["org"].Success ? m.Groups["org"].Value : null,
            m.Groups["account"].Value,
            m.Groups["type"].Value == "CloudTrail-Digest" ? CloudTrailObjectKind.Digest : CloudTrailObjectKind.Log,
            region,
            file,
            named.Success ? named.Groups["account"].Value : null,
            named.Success ? named.Groups["region"].Value : null,
            named.Success ? (named.Groups["type"].Value == "CloudTrail-Digest" ? CloudTrailObjectKind.Digest : CloudTrailObjectKind.Log) : null);
    }

    /// <summary>The account's root; the prefix may be given with or without its trailing slash.</summary>
    private static string Root(string prefix, string? org, string account) =>
        $"{(prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/")}AWSLogs/{(org is null ? string.Empty : org + "/")}{account}";

    /// <summary>The key of a log file delivered at <paramref name="time"/>.</summary>
    public static string LogKey(string prefix, string? org, string account, string region, DateTimeOffset time, string random) =>
        $"{Root(prefix, org, account)}/CloudTrail/{region}/{time.UtcDateTime:yyyy'/'MM'/'dd}/{account}_CloudTrail_{region}_{time.UtcDateTime:yyyyMMdd'T'HHmm'Z'}_{random}.json.gz";

    /// <summary>The key of a digest delivered at <paramref name="time"/> (CloudTrail names it after its end time).</summary>
    public static string DigestKey(string prefix, string? org, string account, string region, string trail, string homeRegion, DateTimeOffset time, bool backfill = false) =>
        $"{Root(prefix, org, account)}/CloudTrail-Digest/{region}/{time.UtcDateTime:yyyy'/'MM'/'dd}/{account}_CloudTrail-Digest_{region}_{trail}_{homeRegion}_{time.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}{(backfill ? "_backfill" : string.Empty)}.json.gz";

    /// <summary>The key a digest of the same chain would have for a period ending at <paramref name="end"/>.</summary>
    public static string DigestKeyLike(CloudTrailKey sibling, DateTimeOffset end) =>
        DigestKey(sibling.Prefix, sibling.OrgId, sibling.Account, sibling.Region, sibling.TrailName!, sibling.HomeRegion!, end);
}
