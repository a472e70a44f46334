using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>
/// Puts a local copy (the bucket layout, with <c>K.signature</c> files) into a bucket the way CloudTrail
/// delivers it: each digest's signature as its <c>x-amz-meta-signature</c>. For tests, demos and benchmarks
/// against S3-compatible stores.
/// </summary>
public static class S3Upload
{
    public static async Task<int> UploadDirectoryAsync(string directory, IAmazonS3 client, string bucket, string prefix = "", int parallelism = 16, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(directory);
        var files = Directory.EnumerateFiles(root, "*.json.gz", SearchOption.AllDirectories).ToList();
        var count = 0;
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (file, ct) =>
        {
            var key = prefix + Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            // Signed whole rather than in aws-chunked frames, which some S3-compatible stores keep as content.
            var request = new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file, ContentType = "application/x-gzip", UseChunkEncoding = false };
            var signatureFile = file + LocalDirectoryStore.SignatureSuffix;
            if (File.Exists(signatureFile))
            {
                request.Metadata[S3ObjectStore.SignatureMetadata] = (await File.ReadAllTextAsync(signatureFile, ct)).Trim();
                // CloudTrail also writes the algorithm (the AWS CLI refuses a digest without it), and a backfill's generation time.
                request.Metadata["x-amz-meta-signature-algorithm"] = "SHA256withRSA";
                if (key.EndsWith("_backfill.json.gz", StringComparison.Ordinal))
                {
                    request.Metadata["x-amz-meta-backfill-generation-timestamp"] = File.GetLastWriteTimeUtc(file).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            await client.PutObjectAsync(request, ct);
            Interlocked.Increment(ref count);
        });
        return count;
    }
}
