using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Tests.Support;
using Moq;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>Attestations written into a bucket through the S3 store, against a real S3-compatible server on loopback (s3rver).</summary>
[Trait("Category", "S3")]
public sealed class S3AttestationTests(S3Server server) : IClassFixture<S3Server>
{
    private const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";

    [Fact]
    public async Task Verify_attest_writes_into_the_bucket_once_and_attest_verify_and_docs_read_them_back_from_s3()
    {
        var root = CliRunner.TempDir();
        var corpus = Path.Combine(root, "corpus");
        var run = "attest-" + Guid.NewGuid().ToString("N")[..8];
        var sample = await CliRunner.RunAsync("sample", "--out", corpus, "--key-prefix", $"{run}/cloudtrail", "--hours", "48", "--logs-per-hour", "1", "--events-per-log", "1", "--account", "111111111111", "--region", "us-east-1", "--upload", $"s3://{Bucket}", "--endpoint-url", server.Endpoint);
        Assert.True(sample.ExitCode == 0, sample.Err);
        using var rsa = RSA.Create(2048);
        var privateKey = Path.Combine(root, "signing.pem");
        var publicKey = Path.Combine(root, "public.pem");
        File.WriteAllText(privateKey, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(publicKey, rsa.ExportSubjectPublicKeyInfoPem());
        var url = $"s3://{Bucket}/{run}";
        string[] verify = ["verify", "--source", url, "--endpoint-url", server.Endpoint, "--public-keys", Path.Combine(corpus, "public-keys.json"), "--attest", "--signing-key", privateKey];

        var first = await CliRunner.RunAsync([.. verify, "--json"]);
        Assert.True(first.ExitCode == 0, first.Err + string.Join('\n', server.Log.TakeLast(10)));
        var proven = JsonDocument.Parse(first.Out).RootElement.GetProperty("dayProofs").EnumerateArray().Count(p => p.GetProperty("complete").GetBoolean() && p.GetProperty("clean").GetBoolean());
        Assert.True(proven > 0);
        using var client = server.Client();
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = $"{run}/attestations/" });
        Assert.Equal(proven, listed.S3Objects?.Count ?? 0);
        Assert.All(listed.S3Objects!, o => Assert.Matches($@"^{run}/attestations/o-[a-z0-9]+/111111111111/\d{{4}}/\d{{2}}/\d{{2}}\.json$", o.Key));
        var etags = listed.S3Objects!.Select(o => o.ETag).ToList();

        var again = await CliRunner.RunAsync(verify);
        Assert.True(again.ExitCode == 0, again.Err);
        Assert.Contains($"0 written, {proven} already attested", again.Err, StringComparison.Ordinal);
        Assert.Equal(etags, (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = $"{run}/attestations/" })).S3Objects!.Select(o => o.ETag).ToList());

        var check = await CliRunner.RunAsync("attest", "verify", "--source", url, "--endpoint-url", server.Endpoint, "--public-key", publicKey, "--json");
        Assert.True(check.ExitCode == 0, check.Err + check.Out);
        Assert.Equal(proven, JsonDocument.Parse(check.Out).RootElement.GetProperty("valid").GetInt32());

        var site = Path.Combine(root, "site");
        var docs = await CliRunner.RunAsync("docs", "--stack", "audit", "--sample", "--attestations", url, "--endpoint-url", server.Endpoint, "--out", site);
        Assert.True(docs.ExitCode == 0, docs.Err);
        Assert.Contains($"| 111111111111 | 2026-11-2", File.ReadAllText(Path.Combine(site, "accounts", "111111111111.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_conditional_put_sends_if_none_match_and_a_checksum_and_reports_an_existing_key_as_not_written()
    {
        var s3 = new Mock<IAmazonS3>(MockBehavior.Strict);
        PutObjectRequest? sent = null;
        var answers = new Queue<Exception?>([
            null,
            new AmazonS3Exception("At least one of the pre-conditions you specified did not hold", ErrorType.Sender, "PreconditionFailed", "req-1", HttpStatusCode.PreconditionFailed),
            new AmazonS3Exception("A conflicting conditional operation is currently in progress", ErrorType.Sender, "ConditionalRequestConflict", "req-2", HttpStatusCode.Conflict),
            new AmazonS3Exception("Access Denied", ErrorType.Sender, "AccessDenied", "req-3", HttpStatusCode.Forbidden),
        ]);
        s3.Setup(c => c.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns<PutObjectRequest, CancellationToken>((request, _) =>
            {
                sent = request;
                return answers.Dequeue() is { } error ? Task.FromException<PutObjectResponse>(error) : Task.FromResult(new PutObjectResponse());
            });
        var writer = new S3AttestationWriter(new S3ObjectStore(s3.Object, Bucket, "p/"));

        Assert.True(await writer.CreateIfAbsentAsync("p/attestations/x.json", [1, 2, 3], CancellationToken.None));
        Assert.Equal("*", sent!.IfNoneMatch);
        Assert.Equal(ChecksumAlgorithm.SHA256, sent.ChecksumAlgorithm);
        Assert.Equal("application/json", sent.ContentType);
        // The header the monitor's IAM policy demands on attestation puts (IntegrityMonitorPolicies.AttestationEncryption).
        Assert.Equal(Core.Integrity.Monitor.IntegrityMonitorPolicies.AttestationEncryption, sent.ServerSideEncryptionMethod?.Value);
        Assert.False(await writer.CreateIfAbsentAsync("p/attestations/x.json", [1, 2, 3], CancellationToken.None));
        Assert.False(await writer.CreateIfAbsentAsync("p/attestations/x.json", [1, 2, 3], CancellationToken.None));
        var denied = await Assert.ThrowsAsync<Core.Integrity.IntegrityInputException>(() => writer.CreateIfAbsentAsync("p/attestations/x.json", [1], CancellationToken.None));
        Assert.Contains("access denied", denied.Message, StringComparison.Ordinal);
    }
}
