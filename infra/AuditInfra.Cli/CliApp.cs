using System.CommandLine;
using AuditInfra.Cli.Plan;
using AuditInfra.Cli.Rollout;

namespace AuditInfra.Cli;

/// <summary>The <c>auditinfra</c> command. Each capability contributes its command here.</summary>
public static class CliApp
{
    private const string VerboseOption = "--verbose";

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
        CommandHelp.StateExitCodes(root);
        return root;
    }

    public static Task<int> RunAsync(string[] args, CliIo io) => RunAsync(BuildRoot(io), args, io);

    /// <summary>Runs a command tree built by <see cref="BuildRoot"/>; every exception a command lets escape is exit 2 in one line.</summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args, CliIo io)
    {
        // The library's own handler prints the trace and returns 1, which scripts would read as findings.
        var configuration = new InvocationConfiguration { Output = io.Out, Error = io.Err, EnableDefaultExceptionHandler = false };
        ParseResult? parse = null;
        try
        {
            parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors)
                {
                    await io.Err.WriteLineAsync(error.Message);
                }

                await io.Err.WriteLineAsync($"Run '{CommandHelp.Path(parse.CommandResult)} --help' for usage.");
                return ExitCodes.UsageOrInput;
            }

            return await parse.InvokeAsync(configuration);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var message = string.Join(' ', ex.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            await io.Err.WriteLineAsync($"auditinfra: internal error: {ex.GetType().Name}: {message}");
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
}
