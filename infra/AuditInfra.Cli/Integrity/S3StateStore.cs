using System.Net;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>
/// A verify state kept as one S3 object, written only conditionally: <c>If-None-Match: *</c> when this run found
/// none, <c>If-Match: &lt;ETag read&gt;</c> otherwise. S3 refuses (412) a write whose condition no longer holds, so
/// two monitors never both advance from the same state: the later one learns of the other's write.
/// </summary>
public sealed class S3StateStore(IAmazonS3 client, string bucket, string key, string url, bool ownsClient = false) : IVerifyStateStore, IDisposable
{
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
        GetObjectResponse response;
        try
        {
            response = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket"))
        {
            return (null, null);
        }
        catch (AmazonS3Exception e)
        {
            throw new IntegrityInputException($"--state {url}: cannot read it ({e.ErrorCode ?? e.StatusCode.ToString()}: {Core.Messages.Flatten(e.Message)}); the credentials need s3:GetObject and s3:PutObject on it", e);
        }

        using (response)
        {
            if (response.ContentLength > VerifyState.MaxBytes)
            {
                throw new IntegrityInputException($"--state {url}: {response.ContentLength} bytes, more than a verify state ever is ({VerifyState.MaxBytes})");
            }

            using var reader = new StreamReader(response.ResponseStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(cancellationToken);
            try
            {
                return (VerifyState.Parse(text), response.ETag);
            }
            catch (FormatException e)
            {
                throw new IntegrityInputException($"--state {url}: not a verify state: {e.Message} (delete it to start again with a full run)");
            }
        }
    }

    public async Task<string?> SaveAsync(VerifyState state, string? version, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = state.ToJson(), ContentType = "application/json", UseChunkEncoding = false };
        if (version is null)
        {
            request.IfNoneMatch = "*";
        }
        else
        {
            request.IfMatch = version;
        }

        try
        {
            return (await client.PutObjectAsync(request, cancellationToken)).ETag;
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict || e.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict")
        {
            throw new StateConflictException($"--state {url} was written by another run since this one read it");
        }
        catch (AmazonS3Exception e)
        {
            throw new IntegrityInputException($"--state {url}: cannot write it ({e.ErrorCode ?? e.StatusCode.ToString()}: {Core.Messages.Flatten(e.Message)}); the credentials need s3:PutObject on it", e);
        }
    }

    public void Dispose()
    {
        if (ownsClient)
        {
            client.Dispose();
        }
    }
}
