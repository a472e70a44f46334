using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Query;
using Spectre.Console;

namespace AuditInfra.Cli.Query;

/// <summary><c>auditinfra query</c>: "what happened in account X on date Y", over a local copy of the bucket.</summary>
public static class QueryCommand
{
    public static Command Create(CliIo io)
    {
        var source = new Option<string?>("--source") { Description = "The log bucket, s3://bucket[/prefix] (the trail's key prefix), or a local copy of it (its root, or a folder holding AWSLogs); required unless --athena" };
        var endpointUrl = new Option<string?>("--endpoint-url") { Description = "With an s3:// source: an S3-compatible endpoint instead of AWS (as the AWS CLI's --endpoint-url)" };
        var account = new Option<string>("--account") { Description = "The account (12 digits)", Required = true };
        var date = new Option<string>("--start", "--date") { Description = "The (first) day, YYYY-MM-DD (UTC)", Required = true };
        var to = new Option<string?>("--end", "--to") { Description = "The last day of a range, YYYY-MM-DD (default: --start)" };
        var regions = new Option<string[]>("--region") { Description = "Only these regions (repeatable)", AllowMultipleArgumentsPerToken = true };
        var principal = new Option<string?>("--principal") { Description = "Text in the principal's ARN or its session issuer's" };
        var names = new Option<string[]>("--event-name") { Description = "Only these API actions (repeatable)", AllowMultipleArgumentsPerToken = true };
        var sources = new Option<string[]>("--event-source") { Description = "Only these services, e.g. iam.amazonaws.com (repeatable)", AllowMultipleArgumentsPerToken = true };
        var errorsOnly = new Option<bool>("--errors-only") { Description = "Only failed calls" };
        var ip = new Option<string?>("--ip") { Description = "Only callers at this address or in this CIDR block (an IPv4-mapped IPv6 address is its IPv4 address)" };
        var format = new Option<string>("--format") { Description = "table, json or csv", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var limit = new Option<int?>("--limit") { Description = "At most this many rows (1 or more)" };
        var summary = new Option<bool>("--summary") { Description = "Counts by principal, event, error and source address instead of the timeline" };
        var sql = new Option<string?>("--sql") { Description = "Any SQL over the view `cloudtrail` (the timeline's columns plus account, region, event_id, error_message and raw), which holds only the rows the filters select; --limit caps the answer's rows" };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Leave out malformed or truncated files (each is named) instead of stopping" };
        var cache = new Option<bool>("--cache") { Description = "Compact the selected days to Parquet beside the source (.auditinfra-cache) and read those on repeat queries" };
        var athena = new Option<bool>("--athena") { Description = "Print the Athena SQL for the same question (same columns) instead of reading a local copy" };
        var run = new Option<bool>("--run") { Description = "With --athena: run the query in Athena (through the AWS CLI) and print its answer like a local one" };
        var database = new Option<string>("--athena-database") { Description = "The Glue database of the CloudTrail table", DefaultValueFactory = _ => "auditinfra" };
        var timeout = new Option<string>("--timeout") { Description = "Stop a query (local, or in Athena with --run) that runs longer: 90s, 10m, 2h (default 10m)", DefaultValueFactory = _ => "10m" };
        var athenaTable = new Option<string>("--athena-table") { Description = "The CloudTrail table", DefaultValueFactory = _ => "cloudtrail" };
        var verify = new Option<bool>("--verify") { Description = "Check the log files the answer read against the signed digests of their hours; each row gets integrity = verified, unverifiable or TAMPERED (exit 1 if any row is TAMPERED)" };
        var publicKeys = new Option<FileInfo?>("--public-keys") { Description = "With --verify: the JSON printed by `aws cloudtrail list-public-keys` (default: fetched through the AWS CLI, as verify does)" };
        var cloudTrailEndpoint = new Option<string?>("--cloudtrail-endpoint-url") { Description = "With --verify and no --public-keys: the CloudTrail endpoint the public keys are fetched from (as the AWS CLI's --endpoint-url)" };
        var athenaRun = new AthenaRunOptions();
        var restore = new Option<string?>("--restore") { Description = "With an s3:// source: request restores of the archived (Glacier Flexible Retrieval, Deep Archive, Intelligent-Tiering archive tiers) objects the question reads, at this tier: bulk, standard or expedited" };
        restore.AcceptOnlyFromAmong("bulk", "standard", "expedited");
        var restoreDays = new Option<int>("--restore-days") { Description = $"With --restore: days S3 keeps the restored Glacier copies (Intelligent-Tiering objects take none) (1-{RestoreChoice.MaxDays}, default {RestoreChoice.DefaultDays})", DefaultValueFactory = _ => RestoreChoice.DefaultDays };
        var wait = new Option<bool>("--wait") { Description = "With an s3:// source: wait until the archived objects the question reads are restored, then answer" };
        var waitTimeout = new Option<string>("--wait-timeout") { Description = "With --wait: give up (exit 3) after this long: 30m, 12h (default 48h, Deep Archive's bulk time)", DefaultValueFactory = _ => "48h" };
        var command = new Command("query", "What happened in an account on a day: a timeline from the log bucket or a local copy of it (DuckDB)");
        foreach (var option in new Option[] { source, endpointUrl, account, date, to, regions, principal, names, sources, errorsOnly, ip, format, limit, summary, sql, skipBad, cache, timeout, restore, restoreDays, wait, waitTimeout, athena, run, database, athenaTable, verify, publicKeys, cloudTrailEndpoint })
        {
            command.Options.Add(option);
        }

        athenaRun.AddTo(command);

        command.SetAction(RunAsync);
        async Task<int> RunAsync(ParseResult parse, CancellationToken cancellation)
        {
            var accountId = parse.GetValue(account)!;
            if (Core.Configuration.AwsFormats.AccountId(accountId) is { } expected)
            {
                io.Err.WriteLine($"--account: expected {expected} (found \"{accountId}\")");
                return ExitCodes.UsageOrInput;
            }

            // Errors name the option as typed: --start or its alias --date, --end or --to.
            var startName = parse.GetResult(date)?.IdentifierToken?.Value ?? "--start";
            var endName = parse.GetResult(to)?.IdentifierToken?.Value ?? "--end";
            if (!TryDay(parse.GetValue(date)!, startName, io, out var from) || !TryDay(parse.GetValue(to) ?? parse.GetValue(date)!, endName, io, out var until))
            {
                return ExitCodes.UsageOrInput;
            }

            if (until < from)
            {
                io.Err.WriteLine($"{endName} {until:yyyy-MM-dd} is before {startName} {from:yyyy-MM-dd}");
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(limit) is < 1 and var badLimit)
            {
                io.Err.WriteLine($"--limit: expected a number of rows of 1 or more (found {badLimit})");
                return ExitCodes.UsageOrInput;
            }

            if (Duration(parse.GetValue(timeout)!) is not { } timeLimit)
            {
                io.Err.WriteLine($"--timeout: expected a duration such as 90s, 10m or 2h (found \"{parse.GetValue(timeout)}\")");
                return ExitCodes.UsageOrInput;
            }

            IPNetwork? network = null;
            if (parse.GetValue(ip) is { } cidr)
            {
                if (!QueryFilters.TryParseNetwork(cidr, out var parsed, out var ipError))
                {
                    io.Err.WriteLine(ipError);
                    return ExitCodes.UsageOrInput;
                }

                network = parsed;
            }

            if (parse.GetValue(sql) is not null && (parse.GetValue(athena) || parse.GetValue(summary)))
            {
                // Either would drop the SQL silently: it is DuckDB's, over the files read here (not Athena's), and it is the whole answer.
                io.Err.WriteLine(parse.GetValue(athena)
                    ? "--sql runs DuckDB SQL over the log files read here (--source); it does not apply to --athena, whose SQL `query --athena` prints"
                    : "--sql and --summary are two answers: give one (a summary of your own is --sql \"SELECT source_ip, count(*) FROM cloudtrail GROUP BY 1\")");
                return ExitCodes.UsageOrInput;
            }

            var question = new TimelineQuery(accountId, from, until, parse.GetValue(regions) ?? [], parse.GetValue(principal), parse.GetValue(names) ?? [], parse.GetValue(sources) ?? [], parse.GetValue(errorsOnly), parse.GetValue(limit)) { SourceNetwork = network };
            if (parse.GetValue(athena) && parse.GetValue(verify))
            {
                io.Err.WriteLine("--verify reads the log files and their digests from the source; it does not apply to --athena");
                return ExitCodes.UsageOrInput;
            }

            // Options about reading log files: Athena reads the audit stack's table, so each would be silently ignored.
            if (parse.GetValue(athena) && new Option[] { source, endpointUrl, skipBad, cache, restore, restoreDays, wait, waitTimeout }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } fileOption)
            {
                io.Err.WriteLine($"{fileOption.Name} is about reading log files (a bucket or a local copy); it does not apply to --athena, which queries the audit stack's table");
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(athena))
            {
                if (parse.GetValue(run))
                {
                    return await athenaRun.RunAsync(io, parse, question, parse.GetValue(database)!, parse.GetResult(database) is { Implicit: false }, parse.GetValue(athenaTable)!, parse.GetValue(summary), parse.GetValue(format)!, timeLimit, cancellation);
                }

                if (parse.GetValue(summary))
                {
                    io.Out.WriteLine(string.Join("\n\n", SummaryDimensions.Select(d => $"-- by {d}\n{AthenaSql.Summary(question, d, parse.GetValue(database)!, parse.GetValue(athenaTable)!)};")));
                    return ExitCodes.Ok;
                }

                io.Out.WriteLine(AthenaSql.Timeline(question, parse.GetValue(database)!, parse.GetValue(athenaTable)!));
                return ExitCodes.Ok;
            }

            if (parse.GetValue(source) is not { } sourceText)
            {
                io.Err.WriteLine("--source is required (the log bucket as s3://bucket[/prefix], or a local copy of it), unless --athena");
                return ExitCodes.UsageOrInput;
            }

            var fromBucket = sourceText.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);
            if (!fromBucket && parse.GetValue(endpointUrl) is not null)
            {
                io.Err.WriteLine($"--endpoint-url applies to an s3:// source; '{sourceText}' is a local directory");
                return ExitCodes.UsageOrInput;
            }

            if (fromBucket && parse.GetValue(cache))
            {
                io.Err.WriteLine("--cache applies to a local copy; a bucket is read afresh for each query (`auditinfra pull` makes a local copy to cache)");
                return ExitCodes.UsageOrInput;
            }

            var archiveOptionsGiven = new Option[] { restore, restoreDays, wait, waitTimeout }.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (!fromBucket && archiveOptionsGiven.Count > 0)
            {
                io.Err.WriteLine($"{archiveOptionsGiven[0]} applies to an s3:// source (archived objects); '{sourceText}' is a local directory");
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(restoreDays) is var badDays and (< 1 or > RestoreChoice.MaxDays))
            {
                io.Err.WriteLine($"--restore-days: expected a number of days from 1 to {RestoreChoice.MaxDays} (found {badDays})");
                return ExitCodes.UsageOrInput;
            }

            if (Duration(parse.GetValue(waitTimeout)!) is not { } waitLimit)
            {
                io.Err.WriteLine($"--wait-timeout: expected a duration such as 30m, 12h or 48h (found \"{parse.GetValue(waitTimeout)}\")");
                return ExitCodes.UsageOrInput;
            }

            var restoreChoice = new RestoreChoice(parse.GetValue(restore) is { } tierName ? Core.Integrity.ArchiveStorage.ParseTier(tierName) : null, parse.GetValue(restoreDays), parse.GetValue(wait), waitLimit, parse.GetValue(waitTimeout)!);

            // Ctrl+C interrupts DuckDB and S3 reads too, and is then reported as cancelled, not as a timeout.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(timeLimit);
            try
            {
                DuckDbTimeline timeline;
                IReadOnlyList<(string File, string Error)> skipped;
                using var bucketStore = fromBucket ? S3ObjectStore.Create(sourceText, parse.GetValue(endpointUrl)) : null;
                QueryVerification? verification = null;
                if (parse.GetValue(verify))
                {
                    // Checked before anything is read: without keys nothing can be verified.
                    verification = await QueryVerification.OpenAsync(io, bucketStore ?? (IObjectStore)new LocalDirectoryStore(sourceText), accountId, from, until, question.Regions, parse.GetValue(publicKeys), parse.GetValue(cloudTrailEndpoint), deadline.Token);
                    if (verification is null)
                    {
                        return ExitCodes.UsageOrInput;
                    }
                }

                if (bucketStore is { } store)
                {
                    using var bucket = new BucketCorpus(store);
                    // DuckDB starts on the other core while the listing waits on S3.
                    bucket.StartPreparing(deadline.Token);
                    // Listing and reading are two steps, so that what the listing found can be judged before anything is read.
                    var listed = await bucket.ListAsync(question, deadline.Token);
                    if (listed.IsEmpty)
                    {
                        io.Err.WriteLine(await bucket.WhyEmptyAsync(question, deadline.Token));
                        return ExitCodes.UsageOrInput;
                    }

                    // Archived objects are neither skipped nor read blindly (a GET of one fails): restore first. Waiting for
                    // restores takes hours, so it is bounded by --wait-timeout and Ctrl+C, and --timeout starts after it.
                    // With --verify the digests of those hours are read too, and lifecycle archives them like the logs.
                    var digests = verification is null ? null : await IntegrityVerifier.DigestObjectsForLogsAsync(store, listed.Objects.Select(o => o.Key), deadline.Token);
                    // The time limit stops while the archive step runs: once it had fired during a long wait, resetting it did
                    // not bring it back, and the reading after the wait stopped at once as if it had run too long.
                    deadline.CancelAfter(Timeout.InfiniteTimeSpan);
                    if (await ArchiveStep.RunAsync(io, store, bucket.Url, [.. listed.Objects], restoreChoice, parse.GetValue(format) == "json", cancellation, digests) is { } archiveExit)
                    {
                        return archiveExit;
                    }

                    deadline.CancelAfter(timeLimit);
                    (timeline, skipped) = await bucket.OpenTimelineAsync(listed, parse.GetValue(skipBad), deadline.Token);
                }
                else
                {
                    var root = new DirectoryInfo(sourceText).FullName;
                    var selection = CorpusSelector.Select(root, accountId, from, until, question.Regions.ToList());
                    if (!selection.Links.IsEmpty && !parse.GetValue(skipBad))
                    {
                        io.Err.WriteLine(string.Join(Environment.NewLine, selection.Links.Select(l => $"{l.Path}: {l.Reason}; rerun with --skip-bad to leave it out")));
                        return ExitCodes.UsageOrInput;
                    }

                    foreach (var (path, reason) in selection.Links)
                    {
                        io.Err.WriteLine($"skipped {path}: {reason}");
                    }

                    if (!selection.AccountsPresent.Contains(accountId))
                    {
                        io.Err.WriteLine($"Account {accountId} has no logs in {root} (accounts present: {string.Join(", ", selection.AccountsPresent)}).");
                        return ExitCodes.UsageOrInput;
                    }

                    if (selection.Files.IsEmpty)
                    {
                        var range = selection.FirstDay is { } f && selection.LastDay is { } l ? $"logs of account {accountId} in this copy run from {f:yyyy-MM-dd} to {l:yyyy-MM-dd}" : "this copy holds no dated logs for it";
                        var outside = selection.FirstDay is { } f2 && selection.LastDay is { } l2 && (until < f2 || from > l2) ? " (the date is outside the copy)" : "";
                        io.Err.WriteLine($"No logs for account {accountId} from {from:yyyy-MM-dd} to {until:yyyy-MM-dd}{(question.Regions.Count > 0 ? $" in {string.Join(", ", question.Regions)}" : "")}: {range}{outside}.");
                        return ExitCodes.UsageOrInput;
                    }

                    (timeline, skipped) = DuckDbTimeline.Open(selection.Files, parse.GetValue(skipBad), deadline.Token, keysUnder: verification is null ? null : root);
                    if (parse.GetValue(cache) && verification is not null)
                    {
                        // A cache is not evidence: the rows must come from the very files that are verified.
                        io.Err.WriteLine("--cache is not read with --verify: the answer is read from the log files that are verified");
                    }
                    else if (parse.GetValue(cache))
                    {
                        // The logs were checked above (bad ones named or skipped); cache what was readable.
                        var readable = selection.Files.Except(skipped.Select(s => s.File)).ToList();
                        var sizes = timeline.InflatedSizes;
                        timeline.Dispose();
                        timeline = DuckDbTimeline.OpenParquet(DuckDbTimeline.Cache(root, readable, sizes, deadline.Token), deadline.Token);
                    }
                }

                using (timeline)
                {
                    foreach (var (file, error) in skipped)
                    {
                        io.Err.WriteLine($"skipped {file}: {error}");
                    }

                    var fmt = parse.GetValue(format)!;
                    if (verification is not null)
                    {
                        return await AnswerVerifiedAsync(timeline, verification, question, parse.GetValue(sql), parse.GetValue(summary), fmt, io, deadline.Token);
                    }

                    if (parse.GetValue(sql) is { } userSql)
                    {
                        Write(RunUserSql(timeline, question, userSql), fmt, io);
                    }
                    else if (parse.GetValue(summary))
                    {
                        WriteSummary([.. SummaryDimensions.Select(d => (d, timeline.Run(TimelineSql.Summary(question, d))))], fmt, io);
                    }
                    else
                    {
                        var rr = timeline.Run(TimelineSql.Timeline(question));
                        Write(rr, fmt, io);
                    }
                }
            }
            catch (QueryTimeoutException) when (cancellation.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellation);
            }
            catch (Exception e) when (e is QueryTimeoutException || (e is OperationCanceledException && deadline.IsCancellationRequested && !cancellation.IsCancellationRequested))
            {
                io.Err.WriteLine($"query stopped: it ran longer than --timeout {parse.GetValue(timeout)} (raise it, or narrow --start/--end or --region)");
                return ExitCodes.UsageOrInput;
            }
            catch (Exception ex) when (ex is QueryInputException or Core.Integrity.IntegrityInputException)
            {
                io.Err.WriteLine(ex.Message);
                return ExitCodes.UsageOrInput;
            }
            catch (System.Data.Common.DbException ex)
            {
                io.Err.WriteLine($"query failed: {ex.Message.Split('\n')[0]}");
                return ExitCodes.UsageOrInput;
            }
            catch (IOException ex) when (fromBucket)
            {
                // The temporary folder a bucket's day is fetched into (a full or unwritable disk).
                io.Err.WriteLine($"query failed: {Core.Messages.Flatten(ex.Message)} (in the temporary folder {Path.GetTempPath()}; set TMPDIR to another)");
                return ExitCodes.UsageOrInput;
            }
            catch (Exception ex) when (parse.GetValue(verify) && ex is Core.UnsafePathException or IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException or HttpRequestException)
            {
                // What the verifier could not read is named, as verify names it; nothing was judged.
                io.Err.WriteLine($"--verify: cannot read the source: {Core.Messages.Flatten(ex.Message)}");
                return ExitCodes.UsageOrInput;
            }

            return ExitCodes.Ok;
        }
        return command;
    }

    /// <summary>
    /// The answer with --verify: the files behind its rows are verified, each row (or summary count) carries the
    /// integrity of its file, the integrity line follows (on standard error, or in the JSON), and any row read from
    /// a tampered file is a finding (exit 1).
    /// </summary>
    private static async Task<int> AnswerVerifiedAsync(DuckDbTimeline timeline, QueryVerification verification, TimelineQuery question, string? userSql, bool summary, string format, CliIo io, CancellationToken deadline)
    {
        IntegrityCounts counts;
        string unit;
        if (userSql is not null)
        {
            var result = RunUserSql(timeline, question, userSql);
            var fileColumn = result.Columns.ToList().IndexOf(TimelineSql.SourceKeyColumn);
            if (fileColumn < 0)
            {
                io.Err.WriteLine($"--verify with --sql: select the {TimelineSql.SourceKeyColumn} column of {TimelineSql.SourcedView} (the view cloudtrail with each row's log key), so that each row can be marked with the integrity of its log");
                return ExitCodes.UsageOrInput;
            }

            await VerifyWithinAsync(verification, result.Rows.Select(r => r[fileColumn] as string).OfType<string>(), deadline);
            (result, counts) = verification.Mark(result, fileColumn, dropFileColumn: false);
            unit = "rows";
            WriteVerified(result, verification, counts, unit, format, io);
        }
        else if (summary)
        {
            await VerifyWithinAsync(verification, timeline.Run(TimelineSql.TimelineSourceKeys(question)).Rows.Select(r => (string)r[0]!), deadline);
            timeline.SetLogIntegrity(verification.Logs);
            var parts = SummaryDimensions.Select(d => (d, timeline.Run(TimelineSql.SummaryWithIntegrity(question, d)))).ToList();
            // Every dimension counts each event once: any one of them gives the totals.
            var first = parts[0].Item2.Rows;
            counts = new IntegrityCounts(first.Sum(r => Convert.ToInt64(r[2], CultureInfo.InvariantCulture)), first.Sum(r => Convert.ToInt64(r[3], CultureInfo.InvariantCulture)), first.Sum(r => Convert.ToInt64(r[4], CultureInfo.InvariantCulture)));
            unit = "events";
            WriteSummary(parts, format, io, format == "json" ? verification.ToJson(counts, unit) : null);
            if (format != "json")
            {
                verification.WriteSummary(io, counts, unit);
            }
        }
        else
        {
            var result = timeline.Run(TimelineSql.Timeline(question, withSourceKey: true));
            var fileColumn = result.Columns.Count - 1;
            await VerifyWithinAsync(verification, result.Rows.Select(r => r[fileColumn] as string).OfType<string>(), deadline);
            (result, counts) = verification.Mark(result, fileColumn, dropFileColumn: true);
            unit = "rows";
            WriteVerified(result, verification, counts, unit, format, io);
        }

        return counts.Tampered > 0 ? ExitCodes.Findings : ExitCodes.Ok;
    }

    /// <summary>
    /// The answer to --sql: the user's SQL over the views as the question filters them (every filter, as the timeline
    /// applies it), at most --limit rows of it.
    /// </summary>
    internal static QueryResult RunUserSql(DuckDbTimeline timeline, TimelineQuery question, string userSql)
    {
        var sourced = Convert.ToInt64(timeline.Run($"SELECT count(*) FROM duckdb_views() WHERE view_name = {TimelineSql.Literal(TimelineSql.SourcedView)}").Rows[0][0], CultureInfo.InvariantCulture) > 0;
        foreach (var statement in TimelineSql.FilterViews(question, sourced))
        {
            timeline.Run(statement);
        }

        var result = timeline.Run(userSql);
        return question.Limit is { } limit && result.Rows.Count > limit ? result with { Rows = [.. result.Rows.Take(limit)] } : result;
    }

    /// <summary>Runs the verifier under the query's --timeout, which reports as a timeout (Ctrl+C stays a cancellation).</summary>
    private static async Task VerifyWithinAsync(QueryVerification verification, IEnumerable<string> files, CancellationToken deadline)
    {
        try
        {
            await verification.VerifyAsync(files, deadline);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new QueryTimeoutException();
        }
    }

    /// <summary>Rows with their integrity column: in JSON one object, <c>{"rows": [...], "integrity": {...}}</c>; otherwise the rows, and the integrity line on standard error.</summary>
    private static void WriteVerified(QueryResult result, QueryVerification verification, IntegrityCounts counts, string unit, string format, CliIo io)
    {
        if (format == "json")
        {
            io.Out.WriteLine(new JsonObject { ["rows"] = Json(result), ["integrity"] = verification.ToJson(counts, unit) }.ToJsonString(JsonFormat.Indented));
            return;
        }

        Write(result, format, io);
        verification.WriteSummary(io, counts, unit);
    }

    /// <summary>A positive duration written as a number and a unit (s, m or h); null when it is not one.</summary>
    internal static TimeSpan? Duration(string text)
    {
        if (text.Length < 2 || !int.TryParse(text[..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var amount) || amount < 1)
        {
            return null;
        }

        TimeSpan? span = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            _ => null,
        };

        // A timer cannot wait longer than about 24 days; no local query should.
        return span <= TimeSpan.FromDays(24) ? span : null;
    }

    private static bool TryDay(string text, string option, CliIo io, out DateOnly day)
    {
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            return true;
        }

        io.Err.WriteLine($"{option}: expected a day as YYYY-MM-DD (found \"{text}\")");
        return false;
    }

    internal static readonly string[] SummaryDimensions = ["principal_arn", "event_name", "error_code", "source_ip"];

    /// <summary>Columns whose values are ids, keys or ARNs: a table never wraps them.</summary>
    private static readonly HashSet<string> WholeColumns = ["principal_arn", "session_issuer", "resources", "request_id", "event_id", "account", "source_ip", "event_source", "event_name", "event_time", "value"];

    /// <summary>
    /// The summary as one document per format: a JSON object of counts per dimension (counts as
    /// numbers), one CSV table (dimension,value,events), or a table per dimension.
    /// </summary>
    internal static void WriteSummary(IReadOnlyList<(string Dimension, QueryResult Result)> parts, string format, CliIo io, JsonObject? integrity = null)
    {
        switch (format)
        {
            case "json":
                var document = new JsonObject();
                foreach (var (dimension, result) in parts)
                {
                    document[dimension] = Json(result);
                }

                if (integrity is not null)
                {
                    document["integrity"] = integrity;
                }

                io.Out.WriteLine(document.ToJsonString(JsonFormat.Indented));
                break;
            case "csv":
                io.Out.WriteLine(string.Join(',', new[] { "dimension" }.Concat(parts[0].Result.Columns)));
                foreach (var (dimension, result) in parts)
                {
                    foreach (var row in result.Rows)
                    {
                        io.Out.WriteLine(string.Join(',', new[] { dimension }.Concat(row.Select(Text)).Select(Csv)));
                    }
                }

                break;
            default:
                foreach (var (dimension, result) in parts)
                {
                    io.Out.WriteLine($"by {dimension}:");
                    Write(result with { Columns = [dimension, .. result.Columns.Skip(1)] }, format, io);
                }

                break;
        }
    }

    private const int CsvPieceChars = 1 << 20;

    internal static void Write(QueryResult result, string format, CliIo io)
    {
        switch (format)
        {
            case "json":
                io.Out.WriteLine(Json(result).ToJsonString(JsonFormat.Indented));
                break;
            case "csv":
                // Written in large pieces: the console's writer flushes every line, a system call per row.
                var csv = new StringBuilder().AppendJoin(',', result.Columns.Select(Csv)).Append(io.Out.NewLine);
                foreach (var row in result.Rows)
                {
                    csv.AppendJoin(',', row.Select(v => Csv(Text(v)))).Append(io.Out.NewLine);
                    if (csv.Length >= CsvPieceChars)
                    {
                        io.Out.Write(csv);
                        csv.Clear();
                    }
                }

                io.Out.Write(csv);
                break;
            default:
                var table = new Table();
                foreach (var column in result.Columns)
                {
                    table.AddColumn(Markup.Escape(column));
                }

                foreach (var row in result.Rows)
                {
                    table.AddRow(row.Select(v => Markup.Escape(Text(v))).ToArray());
                }

                io.Write(table, [.. result.Columns.Select((c, i) => (c, i)).Where(x => WholeColumns.Contains(x.c)).Select(x => x.i)]);
                io.Out.WriteLine($"{result.Rows.Count} row(s)");
                break;
        }
    }

    private static JsonArray Json(QueryResult result) =>
        new([.. result.Rows.Select(r => (JsonNode)new JsonObject(result.Columns.Select((c, i) => new KeyValuePair<string, JsonNode?>(c, JsonValueOf(r[i])))))]);

    /// <summary>Numbers and booleans stay numbers and booleans in JSON; everything else is its text.</summary>
    private static JsonNode? JsonValueOf(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        double d when !double.IsFinite(d) => JsonValue.Create(Text(d)),
        float f when !float.IsFinite(f) => JsonValue.Create(Text(f)),
        sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal or BigInteger => JsonNode.Parse(Text(value)),
        _ => JsonValue.Create(Text(value)),
    };

    private static string Text(object? value) => value switch
    {
        null => "",
        DateTime t => t.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}

