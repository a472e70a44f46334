using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Cli.Integrity;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;
using Moq;
using static AuditInfra.Cli.Tests.Support.IntegrityReports;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>The S3 path against a real S3-compatible server on loopback (s3rver), and its error paths under Moq.</summary>
[Trait("Category", "S3")]
public sealed class S3StoreTests(S3Server server) : IClassFixture<S3Server>
{
    private const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";

    [Fact]
    public async Task Verify_gives_the_same_findings_from_s3_from_a_pulled_copy_and_from_the_sample_directory()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var run = "run-" + Guid.NewGuid().ToString("N")[..8];
        var sample = await CliRunner.RunAsync("sample", "--out", dir, "--key-prefix", $"{run}/cloudtrail", "--hours", "8", "--events-per-log", "3", "--tamper", "two-deleted-digests", "--tamper", "forged-signature", "--tamper", "inserted-log", "--tamper", "truncated-gzip", "--tamper", "missing-signature", "--upload", $"s3://{Bucket}", "--endpoint-url", server.Endpoint);
        Assert.True(sample.ExitCode == 0, sample.Err);
        Assert.Contains("Uploaded", sample.Err, StringComparison.Ordinal);
        var keys = Path.Combine(dir, "public-keys.json");
        var url = $"s3://{Bucket}/{run}";

        var fromS3 = await CliRunner.RunAsync("verify", "--source", url, "--endpoint-url", server.Endpoint, "--public-keys", keys, "--json", "-");
        var fromDir = await CliRunner.RunAsync("verify", "--source", dir, "--public-keys", keys, "--json", "-");
        var copy = Path.Combine(CliRunner.TempDir(), "copy");
        var pull = await CliRunner.RunAsync("pull", url, "--endpoint-url", server.Endpoint, "--dest", copy, "--json");
        Assert.True(pull.ExitCode == 0, pull.Err + pull.Out);
        var fromCopy = await CliRunner.RunAsync("verify", "--source", copy, "--public-keys", keys, "--json", "-");

        Assert.True(fromS3.ExitCode == 1, fromS3.Err);
        Assert.Equal(1, fromDir.ExitCode);
        Assert.Equal(1, fromCopy.ExitCode);
        var expected = ExpectedOf(dir);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, FindingsOf(fromDir.Out));
        Assert.Equal(expected, FindingsOf(fromS3.Out));
        Assert.Equal(expected, FindingsOf(fromCopy.Out));
        var s3Report = JsonDocument.Parse(fromS3.Out).RootElement;
        var dirReport = JsonDocument.Parse(fromDir.Out).RootElement;
        Assert.Equal(dirReport.GetProperty("logsVerified").GetInt32(), s3Report.GetProperty("logsVerified").GetInt32());
        Assert.Equal(dirReport.GetProperty("digestsVerified").GetInt32(), s3Report.GetProperty("digestsVerified").GetInt32());
        Assert.StartsWith("s3://", s3Report.GetProperty("source").GetString(), StringComparison.Ordinal);

        // Without keys (and no CloudTrail to fetch them from), the bucket and the directory name the same list-public-keys command.
        var hintS3 = await CliRunner.RunAsync("verify", "--source", url, "--endpoint-url", server.Endpoint, "--cloudtrail-endpoint-url", "http://127.0.0.1:9");
        var hintDir = await CliRunner.RunAsync("verify", "--source", dir, "--cloudtrail-endpoint-url", "http://127.0.0.1:9");
        Assert.Equal(2, hintS3.ExitCode);
        Assert.Contains("aws cloudtrail list-public-keys --region us-east-1 --start-time ", hintS3.Err, StringComparison.Ordinal);
        Assert.Equal(hintDir.Err, hintS3.Err);

        // A second pull over the same copy resumes: nothing downloaded again.
        var again = await CliRunner.RunAsync("pull", url, "--endpoint-url", server.Endpoint, "--dest", copy, "--json");
        Assert.Equal(0, JsonDocument.Parse(again.Out).RootElement.GetProperty("downloaded").GetInt32());
    }

    [Fact]
    public async Task Listing_pages_past_a_thousand_keys_and_objects_stream_back_with_their_signature()
    {
        using var client = server.Client();
        var prefix = "paging-" + Guid.NewGuid().ToString("N")[..8] + "/";
        await Parallel.ForEachAsync(Enumerable.Range(0, 1105), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var put = new PutObjectRequest { BucketName = Bucket, Key = $"{prefix}k/{i:D5}", ContentBody = $"object {i}", UseChunkEncoding = false };
            if (i == 7)
            {
                put.Metadata[S3ObjectStore.SignatureMetadata] = "abcdef0123";
            }

            await client.PutObjectAsync(put, ct);
        });
        var store = new S3ObjectStore(client, Bucket, prefix);

        var listed = new List<ObjectEntry>();
        try
        {
            await foreach (var entry in store.ListAsync("k/", CancellationToken.None))
            {
                listed.Add(entry);
            }
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(string.Join("\n", server.Log.TakeLast(30)), e);
        }

        Assert.Equal(1105, listed.Count);
        Assert.Equal(1105, listed.Select(e => e.Key).Distinct().Count());
        Assert.All(listed, e => Assert.StartsWith(prefix + "k/", e.Key, StringComparison.Ordinal));
        var folders = new List<string>();
        await foreach (var folder in store.ListFoldersAsync(string.Empty, CancellationToken.None))
        {
            folders.Add(folder);
        }

        Assert.Equal([prefix + "k/"], folders);
        await using (var signed = await store.OpenAsync($"{prefix}k/00007", withSignature: true, CancellationToken.None))
        {
            Assert.Equal("abcdef0123", signed.Signature);
            Assert.Equal("object 7", await new StreamReader(signed.Content).ReadToEndAsync());
        }

        await using (var unsigned = await store.OpenAsync($"{prefix}k/00008", withSignature: true, CancellationToken.None))
        {
            Assert.Null(unsigned.Signature);
        }

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenAsync($"{prefix}k/nope", withSignature: false, CancellationToken.None));
    }

    [Fact]
    public async Task Reads_without_the_sdks_checksums_return_whole_objects_empty_ones_included()
    {
        using var client = server.Client();
        var prefix = "range-" + Guid.NewGuid().ToString("N")[..8] + "/";
        var large = new byte[300_000];
        new Random(7).NextBytes(large);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = prefix + "large", InputStream = new MemoryStream(large), UseChunkEncoding = false });
        await client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = prefix + "empty", ContentBody = string.Empty, UseChunkEncoding = false });
        var store = new S3ObjectStore(client, Bucket, prefix, skipTransferChecksums: true);

        foreach (var (key, expected) in new[] { ("large", large), ("empty", Array.Empty<byte>()) })
        {
            await using var read = await store.OpenAsync(prefix + key, withSignature: false, CancellationToken.None);
            using var copy = new MemoryStream();
            await read.Content.CopyToAsync(copy);
            Assert.Equal(expected, copy.ToArray());
        }
    }

    [Fact]
    public async Task A_missing_bucket_or_a_bad_url_exits_two_with_a_clear_message()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "keys");
        Directory.CreateDirectory(dir);
        var keys = Path.Combine(dir, "public-keys.json");
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            var der = rsa.ExportRSAPublicKey();
            File.WriteAllText(keys, PublicKeySet.ToJson([new CloudTrailPublicKey(PublicKeySet.FingerprintOf(der), der, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue)]));
        }

        var missing = await CliRunner.RunAsync("verify", "--source", "s3://no-such-bucket-here/x", "--endpoint-url", server.Endpoint, "--public-keys", keys);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no-such-bucket-here", missing.Err, StringComparison.Ordinal);
        Assert.Contains("does not exist", missing.Err, StringComparison.Ordinal);

        var badUrl = await CliRunner.RunAsync("verify", "--source", "s3://UPPER_case", "--public-keys", keys);
        Assert.Equal(2, badUrl.ExitCode);
        Assert.Contains("bucket name", badUrl.Err, StringComparison.Ordinal);

        var badEndpoint = await CliRunner.RunAsync("verify", "--source", $"s3://{Bucket}", "--endpoint-url", "ftp:/x", "--public-keys", keys);
        Assert.Equal(2, badEndpoint.ExitCode);
        Assert.Contains("--endpoint-url", badEndpoint.Err, StringComparison.Ordinal);
    }
}

/// <summary>The S3 store's error paths with a mocked client: what the SDK cannot be made to do on loopback.</summary>
public sealed class S3StoreErrorTests
{
    private static AmazonS3Exception S3Error(string code, HttpStatusCode status) => new($"{code} from mock", ErrorType.Sender, code, "req-1", status);

    private static ListObjectsV2Response Page(params string[] keys) => new()
    {
        S3Objects = keys.Select(k => new S3Object { Key = k, Size = 10 }).ToList(),
        IsTruncated = false,
    };

    [Fact]
    public async Task Throttling_is_retried_until_the_listing_succeeds()
    {
        var s3 = new Mock<IAmazonS3>(MockBehavior.Strict);
        s3.SetupSequence(c => c.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(S3Error("SlowDown", HttpStatusCode.ServiceUnavailable))
            .ThrowsAsync(S3Error("SlowDown", HttpStatusCode.ServiceUnavailable))
            .ReturnsAsync(Page("a/1", "a/2"));
        var store = new S3ObjectStore(s3.Object, "bucket", "", maxRetries: 4, baseDelay: TimeSpan.FromMilliseconds(1));

        var keys = new List<string>();
        await foreach (var entry in store.ListAsync(string.Empty, CancellationToken.None))
        {
            keys.Add(entry.Key);
        }

        Assert.Equal(["a/1", "a/2"], keys);
        s3.Verify(c => c.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()), Times.Exactly(3));
    }

    [Fact]
    public async Task Throttling_that_never_ends_gives_up_with_a_clear_error_after_the_retries()
    {
        var s3 = new Mock<IAmazonS3>();
        s3.Setup(c => c.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>())).ThrowsAsync(S3Error("SlowDown", HttpStatusCode.ServiceUnavailable));
        var store = new S3ObjectStore(s3.Object, "bucket", "", maxRetries: 3, baseDelay: TimeSpan.FromMilliseconds(1));

        var ex = await Assert.ThrowsAsync<IntegrityInputException>(() => store.OpenAsync("k", withSignature: true, CancellationToken.None));

        Assert.Contains("throttled", ex.Message, StringComparison.Ordinal);
        Assert.Contains("s3://bucket/k", ex.Message, StringComparison.Ordinal);
        s3.Verify(c => c.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()), Times.Exactly(4));
    }

    [Fact]
    public async Task Access_denied_is_reported_once_as_an_input_error_naming_the_permission()
    {
        var s3 = new Mock<IAmazonS3>();
        s3.Setup(c => c.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>())).ThrowsAsync(S3Error("AccessDenied", HttpStatusCode.Forbidden));
        var store = new S3ObjectStore(s3.Object, "audit-bucket", "cloudtrail");
        var verifier = new IntegrityVerifier(store, new PublicKeySet([]));

        var ex = await Assert.ThrowsAsync<IntegrityInputException>(() => verifier.VerifyAsync(new VerifyOptions()));

        Assert.Contains("access denied", ex.Message, StringComparison.Ordinal);
        Assert.Contains("s3:ListBucket", ex.Message, StringComparison.Ordinal);
        Assert.Contains("s3://audit-bucket/cloudtrail/", ex.Message, StringComparison.Ordinal);
        s3.Verify(c => c.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Verify_reads_whole_objects_as_the_range_from_byte_zero_and_an_empty_object_whole()
    {
        var s3 = new Mock<IAmazonS3>(MockBehavior.Strict);
        var requests = new List<(string Key, string? Range)>();
        s3.Setup(c => c.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Callback<GetObjectRequest, CancellationToken>((r, _) => requests.Add((r.Key, r.ByteRange?.FormattedByteRange)))
            .Returns<GetObjectRequest, CancellationToken>((r, _) => r.Key == "empty" && r.ByteRange is not null
                ? Task.FromException<GetObjectResponse>(S3Error("InvalidRange", HttpStatusCode.RequestedRangeNotSatisfiable))
                : Task.FromResult(new GetObjectResponse { ResponseStream = new MemoryStream() }));

        await (await new S3ObjectStore(s3.Object, "bucket", "", skipTransferChecksums: true).OpenAsync("log", withSignature: false, CancellationToken.None)).DisposeAsync();
        await (await new S3ObjectStore(s3.Object, "bucket", "", skipTransferChecksums: true).OpenAsync("empty", withSignature: false, CancellationToken.None)).DisposeAsync();
        await (await new S3ObjectStore(s3.Object, "bucket", "").OpenAsync("pulled", withSignature: false, CancellationToken.None)).DisposeAsync();

        Assert.Equal([("log", "bytes=0-"), ("empty", "bytes=0-"), ("empty", null), ("pulled", null)], requests);
    }

    [Fact]
    public async Task A_missing_key_is_not_found_and_a_signature_comes_from_the_object_metadata()
    {
        var s3 = new Mock<IAmazonS3>();
        s3.Setup(c => c.GetObjectAsync(It.Is<GetObjectRequest>(r => r.Key == "gone"), It.IsAny<CancellationToken>())).ThrowsAsync(S3Error("NoSuchKey", HttpStatusCode.NotFound));
        var response = new GetObjectResponse { ResponseStream = new MemoryStream([1, 2, 3]) };
        response.Metadata.Add(S3ObjectStore.SignatureMetadata, "feed");
        s3.Setup(c => c.GetObjectAsync(It.Is<GetObjectRequest>(r => r.Key == "here"), It.IsAny<CancellationToken>())).ReturnsAsync(response);
        var store = new S3ObjectStore(s3.Object, "bucket", "");

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.OpenAsync("gone", withSignature: true, CancellationToken.None));
        await using var found = await store.OpenAsync("here", withSignature: true, CancellationToken.None);
        Assert.Equal("feed", found.Signature);
    }
}
