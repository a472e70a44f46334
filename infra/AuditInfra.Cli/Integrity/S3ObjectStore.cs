using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>
/// A bucket read through AWSSDK.S3: listings paged, objects streamed, the digest signature taken from
/// <c>x-amz-meta-signature</c>. Every request is retried by one <see cref="SourceRetry"/> policy (throttling and
/// server errors longer, refused or silent connections and bodies broken off mid-stream twice), never by the SDK
/// as well; access denied, a missing bucket or missing credentials end the run with a plain message.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IArchiveStore, IDisposable
{
    public const string SignatureMetadata = "x-amz-meta-signature";

    private static readonly HashSet<string> RetriedCodes = new(StringComparer.Ordinal) { "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestLimitExceeded" };

    /// <summary>How long a connection may take to open: a refused or unroutable endpoint must not stall a run.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a request may wait for the response headers (S3 answers in milliseconds) and a read of the body for its
    /// next bytes; the whole object may take as long as it needs while bytes keep coming.
    /// </summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(6);

    /// <summary>
    /// Retries of a failed or timed-out request, by <see cref="SourceRetry"/> and not by the SDK (whose own retries are
    /// off, so that the two never multiply): with the timeouts above, a dead endpoint ends the run in under 30 s.
    /// </summary>
    public const int TransientRetries = SourceRetry.DefaultTransientRetries;

    private readonly IAmazonS3 client;
    private readonly SourceRetry retry;
    private readonly string endpointName;
    private readonly bool ownsClient;

    private readonly bool skipTransferChecksums;

    /// <summary>Whether listings still ask for RestoreStatus: cleared when the endpoint refuses the header.</summary>
    private volatile bool askRestoreStatus = true;

    private volatile bool listingsReportRestoreStatus;

    /// <param name="skipTransferChecksums">
    /// Read whole objects as the range <c>bytes=0-</c>, which the SDK does not check against the ETag's MD5 (or a
    /// CRC): for <c>verify</c>, whose SHA-256 of every byte against the signed digests is the stronger proof of the
    /// same bytes, that second hash only costs CPU. <c>pull</c> keeps it, as the transfer check of its copy.
    /// </param>
    /// <param name="endpointName">How the endpoint is named in errors (the --endpoint-url, or S3).</param>
    /// <param name="listingsReportRestoreStatus">
    /// True for S3 itself, whose ListObjectsV2 documents RestoreStatus: an archived object listed without one has none. Another
    /// endpoint is trusted once one of its listings carries the element (see <see cref="IArchiveStore.ListingsReportRestoreStatus"/>).
    /// </param>
    public S3ObjectStore(IAmazonS3 client, string bucket, string prefix, int maxRetries = SourceRetry.DefaultThrottleRetries, TimeSpan? baseDelay = null, bool ownsClient = false, bool skipTransferChecksums = false, string endpointName = "S3", bool listingsReportRestoreStatus = false)
    {
        this.client = client;
        this.listingsReportRestoreStatus = listingsReportRestoreStatus;
        this.endpointName = endpointName;
        this.ownsClient = ownsClient;
        this.skipTransferChecksums = skipTransferChecksums;
        Bucket = bucket;
        Prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
        if (client is AmazonServiceClient serviceClient)
        {
            serviceClient.AfterResponseEvent += KeepRestoreHeader;
        }

        retry = new SourceRetry(Classify, maxRetries, TransientRetries, baseDelay ?? TimeSpan.FromMilliseconds(200));
    }

    /// <summary>The bucket and prefix of an <c>s3://bucket[/prefix]</c> URL, or a message saying what is wrong with it.</summary>
    public static (string Bucket, string Prefix) ParseUrl(string url)
    {
        if (!url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            throw new IntegrityInputException($"'{url}' is not an s3:// URL (expected s3://bucket[/prefix])");
        }

        var rest = url[5..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? string.Empty : rest[(slash + 1)..];
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
        {
            throw new IntegrityInputException($"'{url}': '{bucket}' is not a bucket name (3-63 lowercase letters, digits, '-' and '.'); expected s3://bucket[/prefix]");
        }

        return (bucket, prefix);
    }

    /// <summary>
    /// A store for <c>s3://bucket[/prefix]</c> with the default credential chain and region, or an S3-compatible
    /// endpoint (path-style addressing, checksums only where required, as such stores expect).
    /// </summary>
    public static S3ObjectStore Create(string url, string? endpointUrl, int maxConnections = VerifyOptions.DefaultRemoteParallelism, bool skipTransferChecksums = false)
    {
        var (bucket, prefix) = ParseUrl(url);
        return new S3ObjectStore(CreateClient(url, endpointUrl, maxConnections), bucket, prefix, ownsClient: true, skipTransferChecksums: skipTransferChecksums, endpointName: endpointUrl?.TrimEnd('/') ?? "S3", listingsReportRestoreStatus: endpointUrl is null);
    }

    /// <summary>A client for <paramref name="url"/> with the store's timeouts and no SDK retries (see <see cref="TransientRetries"/>).</summary>
    internal static AmazonS3Client CreateClient(string url, string? endpointUrl, int maxConnections = VerifyOptions.DefaultRemoteParallelism)
    {
        var config = new AmazonS3Config
        {
            RetryMode = RequestRetryMode.Standard,
            // SourceRetry is the one retry layer: SDK retries under it would multiply every attempt.
            MaxErrorRetry = 0,
            MaxConnectionsPerServer = maxConnections,
            ConnectTimeout = ConnectTimeout,
            // With streamed responses this bounds the wait for the headers; body reads are bounded by ReadTimeoutStream.
            Timeout = ResponseTimeout,
        };
        if (endpointUrl is not null)
        {
            if (!Uri.TryCreate(endpointUrl, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != "http" && endpoint.Scheme != "https"))
            {
                throw new IntegrityInputException($"--endpoint-url: expected an http(s) URL such as http://127.0.0.1:4568 (found \"{endpointUrl}\")");
            }

            config.ServiceURL = endpoint.ToString();
            config.ForcePathStyle = true;
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
            config.AuthenticationRegion = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1";
        }
        else if (Environment.GetEnvironmentVariable("AWS_REGION") is null && Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") is null)
        {
            // The SDK follows the bucket's region redirect; a starting region is all it needs.
            config.RegionEndpoint = Amazon.RegionEndpoint.USEast1;
        }

        try
        {
            return new AmazonS3Client(ResolveCredentialsOnce(config), config);
        }
        catch (AmazonClientException e)
        {
            throw new IntegrityInputException($"cannot create an S3 client for {url}: {e.Message} (configure credentials as for the AWS CLI: environment, profile, or instance role)");
        }
    }

    /// <summary>
    /// The default credential chain, resolved once. Left to itself the SDK walks the chain and re-reads environment
    /// credentials on every request, a measurable share of a verification's CPU; the environment does not change
    /// during a run, and refreshing credentials (roles, SSO) keep refreshing through their own object.
    /// </summary>
    private static AWSCredentials ResolveCredentialsOnce(AmazonS3Config config)
    {
        var credentials = Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials(config);
        if (credentials is not EnvironmentVariablesAWSCredentials)
        {
            return credentials;
        }

        var resolved = credentials.GetCredentials();
        return resolved.UseToken
            ? new SessionAWSCredentials(resolved.AccessKey, resolved.SecretKey, resolved.Token)
            : new BasicAWSCredentials(resolved.AccessKey, resolved.SecretKey);
    }

    public string Description => $"s3://{Bucket}/{Prefix}";

    public string? Bucket { get; }

    public string Prefix { get; }

    public bool IsLocal => false;

    public bool ListingsReportRestoreStatus => listingsReportRestoreStatus;

    public async IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = Prefix + subPrefix };
        while (true)
        {
            var page = await ListPageAsync(request, cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                if (!item.Key.EndsWith('/'))
                {
                    yield return new ObjectEntry(item.Key, item.Size ?? 0, item.ETag?.Trim('"'), item.StorageClass?.Value, ListedRestore(item.RestoreStatus));
                }
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <summary>
    /// One page of a listing, asking for each object's RestoreStatus (so that the archive gate needs no HEAD per object): an
    /// endpoint that refuses the request with the header (400, 403 or 501) is asked again without it, and never with it again.
    /// </summary>
    private async Task<ListObjectsV2Response> ListPageAsync(ListObjectsV2Request request, CancellationToken cancellationToken)
    {
        var asked = askRestoreStatus;
        request.OptionalObjectAttributes = asked ? [OptionalObjectAttributes.RestoreStatus.Value] : null;
        ListObjectsV2Response page;
        try
        {
            page = await CallAsync(ct => client.ListObjectsV2Async(request, ct), $"list s3://{Bucket}/{request.Prefix}", cancellationToken);
        }
        catch (Exception e) when (asked && (e as AmazonS3Exception ?? e.InnerException as AmazonS3Exception)?.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotImplemented or HttpStatusCode.Forbidden)
        {
            // Refused with the header (an endpoint without the feature, or a policy that denies it): the listing is what
            // matters, the gate falls back to HEAD. A refusal that was not about the header comes back on this retry.
            askRestoreStatus = false;
            request.OptionalObjectAttributes = null;
            page = await CallAsync(ct => client.ListObjectsV2Async(request, ct), $"list s3://{Bucket}/{request.Prefix}", cancellationToken);
        }

        if (asked && page.S3Objects?.Any(o => o.RestoreStatus is not null) == true)
        {
            listingsReportRestoreStatus = true;
        }

        return page;
    }

    /// <summary>The listing's RestoreStatus of an object: in progress, or restored (until its expiry, when it has one).</summary>
    private static ArchivedObjectStatus? ListedRestore(RestoreStatus? listed) => listed switch
    {
        null => null,
        { IsRestoreInProgress: true } => new ArchivedObjectStatus(RestoreState.InProgress),
        { RestoreExpiryDate: { } expires } => new ArchivedObjectStatus(RestoreState.Restored, new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc))),
        _ => new ArchivedObjectStatus(RestoreState.Restored),
    };

    public async IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = Prefix + subPrefix, Delimiter = "/" };
        while (true)
        {
            var page = await CallAsync(ct => client.ListObjectsV2Async(request, ct), $"list s3://{Bucket}/{request.Prefix}", cancellationToken);
            foreach (var folder in page.CommonPrefixes ?? [])
            {
                yield return folder;
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken)
    {
        try
        {
            var response = await CallAsync(ct => GetAsync(key, ct), $"read s3://{Bucket}/{key}", cancellationToken);
            return Stored(key, withSignature, response);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"))
        {
            throw new ObjectNotFoundException(key);
        }
    }

    /// <summary>Open and consume as one attempt of the store's retry policy: a body broken off mid-stream is read again from its start.</summary>
    public Task<T> ReadAsync<T>(string key, bool withSignature, Func<StoredObject, CancellationToken, Task<T>> consume, CancellationToken cancellationToken) =>
        CallAsync(
            async ct =>
            {
                GetObjectResponse response;
                try
                {
                    response = await GetAsync(key, ct);
                }
                catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"))
                {
                    throw new ObjectNotFoundException(key);
                }

                await using var stored = Stored(key, withSignature, response);
                return await consume(stored, ct);
            },
            $"read s3://{Bucket}/{key}",
            cancellationToken);

    private StoredObject Stored(string key, bool withSignature, GetObjectResponse response)
    {
        var signature = withSignature ? response.Metadata[SignatureMetadata] : null;
        return new StoredObject(new ReadTimeoutStream(response.ResponseStream, ResponseTimeout, $"{endpointName} stopped sending s3://{Bucket}/{key}"), string.IsNullOrEmpty(signature) ? null : signature, response.ETag?.Trim('"'));
    }

    private async Task<GetObjectResponse> GetAsync(string key, CancellationToken cancellationToken)
    {
        Task<GetObjectResponse> Get(ByteRange? range) => client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key, ByteRange = range }, cancellationToken);
        if (!skipTransferChecksums)
        {
            return await Get(null);
        }

        try
        {
            return await Get(new ByteRange("bytes=0-"));
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // An empty object has no byte 0: read it whole.
            return await Get(null);
        }
    }

    /// <summary>HEAD's Intelligent-Tiering archive tier header.</summary>
    public const string ArchiveStatusHeader = "x-amz-archive-status";

    /// <summary>
    /// The raw <c>x-amz-restore</c> and <c>x-amz-archive-status</c> headers of each HEAD in flight, by its request: the SDK's own
    /// reading of them is lenient (a malformed header reads as "not restored", an unknown tier as a tier), and the endpoint is
    /// untrusted, so they are read here strictly.
    /// </summary>
    private readonly ConditionalWeakTable<GetObjectMetadataRequest, StrongBox<(string? Restore, string? Archive)>> restoreHeaders = [];

    private void KeepRestoreHeader(object sender, ResponseEventArgs e)
    {
        if (e is WebServiceResponseEventArgs { Request: GetObjectMetadataRequest request } args && restoreHeaders.TryGetValue(request, out var box))
        {
            string? Header(string name) => args.ResponseHeaders?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
            box.Value = (Header(RestoreHeader.Name), Header(ArchiveStatusHeader));
        }
    }

    public async Task<ArchivedObjectStatus> GetRestoreStatusAsync(string key, CancellationToken cancellationToken)
    {
        var request = new GetObjectMetadataRequest { BucketName = Bucket, Key = key };
        var header = new StrongBox<(string? Restore, string? Archive)>();
        restoreHeaders.AddOrUpdate(request, header);
        GetObjectMetadataResponse response;
        try
        {
            response = await CallAsync(ct => client.GetObjectMetadataAsync(request, ct), $"read the restore status of s3://{Bucket}/{key}", cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            throw new ObjectNotFoundException(key);
        }
        catch (AmazonS3Exception e)
        {
            throw new IntegrityInputException($"cannot read the restore status of s3://{Bucket}/{key}: {e.ErrorCode ?? e.StatusCode.ToString()}: {Core.Messages.Flatten(e.Message)}", e);
        }

        if (client is not AmazonServiceClient)
        {
            // A client without the response event (a test double) has only the SDK's reading.
            var tier = response.ArchiveStatus?.Value;
            return response.RestoreInProgress == true ? new ArchivedObjectStatus(RestoreState.InProgress, AccessTier: tier)
                : response.RestoreExpiration is { } expires ? new ArchivedObjectStatus(RestoreState.Restored, new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc)), tier)
                : ArchivedObjectStatus.None with { AccessTier = tier };
        }

        var archive = header.Value.Archive;
        if (archive is not null && !ArchiveStorage.IsArchiveTier(archive))
        {
            var shown = archive.Length > 64 ? archive[..64] + "..." : archive;
            throw new IntegrityInputException($"cannot read the restore status of s3://{Bucket}/{key}: {endpointName} sent {ArchiveStatusHeader} \"{Core.Messages.Flatten(shown)}\" (expected {ArchiveStorage.ArchiveAccess} or {ArchiveStorage.DeepArchiveAccess})");
        }

        try
        {
            return RestoreHeader.Parse(header.Value.Restore) with { AccessTier = archive };
        }
        catch (FormatException e)
        {
            throw new IntegrityInputException($"cannot read the restore status of s3://{Bucket}/{key}: {endpointName} sent {Core.Messages.Flatten(e.Message)}", e);
        }
    }

    public async Task<RestoreRequestOutcome> RequestRestoreAsync(string key, RestoreTier tier, int? days, CancellationToken cancellationToken)
    {
        var request = new RestoreObjectRequest
        {
            BucketName = Bucket,
            Key = key,
            // Null for an Intelligent-Tiering archive tier: S3 refuses Days there (400 InvalidArgument), the object has no expiry.
            Days = days,
            // The SDK's Tier is GlacierJobParameters/Tier, where S3's API reference and the AWS CLI put a plain restore's
            // retrieval tier; its RetrievalTier is the top-level Tier element that SELECT restores carry.
            Tier = tier switch { RestoreTier.Bulk => GlacierJobTier.Bulk, RestoreTier.Expedited => GlacierJobTier.Expedited, _ => GlacierJobTier.Standard },
        };
        try
        {
            var response = await CallAsync(ct => client.RestoreObjectAsync(request, ct), $"restore s3://{Bucket}/{key}", cancellationToken);
            return response.HttpStatusCode == HttpStatusCode.OK ? RestoreRequestOutcome.AlreadyRestored : RestoreRequestOutcome.Started;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "RestoreAlreadyInProgress" || e.StatusCode == HttpStatusCode.Conflict)
        {
            return RestoreRequestOutcome.AlreadyInProgress;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"))
        {
            throw new ObjectNotFoundException(key);
        }
        catch (AmazonS3Exception e)
        {
            // Refused for this object (a tier S3 does not offer for its class, a restore it cannot take): one line naming it.
            throw new IntegrityInputException($"cannot restore s3://{Bucket}/{key}: {e.ErrorCode ?? e.StatusCode.ToString()}: {Core.Messages.Flatten(e.Message)}", e);
        }
    }

    /// <summary>Puts a local copy into this bucket and prefix (see <see cref="S3Upload"/>).</summary>
    public Task<int> UploadDirectoryAsync(string directory, CancellationToken cancellationToken) =>
        CallAsync(ct => S3Upload.UploadDirectoryAsync(directory, client, Bucket!, Prefix, cancellationToken: ct), $"upload to {Description}", cancellationToken);

    /// <summary>
    /// Creates <paramref name="key"/> unless an object is there (a conditional write, If-None-Match: *): false then, and
    /// nothing is written, so a write-once object (an attestation, under Object Lock) is never replaced.
    /// </summary>
    public async Task<bool> PutIfAbsentAsync(string key, byte[] content, string contentType, CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync(ct => client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                InputStream = new MemoryStream(content, writable: false),
                ContentType = contentType,
                IfNoneMatch = "*",
                // A bucket with Object Lock refuses a put that carries no checksum.
                ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
                // The monitor's role may put attestations only with SSE-S3: the log bucket's default key lets only
                // CloudTrail encrypt, so a put without this header would be refused.
                ServerSideEncryptionMethod = ServerSideEncryptionMethod.AES256,
                UseChunkEncoding = false,
            }, ct), $"write s3://{Bucket}/{key}", cancellationToken);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            // 412: the key exists; 409: another conditional write of it is under way. Either way this one wrote nothing.
            return false;
        }
    }

    private static bool IsRetried(AmazonServiceException e) =>
        e.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout
        || (e.ErrorCode is not null && RetriedCodes.Contains(e.ErrorCode));

    /// <summary>Why a failed call may succeed when made again: throttling and server errors, or a connection that failed, timed out or broke off.</summary>
    internal static RetryReason Classify(Exception e)
    {
        if (e is AmazonServiceException service)
        {
            return IsRetried(service) ? RetryReason.Throttled : RetryReason.None;
        }

        if (e is IntegrityInputException or ObjectNotFoundException)
        {
            return RetryReason.None;
        }

        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException or TimeoutException or OperationCanceledException or HttpRequestException or IOException)
            {
                return RetryReason.Transient;
            }
        }

        return RetryReason.None;
    }

    /// <summary>One S3 call under the store's retry policy; a source that cannot be used at all becomes one clear input error.</summary>
    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await retry.ExecuteAsync(async ct => await call(ct), cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "RestoreAlreadyInProgress")
        {
            throw;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "InvalidObjectState")
        {
            throw new IntegrityInputException($"cannot {what}: the object is archived (Glacier Flexible Retrieval, Deep Archive, or an Intelligent-Tiering archive tier) and not restored (InvalidObjectState); `auditinfra query --source s3://... --restore bulk|standard|expedited` restores what a question needs, or restore it with `aws s3api restore-object`", e);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            throw new IntegrityInputException($"cannot {what}: bucket '{Bucket}' does not exist (check the name, and --endpoint-url for S3-compatible stores)", e);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "AccessDenied" or "AllAccessDisabled" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken" || e.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new IntegrityInputException($"cannot {what}: access denied ({e.ErrorCode ?? e.StatusCode.ToString()}: {e.Message}). The credentials in use need s3:ListBucket on the bucket and s3:GetObject on its keys (the audit stack's auditor role has both){(what.StartsWith("restore ", StringComparison.Ordinal) ? ", and s3:RestoreObject to restore archived ones" : "")}", e);
        }
        catch (AmazonServiceException e) when (IsRetried(e))
        {
            throw new IntegrityInputException($"cannot {what}: still throttled or failing after retries ({e.ErrorCode ?? e.StatusCode.ToString()}: {e.Message}); try again later or lower --parallel", e);
        }
        catch (Exception e) when (Unreachable(e, cancellationToken) is { } reason)
        {
            throw new IntegrityInputException($"cannot {what}: {reason} (tried {TransientRetries + 1} times); check --endpoint-url, the network and any proxy", e);
        }
        catch (AmazonClientException e)
        {
            throw new IntegrityInputException($"cannot {what}: {Core.Messages.Flatten(e.Message)} (configure AWS credentials as for the AWS CLI, and --endpoint-url for S3-compatible stores)", e);
        }
        catch (IOException e)
        {
            throw new IntegrityInputException($"cannot {what}: {Core.Messages.Flatten(e.Message)} (tried {TransientRetries + 1} times; a read that breaks off mid-object is read again from its start)", e);
        }
        catch (HttpRequestException e)
        {
            throw new IntegrityInputException($"cannot {what}: {Core.Messages.Flatten(e.Message)} (is the endpoint reachable?)", e);
        }
        catch (Exception e) when (e is not IntegrityInputException and not ObjectNotFoundException and not AmazonServiceException and not OperationCanceledException)
        {
            // The endpoint is as untrusted as the bucket: an answer the SDK cannot process (a malformed ETag, a broken
            // listing) is an input error naming the endpoint, not a crash.
            throw new IntegrityInputException($"cannot {what}: {endpointName} gave an answer that cannot be processed ({e.GetType().Name}: {Core.Messages.Flatten(e.Message)})", e);
        }
    }

    /// <summary>Why the endpoint could not be used at all (refused, unresolvable, silent past the timeouts), or null for other errors.</summary>
    private string? Unreachable(Exception error, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused }:
                    return $"connection refused by {endpointName}";
                case System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.TryAgain or System.Net.Sockets.SocketError.NoData }:
                    return $"{endpointName}: host not found";
                case System.Net.Sockets.SocketException socket:
                    return $"{endpointName}: {Core.Messages.Flatten(socket.Message)}";
                case TimeoutException or OperationCanceledException:
                    return $"{endpointName} did not answer within {ResponseTimeout.TotalSeconds:0} s (connect timeout {ConnectTimeout.TotalSeconds:0} s)";
            }
        }

        return null;
    }


    public void Dispose()
    {
        if (client is AmazonServiceClient serviceClient)
        {
            serviceClient.AfterResponseEvent -= KeepRestoreHeader;
        }

        if (ownsClient)
        {
            client.Dispose();
        }
    }
}

/// <summary>
/// A response body whose every read must bring bytes within a timeout: an endpoint that stops sending mid-object
/// ends the read with a clear error instead of holding the run forever.
/// </summary>
internal sealed class ReadTimeoutStream(Stream inner, TimeSpan timeout, string stalled) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = Read(rented, 0, buffer.Length);
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await inner.ReadAsync(buffer, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IntegrityInputException($"{stalled}: no bytes for {timeout.TotalSeconds:0} s");
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
