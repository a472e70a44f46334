using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using Moq;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>The restore status an endpoint sends is read strictly from the raw header, not through the SDK's lenient reading.</summary>
[Trait("Category", "S3")]
public sealed class S3RestoreStatusTests
{
    [Theory]
    [InlineData("ongoing-request=\"perhaps\"")]
    [InlineData("ongoing-request=\"false\", expiry-date=\"next week\"")]
    [InlineData("LONG")]
    public async Task A_malformed_restore_header_is_an_input_error_naming_the_object(string header)
    {
        // A header far longer than S3's is refused unread.
        await using var endpoint = HeadEndpoint.Start(header == "LONG" ? "ongoing-request=\"false\", padding=\"" + new string('x', 600) + "\"" : header);
        using var client = endpoint.Client();
        using var store = new S3ObjectStore(client, "acme-audit-bucket", "", endpointName: endpoint.Url);

        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => store.GetRestoreStatusAsync("AWSLogs/k.json.gz", CancellationToken.None));

        Assert.Contains("s3://acme-audit-bucket/AWSLogs/k.json.gz", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{endpoint.Url} sent x-amz-restore", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_well_formed_restore_header_is_read_from_the_raw_response()
    {
        await using var endpoint = HeadEndpoint.Start("ongoing-request=\"false\", expiry-date=\"Sun, 23 Dec 2012 00:00:00 GMT\"");
        using var client = endpoint.Client();
        using var store = new S3ObjectStore(client, "acme-audit-bucket", "", endpointName: endpoint.Url);

        var status = await store.GetRestoreStatusAsync("k", CancellationToken.None);

        Assert.Equal(new ArchivedObjectStatus(RestoreState.Restored, new DateTimeOffset(2012, 12, 23, 0, 0, 0, TimeSpan.Zero)), status);
    }

    [Theory]
    [InlineData("GLACIER")]
    [InlineData("archive_access")]
    [InlineData("ARCHIVE_ACCESS, DEEP_ARCHIVE_ACCESS")]
    public async Task An_unknown_archive_status_is_an_input_error_naming_the_object(string archiveStatus)
    {
        await using var endpoint = HeadEndpoint.Start("ongoing-request=\"true\"", archiveStatus);
        using var client = endpoint.Client();
        using var store = new S3ObjectStore(client, "acme-audit-bucket", "", endpointName: endpoint.Url);

        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => store.GetRestoreStatusAsync("AWSLogs/k.json.gz", CancellationToken.None));

        Assert.Contains($"s3://acme-audit-bucket/AWSLogs/k.json.gz: {endpoint.Url} sent x-amz-archive-status \"{archiveStatus}\" (expected ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_archive_tier_is_read_beside_the_restore_header()
    {
        await using var endpoint = HeadEndpoint.Start("ongoing-request=\"true\"", "DEEP_ARCHIVE_ACCESS");
        using var client = endpoint.Client();
        using var store = new S3ObjectStore(client, "acme-audit-bucket", "", endpointName: endpoint.Url);

        var status = await store.GetRestoreStatusAsync("k", CancellationToken.None);

        Assert.Equal(new ArchivedObjectStatus(RestoreState.InProgress, AccessTier: "DEEP_ARCHIVE_ACCESS"), status);
    }

    [Fact]
    public async Task An_endpoint_that_refuses_the_restore_status_header_is_listed_without_it()
    {
        var asked = new List<string?>();
        await using var endpoint = HeadEndpoint.Start(request =>
        {
            var attributes = request.Headers["x-amz-optional-object-attributes"];
            lock (asked)
            {
                asked.Add(attributes);
            }

            return attributes is null
                ? (200, "<ListBucketResult><Name>acme-audit-bucket</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>AWSLogs/k.json.gz</Key><Size>5</Size><StorageClass>GLACIER</StorageClass></Contents></ListBucketResult>")
                : (400, "<Error><Code>InvalidArgument</Code><Message>Invalid attribute name specified</Message></Error>");
        });
        using var client = endpoint.Client();
        using var store = new S3ObjectStore(client, "acme-audit-bucket", "", endpointName: endpoint.Url);

        var first = new List<ObjectEntry>();
        await foreach (var entry in store.ListAsync("AWSLogs/", CancellationToken.None))
        {
            first.Add(entry);
        }

        await foreach (var entry in store.ListAsync("AWSLogs/", CancellationToken.None))
        {
            first.Add(entry);
        }

        Assert.Equal(2, first.Count);
        Assert.All(first, e => Assert.Equal("GLACIER", e.StorageClass));
        Assert.False(store.ListingsReportRestoreStatus);
        // Asked once with the header, then never again.
        Assert.Equal(["RestoreStatus", null, null], asked);
    }

    [Fact]
    public async Task A_refused_restore_names_the_permission_it_needs()
    {
        var s3 = new Mock<IAmazonS3>();
        s3.Setup(c => c.RestoreObjectAsync(It.IsAny<RestoreObjectRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new AmazonS3Exception("Access Denied", ErrorType.Sender, "AccessDenied", "req", HttpStatusCode.Forbidden));
        using var store = new S3ObjectStore(s3.Object, "acme-audit-bucket", "");

        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => store.RequestRestoreAsync("k", RestoreTier.Bulk, 1, CancellationToken.None));

        Assert.Contains("cannot restore s3://acme-audit-bucket/k: access denied", error.Message, StringComparison.Ordinal);
        Assert.Contains("s3:RestoreObject", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Answers every request with 200, no body, and the given x-amz-restore (and x-amz-archive-status) header.</summary>
    private sealed class HeadEndpoint : IAsyncDisposable
    {
        private readonly HttpListener listener = new();
        private readonly Task serving;

        private HeadEndpoint(string header, string? archiveStatus, Func<HttpListenerRequest, (int Status, string Body)>? answer = null)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
            }

            listener.Prefixes.Add(Url + "/");
            listener.Start();
            serving = Task.Run(async () =>
            {
                while (listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }

                    if (answer is not null)
                    {
                        var (status, body) = answer(context.Request);
                        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
                        context.Response.StatusCode = status;
                        context.Response.ContentType = "application/xml";
                        context.Response.ContentLength64 = bytes.Length;
                        await context.Response.OutputStream.WriteAsync(bytes);
                        context.Response.Close();
                        continue;
                    }

                    context.Response.StatusCode = 200;
                    context.Response.AddHeader("x-amz-restore", header);
                    context.Response.AddHeader("ETag", "\"0123456789abcdef0123456789abcdef\"");
                    context.Response.AddHeader("x-amz-storage-class", archiveStatus is null ? "GLACIER" : "INTELLIGENT_TIERING");
                    if (archiveStatus is not null)
                    {
                        context.Response.AddHeader("x-amz-archive-status", archiveStatus);
                    }

                    context.Response.ContentLength64 = 0;
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public static HeadEndpoint Start(string header, string? archiveStatus = null) => new(header, archiveStatus);

        /// <summary>Answers each request with what <paramref name="answer"/> gives: a status and an XML body.</summary>
        public static HeadEndpoint Start(Func<HttpListenerRequest, (int Status, string Body)> answer) => new(string.Empty, null, answer);

        public AmazonS3Client Client() => new(new BasicAWSCredentials("a", "b"), new AmazonS3Config
        {
            ServiceURL = Url,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

        public async ValueTask DisposeAsync()
        {
            listener.Stop();
            listener.Close();
            await serving;
        }
    }
}
