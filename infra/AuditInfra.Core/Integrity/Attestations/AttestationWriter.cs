using System.Collections.Immutable;
using System.Globalization;

namespace AuditInfra.Core.Integrity.Attestations;

public enum AttestationResult
{
    /// <summary>Signed and written by this run.</summary>
    Written,

    /// <summary>An attestation of the same facts was already there (a re-run): left as it is.</summary>
    AlreadyAttested,

    /// <summary>Something else is at the key: an attestation of other facts, or an object that is not one. A finding.</summary>
    Conflict,

    /// <summary>A region of the account-day is not complete and clean: nothing is attested for it.</summary>
    NotAttested,
}

public sealed record AttestationOutcome(string Key, string? Organization, string Account, DateOnly Day, AttestationResult Result, string Detail);

/// <summary>An account-day to attest, or why it cannot be.</summary>
public sealed record PlannedAttestation(string? Organization, string Account, DateOnly Day, Attestation? Attestation, string? NotAttestedBecause);

/// <summary>
/// Turns what a verification proved per chain and day into signed attestations, one per account and UTC day, written
/// once: an account-day is attested only when every region's segment that day is complete and clean; an attestation
/// already there is kept (same facts: skipped; other facts: a conflict, reported as a finding, never overwritten).
/// </summary>
public sealed class AttestationWriter(IObjectStore store, IObjectWriter writer, IAttestationSigner signer, string verifierVersion)
{
    /// <summary>The tool's version, as written into attestations.</summary>
    public static string ToolVersion { get; } =
        typeof(AttestationWriter).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    public static ImmutableArray<PlannedAttestation> Plan(IEnumerable<ChainDay> days, string verifierVersion)
    {
        var planned = ImmutableArray.CreateBuilder<PlannedAttestation>();
        foreach (var group in days
            .GroupBy(d => (d.Organization, d.Account, d.Day))
            .OrderBy(g => g.Key.Account, StringComparer.Ordinal).ThenBy(g => g.Key.Day).ThenBy(g => g.Key.Organization, StringComparer.Ordinal))
        {
            var (organization, account, day) = group.Key;
            var open = group.Where(d => !d.CompleteAndClean).Select(d => d.Region).Distinct().Order(StringComparer.Ordinal).ToList();
            var doubled = group.GroupBy(d => d.Region).Where(g => g.Count() > 1).Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
            if (open.Count > 0)
            {
                planned.Add(new PlannedAttestation(organization, account, day, null, $"not complete and clean in {string.Join(", ", open)}"));
            }
            else if (doubled.Count > 0)
            {
                planned.Add(new PlannedAttestation(organization, account, day, null, $"several digest chains (trails) in {string.Join(", ", doubled)}: one attestation states one chain per region"));
            }
            else
            {
                var regions = group.OrderBy(d => d.Region, StringComparer.Ordinal).Select(d => new RegionProof(d.Region, d.FirstDigest, d.LastDigest, d.Digests, d.Logs));
                planned.Add(new PlannedAttestation(organization, account, day, new Attestation(organization, account, day, [.. regions], verifierVersion), null));
            }
        }

        return planned.ToImmutable();
    }

    public async Task<ImmutableArray<AttestationOutcome>> WriteAsync(IEnumerable<ChainDay> days, CancellationToken cancellationToken)
    {
        var planned = Plan(days, verifierVersion);
        var outcomes = new AttestationOutcome[planned.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, planned.Length), new ParallelOptions { MaxDegreeOfParallelism = store.IsLocal ? 1 : 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var plan = planned[i];
            var key = AttestationLayout.Key(store.Prefix, plan.Organization, plan.Account, plan.Day);
            outcomes[i] = plan.Attestation is { } attestation
                ? await WriteOneAsync(key, attestation, ct)
                : new AttestationOutcome(key, plan.Organization, plan.Account, plan.Day, AttestationResult.NotAttested, plan.NotAttestedBecause!);
        });
        return [.. outcomes];
    }

    private async Task<AttestationOutcome> WriteOneAsync(string key, Attestation attestation, CancellationToken cancellationToken)
    {
        AttestationOutcome Outcome(AttestationResult result, string detail) => new(key, attestation.Organization, attestation.Account, attestation.Day, result, detail);

        if (await ReadExistingAsync(store, key, cancellationToken) is { } existing)
        {
            return Compare(existing);
        }

        var envelope = await AttestationEnvelope.SignAsync(attestation, signer, cancellationToken);
        if (await writer.CreateIfAbsentAsync(key, envelope.ToBytes(), cancellationToken))
        {
            return Outcome(AttestationResult.Written, $"{attestation.Regions.Length} region(s), {attestation.Digests} digests, {attestation.Logs} logs");
        }

        // Another run wrote the key between the read and the write: what it wrote is judged like any attestation found there.
        return await ReadExistingAsync(store, key, cancellationToken) is { } raced
            ? Compare(raced)
            : Outcome(AttestationResult.Conflict, "the key could not be created and nothing readable is there (another writer at work, or not a regular file); nothing was written");

        AttestationOutcome Compare(byte[] bytes)
        {
            Attestation found;
            try
            {
                found = Attestation.ParsePayload(AttestationEnvelope.Parse(bytes).Payload);
            }
            catch (AttestationFormatException e)
            {
                return Outcome(AttestationResult.Conflict, $"an object that is not a well-formed attestation is at the key ({e.Message}); it was left as it is");
            }

            return found.SameFacts(attestation)
                ? Outcome(AttestationResult.AlreadyAttested, "an attestation of the same facts is already there")
                : Outcome(AttestationResult.Conflict, $"the attestation there states other facts ({Differences(found, attestation)}) than this verification proved; it was left as it is");
        }
    }

    private static string Differences(Attestation found, Attestation proved)
    {
        if (!found.Regions.Select(r => r.Region).SequenceEqual(proved.Regions.Select(r => r.Region)))
        {
            return $"regions {string.Join(",", found.Regions.Select(r => r.Region))} there, {string.Join(",", proved.Regions.Select(r => r.Region))} now";
        }

        var region = found.Regions.Zip(proved.Regions).First(p => p.First != p.Second);
        var (a, b) = region;
        return a.FirstDigest != b.FirstDigest ? $"{a.Region}: first digest {a.FirstDigest.Key} there, {b.FirstDigest.Key} now"
            : a.LastDigest != b.LastDigest ? $"{a.Region}: last digest {a.LastDigest.Key} there, {b.LastDigest.Key} now"
            : $"{a.Region}: {a.Digests.ToString(CultureInfo.InvariantCulture)} digests and {a.Logs.ToString(CultureInfo.InvariantCulture)} logs there, {b.Digests.ToString(CultureInfo.InvariantCulture)} and {b.Logs.ToString(CultureInfo.InvariantCulture)} now";
    }

    /// <summary>The object at <paramref name="key"/>, read to at most one byte past <see cref="AttestationEnvelope.MaxBytes"/>; null when none is there.</summary>
    public static async Task<byte[]?> ReadExistingAsync(IObjectStore store, string key, CancellationToken cancellationToken)
    {
        try
        {
            await using var stored = await store.OpenAsync(key, withSignature: false, cancellationToken);
            return await ReadBoundedAsync(stored.Content, AttestationEnvelope.MaxBytes + 1, cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    internal static async Task<byte[]> ReadBoundedAsync(Stream stream, int max, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(max, 64 * 1024)];
        using var content = new MemoryStream();
        int read;
        while (content.Length < max && (read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, max - content.Length)), cancellationToken)) > 0)
        {
            content.Write(buffer, 0, read);
        }

        return content.ToArray();
    }
}
