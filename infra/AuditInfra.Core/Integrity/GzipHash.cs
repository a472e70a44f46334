using System.Buffers;
using System.Security.Cryptography;

namespace AuditInfra.Core.Integrity;

/// <summary>Why an object could not be gunzipped; each is named apart in the finding's message.</summary>
public enum GzipFault
{
    None,

    /// <summary>Not gzip, a bad header, deflate data that does not decode, or a member whose CRC-32/size trailer does not match its content.</summary>
    Corrupt,

    /// <summary>The stream ends inside a member (its header, its compressed data or its trailer).</summary>
    Truncated,

    /// <summary>Bytes after the last complete member that do not start another gzip member.</summary>
    TrailingBytes,

    /// <summary>The object inflates to more than the cap given for its kind (a gzip bomb, for a digest).</summary>
    TooLarge,
}

/// <summary>The result of gunzipping and hashing one object in a single pass.</summary>
public sealed record GunzipResult(string? Sha256Hex, long UncompressedBytes, long CompressedBytes, string? Error, GzipFault Fault = GzipFault.None, int Members = 0)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Gunzip + SHA-256 in one streaming pass with pooled buffers (memory does not depend on the object size).
/// A file may hold several gzip members: as gunzip and CloudTrail do, the hash covers the concatenated
/// output of all of them, read through <see cref="GzipMemberStream"/>, which checks every member's trailer
/// and names truncation and trailing bytes apart.
/// </summary>
public static class GzipHash
{
    public const int BufferSize = 128 * 1024;

    public static GunzipResult Compute(Stream compressed, Stream? copyTo = null, long maxUncompressed = long.MaxValue) =>
        RunAsync(compressed, copyTo, maxUncompressed, sync: true, CancellationToken.None).GetAwaiter().GetResult();

    public static Task<GunzipResult> ComputeAsync(Stream compressed, Stream? copyTo, CancellationToken cancellationToken, long maxUncompressed = long.MaxValue) =>
        RunAsync(compressed, copyTo, maxUncompressed, sync: false, cancellationToken);

    private static async Task<GunzipResult> RunAsync(Stream compressed, Stream? copyTo, long maxUncompressed, bool sync, CancellationToken cancellationToken)
    {
        using var gunzip = new GzipMemberStream(compressed, leaveOpen: true);
        var output = ArrayPool<byte>.Shared.Rent(BufferSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        GunzipResult Fail(GzipFault fault, string message) => new(null, gunzip.UncompressedBytes, gunzip.CompressedBytes, message, fault, gunzip.Members);
        try
        {
            int read;
            while ((read = sync ? gunzip.Read(output, 0, output.Length) : await gunzip.ReadAsync(output.AsMemory(), cancellationToken)) > 0)
            {
                if (gunzip.UncompressedBytes > maxUncompressed)
                {
                    return Fail(GzipFault.TooLarge, $"inflates to more than {maxUncompressed} bytes, the cap for this kind of file (a gzip bomb?); not read further");
                }

                hash.AppendData(output, 0, read);
                if (copyTo is not null)
                {
                    if (sync)
                    {
                        copyTo.Write(output, 0, read);
                    }
                    else
                    {
                        await copyTo.WriteAsync(output.AsMemory(0, read), cancellationToken);
                    }
                }
            }
        }
        catch (GzipFormatException e)
        {
            return Fail(e.Fault, e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }

        return new GunzipResult(Convert.ToHexStringLower(hash.GetHashAndReset()), gunzip.UncompressedBytes, gunzip.CompressedBytes, null, GzipFault.None, gunzip.Members);
    }
}
