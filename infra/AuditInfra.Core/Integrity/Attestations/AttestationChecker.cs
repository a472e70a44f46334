using System.Collections.Immutable;
using System.Security.Cryptography;

namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>The verdict on one object under <c>attestations/</c>: valid (with what it attests) or the problem found.</summary>
public sealed record AttestationCheck(string Key, Attestation? Attestation, string? KeyId, string? Problem)
{
    public bool Valid => Problem is null;
}

public sealed record AttestationCheckReport(string Source, ImmutableArray<AttestationCheck> Checks)
{
    public int ValidCount => Checks.Count(c => c.Valid);

    public int BadCount => Checks.Count(c => !c.Valid);
}

/// <summary>
/// Checks the attestations of a source offline: each object's place, size, envelope, signature (RSASSA-PSS SHA-256
/// with the given public key) and payload, and that it sits at the key its own organization, account and day name.
/// Everything under <c>attestations/</c> is hostile input: bounded reads, links and special files never followed.
/// </summary>
public static class AttestationChecker
{
    public static async Task<AttestationCheckReport> CheckAsync(IObjectStore store, RSA publicKey, CancellationToken cancellationToken)
    {
        var entries = new List<ObjectEntry>();
        await foreach (var entry in store.ListAsync(AttestationLayout.Folder, cancellationToken))
        {
            entries.Add(entry);
        }

        var checks = new AttestationCheck[entries.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, entries.Count), new ParallelOptions { MaxDegreeOfParallelism = store.IsLocal ? 1 : 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            checks[i] = await CheckOneAsync(store, entries[i], publicKey, ct);
        });
        var all = checks.ToList();
        if (store is LocalDirectoryStore local)
        {
            all.AddRange(local.TakeIrregularEntries().Select(e => new AttestationCheck(e.Key, null, null, e.Description)));
            all.AddRange(local.TakeOrphanSignatures().Select(e => new AttestationCheck(e.Key, null, null, "not an attestation (a .signature file has no place under attestations/)")));
        }

        return new AttestationCheckReport(store.Description, [.. all.OrderBy(c => c.Key, StringComparer.Ordinal)]);
    }

    private static async Task<AttestationCheck> CheckOneAsync(IObjectStore store, ObjectEntry entry, RSA publicKey, CancellationToken cancellationToken)
    {
        AttestationCheck Bad(string problem) => new(entry.Key, null, null, problem);

        if (AttestationLayout.Parse(entry.Key) is not { } place || place.Prefix != store.Prefix)
        {
            return Bad($"not an attestation key (expected {store.Prefix}{AttestationLayout.Folder}[o-org/]<account>/YYYY/MM/DD.json)");
        }

        if (entry.Size > AttestationEnvelope.MaxBytes)
        {
            return Bad($"{entry.Size} bytes: larger than an attestation can be ({AttestationEnvelope.MaxBytes >> 10} KiB); not read");
        }

        var bytes = await AttestationWriter.ReadExistingAsync(store, entry.Key, cancellationToken);
        if (bytes is null)
        {
            return Bad("listed, but gone or not a regular file when read");
        }

        try
        {
            var envelope = AttestationEnvelope.Parse(bytes);
            bool signed;
            try
            {
                signed = envelope.IsSignedBy(publicKey);
            }
            catch (CryptographicException)
            {
                signed = false;
            }

            if (!signed)
            {
                return Bad($"the signature does not verify with the public key (signed by {Attestation.Shorten(envelope.KeyId)}): the attestation was altered or signed by another key");
            }

            var attestation = Attestation.ParsePayload(envelope.Payload);
            if (AttestationLayout.Key(store.Prefix, attestation) != entry.Key)
            {
                return new AttestationCheck(entry.Key, attestation, envelope.KeyId, $"signed, but it attests {attestation.Account} on {attestation.Day:yyyy-MM-dd}; its place is {AttestationLayout.Key(store.Prefix, attestation)}");
            }

            return new AttestationCheck(entry.Key, attestation, envelope.KeyId, null);
        }
        catch (AttestationFormatException e)
        {
            return Bad(e.Message);
        }
    }
}

/// <summary>One account's attested days, as the documentation shows them: the last one and every gap between the first and the last.</summary>
public sealed record AccountAttestations(string? Organization, string Account, DateOnly First, DateOnly Last, int Days, ImmutableArray<(DateOnly From, DateOnly To)> Gaps);

public static class AttestationIndex
{
    /// <summary>Per account, from the keys under <c>attestations/</c> (keys that are not attestation keys are ignored).</summary>
    public static ImmutableArray<AccountAttestations> FromKeys(IEnumerable<string> keys)
    {
        var byAccount = keys.Select(AttestationLayout.Parse).OfType<(string Prefix, string? Organization, string Account, DateOnly Day)>()
            .GroupBy(k => (k.Organization, k.Account));
        var result = new List<AccountAttestations>();
        foreach (var group in byAccount)
        {
            var days = group.Select(k => k.Day).Distinct().Order().ToList();
            var gaps = ImmutableArray.CreateBuilder<(DateOnly, DateOnly)>();
            for (var i = 1; i < days.Count; i++)
            {
                if (days[i].DayNumber - days[i - 1].DayNumber > 1)
                {
                    gaps.Add((days[i - 1].AddDays(1), days[i].AddDays(-1)));
                }
            }

            result.Add(new AccountAttestations(group.Key.Organization, group.Key.Account, days[0], days[^1], days.Count, gaps.ToImmutable()));
        }

        return [.. result.OrderBy(a => a.Account, StringComparer.Ordinal).ThenBy(a => a.Organization, StringComparer.Ordinal)];
    }

    public static async Task<ImmutableArray<AccountAttestations>> ListAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var entry in store.ListAsync(AttestationLayout.Folder, cancellationToken))
        {
            keys.Add(entry.Key);
        }

        return FromKeys(keys.Where(k => AttestationLayout.Parse(k)?.Prefix == store.Prefix));
    }
}
