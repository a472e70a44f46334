using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>One region's part of an account-day attestation: the chain's first and last digest of the day and its counts.</summary>
public sealed record RegionProof(string Region, DigestReference FirstDigest, DigestReference LastDigest, int Digests, int Logs);

/// <summary>A statement that is not a well-formed attestation: the message says which field and what was expected.</summary>
public sealed class AttestationFormatException(string message) : Exception(message);

/// <summary>
/// The signed statement "every region of this account verified complete and clean for this UTC day": the payload of an
/// attestation envelope. Its JSON is written once, by <see cref="ToPayload"/>, and signed as those exact bytes; a reader
/// never re-serializes it, so the signature does not depend on how a JSON library orders or spaces anything.
/// </summary>
public sealed record Attestation(string? Organization, string Account, DateOnly Day, ImmutableArray<RegionProof> Regions, string VerifierVersion)
{
    /// <summary>The payload type of the envelope, signed with the payload (DSSE), so a payload of another kind cannot pass for one.</summary>
    public const string PayloadType = "application/vnd.auditinfra.attestation+json";

    public const string Format = "auditinfra.attestation/1";

    private const int MaxKeyLength = 1024;

    /// <summary>A CloudTrail signature is 512 hex characters (RSA-2048); 4096-bit keys would double it.</summary>
    private const int MaxSignatureLength = 2048;

    private const int MaxRegions = 64;

    public int Digests => Regions.Sum(r => r.Digests);

    public int Logs => Regions.Sum(r => r.Logs);

    /// <summary>True when both state the same facts; the verifier version may differ (a re-run with a newer tool proves the same).</summary>
    public bool SameFacts(Attestation other) =>
        Organization == other.Organization && Account == other.Account && Day == other.Day && Regions.SequenceEqual(other.Regions);

    /// <summary>The payload bytes: UTF-8 JSON, properties in a fixed order, regions sorted.</summary>
    public byte[] ToPayload()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            if (Organization is null)
            {
                json.WriteNull("organization");
            }
            else
            {
                json.WriteString("organization", Organization);
            }

            json.WriteString("account", Account);
            json.WriteString("day", Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WriteStartArray("regions");
            foreach (var region in Regions)
            {
                json.WriteStringValue(region.Region);
            }

            json.WriteEndArray();
            json.WriteNumber("digests", Digests);
            json.WriteNumber("logs", Logs);
            json.WriteStartArray("chains");
            foreach (var region in Regions)
            {
                json.WriteStartObject();
                json.WriteString("region", region.Region);
                WriteDigest(json, "firstDigest", region.FirstDigest);
                WriteDigest(json, "lastDigest", region.LastDigest);
                json.WriteNumber("digests", region.Digests);
                json.WriteNumber("logs", region.Logs);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("verifierVersion", VerifierVersion);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteDigest(Utf8JsonWriter json, string name, DigestReference digest)
    {
        json.WriteStartObject(name);
        json.WriteString("key", digest.Key);
        json.WriteString("signature", digest.Signature);
        json.WriteEndObject();
    }

    /// <summary>
    /// Reads a payload strictly: every field present with its type, the totals matching the chains, and each digest key a
    /// CloudTrail digest of this organization, account, region and day. Throws <see cref="AttestationFormatException"/>.
    /// </summary>
    public static Attestation ParsePayload(byte[] payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new AttestationFormatException($"the payload is not valid JSON (line {e.LineNumber + 1})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AttestationFormatException($"the payload: expected an object (found {JsonKinds.Describe(root)})");
            }

            if (Text(root, "format") != Format)
            {
                throw new AttestationFormatException($"the payload's format: expected \"{Format}\" (found \"{Text(root, "format")}\")");
            }

            string? organization = null;
            if (!root.TryGetProperty("organization", out var org) || (org.ValueKind != JsonValueKind.Null && org.ValueKind != JsonValueKind.String))
            {
                throw new AttestationFormatException("organization: expected an organization id (o-...) or null");
            }

            if (org.ValueKind == JsonValueKind.String)
            {
                organization = org.GetString()!;
                if (Configuration.AwsFormats.OrganizationId(organization) is { } expected)
                {
                    throw new AttestationFormatException($"organization: expected {expected}");
                }
            }

            var account = Text(root, "account");
            if (Configuration.AwsFormats.AccountId(account) is { } accountExpected)
            {
                throw new AttestationFormatException($"account: expected {accountExpected}");
            }

            var dayText = Text(root, "day");
            if (!DateOnly.TryParseExact(dayText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                throw new AttestationFormatException($"day: expected a date such as 2026-11-20 (found \"{Shorten(dayText)}\")");
            }

            var chains = Array(root, "chains");
            if (chains.GetArrayLength() is 0 or > MaxRegions)
            {
                throw new AttestationFormatException($"chains: expected 1 to {MaxRegions} regions");
            }

            var regions = ImmutableArray.CreateBuilder<RegionProof>();
            var index = 0;
            foreach (var chain in chains.EnumerateArray())
            {
                var at = $"chains[{index}]";
                if (chain.ValueKind != JsonValueKind.Object)
                {
                    throw new AttestationFormatException($"{at}: expected an object");
                }

                var region = Text(chain, "region", at);
                if (Configuration.AwsFormats.Region(region) is { } regionExpected)
                {
                    throw new AttestationFormatException($"{at}.region: expected {regionExpected}");
                }

                var first = Digest(chain, "firstDigest", at, organization, account, region, day);
                var last = Digest(chain, "lastDigest", at, organization, account, region, day);
                var digests = Count(chain, "digests", at);
                var logs = Count(chain, "logs", at);
                if (digests < 1 || (digests == 1 && first != last) || string.CompareOrdinal(first.Key, last.Key) > 0)
                {
                    throw new AttestationFormatException($"{at}: expected at least one digest, the first no later than the last");
                }

                regions.Add(new RegionProof(region, first, last, digests, logs));
                index++;
            }

            var names = regions.Select(r => r.Region).ToList();
            if (!names.SequenceEqual(names.Order(StringComparer.Ordinal).Distinct()))
            {
                throw new AttestationFormatException("chains: expected each region once, sorted by name");
            }

            var listed = Array(root, "regions").EnumerateArray().Select(r => r.ValueKind == JsonValueKind.String ? r.GetString() : null).ToList();
            if (!listed.SequenceEqual(names))
            {
                throw new AttestationFormatException($"regions: expected the regions of the chains ({string.Join(", ", names)})");
            }

            var attestation = new Attestation(organization, account, day, regions.ToImmutable(), Text(root, "verifierVersion"));
            if (Count(root, "digests", "the payload") != attestation.Digests || Count(root, "logs", "the payload") != attestation.Logs)
            {
                throw new AttestationFormatException($"digests and logs: expected the sums of the chains ({attestation.Digests} digests, {attestation.Logs} logs)");
            }

            var known = new HashSet<string>(StringComparer.Ordinal) { "format", "organization", "account", "day", "regions", "digests", "logs", "chains", "verifierVersion" };
            foreach (var property in root.EnumerateObject())
            {
                if (!known.Contains(property.Name))
                {
                    throw new AttestationFormatException($"the payload has an unknown field \"{Shorten(property.Name)}\"");
                }
            }

            return attestation;
        }
    }

    private static DigestReference Digest(JsonElement chain, string name, string at, string? organization, string account, string region, DateOnly day)
    {
        if (!chain.TryGetProperty(name, out var digest) || digest.ValueKind != JsonValueKind.Object)
        {
            throw new AttestationFormatException($"{at}.{name}: expected an object with key and signature");
        }

        var key = Text(digest, "key", $"{at}.{name}");
        var signature = Text(digest, "signature", $"{at}.{name}");
        if (key.Length > MaxKeyLength || CloudTrailKeys.Parse(key) is not { Kind: CloudTrailObjectKind.Digest } parsed)
        {
            throw new AttestationFormatException($"{at}.{name}.key: expected a CloudTrail digest key (found \"{Shorten(key)}\")");
        }

        // A digest belongs to the day its hour starts in, so the day's last digest may carry the next day's date.
        var keyDay = DateOnly.FromDateTime(parsed.Timestamp.UtcDateTime);
        if (parsed.OrgId != organization || parsed.Account != account || parsed.Region != region || (keyDay != day && keyDay != day.AddDays(1)))
        {
            throw new AttestationFormatException($"{at}.{name}.key: names a digest of another organization, account, region or day than the attestation's ({Shorten(key)})");
        }

        if (signature.Length is 0 or > MaxSignatureLength || !signature.All(char.IsAsciiHexDigit))
        {
            throw new AttestationFormatException($"{at}.{name}.signature: expected the digest's hex signature");
        }

        return new DigestReference(key, signature);
    }

    private static string Text(JsonElement element, string name, string at = "the payload") =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 and <= MaxKeyLength } text
            ? text
            : throw new AttestationFormatException($"{(at == "the payload" ? name : $"{at}.{name}")}: expected a non-empty string");

    private static int Count(JsonElement element, string name, string at) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= 0
            ? n
            : throw new AttestationFormatException($"{(at == "the payload" ? name : $"{at}.{name}")}: expected a whole number");

    private static JsonElement Array(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value
            : throw new AttestationFormatException($"{name}: expected an array");

    internal static string Shorten(string text)
    {
        var flat = Messages.Flatten(text);
        return flat.Length <= 120 ? flat : flat[..117] + "...";
    }

    /// <summary>The bytes a signature covers: DSSE's pre-authentication encoding of the payload type and the payload.</summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, byte[] payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length.ToString(CultureInfo.InvariantCulture)} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length.ToString(CultureInfo.InvariantCulture)} ");
        return [.. header, .. type, .. middle, .. payload];
    }
}
