using System.Text.Json;

namespace AuditInfra.Core.Integrity;

/// <summary>One log file listed by a digest.</summary>
public sealed record DigestLogFile(string S3Bucket, string S3Object, string HashValue, string HashAlgorithm);

/// <summary>The fields of a CloudTrail digest file the verifier needs; times are kept as written for the signed string.</summary>
public sealed record DigestFile(
    string AwsAccountId,
    string DigestStartTime,
    string DigestEndTime,
    string DigestS3Bucket,
    string DigestS3Object,
    string? DigestPublicKeyFingerprint,
    string? DigestSignatureAlgorithm,
    string? PreviousDigestS3Bucket,
    string? PreviousDigestS3Object,
    string? PreviousDigestHashValue,
    string? PreviousDigestHashAlgorithm,
    string? PreviousDigestSignature,
    IReadOnlyList<DigestLogFile> LogFiles)
{
    /// <summary>
    /// The most a digest may inflate to. A digest lists one hour's logs of one account and region, a few hundred
    /// bytes each: even thousands of logs stay far below this, while a gzip bomb posing as a digest is stopped here.
    /// </summary>
    public const long MaxInflatedBytes = 16L * 1024 * 1024;

    public DateTimeOffset Start => DateTimeOffset.Parse(DigestStartTime, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);

    public DateTimeOffset End => DateTimeOffset.Parse(DigestEndTime, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);

    /// <summary>The first digest of a chain has null previous* fields.</summary>
    public bool IsChainStart => PreviousDigestS3Object is null && PreviousDigestSignature is null;

    /// <summary>The string CloudTrail signs: end time, bucket/object, hash of the uncompressed digest, previous signature.</summary>
    public string SigningString(string digestSha256Hex) =>
        $"{DigestEndTime}\n{DigestS3Bucket}/{DigestS3Object}\n{digestSha256Hex}\n{PreviousDigestSignature ?? "null"}";

    /// <summary>Parses the uncompressed digest JSON; throws <see cref="FormatException"/> naming the missing/bad field.</summary>
    public static DigestFile Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("the digest is not a JSON object");
        }

        string Required(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"field \"{name}\" is missing or not a string");

        string? Optional(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        var logs = new List<DigestLogFile>();
        if (!root.TryGetProperty("logFiles", out var files) || files.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("field \"logFiles\" is missing or not an array");
        }

        foreach (var f in files.EnumerateArray())
        {
            logs.Add(new DigestLogFile(Required(f, "s3Bucket"), Required(f, "s3Object"), Required(f, "hashValue").ToLowerInvariant(), Optional(f, "hashAlgorithm") ?? "SHA-256"));
        }

        var digest = new DigestFile(
            Required(root, "awsAccountId"),
            Required(root, "digestStartTime"),
            Required(root, "digestEndTime"),
            Required(root, "digestS3Bucket"),
            Required(root, "digestS3Object"),
            Optional(root, "digestPublicKeyFingerprint"),
            Optional(root, "digestSignatureAlgorithm"),
            Optional(root, "previousDigestS3Bucket"),
            Optional(root, "previousDigestS3Object"),
            Optional(root, "previousDigestHashValue")?.ToLowerInvariant(),
            Optional(root, "previousDigestHashAlgorithm"),
            Optional(root, "previousDigestSignature"),
            logs);
        _ = digest.Start;
        _ = digest.End;
        return digest;
    }
}
