using System.CommandLine;
using AuditInfra.Cli.Plan;
using AuditInfra.Cli.Rollout;

namespace AuditInfra.Cli;

/// <summary>The <c>auditinfra</c> command. Each capability contributes its command here.</summary>
public static class CliApp
{
    public static RootCommand BuildRoot(CliIo io)
    {
        var root = new RootCommand("AuditInfra: organization-wide AWS audit logging — plan, document, verify, query and test detections offline.");
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

    public static async Task<int> RunAsync(string[] args, CliIo io)
    {
        var root = BuildRoot(io);
        var parse = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = io.Out, Error = io.Err };
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
