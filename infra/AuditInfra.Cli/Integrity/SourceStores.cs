using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>Opens a verify/pull source: <c>s3://bucket[/prefix]</c> through AWSSDK.S3, anything else as a local copy.</summary>
internal static class SourceStores
{
    public static IObjectStore Open(string source, string? endpointUrl)
    {
        if (source.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            throw new IntegrityInputException("S3 sources arrive with the S3 store (pending merge)");
        }

        if (endpointUrl is not null)
        {
            throw new IntegrityInputException($"--endpoint-url applies to an s3:// source; '{source}' is a local directory");
        }

        return new LocalDirectoryStore(source);
    }
}
