using System.CommandLine;
using AuditInfra.Cli.Plan;
using AuditInfra.Cli.Rollout;

namespace AuditInfra.Cli;

/// <summary>The <c>auditinfra</c> command. Each capability contributes its command here.</summary>
public static class CliApp
{
    private const string VerboseOption = "--verbose";

    /// <summary>How long a cancelled command may take to stop before the run ends without it.</summary>
    public static readonly TimeSpan CancellationGrace = TimeSpan.FromSeconds(2);

    public static RootCommand BuildRoot(CliIo io)
    {
        var root = new RootCommand("AuditInfra: organization-wide AWS audit logging — plan, document, verify, query and test detections offline.");
        root.Options.Add(new Option<bool>(VerboseOption) { Description = "On an unexpected error, also print its stack trace", Recursive = true });
        root.Subcommands.Add(PlanCommand.Create(io));
        root.Subcommands.Add(Checks.CheckCommand.Create(io));
        root.Subcommands.Add(Detection.RulesCommand.Create(io));
        root.Subcommands.Add(Documentation.DocsCommand.Create(io));
        root.Subcommands.Add(Query.QueryCommand.Create(io));
        root.Subcommands.Add(RolloutCommand.Create(io));
        root.Subcommands.Add(Integrity.VerifyCommand.Create(io));
        root.Subcommands.Add(Integrity.PullCommand.Create(io));
        root.Subcommands.Add(Integrity.SampleCommand.Create(io));
        root.Subcommands.Add(Integrity.AttestCommand.Create(io));
        CommandHelp.StateExitCodes(root);
        return root;
    }

    public static Task<int> RunAsync(string[] args, CliIo io, CancellationToken cancellationToken = default) => RunAsync(BuildRoot(io), args, io, cancellationToken);

    /// <summary>
    /// Runs a command tree built by <see cref="BuildRoot"/>; every exception a command lets escape is exit 2 in one line,
    /// and a command stopped by <paramref name="cancellationToken"/> (Ctrl+C) ends with "cancelled" and exit 130.
    /// </summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args, CliIo io, CancellationToken cancellationToken = default)
    {
        // The library's own handler prints the trace and returns 1, which scripts would read as findings. Signals are
        // handled by the caller (Program), which turns them into cancellationToken, so a cancelled command is told apart
        // from one that failed with an OperationCanceledException of its own (an HTTP timeout).
        var configuration = new InvocationConfiguration { Output = io.Out, Error = io.Err, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        ParseResult? parse = null;
        try
        {
            parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                var errors = string.Join("; ", parse.Errors.Select(error => Core.Messages.Flatten(error.Message).TrimEnd('.')));
                await io.Err.WriteLineAsync($"{errors} (run '{CommandHelp.Path(parse.CommandResult)} --help' for usage)");
                return ExitCodes.UsageOrInput;
            }

            // Run apart from this thread so a command that does not listen to the token (a synchronous
            // one) cannot hold the process after Ctrl+C: it gets a short grace, then the run ends as cancelled.
            var invocation = Task.Run(() => parse.InvokeAsync(configuration, cancellationToken), CancellationToken.None);
            await Task.WhenAny(invocation, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
            if (!invocation.IsCompleted)
            {
                await Task.WhenAny(invocation, Task.Delay(CancellationGrace, CancellationToken.None)).ConfigureAwait(false);
                if (!invocation.IsCompleted)
                {
                    await io.Err.WriteLineAsync("auditinfra: cancelled");
                    return ExitCodes.Cancelled;
                }
            }

            return await invocation;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await io.Err.WriteLineAsync("auditinfra: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex)
        {
            await io.Err.WriteLineAsync($"auditinfra: internal error: {ex.GetType().Name}: {Core.Messages.Flatten(ex.Message)}");
            if (parse is null ? args.Contains(VerboseOption) : parse.GetValue<bool>(VerboseOption))
            {
                await io.Err.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.UsageOrInput;
        }
    }
}

/// <summary>Exit codes shared by every command, so scripts can rely on them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command ran and found something: a violated invariant, an integrity finding, a fired detection.</summary>
    public const int Findings = 1;

    /// <summary>Bad usage or bad input (configuration, files): nothing was judged.</summary>
    public const int UsageOrInput = 2;

    /// <summary><c>query</c> over a bucket: the logs asked for are archived (Glacier Flexible Retrieval, Deep Archive, Intelligent-Tiering archive tiers) and not restored yet.</summary>
    public const int NeedsRestore = 3;

    /// <summary>Stopped by Ctrl+C or SIGTERM before it finished (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}
