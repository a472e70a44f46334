using System.CommandLine;
using System.Globalization;
using AuditInfra.Core.Integrity;
using Spectre.Console;

namespace AuditInfra.Cli.Integrity;

/// <summary><c>auditinfra pull</c>: a forensically preserved local copy of the bucket that verifies offline.</summary>
public static class PullCommand
{
    public static Command Create(CliIo io)
    {
        var sourceArgument = new Argument<string?>("source") { Description = "The same as --source (kept for scripts written before --source)", Arity = ArgumentArity.ZeroOrOne };
        var sourceOption = new Option<string?>("--source") { Description = "s3://bucket[/prefix] (or a local copy, to copy it)" };
        var output = new Option<DirectoryInfo>("--out", "--dest") { Description = "The folder of the copy (created at the first object written; a second run resumes)", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the pull report as JSON on standard output" };
        var filters = new IntegrityFilterOptions();
        var command = new Command("pull", "Copy logs, digests and their signatures (.signature files) for offline verification: resumable, checksummed, never overwriting a differing file");
        command.Arguments.Add(sourceArgument);
        command.Options.Add(sourceOption);
        command.Options.Add(output);
        command.Options.Add(json);
        filters.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (positional, named) = (parse.GetValue(sourceArgument), parse.GetValue(sourceOption));
            if (positional is not null && named is not null && positional != named)
            {
                await io.Err.WriteLineAsync($"pull: two sources given ('{positional}' and --source '{named}'); give one, with --source");
                return ExitCodes.UsageOrInput;
            }

            if ((named ?? positional) is not { } source)
            {
                await io.Err.WriteLineAsync("pull: --source is required (s3://bucket[/prefix] or a local copy)");
                return ExitCodes.UsageOrInput;
            }

            return await filters.RunAsync(io, parse, source, "pull failed", async (store, options) =>
            {
                var destination = parse.GetValue(output)!.FullName;
                if (store is LocalDirectoryStore local && (destination == local.Root || destination.StartsWith(local.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
                {
                    await io.Err.WriteLineAsync($"--out {destination} is inside the source {local.Root}: choose a folder outside it");
                    return ExitCodes.UsageOrInput;
                }

                var report = await VerifyCommand.WithProgressAsync(io, progress => new CopyPuller(store, destination).PullAsync(options, progress, cancellationToken));
                if (parse.GetValue(json))
                {
                    await io.Out.WriteLineAsync(report.ToJson());
                }
                else
                {
                    io.Console.MarkupLine($"{report.Downloaded} object(s) downloaded ({(report.BytesDownloaded / 1024.0 / 1024.0).ToString("N1", CultureInfo.InvariantCulture)} MiB), {report.AlreadyPresent} already present, into {Markup.Escape(report.Destination)}");
                    foreach (var item in report.Conflicts.Concat(report.Failures).Concat(report.Rejected))
                    {
                        io.Console.MarkupLine($"[red]{item.Outcome}[/] {Markup.Escape(item.Key)}: {Markup.Escape(item.Message ?? string.Empty)}");
                    }

                    if (report.Complete)
                    {
                        io.Console.MarkupLine($"Verify it offline with: auditinfra verify --source {Markup.Escape(report.Destination)} --public-keys public-keys.json");
                    }
                }

                return report.Complete ? ExitCodes.Ok : ExitCodes.Findings;
            });
        });
        return command;
    }
}
