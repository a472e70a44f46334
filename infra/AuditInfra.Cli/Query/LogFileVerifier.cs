using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Query;

/// <summary>How far a log file is proven by the signed digest of its hour.</summary>
public enum LogIntegrity
{
    /// <summary>Listed by a digest whose signature verifies with the trail's public keys, and its SHA-256 matches.</summary>
    Verified,

    /// <summary>Nothing proves it either way: no digest lists it, its digest is missing or cannot be trusted, or no key signs it.</summary>
    Unverifiable,

    /// <summary>A trusted digest lists it and its content is not what the digest says (changed, or corrupt).</summary>
    Tampered,
}

/// <summary>A log file's integrity, with why, in a sentence.</summary>
public sealed record LogVerdict(LogIntegrity Integrity, string Reason);

/// <summary>
/// What <c>query --verify</c> asks of the verifier: the integrity of each of these log keys, judged against the
/// digests of the hours covering them. One seam, so the verifier behind it can change without the query knowing.
/// </summary>
internal interface ILogFileVerifier
{
    Task<IReadOnlyDictionary<string, LogVerdict>> VerifyAsync(IReadOnlyCollection<string> logKeys, CancellationToken cancellationToken);
}

internal static class LogFileVerifiers
{
    public static ILogFileVerifier For(IObjectStore store, PublicKeySet keys) => new VerifierReportMapping(store, keys);
}

/// <summary>
/// Runs <see cref="IntegrityVerifier"/> over the accounts, regions and hours of the keys and reads each key's
/// verdict from its report: a finding on the log itself, a note that its digest is not delivered yet, or a finding
/// on its own hour's digest. A log the report says nothing against was listed by a digest of the range and hashed
/// equal; it counts as verified only when its hour's digest is free of findings of its own (signature, key, form).
/// </summary>
internal sealed class VerifierReportMapping(IObjectStore store, PublicKeySet keys) : ILogFileVerifier
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>CloudTrail's digest periods and log names differ by minutes; a log this close to a digest's hour belongs to it.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromMinutes(5);

    /// <summary>Findings that make a digest itself untrustworthy, so that nothing it lists is proven.</summary>
    private static readonly HashSet<FindingKind> DigestFaults =
    [
        FindingKind.DigestSignatureInvalid,
        FindingKind.DigestSignatureMissing,
        FindingKind.UnknownPublicKey,
        FindingKind.PublicKeyNotValid,
        FindingKind.DigestMalformed,
        FindingKind.DigestLocationMismatch,
        FindingKind.CorruptGzip,
        FindingKind.DigestTooLarge,
    ];

    /// <summary>Findings on a log that a trusted digest contradicts.</summary>
    private static readonly HashSet<FindingKind> LogTampers = [FindingKind.LogHashMismatch, FindingKind.CorruptGzip];

    public async Task<IReadOnlyDictionary<string, LogVerdict>> VerifyAsync(IReadOnlyCollection<string> logKeys, CancellationToken cancellationToken)
    {
        var verdicts = new Dictionary<string, LogVerdict>(StringComparer.Ordinal);
        var logs = new List<CloudTrailKey>();
        foreach (var key in logKeys)
        {
            if (CloudTrailKeys.Parse(key) is { Kind: CloudTrailObjectKind.Log } parsed)
            {
                logs.Add(parsed);
            }
            else
            {
                verdicts[key] = new LogVerdict(LogIntegrity.Unverifiable, "not a CloudTrail log key in the bucket layout, so no digest can list it");
            }
        }

        if (logs.Count == 0)
        {
            return verdicts;
        }

        var first = logs.Min(l => l.Timestamp);
        var options = new VerifyOptions
        {
            Accounts = logs.Select(l => l.Account).ToHashSet(StringComparer.Ordinal),
            Regions = logs.Select(l => l.Region).ToHashSet(StringComparer.Ordinal),
            Start = new DateTimeOffset(first.Year, first.Month, first.Day, first.Hour, 0, 0, TimeSpan.Zero),
            End = logs.Max(l => l.Timestamp),
        };
        var report = await new IntegrityVerifier(store, keys).VerifyAsync(options, null, cancellationToken);
        var findings = report.Findings.ToLookup(f => f.Key, StringComparer.Ordinal);
        var awaiting = report.Notes.Where(n => n.Kind == NoteKind.LogAwaitingDigest).Select(n => n.Key).ToHashSet(StringComparer.Ordinal);
        var faultyDigests = report.Findings
            .Where(f => DigestFaults.Contains(f.Kind))
            .Select(f => (Finding: f, Key: CloudTrailKeys.Parse(f.Key)))
            .Where(d => d.Key is { Kind: CloudTrailObjectKind.Digest })
            .ToList();
        var chainsRead = report.Summaries.Select(s => (s.Account, s.Region)).ToHashSet();
        foreach (var log in logs)
        {
            verdicts[log.Key] = Judge(log, findings[log.Key].ToList(), awaiting.Contains(log.Key), faultyDigests, chainsRead);
        }

        return verdicts;
    }

    private static LogVerdict Judge(CloudTrailKey log, List<IntegrityFinding> own, bool awaitingDigest, List<(IntegrityFinding Finding, CloudTrailKey? Key)> faultyDigests, HashSet<(string Account, string Region)> chainsRead)
    {
        var hourDigest = faultyDigests.FirstOrDefault(d =>
            d.Key!.Prefix == log.Prefix && d.Key.OrgId == log.OrgId && d.Key.Account == log.Account && d.Key.Region == log.Region
            && log.Timestamp >= d.Key.Timestamp - Hour - Slack && log.Timestamp < d.Key.Timestamp + Slack);
        if (hourDigest.Finding is { } fault)
        {
            // A digest that is not itself proven proves nothing about the logs it lists, nor against them.
            return new LogVerdict(LogIntegrity.Unverifiable, $"the digest of its hour ({fault.Key}) cannot be trusted: {fault.Kind}: {fault.Message} (expected {fault.Expected}; found {fault.Found})");
        }

        if (own.FirstOrDefault(f => LogTampers.Contains(f.Kind)) is { } tamper)
        {
            return new LogVerdict(LogIntegrity.Tampered, $"{tamper.Kind}: {tamper.Message} (expected {tamper.Expected}; found {tamper.Found})");
        }

        if (own.FirstOrDefault() is { } other)
        {
            return new LogVerdict(LogIntegrity.Unverifiable, $"{other.Kind}: {other.Message} (expected {other.Expected}; found {other.Found})");
        }

        if (awaitingDigest)
        {
            return new LogVerdict(LogIntegrity.Unverifiable, "the digest of its hour is not delivered yet");
        }

        return chainsRead.Contains((log.Account, log.Region))
            ? new LogVerdict(LogIntegrity.Verified, "listed by the signed digest of its hour, and its SHA-256 matches")
            : new LogVerdict(LogIntegrity.Unverifiable, "the verifier found no digest of its account and region");
    }
}
