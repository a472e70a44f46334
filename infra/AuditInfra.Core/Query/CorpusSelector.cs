using System.Collections.Immutable;
using System.Globalization;

namespace AuditInfra.Core.Query;

public sealed class QueryInputException(string message) : Exception(message);

/// <summary>What a local copy of the bucket holds, and the log files of one question, chosen by path alone.</summary>
public sealed record CorpusSelection(ImmutableArray<string> Files, ImmutableArray<string> AccountsPresent, DateOnly? FirstDay, DateOnly? LastDay)
{
    /// <summary>Folders on the question's path that are symbolic links, each with what it points to: never followed.</summary>
    public ImmutableArray<(string Path, string Reason)> Links { get; init; } = [];
}

/// <summary>
/// Finds CloudTrail log files in the bucket layout
/// <c>[prefix/]AWSLogs/[&lt;org-id&gt;/]&lt;account&gt;/CloudTrail/&lt;region&gt;/YYYY/MM/DD/*.json.gz</c>
/// by listing only the folders of the asked account, regions and days: cost grows with the data
/// selected, not with the corpus. A folder that is a symbolic link is never followed (a loop would walk
/// forever; a link out of the copy would read logs that are not in it): it is named instead.
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

        var links = ImmutableArray.CreateBuilder<(string, string)>();
        var accountDirs = AccountDirectories(source, account, links).ToList();
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
            if (!Directory.Exists(trailDir) || IsLink(trailDir, links))
            {
                continue;
            }

            foreach (var regionDir in Directory.GetDirectories(trailDir).Order(StringComparer.Ordinal))
            {
                if ((regions.Count > 0 && !regions.Contains(Path.GetFileName(regionDir))) || IsLink(regionDir, links))
                {
                    continue;
                }

                // Only the day folders present are visited: a range as wide as 0001-01-01..9999-12-31
                // costs what the copy holds, not one probe per calendar day.
                foreach (var (day, dayDir) in Days(regionDir, links))
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

        return new CorpusSelection(files.ToImmutable(), present, first, last) { Links = links.ToImmutable() };
    }

    /// <summary>
    /// Account folders under every AWSLogs folder (with or without the organization level). A link on
    /// the way to the asked account is named; links elsewhere (other accounts) are passed over unread.
    /// </summary>
    private static IEnumerable<string> AccountDirectories(string source, string account, ImmutableArray<(string, string)>.Builder links)
    {
        // Links are skipped while looking for AWSLogs folders: neither returned nor descended into.
        var awsLogs = Path.GetFileName(Path.TrimEndingDirectorySeparator(source)) == "AWSLogs"
            ? [source]
            : Directory.EnumerateDirectories(source, "AWSLogs", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4, AttributesToSkip = FileAttributes.ReparsePoint })
                .Where(d => !d.Contains(CacheFolder, StringComparison.Ordinal));
        foreach (var root in awsLogs)
        {
            foreach (var child in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(child);
                if (name.StartsWith("o-", StringComparison.Ordinal))
                {
                    if (IsLink(child, links))
                    {
                        continue;
                    }

                    foreach (var accountDir in Directory.GetDirectories(child).Order(StringComparer.Ordinal).Where(d => Configuration.AwsFormats.AccountId(Path.GetFileName(d)) is null))
                    {
                        if (!IsLinkedAccountFolder(accountDir, account, links))
                        {
                            yield return accountDir;
                        }
                    }
                }
                else if (Configuration.AwsFormats.AccountId(name) is null && !IsLinkedAccountFolder(child, account, links))
                {
                    yield return child;
                }
            }
        }
    }

    /// <summary>Whether an account folder met while looking for AWSLogs is a link: the asked account's is named, any other's only skipped.</summary>
    private static bool IsLinkedAccountFolder(string folder, string account, ImmutableArray<(string, string)>.Builder links) =>
        Path.GetFileName(folder) == account ? IsLink(folder, links) : new DirectoryInfo(folder).LinkTarget is not null;

    /// <summary>Whether the folder is a symbolic link; if so it is recorded with its target, to be named, never followed.</summary>
    private static bool IsLink(string folder, ImmutableArray<(string, string)>.Builder links)
    {
        if (new DirectoryInfo(folder).LinkTarget is not { } target)
        {
            return false;
        }

        links.Add((folder, $"a symbolic link (to {target}), not followed"));
        return true;
    }

    /// <summary>The days present under a region folder (YYYY/MM/DD) in calendar order, read from folder names only.</summary>
    private static IEnumerable<(DateOnly Day, string Folder)> Days(string regionDir, ImmutableArray<(string, string)>.Builder links)
    {
        foreach (var year in Directory.GetDirectories(regionDir).Order(StringComparer.Ordinal).Where(d => !IsLink(d, links)))
        {
            foreach (var month in Directory.GetDirectories(year).Order(StringComparer.Ordinal).Where(d => !IsLink(d, links)))
            {
                foreach (var day in Directory.GetDirectories(month).Order(StringComparer.Ordinal).Where(d => !IsLink(d, links)))
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
