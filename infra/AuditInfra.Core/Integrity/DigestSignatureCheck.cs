using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AuditInfra.Core.Integrity;

/// <summary>
/// A digest's own checks: readable, where it says it is, signed (RSA) by a published key valid at its time. The
/// one part of the verification that needs the public keys; the chain walk takes its findings as given.
/// </summary>
public sealed class DigestSignatureCheck(PublicKeySet keys, string? bucket)
{
    /// <summary>The findings of one digest; none when it is readable, in place and validly signed.</summary>
    public List<IntegrityFinding> Check(DigestRead read)
    {
        var findings = new List<IntegrityFinding>();
        var key = read.Key.Key;
        if (read.Fault == GzipFault.TooLarge)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestTooLarge, key, $"a digest of at most {DigestFile.MaxInflatedBytes} bytes uncompressed", read.GzipError!, "the digest is not read: no CloudTrail digest is this large (a gzip bomb?)"));
            return findings;
        }

        if (read.GzipError is not null)
        {
            findings.Add(new IntegrityFinding(FindingKind.CorruptGzip, key, "a complete gzip digest file", read.GzipError, "the digest cannot be decompressed, so nothing it lists can be verified through it"));
            return findings;
        }

        if (read.File is null)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestMalformed, key, "a CloudTrail digest JSON document", read.ParseError!, "the digest cannot be read"));
            return findings;
        }

        var file = read.File;
        if (file.DigestS3Object != key)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestLocationMismatch, key, key, file.DigestS3Object, "digestS3Object names another key than the one the digest was read from"));
        }

        if (bucket is not null && file.DigestS3Bucket != bucket)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestLocationMismatch, key, bucket, file.DigestS3Bucket, "digestS3Bucket names another bucket than the one the digest was read from"));
        }

        if (file.AwsAccountId != read.Key.Account)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestLocationMismatch, key, read.Key.Account, file.AwsAccountId, "awsAccountId differs from the account folder the digest is in"));
        }

        if (file.DigestSignatureAlgorithm is not null && file.DigestSignatureAlgorithm != "SHA256withRSA")
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestMalformed, key, "SHA256withRSA", file.DigestSignatureAlgorithm, "unsupported digestSignatureAlgorithm"));
            return findings;
        }

        if (string.IsNullOrWhiteSpace(read.Signature))
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestSignatureMissing, key, "a hex signature in x-amz-meta-signature (or the .signature file of a local copy)", "none", "the digest is unsigned, so nothing it states can be trusted"));
            return findings;
        }

        if (file.DigestPublicKeyFingerprint is null)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestMalformed, key, "digestPublicKeyFingerprint", "absent", "the digest does not name the key it was signed with"));
            return findings;
        }

        var publicKey = keys.Find(file.DigestPublicKeyFingerprint);
        if (publicKey is null)
        {
            findings.Add(new IntegrityFinding(FindingKind.UnknownPublicKey, key, "a fingerprint from the public keys file", file.DigestPublicKeyFingerprint, "the digest was signed with a key CloudTrail did not publish for this period"));
            return findings;
        }

        // A backfill digest is signed when it is generated, after its period, with the key of that time (the
        // AWS CLI looks keys up around its generation time): the key must not have expired before the period ended.
        var keyValid = read.Key.Backfill ? publicKey.ValidTo >= file.End : publicKey.IsValidAt(file.End);
        if (!keyValid)
        {
            findings.Add(new IntegrityFinding(FindingKind.PublicKeyNotValid, key, $"a time within {Iso(publicKey.ValidFrom)}..{Iso(publicKey.ValidTo)}", file.DigestEndTime, $"key {publicKey.Fingerprint} was not valid when the digest was signed"));
            return findings;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromHexString(read.Signature.Trim());
        }
        catch (FormatException)
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestSignatureInvalid, key, "a hex RSA signature", ChainWalker.Abbreviate(read.Signature), "the signature is not hex"));
            return findings;
        }

        var signed = Encoding.UTF8.GetBytes(file.SigningString(read.Sha256!));
        if (!keys.RsaFor(publicKey).VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            findings.Add(new IntegrityFinding(FindingKind.DigestSignatureInvalid, key, $"a SHA256withRSA signature by key {publicKey.Fingerprint} over the digest as read (SHA-256 {read.Sha256})", ChainWalker.Abbreviate(read.Signature), "the signature does not verify: the digest or its signature was altered"));
        }

        return findings;
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
