using System.CommandLine;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Integrity.Attestations;

namespace AuditInfra.Cli.Integrity;

/// <summary>
/// What <c>verify</c> does after its run when asked: sign attestations (--attest) and publish findings as detection
/// events (--publish-findings). VerifyCommand only calls these three methods, so the follow-ups stay out of its way.
/// </summary>
internal sealed class VerifyFollowUps
{
    private readonly AttestationOptions attest = new();
    private readonly Option<string?> publish = FindingPublishing.Option();

    public void AddTo(Command command)
    {
        attest.AddTo(command);
        command.Options.Add(publish);
    }

    /// <summary>Before the run: the options checked and the signing key opened, so a bad key ends the command before hours of work.</summary>
    public (IAttestationSigner? Signer, string? Problem) Prepare(ParseResult parse, VerifyOptions options)
    {
        if ((attest.Problem(parse, options) ?? FindingPublishing.Problem(parse.GetValue(publish))) is { } problem)
        {
            return (null, problem);
        }

        try
        {
            return (attest.Requested(parse) ? attest.OpenSigner(parse) : null, null);
        }
        catch (AttestationKeyException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>
    /// After the run: attestations written (a conflict joins the report's findings), then the findings published. A
    /// follow-up that fails says so on standard error and makes the command exit 2, never 1; the report is still given.
    /// </summary>
    public async Task<(IntegrityReport Report, bool Failed)> RunAsync(CliIo io, ParseResult parse, IObjectStore store, VerifyOptions options, IAttestationSigner? signer, IntegrityReport report, CancellationToken cancellationToken)
    {
        var failed = false;
        if (signer is not null)
        {
            try
            {
                var days = AttestationOptions.WithinRange(ChainDays.From(report.DayProofs), options);
                var conflicts = await AttestationOptions.WriteAsync(io, store, signer, days, cancellationToken);
                report = conflicts.Count == 0 ? report : report with { Findings = [.. report.Findings, .. conflicts] };
            }
            catch (Exception e) when (e is AttestationKeyException or IntegrityInputException or Core.UnsafePathException or IOException or UnauthorizedAccessException)
            {
                await io.Err.WriteLineAsync($"attestations not written (the verification itself completed): {Core.Messages.Flatten(e.Message)}");
                failed = true;
            }
        }

        if (parse.GetValue(publish) is { } topic)
        {
            try
            {
                var sent = await FindingPublishing.PublishAsync(report, topic, null, cancellationToken);
                await io.Err.WriteLineAsync($"findings published: {sent} integrity-finding event(s) to {topic}");
            }
            catch (PublishException e)
            {
                await io.Err.WriteLineAsync($"findings not published ({report.Findings.Count} in the report): {e.Message}");
                failed = true;
            }
        }

        return (report, failed);
    }
}
