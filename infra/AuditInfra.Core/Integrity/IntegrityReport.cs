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

    /// <summary>A log (or digest) whose gzip is truncated or corrupt.</summary>
    CorruptGzip,
}

/// <summary>Informational observations: reported, never an error.</summary>
public enum NoteKind
{
    ChainStart,
    BackfillDigest,
    LogAwaitingDigest,
    ChainBeforeRange,
}

public sealed record IntegrityFinding(FindingKind Kind, string Key, string Expected, string Found, string Message)
{
    public string Describe() => $"{Kind}: {Key}: {Message} (expected {Expected}; found {Found})";
}

public sealed record IntegrityNote(NoteKind Kind, string Key, string Message);

/// <summary>Counts per account and region.</summary>
public sealed record ChainSummary(string Account, string Region)
{
    public int Digests { get; set; }

    public int DigestsValid { get; set; }

    public int Logs { get; set; }

    public int LogsValid { get; set; }

    public int Findings { get; set; }

    public long UncompressedBytes { get; set; }
}

public sealed record IntegrityReport(
    string Source,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    IReadOnlyList<ChainSummary> Chains,
    IReadOnlyList<IntegrityFinding> Findings,
    IReadOnlyList<IntegrityNote> Notes,
    long BytesRead,
    long UncompressedBytes,
    TimeSpan Elapsed)
{
    public bool Clean => Findings.Count == 0;

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
            Chains,
            Findings,
            Notes,
            BytesRead,
            UncompressedBytes,
            ElapsedSeconds = Math.Round(Elapsed.TotalSeconds, 3),
        },
        Options);

    public static JsonSerializerOptions JsonOptions => Options;
}
