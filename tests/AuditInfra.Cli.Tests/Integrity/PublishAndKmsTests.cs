using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Integrity.Attestations;
using Moq;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>The KMS signer under Moq (there is no fake KMS), checked with the real RSA-PSS verification attestations use.</summary>
public sealed class KmsAttestationSignerTests
{
    private const string KeyArn = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    [Fact]
    public async Task Kms_signs_the_sha256_as_a_digest_with_rsassa_pss_sha256_and_the_envelope_verifies_with_the_public_key()
    {
        using var rsa = RSA.Create(2048);
        var kms = new Mock<IAmazonKeyManagementService>(MockBehavior.Strict);
        SignRequest? sent = null;
        kms.Setup(k => k.SignAsync(It.IsAny<SignRequest>(), It.IsAny<CancellationToken>()))
            .Returns<SignRequest, CancellationToken>((request, _) =>
            {
                sent = request;
                // What KMS does with MessageType DIGEST: sign the given hash as it is.
                var signature = rsa.SignHash(request.Message.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
                return Task.FromResult(new SignResponse { KeyId = KeyArn, Signature = new MemoryStream(signature), SigningAlgorithm = SigningAlgorithmSpec.RSASSA_PSS_SHA_256 });
            });
        var signer = new KmsAttestationSigner(kms.Object, "alias/auditinfra-attestations");
        var attestation = new Attestation(null, "111111111111", new DateOnly(2026, 11, 20), [new RegionProof("us-east-1", Digest(0), Digest(23), 24, 48)], "1");

        var envelope = await AttestationEnvelope.SignAsync(attestation, signer, CancellationToken.None);

        Assert.Equal(MessageType.DIGEST, sent!.MessageType);
        Assert.Equal(SigningAlgorithmSpec.RSASSA_PSS_SHA_256, sent.SigningAlgorithm);
        Assert.Equal("alias/auditinfra-attestations", sent.KeyId);
        Assert.Equal(SHA256.HashData(Attestation.PreAuthenticationEncoding(Attestation.PayloadType, envelope.Payload)), sent.Message.ToArray());
        Assert.Equal(KeyArn, envelope.KeyId);
        Assert.True(envelope.IsSignedBy(rsa));
        using var other = RSA.Create(2048);
        Assert.False(envelope.IsSignedBy(other));
    }

    [Fact]
    public async Task Kms_refusals_become_one_sentence_naming_the_key_and_the_permission()
    {
        var kms = new Mock<IAmazonKeyManagementService>(MockBehavior.Strict);
        kms.SetupSequence(k => k.SignAsync(It.IsAny<SignRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new AmazonKeyManagementServiceException("User is not authorized to perform: kms:Sign", ErrorType.Sender, "AccessDeniedException", "r1", HttpStatusCode.BadRequest))
            .ThrowsAsync(new InvalidKeyUsageException("key usage is ENCRYPT_DECRYPT"))
            .ReturnsAsync(new SignResponse { KeyId = KeyArn });
        var signer = new KmsAttestationSigner(kms.Object, KeyArn);

        var denied = await Assert.ThrowsAsync<AttestationKeyException>(() => signer.SignAsync([1], CancellationToken.None));
        Assert.Contains($"--kms-key-id {KeyArn}: KMS refused to sign (AccessDeniedException", denied.Message, StringComparison.Ordinal);
        Assert.Contains("kms:Sign", denied.Message, StringComparison.Ordinal);
        Assert.Contains("key usage is ENCRYPT_DECRYPT", (await Assert.ThrowsAsync<AttestationKeyException>(() => signer.SignAsync([1], CancellationToken.None))).Message, StringComparison.Ordinal);
        Assert.Contains("without a signature", (await Assert.ThrowsAsync<AttestationKeyException>(() => signer.SignAsync([1], CancellationToken.None))).Message, StringComparison.Ordinal);
    }

    private static DigestReference Digest(int hour) =>
        new(CloudTrailKeys.DigestKey("", null, "111111111111", "us-east-1", "trail", "us-east-1", new DateTimeOffset(2026, 11, 20, hour, 5, 0, TimeSpan.Zero)), "ab12");
}

/// <summary>--publish-findings: the events, the SNS Publish request on a loopback listener, and SigV4 against AWS's published test vector.</summary>
public sealed class FindingPublishingTests
{
    private const string Topic = "arn:aws:sns:us-east-1:222222222222:acme-audit-detections";

    private static IntegrityReport ReportWith(int findings) => new(
        "s3://bucket/", null, null, [],
        [.. Enumerable.Range(0, findings).Select(i => new IntegrityFinding(i % 2 == 0 ? FindingKind.LogHashMismatch : FindingKind.MissingDigest, CloudTrailKeys.LogKey("", "o-abc123def4", "111111111111", "eu-west-1", new DateTimeOffset(2026, 11, 20, 3, 0, 0, TimeSpan.Zero), $"r{i:D4}"), "a", "b", $"finding {i}"))],
        [], 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Each_finding_goes_to_the_topic_as_an_integrity_finding_event_in_the_hubs_envelope_capped_with_a_summary()
    {
        var sent = new List<string>();
        var publisher = new Mock<ITopicPublisher>(MockBehavior.Strict);
        publisher.Setup(p => p.PublishAsync(Topic, It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns<string, string, CancellationToken>((_, message, _) => { sent.Add(message); return Task.FromResult("id"); });

        Assert.Equal(0, await FindingPublishing.PublishAsync(ReportWith(0), Topic, publisher.Object, CancellationToken.None));
        Assert.Empty(sent);

        var count = await FindingPublishing.PublishAsync(ReportWith(IntegrityFindingEvents.MaxIndividual + 7), Topic, publisher.Object, CancellationToken.None);

        Assert.Equal(IntegrityFindingEvents.MaxIndividual + 1, count);
        Assert.Equal(count, sent.Count);
        var first = JsonDocument.Parse(sent[0]).RootElement;
        Assert.Equal("0", first.GetProperty("version").GetString());
        Assert.Equal("auditinfra.integrity", first.GetProperty("source").GetString());
        Assert.Equal("integrity-finding", first.GetProperty("detail-type").GetString());
        Assert.Equal("222222222222", first.GetProperty("account").GetString());
        Assert.Equal("us-east-1", first.GetProperty("region").GetString());
        var detail = first.GetProperty("detail");
        Assert.Equal("integrity-finding", detail.GetProperty("detectionId").GetString());
        Assert.Equal("high", detail.GetProperty("severity").GetString());
        Assert.Equal("LogHashMismatch", detail.GetProperty("kind").GetString());
        Assert.Equal("111111111111", detail.GetProperty("account").GetString());
        Assert.Equal("eu-west-1", detail.GetProperty("region").GetString());
        var summary = JsonDocument.Parse(sent[^1]).RootElement.GetProperty("detail");
        Assert.Equal("MoreFindings", summary.GetProperty("kind").GetString());
        Assert.Equal(7, summary.GetProperty("findingsByKind").EnumerateObject().Sum(p => p.Value.GetInt32()));
        Assert.Equal(sent.Count, sent.Select(m => JsonDocument.Parse(m).RootElement.GetProperty("id").GetString()).Distinct().Count());
    }

    [Fact]
    public void Sigv4_matches_the_aws_test_suite_get_vanilla_vector()
    {
        // aws-sig-v4-test-suite/get-vanilla: GET / on example.amazonaws.com, 2015-08-30T12:36:00Z, region us-east-1, service "service".
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = "example.amazonaws.com", ["x-amz-date"] = "20150830T123600Z" };
        var authorization = SnsTopicPublisher.Authorization("GET", new Uri("https://example.amazonaws.com/"), headers, [], new ImmutableCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null), "us-east-1", "service", new DateTime(2015, 8, 30, 12, 36, 0, DateTimeKind.Utc));

        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", authorization);
    }

    [Fact]
    public async Task The_publish_request_is_a_signed_sns_form_post_retried_on_throttling_and_refusals_are_one_sentence()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var requests = new List<(string Authorization, string Date, Dictionary<string, string> Form)>();
        var answers = new Queue<(int Status, string Body)>([
            (400, "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"),
            (200, "<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>"),
            (403, "<ErrorResponse><Error><Code>AuthorizationError</Code><Message>not authorized to perform SNS:Publish</Message></Error></ErrorResponse>"),
        ]);
        var serving = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                var context = await listener.GetContextAsync();
                using var reader = new StreamReader(context.Request.InputStream);
                var form = (await reader.ReadToEndAsync()).Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
                requests.Add((context.Request.Headers["Authorization"]!, context.Request.Headers["X-Amz-Date"]!, form));
                var (status, body) = answers.Dequeue();
                context.Response.StatusCode = status;
                var bytes = Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        using var http = new HttpClient();
        var publisher = new SnsTopicPublisher(http, new BasicAWSCredentials("AKIDEXAMPLE", "secret"), _ => new Uri($"http://127.0.0.1:{port}/"), TimeSpan.FromMilliseconds(5));

        Assert.Equal("m-1", await publisher.PublishAsync(Topic, "{\"detail\":{\"kind\":\"a b&c\"}}", CancellationToken.None));
        var refused = await Assert.ThrowsAsync<PublishException>(() => publisher.PublishAsync(Topic, "{}", CancellationToken.None));
        await serving;

        Assert.Contains("SNS refused to publish (AuthorizationError: not authorized to perform SNS:Publish)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, requests.Count);
        var (authorization, date, form) = requests[1];
        Assert.Equal("Publish", form["Action"]);
        Assert.Equal(Topic, form["TopicArn"]);
        Assert.Equal("{\"detail\":{\"kind\":\"a b&c\"}}", form["Message"]);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{date[..8]}/us-east-1/sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=", authorization, StringComparison.Ordinal);
        Assert.Matches("^[0-9]{8}T[0-9]{6}Z$", date);
    }

    [Fact]
    public async Task Verify_publishes_the_runs_findings_and_a_failed_publish_exits_two_not_one()
    {
        var dir = Path.Combine(Support.CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await Support.CliRunner.RunAsync("sample", "--out", dir, "--hours", "6", "--events-per-log", "1", "--tamper", "modified-log")).ExitCode);
        var sent = new List<string>();
        var publisher = new Mock<ITopicPublisher>();
        publisher.Setup(p => p.PublishAsync(Topic, It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns<string, string, CancellationToken>((_, message, _) => { lock (sent) { sent.Add(message); } return Task.FromResult("id"); });
        var failing = new Mock<ITopicPublisher>();
        failing.Setup(p => p.PublishAsync(Topic, It.IsAny<string>(), It.IsAny<CancellationToken>())).ThrowsAsync(new PublishException("--publish-findings: SNS refused to publish (AuthorizationError: no)"));

        // Only runs with --publish-findings read the override, and only this test makes them.
        var state = Path.Combine(Path.GetDirectoryName(dir)!, "state.json");
        string[] verify = ["verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--publish-findings", Topic, "--state", state, "--json"];
        Support.CliResult published, notPublished;
        try
        {
            FindingPublishing.PublisherOverride = () => failing.Object;
            notPublished = await Support.CliRunner.RunAsync(verify);
            Assert.False(File.Exists(state), "a run whose findings were not published must not advance the state");
            FindingPublishing.PublisherOverride = () => publisher.Object;
            published = await Support.CliRunner.RunAsync(verify);
        }
        finally
        {
            FindingPublishing.PublisherOverride = null;
        }

        Assert.Equal(2, notPublished.ExitCode);
        Assert.Contains("findings not published", notPublished.Err, StringComparison.Ordinal);
        var findings = JsonDocument.Parse(notPublished.Out).RootElement.GetProperty("findings").GetArrayLength();
        Assert.True(findings > 0);

        // The failed run left the state where it was, so the next run finds and publishes the same findings.
        Assert.True(published.ExitCode == 1, published.Err);
        Assert.Equal(findings, JsonDocument.Parse(published.Out).RootElement.GetProperty("findings").GetArrayLength());
        Assert.Equal(findings, sent.Count);
        Assert.Contains($"findings published: {findings} integrity-finding event(s)", published.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(state));
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
