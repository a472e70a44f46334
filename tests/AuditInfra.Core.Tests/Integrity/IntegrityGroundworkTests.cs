using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>The verifier's building blocks (the verifier itself is not written yet): real gzip, real RSA.</summary>
public class IntegrityGroundworkTests
{
    private static byte[] Gzip(byte[] plain)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(plain);
        }

        return buffer.ToArray();
    }

    [Fact]
    public void Gunzip_and_hash_in_one_pass_gives_the_sha256_of_the_plain_bytes()
    {
        var plain = Encoding.UTF8.GetBytes("{\"Records\":[]}" + new string(' ', 300_000));
        var result = GzipHash.Compute(new MemoryStream(Gzip(plain)));
        Assert.Null(result.Error);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(plain)), result.Sha256Hex);
        Assert.Equal(plain.Length, result.UncompressedBytes);
    }

    [Fact]
    public void A_truncated_gzip_is_reported_not_hashed()
    {
        var zipped = Gzip(Encoding.UTF8.GetBytes(new string('x', 100_000)));
        var result = GzipHash.Compute(new MemoryStream(zipped[..(zipped.Length / 2)]));
        Assert.NotNull(result.Error);
        Assert.Null(result.Sha256Hex);
    }

    [Fact]
    public void Public_keys_are_read_from_list_public_keys_json_and_found_by_fingerprint()
    {
        using var rsa = RSA.Create(2048);
        var der = rsa.ExportRSAPublicKey();
        var fingerprint = PublicKeySet.FingerprintOf(der);
        var json = $$"""{"PublicKeyList":[{"Value":"{{Convert.ToBase64String(der)}}","ValidityStartTime":"2026-01-01T00:00:00Z","ValidityEndTime":"2027-01-01T00:00:00Z","Fingerprint":"{{fingerprint}}"}]}""";
        var keys = PublicKeySet.Parse(json, "keys.json");
        var key = keys.Find(fingerprint)!;
        Assert.True(key.IsValidAt(new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero)));
        Assert.False(key.IsValidAt(new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero)));
        var data = Encoding.UTF8.GetBytes("signed string");
        var signature = rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(keys.RsaFor(key).VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.Null(keys.Find("00"));
    }

    [Fact]
    public void A_bad_keys_file_names_itself()
    {
        var ex = Assert.ThrowsAny<Exception>(() => PublicKeySet.Parse("{\"nope\": 1}", "keys.json"));
        Assert.Contains("keys.json", ex.Message);
    }

    [Fact]
    public void Log_and_digest_keys_round_trip_through_the_layout()
    {
        var time = new DateTimeOffset(2026, 11, 20, 10, 15, 0, TimeSpan.Zero);
        var log = CloudTrailKeys.LogKey("cloudtrail", "o-a1b2c3d4e5", "333333333333", "us-east-1", time, "AbCdEfGhIjKlMnOp");
        Assert.StartsWith("cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/11/20/333333333333_CloudTrail_us-east-1_20261120T1015Z_", log);
        var parsedLog = CloudTrailKeys.Parse(log)!;
        Assert.Equal("333333333333", parsedLog.Account);
        var digest = CloudTrailKeys.DigestKey("cloudtrail", "o-a1b2c3d4e5", "333333333333", "us-east-1", "acme-org-trail", "us-east-1", time, backfill: true);
        Assert.Contains("CloudTrail-Digest/us-east-1/2026/11/20/", digest);
        Assert.EndsWith("_backfill.json.gz", digest);
        var parsed = CloudTrailKeys.Parse(digest)!;
        Assert.Equal("acme-org-trail", parsed.TrailName);
        Assert.Null(CloudTrailKeys.Parse("cloudtrail/AWSLogs/readme.txt"));
    }
}
