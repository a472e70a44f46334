namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>The seam to the verifier: its per-chain, per-day proofs as the chain-days attestations are made of.</summary>
public static class ChainDays
{
    /// <summary>
    /// One <see cref="ChainDay"/> per <see cref="DayProof"/>; a day whose edge digest had no signature is never complete
    /// and clean (an attestation names the signatures it rests on).
    /// </summary>
    public static IReadOnlyList<ChainDay> From(IEnumerable<DayProof> proofs) =>
        [.. proofs.Select(p => new ChainDay(
            p.OrgId,
            p.Account,
            p.Region,
            p.Day,
            new DigestReference(p.FirstDigest, p.FirstSignature ?? string.Empty),
            new DigestReference(p.LastDigest, p.LastSignature ?? string.Empty),
            p.Digests,
            p.Logs,
            p.Proven && !string.IsNullOrEmpty(p.FirstSignature) && !string.IsNullOrEmpty(p.LastSignature)))];
}
