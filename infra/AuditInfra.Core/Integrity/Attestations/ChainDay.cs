namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>A digest an attestation names: its key and the hex signature CloudTrail gave it.</summary>
public sealed record DigestReference(string Key, string Signature);

/// <summary>
/// What one verification proved about one chain (account, region) on one UTC day: the day's first and last digest,
/// how many digests and logs of that day verified, and whether the day's segment of the chain is complete (the chain
/// runs on past the day's end) and clean (no finding touches it). The seam between the verifier and attestations.
/// </summary>
public sealed record ChainDay(
    string? Organization,
    string Account,
    string Region,
    DateOnly Day,
    DigestReference FirstDigest,
    DigestReference LastDigest,
    int Digests,
    int Logs,
    bool CompleteAndClean);
