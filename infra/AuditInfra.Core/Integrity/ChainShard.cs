using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AuditInfra.Core.Integrity;

/// <summary>
/// One of <see cref="Count"/> disjoint shares of an organization's chains: a chain (account, region) belongs to
/// shard <c>SHA-256(account) mod Count</c>, a stable hash, so N workers split the chains without any coordination
/// and every chain lands in exactly one shard, whatever machine or run computes it. The hash is the account's, not
/// the (account, region) pair's: an attestation states every region of an account-day, so all of an account's
/// chains must be proven by one worker for N sharded runs to attest exactly what one unsharded run attests.
/// <see cref="Index"/> is 0-based (0..Count-1), as AWS_BATCH_JOB_ARRAY_INDEX is.
/// </summary>
public sealed record ChainShard(int Index, int Count)
{
    /// <summary>The environment variable AWS Batch sets to a child's index in an array job.</summary>
    public const string BatchArrayIndexVariable = "AWS_BATCH_JOB_ARRAY_INDEX";

    /// <summary>Whether this shard proves the account's chains (all its regions).</summary>
    public bool Contains(string account) => Of(account, Count) == Index;

    /// <summary>The shard of an account's chains among <paramref name="count"/>.</summary>
    public static int Of(string account, int count)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(account), hash);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % (ulong)count);
    }

    /// <summary>
    /// Parses <c>k/N</c> (k in 0..N-1) or <c>auto/N</c> (k from <see cref="BatchArrayIndexVariable"/>); throws
    /// <see cref="FormatException"/> with what is expected.
    /// </summary>
    public static ChainShard Parse(string text, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > 100_000)
        {
            throw new FormatException($"expected k/N with N a whole number from 1 to 100000 and k from 0 to N-1, or auto/N (found \"{text}\")");
        }

        string indexText = parts[0];
        var source = "k";
        if (indexText == "auto")
        {
            indexText = environment(BatchArrayIndexVariable) ?? throw new FormatException($"auto/{count} takes k from {BatchArrayIndexVariable}, which is not set (it is set in an AWS Batch array job); give k/N outside one");
            source = BatchArrayIndexVariable;
        }

        if (!int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= count)
        {
            throw new FormatException($"{source} must be a whole number from 0 to {count - 1} in k/N (found \"{indexText}\" in \"{text}\")");
        }

        return new ChainShard(index, count);
    }

    public override string ToString() => $"{Index}/{Count}";
}
