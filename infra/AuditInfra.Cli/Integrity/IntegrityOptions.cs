using System.CommandLine;
using System.Globalization;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>The filters <c>verify</c> and <c>pull</c> share, read and checked in one place.</summary>
internal sealed class IntegrityFilterOptions
{
    private static readonly DateTimeOffset EarliestTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset LatestTime = new(2999, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <summary>Whether the command proves every byte it reads itself (verify), so that S3 reads skip the SDK's own checksums.</summary>
    public bool ContentProvenBySignedDigests { get; init; }

    public Option<string?> EndpointUrl { get; } = new("--endpoint-url") { Description = "An S3-compatible endpoint instead of AWS (as the AWS CLI's --endpoint-url)" };

    public Option<string?> OrgId { get; } = new("--org-id") { Description = "Only this organization's folder (o-...)" };

    public Option<string[]> Accounts { get; } = new("--account") { Description = "Only these accounts (repeatable)", AllowMultipleArgumentsPerToken = true };

    public Option<string[]> Regions { get; } = new("--region") { Description = "Only these regions (repeatable)", AllowMultipleArgumentsPerToken = true };

    public Option<string?> Start { get; } = new("--start") { Description = "From this time (UTC; 2026-11-20 or 2026-11-20T05:00:00Z)" };

    public Option<string?> End { get; } = new("--end") { Description = "Until this time (UTC)" };

    public Option<int> Parallel { get; } = new("--parallel") { Description = "Concurrent reads (default: one per core for a local copy, 64 for S3)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { EndpointUrl, OrgId, Accounts, Regions, Start, End, Parallel })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The filters, or the first problem in a sentence naming the option.</summary>
    public (VerifyOptions? Options, string? Error) Read(ParseResult parse)
    {
        var org = parse.GetValue(OrgId);
        if (org is not null && Core.Configuration.AwsFormats.OrganizationId(org) is { } orgExpected)
        {
            return (null, $"--org-id: expected {orgExpected} (found \"{org}\")");
        }

        var accounts = parse.GetValue(Accounts) ?? [];
        foreach (var account in accounts)
        {
            if (Core.Configuration.AwsFormats.AccountId(account) is { } expected)
            {
                return (null, $"--account: expected {expected} (found \"{account}\")");
            }
        }

        DateTimeOffset? start = null, end = null;
        if (parse.GetValue(Start) is { } s)
        {
            if (ParseTime(s) is not { } t)
            {
                return (null, $"--start: expected a UTC date or time such as 2026-11-20 or 2026-11-20T05:00:00Z (found \"{s}\")");
            }

            if (OutOfRange(t) is { } range)
            {
                return (null, $"--start: {range}; omit --start to begin with the oldest data (found \"{s}\")");
            }

            start = t;
        }

        if (parse.GetValue(End) is { } e)
        {
            if (ParseTime(e) is not { } t)
            {
                return (null, $"--end: expected a UTC date or time such as 2026-11-21 or 2026-11-20T18:00:00Z (found \"{e}\")");
            }

            if (OutOfRange(t) is { } range)
            {
                return (null, $"--end: {range}; omit --end to go up to now (found \"{e}\")");
            }

            end = t;
        }

        if (start is not null && end is not null && end < start)
        {
            return (null, $"--end {end:O} is before --start {start:O}");
        }

        var parallel = parse.GetValue(Parallel);
        if (parallel < 0 || parallel > 1024)
        {
            return (null, $"--parallel: expected 1 to 1024 (found {parallel})");
        }

        return (new VerifyOptions
        {
            OrgId = org,
            Accounts = accounts.ToHashSet(StringComparer.Ordinal),
            Regions = (parse.GetValue(Regions) ?? []).ToHashSet(StringComparer.Ordinal),
            Start = start,
            End = end,
            Parallelism = parallel,
        }, null);
    }

    /// <summary>
    /// The part <c>verify</c> and <c>pull</c> share: read the filters, open the source, run the command's work on
    /// them; a source that cannot be used (bad URL, access denied, unreadable) is exit code 2 with its message.
    /// </summary>
    public async Task<int> RunAsync(CliIo io, ParseResult parse, string source, string failure, Func<IObjectStore, VerifyOptions, Task<int>> work)
    {
        var (options, error) = Read(parse);
        if (options is null)
        {
            await io.Err.WriteLineAsync(error);
            return ExitCodes.UsageOrInput;
        }

        IObjectStore? store = null;
        try
        {
            store = SourceStores.Open(source, parse.GetValue(EndpointUrl), options.Parallelism, skipTransferChecksums: ContentProvenBySignedDigests);
            return await work(store, options);
        }
        catch (IntegrityInputException e)
        {
            await io.Err.WriteLineAsync(e.Message);
            return ExitCodes.UsageOrInput;
        }
        catch (Core.UnsafePathException e)
        {
            await io.Err.WriteLineAsync($"{failure}: {e.Message}");
            return ExitCodes.UsageOrInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException or HttpRequestException)
        {
            await io.Err.WriteLineAsync($"{failure}: {e.Message}");
            return ExitCodes.UsageOrInput;
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    /// <summary>CloudTrail began in 2013; times far outside its life are typos, and at the edges of the calendar the day arithmetic of a listing overflows.</summary>
    private static string? OutOfRange(DateTimeOffset time) =>
        time < EarliestTime || time > LatestTime ? $"expected a time from {EarliestTime:yyyy-MM-dd} to {LatestTime:yyyy-MM-dd}" : null;

    public static DateTimeOffset? ParseTime(string text)
    {
        string[] formats = ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ssK", "yyyyMMdd'T'HHmmss'Z'"];
        return DateTimeOffset.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time : null;
    }
}
