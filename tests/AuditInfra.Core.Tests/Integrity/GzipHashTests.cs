using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>Gunzip + SHA-256 over real gzip members, as gunzip and CloudTrail read them.</summary>
public class GzipHashTests
{
    private static byte[] Gzip(byte[] plain, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, level, leaveOpen: true))
        {
            gz.Write(plain);
        }

        return buffer.ToArray();
    }

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    private static string Sha(byte[] plain) => Convert.ToHexStringLower(SHA256.HashData(plain));

    /// <summary>Incompressible bytes, so that members span many of the inflater's input chunks.</summary>
    private static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Delivers a few bytes per read, as a slow network does: member ends then fall anywhere in a read.</summary>
    private sealed class Trickle(byte[] data, int step) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, step));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, step)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, step)], cancellationToken);
    }

    /// <summary>Both passes (local: synchronous; S3: asynchronous) over the same bytes, which must agree.</summary>
    private static async Task<GunzipResult> BothAsync(byte[] data, long max = long.MaxValue, int step = int.MaxValue)
    {
        var sync = GzipHash.Compute(new Trickle(data, step), null, max);
        var async = await GzipHash.ComputeAsync(new Trickle(data, step), null, CancellationToken.None, max);
        Assert.Equal(sync, async);
        return sync;
    }

    public static TheoryData<int> Steps() => new(int.MaxValue, 7, 1);

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task A_log_of_two_valid_members_hashes_over_both_as_gunzip_does(int step)
    {
        var first = Text("{\"Records\":[" + new string(' ', 5000));
        var second = Text(new string(' ', 3000) + "]}");

        var result = await BothAsync([.. Gzip(first), .. Gzip(second)], step: step);

        Assert.Null(result.Error);
        Assert.Equal(GzipFault.None, result.Fault);
        Assert.Equal(2, result.Members);
        Assert.Equal(Sha([.. first, .. second]), result.Sha256Hex);
        Assert.Equal(first.Length + second.Length, result.UncompressedBytes);
    }

    [Fact]
    public async Task Members_larger_than_the_inflaters_input_chunks_are_split_exactly_at_their_trailers()
    {
        var parts = new[] { Noise(300_000, 1), Noise(70_000, 2), Text(new string('x', 1_000_000)), Noise(65_536, 3) };
        var data = parts.SelectMany(p => Gzip(p, CompressionLevel.NoCompression)).ToArray();

        var result = await BothAsync(data);

        Assert.Null(result.Error);
        Assert.Equal(4, result.Members);
        Assert.Equal(Sha(parts.SelectMany(p => p).ToArray()), result.Sha256Hex);
        Assert.Equal(data.Length, result.CompressedBytes);
    }

    [Fact]
    public async Task A_header_with_a_file_name_and_comment_is_read_past()
    {
        var plain = Text("{\"Records\":[]}");
        var zipped = Gzip(plain);
        zipped[3] |= 8 | 16;
        byte[] named = [.. zipped[..10], .. Text("log.json"), 0, .. Text("a comment"), 0, .. zipped[10..]];

        var result = await BothAsync(named);

        Assert.Null(result.Error);
        Assert.Equal(Sha(plain), result.Sha256Hex);
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task Trailing_bytes_after_the_last_member_are_named_as_such(int step)
    {
        var zipped = Gzip(Text(new string('a', 5000)));

        var result = await BothAsync([.. zipped, .. Text("appended garbage")], step: step);

        Assert.Equal(GzipFault.TrailingBytes, result.Fault);
        Assert.StartsWith("trailing bytes after the last gzip member: 16 bytes follow member 1", result.Error, StringComparison.Ordinal);
        Assert.Null(result.Sha256Hex);
    }

    [Fact]
    public async Task Zero_padding_after_the_last_member_is_trailing_bytes_too()
    {
        var result = await BothAsync([.. Gzip(Text("{}")), 0, 0, 0, 0]);

        Assert.Equal(GzipFault.TrailingBytes, result.Fault);
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task A_member_cut_inside_its_compressed_data_is_truncated(int step)
    {
        var zipped = Gzip(Noise(200_000, 4), CompressionLevel.NoCompression);

        var result = await BothAsync(zipped[..(zipped.Length / 2)], step: step);

        Assert.Equal(GzipFault.Truncated, result.Fault);
        Assert.Contains("ends inside the compressed data of member 1", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task A_member_cut_inside_or_before_its_trailer_is_truncated(int cut)
    {
        var zipped = Gzip(Text(new string('t', 10_000)));

        var result = await BothAsync(zipped[..^cut]);

        Assert.Equal(GzipFault.Truncated, result.Fault);
        Assert.Contains("trailer of member 1", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_member_cut_short_is_truncated_and_named()
    {
        var second = Gzip(Noise(100_000, 5), CompressionLevel.NoCompression);

        var result = await BothAsync([.. Gzip(Text("first")), .. second[..^1000]]);

        Assert.Equal(GzipFault.Truncated, result.Fault);
        Assert.Contains("member 2", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trailer_whose_crc_does_not_match_the_content_is_corrupt()
    {
        var zipped = Gzip(Text(new string('c', 10_000)));
        zipped[^8] ^= 0xff;

        var result = await BothAsync(zipped);

        Assert.Equal(GzipFault.Corrupt, result.Fault);
        Assert.Contains("the trailer of member 1 records CRC-32", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_that_are_not_gzip_are_corrupt_and_an_empty_file_is_truncated()
    {
        Assert.Equal(GzipFault.Corrupt, (await BothAsync(Text("plain text, not gzip"))).Fault);
        Assert.Equal(GzipFault.Truncated, (await BothAsync([])).Fault);
        Assert.Equal(GzipFault.Truncated, (await BothAsync([0x1f, 0x8b, 8])).Fault);
    }

    [Fact]
    public async Task Inflating_past_the_cap_stops_at_the_cap_without_reading_the_rest()
    {
        // 64 MiB of zeros compress to about 64 KiB: a small bomb.
        var bomb = Gzip(new byte[64 * 1024 * 1024], CompressionLevel.SmallestSize);
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var result = GzipHash.Compute(new MemoryStream(bomb), new MemoryStream(), maxUncompressed: 1024 * 1024);

        Assert.Equal(GzipFault.TooLarge, result.Fault);
        Assert.True(result.UncompressedBytes <= (1024 * 1024) + GzipHash.BufferSize);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 * 1024 * 1024, "the copy stops at the cap");
    }
}
