using System.Text;
using System.Text.Json;

namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>
/// An attestation as stored: a DSSE envelope (the in-toto signing envelope)
/// <c>{"payloadType", "payload": base64, "signatures": [{"keyid", "sig": base64}]}</c>. The signature covers
/// DSSE's pre-authentication encoding of the payload type and the payload bytes, so verification decodes the payload
/// and checks those bytes as they are: nothing is re-serialized. One object, so a store never holds half of one.
/// </summary>
public sealed record AttestationEnvelope(byte[] Payload, string KeyId, byte[] Signature)
{
    /// <summary>An envelope is a few KiB (a payload of 17 regions is about 40 KiB); anything far larger is not one and is not read further.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The signing algorithm, as KMS names it: RSASSA-PSS with SHA-256 and MGF1-SHA-256, a 32-byte salt.</summary>
    public const string Algorithm = "RSASSA_PSS_SHA_256";

    public static async Task<AttestationEnvelope> SignAsync(Attestation attestation, IAttestationSigner signer, CancellationToken cancellationToken)
    {
        var payload = attestation.ToPayload();
        var signed = await signer.SignAsync(Attestation.PreAuthenticationEncoding(Attestation.PayloadType, payload), cancellationToken);
        return new AttestationEnvelope(payload, signed.KeyId, signed.Signature);
    }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("payloadType", Attestation.PayloadType);
            json.WriteBase64String("payload", Payload);
            json.WriteStartArray("signatures");
            json.WriteStartObject();
            json.WriteString("keyid", KeyId);
            json.WriteBase64String("sig", Signature);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Reads an envelope strictly (one signature, the attestation payload type); throws <see cref="AttestationFormatException"/>.</summary>
    public static AttestationEnvelope Parse(byte[] bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            throw new AttestationFormatException($"the envelope is larger than {MaxBytes >> 10} KiB");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException e)
        {
            throw new AttestationFormatException($"not a JSON envelope (line {e.LineNumber + 1}); expected {{\"payloadType\", \"payload\", \"signatures\"}}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AttestationFormatException($"expected an envelope object {{\"payloadType\", \"payload\", \"signatures\"}} (found {JsonKinds.Describe(root)})");
            }

            if (!root.TryGetProperty("payloadType", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != Attestation.PayloadType)
            {
                throw new AttestationFormatException($"payloadType: expected \"{Attestation.PayloadType}\"");
            }

            var payload = Base64(root, "payload", "payload");
            if (!root.TryGetProperty("signatures", out var signatures) || signatures.ValueKind != JsonValueKind.Array || signatures.GetArrayLength() != 1 || signatures[0].ValueKind != JsonValueKind.Object)
            {
                throw new AttestationFormatException("signatures: expected exactly one {\"keyid\", \"sig\"}");
            }

            var entry = signatures[0];
            var keyId = entry.TryGetProperty("keyid", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: <= 2048 } text
                ? text
                : throw new AttestationFormatException("signatures[0].keyid: expected a string");
            return new AttestationEnvelope(payload, keyId, Base64(entry, "sig", "signatures[0].sig"));
        }
    }

    private static byte[] Base64(JsonElement element, string name, string at)
    {
        if (element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetBytesFromBase64(out var bytes) && bytes.Length > 0)
        {
            return bytes;
        }

        throw new AttestationFormatException($"{at}: expected non-empty base64");
    }

    /// <summary>True when <paramref name="key"/> signed this envelope's payload with RSASSA-PSS SHA-256.</summary>
    public bool IsSignedBy(System.Security.Cryptography.RSA key) =>
        key.VerifyData(Attestation.PreAuthenticationEncoding(Attestation.PayloadType, Payload), Signature, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pss);

    public override string ToString() => Encoding.UTF8.GetString(ToBytes());
}
