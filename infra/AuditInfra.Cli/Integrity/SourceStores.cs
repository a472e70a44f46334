using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>Opens a verify/pull source: <c>s3://bucket[/prefix]</c> through AWSSDK.S3, anything else as a local copy.</summary>
internal static class SourceStores
{
    public static IObjectStore Open(string source, string? endpointUrl, int parallelism = 0, bool skipTransferChecksums = false)
    {
        if (source.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return S3ObjectStore.Create(source, endpointUrl, parallelism > 0 ? parallelism : VerifyOptions.DefaultRemoteParallelism, skipTransferChecksums);
        }

        if (endpointUrl is not null)
        {
            throw new IntegrityInputException($"--endpoint-url applies to an s3:// source; '{source}' is a local directory");
        }

        return new LocalDirectoryStore(source);
    }
}
