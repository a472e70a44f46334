using System.CommandLine;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Infrastructure;
using AuditInfra.Core.Documentation;
using AuditInfra.Core.Planning;

namespace AuditInfra.Cli.Documentation;

/// <summary><c>auditinfra docs</c>: per-account documentation for auditors, from the deployed design.</summary>
public static class DocsCommand
{
    public static Command Create(CliIo io)
    {
        var stack = new StackConfigOptions("audit", "prod");
        var accounts = new Option<FileInfo?>("--accounts") { Description = "The JSON of `aws organizations list-accounts --output json`: every account gets a page" };
        var verifyReport = new Option<FileInfo?>("--verify-report") { Description = "Verification summaries per account and region, shown as evidence" };
        var canaryMetrics = new Option<FileInfo?>("--canary-metrics") { Description = "The JSON of `aws cloudwatch get-metric-data` for the canary latency query the docs print: measured latency per account and region" };
        var output = new Option<DirectoryInfo>("--out") { Description = "The folder of the Markdown and HTML site: new, empty, or an earlier site (only the site's own files are replaced)", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the files written as JSON on standard output" };
        var command = new Command("docs", "Write the organization's audit documentation (index, one page per account, control matrix) as Markdown and self-contained HTML");
        stack.AddTo(command);
        command.Options.Add(accounts);
        command.Options.Add(verifyReport);
        command.Options.Add(canaryMetrics);
        command.Options.Add(output);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var (config, _) = stack.Load(parse, io);
            if (config is null)
            {
                return ExitCodes.UsageOrInput;
            }

            DocSite site;
            try
            {
                var accountList = parse.GetValue(accounts) is { } a ? AccountList.Read(a.FullName) : (System.Collections.Immutable.ImmutableArray<OrgAccount>?)null;
                var evidence = parse.GetValue(verifyReport) is { } v ? VerificationReport.Read(v.FullName) : (System.Collections.Immutable.ImmutableArray<VerificationSummary>?)null;
                var canary = parse.GetValue(canaryMetrics) is { } c ? CanaryMetrics.Read(c.FullName) : (System.Collections.Immutable.ImmutableArray<CanaryMeasurement>?)null;
                site = DocumentationGenerator.Build(config, accountList, evidence, canary);
            }
            catch (DocumentationInputException ex)
            {
                io.Err.WriteLine(ex.Message);
                return ExitCodes.UsageOrInput;
            }

            var outDir = parse.GetValue(output)!;
            IReadOnlyList<string> files;
            try
            {
                files = SiteWriter.Write(site, outDir.FullName);
            }
            catch (SiteOutputException ex)
            {
                io.Err.WriteLine(ex.Message);
                return ExitCodes.UsageOrInput;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                io.Err.WriteLine($"{outDir.FullName}: cannot write the documentation ({Core.Messages.Flatten(ex.Message)}); the pages already written are complete and listed in {SiteWriter.MarkerFileName}");
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(json))
            {
                io.Out.WriteLine(new JsonObject
                {
                    ["out"] = outDir.FullName,
                    ["pages"] = site.Pages.Length,
                    ["files"] = new JsonArray([.. files.Select(f => (JsonNode)JsonValue.Create(f))]),
                }.ToJsonString(JsonFormat.Indented));
            }
            else
            {
                io.Out.WriteLine($"docs: {site.Pages.Length} pages ({files.Count} files) written to {outDir.FullName}; open index.html");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
