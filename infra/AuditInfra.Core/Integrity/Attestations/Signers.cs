using System.Security.Cryptography;

namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>A signature and the id of the key that made it (a KMS key ARN, or sha256:&lt;fingerprint&gt; of a key file's public key).</summary>
public sealed record AttestationSignature(string KeyId, byte[] Signature);

/// <summary>
/// Signs attestation bytes with RSASSA-PSS SHA-256 (<see cref="AttestationEnvelope.Algorithm"/>): a KMS asymmetric key
/// of the audit account when deployed, a PEM key file locally and in tests. Both verify with the same public key code.
/// </summary>
public interface IAttestationSigner
{
    /// <summary>How the key is named to a user (a file, a KMS key id).</summary>
    string Description { get; }

    Task<AttestationSignature> SignAsync(byte[] message, CancellationToken cancellationToken);
}

/// <summary>A signing key that cannot be used: exit code 2 with the message.</summary>
public sealed class AttestationKeyException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Signs with an RSA private key read from a PEM file (PKCS#1 or PKCS#8, unencrypted), at least 2048 bits.</summary>
public sealed class KeyFileSigner : IAttestationSigner, IDisposable
{
    public const int MinimumKeyBits = 2048;

    private readonly RSA rsa;

    private KeyFileSigner(RSA rsa, string description)
    {
        this.rsa = rsa;
        Description = description;
        KeyId = AttestationPublicKey.Fingerprint(rsa);
    }

    public string Description { get; }

    public string KeyId { get; }

    public static KeyFileSigner Load(string path)
    {
        string text;
        try
        {
            text = InputFile.ReadAllText(path, 1 << 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AttestationKeyException($"--signing-key {path}: cannot be read ({Messages.Flatten(e.Message)})", e);
        }

        return FromPem(text, $"--signing-key {path}");
    }

    public static KeyFileSigner FromPem(string pem, string description)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new AttestationKeyException($"{description}: expected an unencrypted RSA private key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----), as `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072` writes", e);
        }

        try
        {
            // Fails for a public key: signing needs the private half.
            rsa.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new AttestationKeyException($"{description}: holds a public key; signing needs the private key", e);
        }

        if (rsa.KeySize < MinimumKeyBits)
        {
            var bits = rsa.KeySize;
            rsa.Dispose();
            throw new AttestationKeyException($"{description}: a {bits}-bit key; expected at least {MinimumKeyBits} bits");
        }

        return new KeyFileSigner(rsa, description);
    }

    public Task<AttestationSignature> SignAsync(byte[] message, CancellationToken cancellationToken) =>
        Task.FromResult(new AttestationSignature(KeyId, rsa.SignData(message, HashAlgorithmName.SHA256, RSASignaturePadding.Pss)));

    public void Dispose() => rsa.Dispose();
}

/// <summary>The public key attestations are checked with: a PEM public key, or the JSON of <c>aws kms get-public-key</c>.</summary>
public static class AttestationPublicKey
{
    /// <summary>sha256:&lt;hex&gt; of the SubjectPublicKeyInfo: the key id a key file signs under.</summary>
    public static string Fingerprint(RSA rsa) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()));

    public static RSA Load(string path)
    {
        string text;
        try
        {
            text = InputFile.ReadAllText(path, 1 << 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AttestationKeyException($"--public-key {path}: cannot be read ({Messages.Flatten(e.Message)})", e);
        }

        return Parse(text, $"--public-key {path}");
    }

    public static RSA Parse(string text, string description)
    {
        var rsa = RSA.Create();
        try
        {
            if (text.TrimStart().StartsWith('{'))
            {
                using var document = System.Text.Json.JsonDocument.Parse(text);
                var der = document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && document.RootElement.TryGetProperty("PublicKey", out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String
                    ? Convert.FromBase64String(value.GetString()!)
                    : throw new FormatException("no PublicKey field");
                rsa.ImportSubjectPublicKeyInfo(der, out _);
            }
            else
            {
                rsa.ImportFromPem(text);
            }
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or FormatException or System.Text.Json.JsonException)
        {
            rsa.Dispose();
            throw new AttestationKeyException($"{description}: expected an RSA public key in PEM (-----BEGIN PUBLIC KEY-----) or the JSON of `aws kms get-public-key --key-id <id> --output json` ({Messages.Flatten(e.Message)})", e);
        }

        return rsa;
    }
}
