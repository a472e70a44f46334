using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>
/// A verify state kept as one S3 object, written only conditionally: <c>If-None-Match: *</c> when this run found
/// none, <c>If-Match: &lt;ETag read&gt;</c> otherwise. S3 refuses (412) a write whose condition no longer holds, so
/// two monitors never both advance from the same state: the later one learns of the other's write.
/// </summary>
/// <remarks>
/// The GET and the conditional PUT are retried by the same <see cref="SourceRetry"/> policy as every read of the
/// source (throttling and server errors, broken or silent connections); a missing state (404) and a refused
/// condition (412) are answers, never retried. Each write carries a token of its own in
/// <see cref="WriterMetadata"/>: a PUT that S3 applied but whose answer was lost is retried, meets 412 against its
/// own write, and is recognised as done by that token instead of being reported as another run's write (the token
/// is checked on every 412: the HTTP client may resend a request on its own, below any retry policy).
/// </remarks>
public sealed class S3StateStore(IAmazonS3 client, string bucket, string key, string url, bool ownsClient = false, TimeSpan? retryDelay = null) : IVerifyStateStore, IDisposable
{
    /// <summary>User metadata naming the write that produced the object (a random token per write).</summary>
    public const string WriterMetadata = "x-amz-meta-auditinfra-writer";

    private readonly SourceRetry retry = new(S3ObjectStore.Classify, SourceRetry.DefaultThrottleRetries, SourceRetry.DefaultTransientRetries, retryDelay ?? TimeSpan.FromMilliseconds(200));

    public string Description => url;

    public static S3StateStore Create(string url, string? endpointUrl)
    {
        var (bucket, key) = S3ObjectStore.ParseUrl(url);
        if (key.Length == 0 || key.EndsWith('/'))
        {
            throw new IntegrityInputException($"--state {url}: expected s3://bucket/key of the state object (a key, not a folder)");
        }

        return new S3StateStore(S3ObjectStore.CreateClient(url, endpointUrl, 4), bucket, key, url, ownsClient: true);
    }

    public async Task<(VerifyState? State, string? Version)> LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await ReadAsync(cancellationToken);
        if (stored is null)
        {
            return (null, null);
        }

        try
        {
            return (VerifyState.Parse(stored.Text), stored.ETag);
        }
        catch (FormatException e)
        {
            throw new IntegrityInputException($"--state {url}: not a verify state: {e.Message} (delete it to start again with a full run)");
        }
    }

    public async Task<string?> SaveAsync(VerifyState state, string? version, CancellationToken cancellationToken)
    {
        var body = state.ToJson();
        var writer = Guid.NewGuid().ToString("N");
        try
        {
            return await retry.ExecuteAsync(
                async ct =>
                {
                    var request = new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = body, ContentType = "application/json", UseChunkEncoding = false };
                    request.Metadata.Add(WriterMetadata, writer);
                    if (version is null)
                    {
                        request.IfNoneMatch = "*";
                    }
                    else
                    {
                        request.IfMatch = version;
                    }

                    return (await client.PutObjectAsync(request, ct)).ETag;
                },
                cancellationToken);
        }
        catch (AmazonS3Exception e) when (IsConflict(e))
        {
            // A write resent after its answer was lost meets its own earlier attempt: resent by the retry policy, or by
            // the HTTP client itself, which sends a request again when a kept-alive connection fails before any answer.
            if (await ReadAsync(cancellationToken) is { } current && current.Writer == writer)
            {
                return current.ETag;
            }

            throw new StateConflictException($"--state {url} was written by another run since this one read it");
        }
        catch (Exception e) when (Failure("write", e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    private static bool IsConflict(AmazonS3Exception e) =>
        e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict || e.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict";

    private sealed record StoredState(string Text, string? ETag, string? Writer);

    /// <summary>The state object's text, ETag and writer token, read whole as one attempt of the retry policy; null when there is none.</summary>
    private async Task<StoredState?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await retry.ExecuteAsync(
                async ct =>
                {
                    GetObjectResponse response;
                    try
                    {
                        response = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key }, ct);
                    }
                    catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"))
                    {
                        return null;
                    }

                    using (response)
                    {
                        if (response.ContentLength > VerifyState.MaxBytes)
                        {
                            throw new IntegrityInputException($"--state {url}: {response.ContentLength} bytes, more than a verify state ever is ({VerifyState.MaxBytes})");
                        }

                        var text = await ReadBoundedAsync(new ReadTimeoutStream(response.ResponseStream, S3ObjectStore.ResponseTimeout, $"--state {url}: the endpoint stopped sending it"), ct);
                        var writer = response.Metadata?[WriterMetadata];
                        return new StoredState(text, response.ETag, string.IsNullOrEmpty(writer) ? null : writer);
                    }
                },
                cancellationToken);
        }
        catch (Exception e) when (Failure("read", e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>The body as text, refused past <see cref="VerifyState.MaxBytes"/> whatever Content-Length said.</summary>
    private async Task<string> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > VerifyState.MaxBytes)
            {
                throw new IntegrityInputException($"--state {url}: more than a verify state ever is ({VerifyState.MaxBytes} bytes)");
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// A request that failed for good (after the retries it was given) as one line naming the state; null for
    /// what passes through unchanged (cancellation, and errors that already are one).
    /// </summary>
    private IntegrityInputException? Failure(string verb, Exception error, CancellationToken cancellationToken)
    {
        var tries = $"tried {retry.TransientRetries + 1} times";
        return error switch
        {
            IntegrityInputException or StateConflictException => null,
            OperationCanceledException when cancellationToken.IsCancellationRequested => null,
            AmazonS3Exception e when S3ObjectStore.Classify(e) != RetryReason.None =>
                new IntegrityInputException($"--state {url}: cannot {verb} it: still throttled or failing after retries ({e.ErrorCode ?? e.StatusCode.ToString()}: {Core.Messages.Flatten(e.Message)}); try again later", e),
            AmazonS3Exception e =>
                new IntegrityInputException($"--state {url}: cannot {verb} it ({e.ErrorCode ?? e.StatusCode.ToString()}: {Core.Messages.Flatten(e.Message)}); the credentials need s3:GetObject and s3:PutObject on it", e),
            OperationCanceledException or TimeoutException =>
                new IntegrityInputException($"--state {url}: cannot {verb} it: no answer within {S3ObjectStore.ResponseTimeout.TotalSeconds:0} s ({tries}); check --endpoint-url and the network", error),
            AmazonClientException e =>
                new IntegrityInputException($"--state {url}: cannot {verb} it: {Core.Messages.Flatten(e.Message)} (configure AWS credentials as for the AWS CLI, and --endpoint-url for S3-compatible stores)", e),
            _ when S3ObjectStore.Classify(error) != RetryReason.None =>
                new IntegrityInputException($"--state {url}: cannot {verb} it: {Core.Messages.Flatten(error.Message)} ({tries}); check --endpoint-url and the network", error),
            _ => null,
        };
    }

    public void Dispose()
    {
        if (ownsClient)
        {
            client.Dispose();
        }
    }
}
