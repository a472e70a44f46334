using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Integrity.Attestations;
using AuditInfra.Core.Planning;
using Spectre.Console;

namespace AuditInfra.Cli.Integrity;

/// <summary><c>auditinfra attest verify</c>: checks stored attestations offline with the signing key's public half.</summary>
public static class AttestCommand
{
    private const int ProblemsShown = 50;

    public static Command Create(CliIo io)
    {
        var command = new Command("attest", "Signed per-account, per-day integrity attestations (written by verify --attest)");
        command.Subcommands.Add(VerifyCommand(io));
        return command;
    }

    private static Command VerifyCommand(CliIo io)
    {
        var source = new Option<string>("--source") { Description = "s3://bucket[/prefix] or a local copy: the attestations under its attestations/ folder are checked", Required = true };
        var publicKey = new Option<FileInfo>("--public-key") { Description = "The signing key's public half: PEM (-----BEGIN PUBLIC KEY-----) or the JSON of `aws kms get-public-key`", Required = true };
        var endpointUrl = new Option<string?>("--endpoint-url") { Description = "An S3-compatible endpoint instead of AWS (as the AWS CLI's --endpoint-url)" };
        var json = new Option<bool>("--json") { Description = "Print every attestation's verdict as JSON on standard output" };
        var command = new Command("verify", "Check every attestation offline: signature (RSASSA-PSS SHA-256), form, and place; exit 1 if any is bad");
        command.Options.Add(source);
        command.Options.Add(publicKey);
        command.Options.Add(endpointUrl);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            System.Security.Cryptography.RSA key;
            try
            {
                key = AttestationPublicKey.Load(parse.GetValue(publicKey)!.FullName);
            }
            catch (AttestationKeyException e)
            {
                await io.Err.WriteLineAsync(e.Message);
                return ExitCodes.UsageOrInput;
            }

            using (key)
            {
                IObjectStore? store = null;
                AttestationCheckReport report;
                try
                {
                    store = SourceStores.Open(parse.GetValue(source)!, parse.GetValue(endpointUrl));
                    report = await AttestationChecker.CheckAsync(store, key, cancellationToken);
                }
                catch (Exception e) when (e is IntegrityInputException or Core.UnsafePathException or IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException or HttpRequestException)
                {
                    await io.Err.WriteLineAsync($"cannot read the attestations: {Core.Messages.Flatten(e.Message)}");
                    return ExitCodes.UsageOrInput;
                }
                finally
                {
                    (store as IDisposable)?.Dispose();
                }

                if (report.Checks.IsEmpty)
                {
                    await io.Err.WriteLineAsync($"no attestation in {report.Source}: expected {AttestationLayout.Folder}[o-org/]<account>/YYYY/MM/DD.json under the source (written by verify --attest)");
                    return ExitCodes.UsageOrInput;
                }

                if (parse.GetValue(json))
                {
                    await io.Out.WriteLineAsync(ToJson(report).ToJsonString(JsonFormat.Indented));
                }
                else
                {
                    WriteHuman(io, report);
                }

                return report.BadCount == 0 ? ExitCodes.Ok : ExitCodes.Findings;
            }
        });
        return command;
    }

    private static JsonObject ToJson(AttestationCheckReport report) => new()
    {
        ["source"] = report.Source,
        ["result"] = report.BadCount == 0 ? "verified" : "findings",
        ["valid"] = report.ValidCount,
        ["bad"] = report.BadCount,
        ["attestations"] = new JsonArray([.. report.Checks.Select(c => (JsonNode)new JsonObject
        {
            ["key"] = c.Key,
            ["valid"] = c.Valid,
            ["problem"] = c.Problem,
            ["keyId"] = c.KeyId,
            ["organization"] = c.Attestation?.Organization,
            ["account"] = c.Attestation?.Account,
            ["day"] = c.Attestation?.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["regions"] = c.Attestation is { } a ? new JsonArray([.. a.Regions.Select(r => (JsonNode)JsonValue.Create(r.Region))]) : null,
            ["digests"] = c.Attestation?.Digests,
            ["logs"] = c.Attestation?.Logs,
            ["verifierVersion"] = c.Attestation?.VerifierVersion,
        })]),
    };

    private static void WriteHuman(CliIo io, AttestationCheckReport report)
    {
        var table = new Table().AddColumns("Account", "Attested days", "First", "Last", "Bad");
        foreach (var account in report.Checks.Where(c => c.Attestation is not null).GroupBy(c => c.Attestation!.Account).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var valid = account.Where(c => c.Valid).Select(c => c.Attestation!.Day).Order().ToList();
            table.AddRow(account.Key, valid.Count.ToString(CultureInfo.InvariantCulture), valid.Count > 0 ? $"{valid[0]:yyyy-MM-dd}" : "-", valid.Count > 0 ? $"{valid[^1]:yyyy-MM-dd}" : "-", account.Count(c => !c.Valid).ToString(CultureInfo.InvariantCulture));
        }

        io.Write(table, 0);
        foreach (var bad in report.Checks.Where(c => !c.Valid).Take(ProblemsShown))
        {
            io.Console.MarkupLine($"[red]bad attestation[/] {Markup.Escape(bad.Key)}");
            io.Console.MarkupLine($"    {Markup.Escape(bad.Problem!)}");
        }

        if (report.BadCount > ProblemsShown)
        {
            io.Console.MarkupLine($"... and {report.BadCount - ProblemsShown} more (all of them with --json)");
        }

        io.Console.MarkupLine(report.BadCount == 0
            ? $"[green]Verified[/]: {report.ValidCount} attestation(s), every signature good — {Markup.Escape(report.Source)}"
            : $"[red]{report.BadCount} bad attestation(s)[/], {report.ValidCount} good — {Markup.Escape(report.Source)}");
    }
}
