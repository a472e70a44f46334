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
        var source = new Argument<string>("source") { Description = "s3://bucket[/prefix] (or a local copy, to copy it)" };
        var dest = new Option<DirectoryInfo>("--dest") { Description = "The directory of the copy (created if needed; a second run resumes)", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the pull report as JSON" };
        var filters = new IntegrityFilterOptions();
        var command = new Command("pull", "Copy logs, digests and their signatures (.signature files) for offline verification: resumable, checksummed, never overwriting a differing file");
        command.Arguments.Add(source);
        command.Options.Add(dest);
        command.Options.Add(json);
        filters.AddTo(command);
        command.SetAction((parse, cancellationToken) => filters.RunAsync(io, parse, parse.GetValue(source)!, "pull failed", async (store, options) =>
            {
                var destination = parse.GetValue(dest)!.FullName;
                if (store is LocalDirectoryStore local && (destination == local.Root || destination.StartsWith(local.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
                {
                    await io.Err.WriteLineAsync($"--dest {destination} is inside the source {local.Root}: choose a directory outside it");
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
                    foreach (var item in report.Conflicts.Concat(report.Failures))
                    {
                        io.Console.MarkupLine($"[red]{item.Outcome}[/] {Markup.Escape(item.Key)}: {Markup.Escape(item.Message ?? string.Empty)}");
                    }

                    if (report.Complete)
                    {
                        io.Console.MarkupLine($"Verify it offline with: auditinfra verify --source {Markup.Escape(report.Destination)} --public-keys public-keys.json");
                    }
                }

                return report.Complete ? ExitCodes.Ok : ExitCodes.Findings;
            }));
        return command;
    }
}
