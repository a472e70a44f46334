using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditInfra.Core.Integrity;

/// <summary>Every kind of integrity finding (exit code 1) the verifier reports.</summary>
public enum FindingKind
{
    /// <summary>The digest's signature does not verify with its public key.</summary>
    DigestSignatureInvalid,

    /// <summary>The digest has no signature (no x-amz-meta-signature / no .signature file).</summary>
    DigestSignatureMissing,

    /// <summary>The digest names a key fingerprint not in the public keys.</summary>
    UnknownPublicKey,

    /// <summary>The key exists but the digest time falls outside its validity.</summary>
    PublicKeyNotValid,

    /// <summary>The digest file is not valid gzip or JSON, or lacks required fields.</summary>
    DigestMalformed,

    /// <summary>The digest's own digestS3Object/digestS3Bucket differ from where it was read.</summary>
    DigestLocationMismatch,

    /// <summary>The digest's previous digest pointer names another present digest than the one before it.</summary>
    BrokenChain,

    /// <summary>previousDigestHashValue differs from the hash of the previous digest actually read.</summary>
    PreviousHashMismatch,

    /// <summary>previousDigestSignature differs from the signature of the previous digest actually read.</summary>
    PreviousSignatureMismatch,

    /// <summary>A digest of the chain is absent (named by the next digest, or reconstructed for an hour the chain covers).</summary>
    MissingDigest,

    /// <summary>Hours inside a chain with no digest although the chain continues across them.</summary>
    MissingHours,

    /// <summary>A log's SHA-256 (after gunzip) differs from the hash in its digest.</summary>
    LogHashMismatch,

    /// <summary>A log listed by a digest is absent.</summary>
    LogMissing,

    /// <summary>A log present in the source that no digest lists although its hour's digest exists.</summary>
    LogNotListed,

    /// <summary>A log in an hour whose digest is missing: it cannot be verified.</summary>
    LogUnverifiable,

    /// <summary>A log (or digest) whose gzip is truncated, corrupt, or followed by bytes that are not a gzip member; the message names which.</summary>
    CorruptGzip,

    /// <summary>A digest inflating to more than <see cref="DigestFile.MaxInflatedBytes"/>: not read further (a gzip bomb).</summary>
    DigestTooLarge,

    /// <summary>An object in a log or digest folder whose name is not a CloudTrail name (including hidden and .partial files).</summary>
    UnexpectedObject,

    /// <summary>A log or digest whose file name names another account, region or kind than the folder it is in.</summary>
    MisplacedObject,

    /// <summary>A symbolic link in a local copy: never followed, since it could loop or point outside the copy.</summary>
    SymbolicLink,

    /// <summary>A FIFO, socket or device in a local copy: never opened.</summary>
    NotARegularFile,

    /// <summary>An account asked for with --account has no CloudTrail data in the source.</summary>
    AccountWithoutData,

    /// <summary>An attestation already stored for an account-day states other facts than this verification proved (never overwritten).</summary>
    AttestationConflict,
}

/// <summary>Informational observations: reported, never an error.</summary>
public enum NoteKind
{
    /// <summary>A digest with null previous* fields: the trail started (or restarted) logging.</summary>
    ChainStart,

    /// <summary>A digest delivered late for an earlier period (verified like any other).</summary>
    BackfillDigest,

    /// <summary>A log newer than the last digest of its chain and too recent for its digest to be due (see <see cref="IntegrityVerifier.ChainEndGrace"/>).</summary>
    LogAwaitingDigest,

    /// <summary>The first digest read names a predecessor the source does not hold (expired by lifecycle or outside the copy).</summary>
    ChainBeforeRange,

    /// <summary>A chain ends before the newest digest of its trail's other chains, by less than <see cref="IntegrityVerifier.ChainEndGrace"/> (delivery may lag).</summary>
    ChainEndsEarly,

    /// <summary>An object under AWSLogs/ outside any account's CloudTrail and CloudTrail-Digest folders (another service's logs).</summary>
    UnrecognizedObject,
}

public sealed record IntegrityFinding(FindingKind Kind, string Key, string Expected, string Found, string Message)
{
    public string Describe() => $"{Kind}: {Key}: {Message} (expected {Expected}; found {Found})";
}

public sealed record IntegrityNote(NoteKind Kind, string Key, string Message);

/// <summary>
/// Counts per account and region, in the shape the documentation's evidence page reads
/// (Core/Documentation/VerificationReport): digests and logs that verified, findings, the first and
/// last digest read, and a verdict.
/// </summary>
public sealed record ChainSummary(
    string Account,
    string Region,
    int Digests,
    int DigestsVerified,
    int Logs,
    int LogsVerified,
    int Findings,
    string? FirstDigest,
    string? LastDigest,
    DateTimeOffset? CoveredFrom,
    DateTimeOffset? CoveredTo,
    long UncompressedBytes)
{
    public string Verdict => Findings == 0 ? "verified" : "findings";
}

public sealed record IntegrityReport(
    string Source,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    IReadOnlyList<ChainSummary> Summaries,
    IReadOnlyList<IntegrityFinding> Findings,
    IReadOnlyList<IntegrityNote> Notes,
    long BytesRead,
    long UncompressedBytes,
    TimeSpan Elapsed)
{
    public bool Clean => Findings.Count == 0;

    /// <summary>Per chain and UTC day whose digests this run read: the day's first and last digest, counts, complete and clean.</summary>
    public IReadOnlyList<DayProof> DayProofs { get; init; } = [];

    /// <summary>
    /// The chains this run proved further, each at its newest verified digest (chains with a finding are left out):
    /// what a verify state is advanced with. Not part of the JSON report.
    /// </summary>
    public IReadOnlyDictionary<string, ChainCheckpoint> Checkpoints { get; init; } = new Dictionary<string, ChainCheckpoint>();

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(
        new
        {
            Source,
            Start,
            End,
            Result = Clean ? "verified" : "findings",
            FindingCount = Findings.Count,
            DigestsVerified = Summaries.Sum(s => s.DigestsVerified),
            LogsVerified = Summaries.Sum(s => s.LogsVerified),
            Summaries = Summaries.Select(s => new
            {
                s.Account,
                s.Region,
                s.Digests,
                s.DigestsVerified,
                s.Logs,
                s.LogsVerified,
                s.Findings,
                s.FirstDigest,
                s.LastDigest,
                s.CoveredFrom,
                s.CoveredTo,
                s.UncompressedBytes,
                s.Verdict,
            }),
            Findings,
            Notes,
            DayProofs = DayProofs.Select(d => new
            {
                d.OrgId,
                d.Account,
                d.Region,
                d.Trail,
                Day = d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                d.FirstDigest,
                d.FirstSignature,
                d.LastDigest,
                d.LastSignature,
                d.Digests,
                d.Logs,
                d.Complete,
                d.Clean,
                d.Proven,
            }),
            BytesRead,
            UncompressedBytes,
            ElapsedSeconds = Math.Round(Elapsed.TotalSeconds, 3),
        },
        Options);

    public static JsonSerializerOptions JsonOptions => Options;
}
