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
        var attestations = new Option<string?>("--attestations") { Description = "s3://bucket[/prefix] or a local copy: show per account the last attested day and the days without an attestation (from verify --attest)" };
        var endpointUrl = new Option<string?>("--endpoint-url") { Description = "With an s3:// --attestations: an S3-compatible endpoint instead of AWS" };
        var output = new Option<DirectoryInfo>("--out") { Description = "The folder of the Markdown and HTML site: new, empty, or an earlier site (only the site's own files are replaced)", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the files written as JSON on standard output" };
        var command = new Command("docs", "Write the organization's audit documentation (index, one page per account, control matrix) as Markdown and self-contained HTML");
        stack.AddTo(command);
        command.Options.Add(accounts);
        command.Options.Add(verifyReport);
        command.Options.Add(canaryMetrics);
        command.Options.Add(attestations);
        command.Options.Add(endpointUrl);
        command.Options.Add(output);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
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
                var attested = parse.GetValue(attestations) is { } source ? await AttestationListing.ReadAsync(source, parse.GetValue(endpointUrl), cancellationToken) : (System.Collections.Immutable.ImmutableArray<Core.Integrity.Attestations.AccountAttestations>?)null;
                site = DocumentationGenerator.Build(config, accountList, evidence, canary, attested);
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

/// <summary>The attestations <c>docs --attestations</c> lists: keys only (their signatures are what <c>attest verify</c> checks).</summary>
internal static class AttestationListing
{
    public static async Task<System.Collections.Immutable.ImmutableArray<Core.Integrity.Attestations.AccountAttestations>> ReadAsync(string source, string? endpointUrl, CancellationToken cancellationToken)
    {
        Core.Integrity.IObjectStore? store = null;
        try
        {
            store = Integrity.SourceStores.Open(source, endpointUrl);
            return await Core.Integrity.Attestations.AttestationIndex.ListAsync(store, cancellationToken);
        }
        catch (Exception e) when (e is Core.Integrity.IntegrityInputException or IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException or HttpRequestException)
        {
            throw new DocumentationInputException($"--attestations {source}: cannot list the attestations ({Core.Messages.Flatten(e.Message)})");
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }
}
