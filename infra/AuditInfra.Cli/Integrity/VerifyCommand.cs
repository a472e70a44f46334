using System.CommandLine;
using System.Globalization;
using AuditInfra.Core.Integrity;
using Spectre.Console;

namespace AuditInfra.Cli.Integrity;

/// <summary><c>auditinfra verify</c>: digest-chain integrity of a bucket or a local copy.</summary>
public static class VerifyCommand
{
    private const int FindingsShown = 50;

    public static Command Create(CliIo io)
    {
        var source = new Option<string>("--source") { Description = "s3://bucket[/prefix] or a local copy laid out like the bucket (digest signatures in K.signature files)", Required = true };
        var publicKeys = new Option<FileInfo?>("--public-keys") { Description = "The JSON printed by `aws cloudtrail list-public-keys` (several regions may be merged); without it the keys are fetched with the AWS CLI" };
        var cloudTrailEndpoint = new Option<string?>("--cloudtrail-endpoint-url") { Description = "The CloudTrail endpoint the public keys are fetched from (as the AWS CLI's --endpoint-url)" };
        // A flag, as in every command; "--json -" (its old form for standard output) is still read the same way.
        var json = new Option<string?>("--json") { Description = "Print the full report as JSON on standard output (instead of the summary); a bare flag ('-' is accepted for older scripts)", Arity = ArgumentArity.ZeroOrOne, HelpName = "-" };
        var reportFile = new Option<FileInfo?>("--report") { Description = "Also write the full report as JSON to this file (what docs --verify-report reads)" };
        var state = new Option<string?>("--state") { Description = "Incremental: a state file or s3://bucket/key keeping, per chain, the last verified digest; only what is new since it is verified, and it is advanced (written atomically; on S3 conditionally)", HelpName = "FILE|s3://bucket/key" };
        var full = new Option<bool>("--full") { Description = "With --state: verify everything in range anyway (catches a digest deleted or altered before the state point) and still advance the state" };
        var shard = new Option<string?>("--shard") { Description = "Only the chains of the accounts in shard k of N, by a stable SHA-256 hash of the account id (all of an account's regions in one shard), k from 0 to N-1; auto/N takes k from AWS_BATCH_JOB_ARRAY_INDEX", HelpName = "k/N" };
        var filters = new IntegrityFilterOptions { ContentProvenBySignedDigests = true };
        var followUps = new VerifyFollowUps();
        var command = new Command("verify", "Verify CloudTrail log-file integrity: digest signatures, the digest chain, every log's hash, missing and unlisted files");
        command.Options.Add(source);
        command.Options.Add(publicKeys);
        command.Options.Add(cloudTrailEndpoint);
        command.Options.Add(json);
        command.Options.Add(reportFile);
        command.Options.Add(state);
        command.Options.Add(full);
        command.Options.Add(shard);
        filters.AddTo(command);
        followUps.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(json) is { } jsonValue && jsonValue != "-")
            {
                await io.Err.WriteLineAsync($"--json is a flag (the report as JSON on standard output); write the report to a file with --report {jsonValue}");
                return ExitCodes.UsageOrInput;
            }

            var printJson = parse.GetResult(json) is not null;
            var reportPath = parse.GetValue(reportFile)?.FullName;
            // Checked before the run, which can take hours, rather than when the report is ready.
            if (reportPath is not null && ReportFileProblem(reportPath) is { } problem)
            {
                await io.Err.WriteLineAsync($"--report {reportPath}: {problem}");
                return ExitCodes.UsageOrInput;
            }

            ChainShard? shardValue = null;
            if (parse.GetValue(shard) is { } shardText)
            {
                try
                {
                    shardValue = ChainShard.Parse(shardText);
                }
                catch (FormatException e)
                {
                    await io.Err.WriteLineAsync($"--shard: {e.Message}");
                    return ExitCodes.UsageOrInput;
                }
            }

            var stateText = parse.GetValue(state);
            var fullRun = parse.GetValue(full);
            if (fullRun && stateText is null)
            {
                await io.Err.WriteLineAsync("--full applies to --state (it re-verifies what the state would skip); without --state every run is full");
                return ExitCodes.UsageOrInput;
            }

            return await filters.RunAsync(io, parse, parse.GetValue(source)!, "cannot read the source", async (store, filterOptions) =>
            {
                var stateStore = stateText is null ? null : OpenState(stateText, parse.GetValue(filters.EndpointUrl));
                using var disposeState = stateStore as IDisposable;
                var (loaded, version) = stateStore is null ? (null, null) : await stateStore.LoadAsync(cancellationToken);
                if (loaded is not null && loaded.Source != store.Description)
                {
                    await io.Err.WriteLineAsync($"--state {stateText}: written for source {loaded.Source}, not {store.Description}; use one state per source");
                    return ExitCodes.UsageOrInput;
                }

                var options = filterOptions with { Shard = shardValue, Checkpoints = loaded?.Chains ?? new Dictionary<string, ChainCheckpoint>(), Full = fullRun };
                var (signer, followUpProblem) = followUps.Prepare(parse, options);
                if (followUpProblem is not null)
                {
                    await io.Err.WriteLineAsync(followUpProblem);
                    return ExitCodes.UsageOrInput;
                }

                using var signing = signer as IDisposable;
                var keys = parse.GetValue(publicKeys) is { } keysFile
                    ? PublicKeySet.Load(keysFile.FullName)
                    : await PublicKeyFetcher.FetchAsync(new Core.Aws.AwsCli { EndpointUrl = parse.GetValue(cloudTrailEndpoint) }, store, options, cancellationToken);
                var verifier = new IntegrityVerifier(store, keys);
                var report = await WithProgressAsync(io, progress => verifier.VerifyAsync(options, progress, cancellationToken));
                var nothingNew = loaded is not null && !fullRun && loaded.Chains.Count > 0 && report.Summaries.Sum(s => s.Digests) == 0;
                if (report.Summaries.Sum(s => s.Digests) == 0 && report.Clean && !nothingNew && !(shardValue is not null && report.Summaries.Count == 0))
                {
                    var filtersText = options.OrgId is null && options.Accounts.Count == 0 && options.Regions.Count == 0 && options.Start is null && options.End is null ? string.Empty : " matching the filters";
                    await io.Err.WriteLineAsync($"no CloudTrail digest or log{filtersText} in {store.Description}: nothing was verified. Expected [prefix/]AWSLogs/[o-.../]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/ under the source; check the source, its prefix and the filters.");
                    return ExitCodes.UsageOrInput;
                }

                (report, var followUpFailed) = await followUps.RunAsync(io, parse, store, options, signer, report, cancellationToken);
                if (reportPath is not null)
                {
                    Core.AtomicFile.WriteAllText(reportPath, report.ToJson());
                }

                if (printJson)
                {
                    await io.Out.WriteLineAsync(report.ToJson());
                }
                else
                {
                    WriteHuman(io, report);
                }

                // A failed follow-up keeps the state where it was: the next run repeats this one, and publishes what this one could not.
                if (stateStore is not null && !followUpFailed && await AdvanceStateAsync(io, stateStore, loaded, version, store.Description, report, cancellationToken) is { } stateError)
                {
                    await io.Err.WriteLineAsync(stateError);
                    return ExitCodes.UsageOrInput;
                }

                return followUpFailed ? ExitCodes.UsageOrInput : report.Clean ? ExitCodes.Ok : ExitCodes.Findings;
            });
        });
        return command;
    }

    private static IVerifyStateStore OpenState(string state, string? endpointUrl) =>
        state.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? S3StateStore.Create(state, endpointUrl) : new FileStateStore(Path.GetFullPath(state));

    /// <summary>How many times a lost race on the state is merged and written again before giving up (shards sharing one state race on their first writes).</summary>
    private const int StateWriteAttempts = 8;

    /// <summary>
    /// Writes the state advanced by the run's proven chains. A write that lost a race (the state changed since it
    /// was read) is merged and tried again when the other run advanced other chains (shards sharing one state);
    /// when it advanced one of this run's chains too, nothing is written and the message says so (exit 2): two
    /// monitors never both advance one chain.
    /// </summary>
    private static async Task<string?> AdvanceStateAsync(CliIo io, IVerifyStateStore stateStore, VerifyState? loaded, string? version, string source, IntegrityReport report, CancellationToken cancellationToken)
    {
        if (report.Checkpoints.Count == 0 && loaded is not null)
        {
            return null;
        }

        var basis = loaded ?? new VerifyState(source, new Dictionary<string, ChainCheckpoint>());
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await stateStore.SaveAsync(basis.With(report.Checkpoints), version, cancellationToken);
                if (!io.IsTerminal)
                {
                    return null;
                }

                io.Console.MarkupLine($"[grey]state[/] {report.Checkpoints.Count} chain(s) advanced in {Markup.Escape(stateStore.Description)}");
                return null;
            }
            catch (StateConflictException e)
            {
                var (current, currentVersion) = await stateStore.LoadAsync(cancellationToken);
                var raced = report.Checkpoints.Keys
                    .Where(chain => current?.Chains.GetValueOrDefault(chain)?.LastDigest != loaded?.Chains.GetValueOrDefault(chain)?.LastDigest)
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (raced.Count > 0 || attempt >= StateWriteAttempts)
                {
                    return raced.Count > 0
                        ? $"{e.Message}, advancing {raced.Count} chain(s) this run verified too (e.g. {raced[0]}): nothing written, so no chain is advanced twice; the findings above stand, run again to continue from the other run's state"
                        : $"{e.Message} {attempt} times: nothing written; run again";
                }

                basis = current ?? new VerifyState(source, new Dictionary<string, ChainCheckpoint>());
                version = currentVersion;
            }
        }
    }

    /// <summary>Why the report cannot be written at <paramref name="path"/>, found by writing a probe beside it; null when it can.</summary>
    private static string? ReportFileProblem(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            return $"the folder '{directory}' does not exist";
        }

        if (Directory.Exists(path))
        {
            return "is a folder; expected a file name";
        }

        var probe = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():n}.probe");
        try
        {
            new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose).Dispose();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot write in '{directory}' ({e.Message})";
        }
    }

    internal static async Task<T> WithProgressAsync<T>(CliIo io, Func<IProgress<VerifyProgress>?, Task<T>> work)
    {
        if (!io.IsTerminal)
        {
            return await work(null);
        }

        return await io.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var gate = new Lock();
                var progress = new SynchronousProgress<VerifyProgress>(p =>
                {
                    lock (gate)
                    {
                        if (!tasks.TryGetValue(p.Phase, out var task))
                        {
                            task = context.AddTask(p.Phase, maxValue: Math.Max(1, p.Total));
                            tasks[p.Phase] = task;
                        }

                        if (p.Total > 0)
                        {
                            task.MaxValue = p.Total;
                            task.Value = p.Done;
                            task.Description = $"{p.Phase} {p.Done:N0}/{p.Total:N0} ({p.Bytes / 1024 / 1024:N0} MiB read)";
                        }
                        else
                        {
                            task.IsIndeterminate = true;
                            task.Description = $"{p.Phase} {p.Done:N0}";
                        }
                    }
                });
                var result = await work(progress);
                foreach (var task in tasks.Values)
                {
                    task.Value = task.MaxValue;
                    task.StopTask();
                }

                return result;
            });
    }

    private static void WriteHuman(CliIo io, IntegrityReport report)
    {
        var console = io.Console;
        var table = new Table().AddColumns("Account", "Region", "Digests verified", "Logs verified", "Findings", "Covered (UTC)", "Verdict");
        foreach (var s in report.Summaries)
        {
            var covered = s.CoveredFrom is { } f && s.CoveredTo is { } t ? $"{f:yyyy-MM-dd HH:mm} .. {t:yyyy-MM-dd HH:mm}" : "-";
            var verdict = s.Findings == 0 ? "[green]verified[/]" : "[red]FINDINGS[/]";
            table.AddRow(s.Account, s.Region, $"{s.DigestsVerified}/{s.Digests}", $"{s.LogsVerified}/{s.Logs}", s.Findings.ToString(CultureInfo.InvariantCulture), covered, verdict);
        }

        io.Write(table, 0, 1, 5);
        foreach (var finding in report.Findings.Take(FindingsShown))
        {
            console.MarkupLine($"[red]{finding.Kind}[/] {Markup.Escape(finding.Key)}");
            console.MarkupLine($"    {Markup.Escape(finding.Message)}; expected {Markup.Escape(finding.Expected)}; found {Markup.Escape(finding.Found)}");
        }

        if (report.Findings.Count > FindingsShown)
        {
            console.MarkupLine($"... and {report.Findings.Count - FindingsShown} more findings (all of them with --json, or --report FILE)");
        }

        foreach (var group in report.Notes.GroupBy(n => n.Kind))
        {
            console.MarkupLine($"[grey]note[/] {group.Key}: {group.Count()} (e.g. {Markup.Escape(group.First().Key)}: {Markup.Escape(group.First().Message)})");
        }

        var mib = report.UncompressedBytes / 1024.0 / 1024.0;
        var verdictLine = report.Clean
            ? $"[green]Verified[/]: {report.Summaries.Sum(s => s.DigestsVerified)} digests and {report.Summaries.Sum(s => s.LogsVerified)} logs, no finding"
            : $"[red]{report.Findings.Count} integrity finding(s)[/] in {report.Summaries.Count(s => s.Findings > 0)} account/region chain(s)";
        console.MarkupLine($"{verdictLine} ({mib.ToString("N1", CultureInfo.InvariantCulture)} MiB uncompressed in {report.Elapsed.TotalSeconds.ToString("N1", CultureInfo.InvariantCulture)} s) — {Markup.Escape(report.Source)}");
    }
}

/// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, so the bar updates as work happens.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
