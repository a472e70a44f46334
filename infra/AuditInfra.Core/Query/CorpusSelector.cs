using System.Collections.Immutable;
using System.Globalization;

namespace AuditInfra.Core.Query;

public sealed class QueryInputException(string message) : Exception(message);

/// <summary>What a local copy of the bucket holds, and the log files of one question, chosen by path alone.</summary>
public sealed record CorpusSelection(ImmutableArray<string> Files, ImmutableArray<string> AccountsPresent, DateOnly? FirstDay, DateOnly? LastDay);

/// <summary>
/// Finds CloudTrail log files in the bucket layout
/// <c>[prefix/]AWSLogs/[&lt;org-id&gt;/]&lt;account&gt;/CloudTrail/&lt;region&gt;/YYYY/MM/DD/*.json.gz</c>
/// by listing only the folders of the asked account, regions and days: cost grows with the data
/// selected, not with the corpus.
/// </summary>
public static class CorpusSelector
{
    /// <summary>Where `query --cache` keeps its Parquet files, beside the source; never read as logs.</summary>
    public const string CacheFolder = ".auditinfra-cache";

    public static CorpusSelection Select(string source, string account, DateOnly from, DateOnly to, IReadOnlyCollection<string> regions)
    {
        if (!Directory.Exists(source))
        {
            throw new QueryInputException($"{source}: the source folder does not exist");
        }

        var accountDirs = AccountDirectories(source).ToList();
        if (accountDirs.Count == 0)
        {
            throw new QueryInputException($"{source}: no CloudTrail logs found (expected the bucket layout [prefix/]AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/)");
        }

        var present = accountDirs.Select(d => Path.GetFileName(d)!).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
        var files = ImmutableArray.CreateBuilder<string>();
        DateOnly? first = null, last = null;
        foreach (var dir in accountDirs.Where(d => Path.GetFileName(d) == account))
        {
            var trailDir = Path.Combine(dir, "CloudTrail");
            if (!Directory.Exists(trailDir))
            {
                continue;
            }

            foreach (var regionDir in Directory.GetDirectories(trailDir).Order(StringComparer.Ordinal))
            {
                if (regions.Count > 0 && !regions.Contains(Path.GetFileName(regionDir)))
                {
                    continue;
                }

                // Only the day folders present are visited: a range as wide as 0001-01-01..9999-12-31
                // costs what the copy holds, not one probe per calendar day.
                foreach (var (day, dayDir) in Days(regionDir))
                {
                    first = first is null || day < first ? day : first;
                    last = last is null || day > last ? day : last;
                    if (day >= from && day <= to)
                    {
                        files.AddRange(Directory.GetFiles(dayDir, "*.json.gz").Order(StringComparer.Ordinal));
                    }
                }
            }
        }

        return new CorpusSelection(files.ToImmutable(), present, first, last);
    }

    /// <summary>Account folders under every AWSLogs folder (with or without the organization level).</summary>
    private static IEnumerable<string> AccountDirectories(string source)
    {
        var awsLogs = Path.GetFileName(Path.TrimEndingDirectorySeparator(source)) == "AWSLogs"
            ? [source]
            : Directory.EnumerateDirectories(source, "AWSLogs", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4 })
                .Where(d => !d.Contains(CacheFolder, StringComparison.Ordinal));
        foreach (var root in awsLogs)
        {
            foreach (var child in Directory.GetDirectories(root))
            {
                var name = Path.GetFileName(child);
                if (name.StartsWith("o-", StringComparison.Ordinal))
                {
                    foreach (var accountDir in Directory.GetDirectories(child).Where(d => Configuration.AwsFormats.AccountId(Path.GetFileName(d)) is null))
                    {
                        yield return accountDir;
                    }
                }
                else if (Configuration.AwsFormats.AccountId(name) is null)
                {
                    yield return child;
                }
            }
        }
    }

    /// <summary>The days present under a region folder (YYYY/MM/DD) in calendar order, read from folder names only.</summary>
    private static IEnumerable<(DateOnly Day, string Folder)> Days(string regionDir)
    {
        foreach (var year in Directory.GetDirectories(regionDir).Order(StringComparer.Ordinal))
        {
            foreach (var month in Directory.GetDirectories(year).Order(StringComparer.Ordinal))
            {
                foreach (var day in Directory.GetDirectories(month).Order(StringComparer.Ordinal))
                {
                    if (DateOnly.TryParseExact($"{Path.GetFileName(year)}-{Path.GetFileName(month)}-{Path.GetFileName(day)}", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                    {
                        yield return (date, day);
                    }
                }
            }
        }
    }
}
