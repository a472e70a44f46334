using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
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
/// output of all of them. Each member is parsed here rather than by <see cref="GZipStream"/>, which quietly
/// accepts a truncated member and ignores bytes after the last one: every member's CRC-32 and size trailer
/// is checked against what it inflated to, and the end of the input must be the end of a member.
/// </summary>
public static class GzipHash
{
    public const int BufferSize = 128 * 1024;

    /// <summary>
    /// Compressed bytes handed to the inflater at a time. A member's deflate data ends inside the last chunk
    /// handed over; its trailer is then found in that chunk (the inflater does not tell how much it consumed).
    /// </summary>
    private const int ChunkSize = 64 * 1024;

    private const int TrailerLength = 8;

    public static GunzipResult Compute(Stream compressed, Stream? copyTo = null, long maxUncompressed = long.MaxValue) =>
        RunAsync(compressed, copyTo, maxUncompressed, sync: true, CancellationToken.None).GetAwaiter().GetResult();

    public static Task<GunzipResult> ComputeAsync(Stream compressed, Stream? copyTo, CancellationToken cancellationToken, long maxUncompressed = long.MaxValue) =>
        RunAsync(compressed, copyTo, maxUncompressed, sync: false, cancellationToken);

    private static async Task<GunzipResult> RunAsync(Stream compressed, Stream? copyTo, long maxUncompressed, bool sync, CancellationToken cancellationToken)
    {
        using var input = new GzipInput(compressed, sync, cancellationToken);
        var output = ArrayPool<byte>.Shared.Rent(BufferSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var crc = new Crc32();
        long total = 0;
        var members = 0;
        GunzipResult Fail(GzipFault fault, string message) => new(null, total, input.Consumed, message, fault, members);
        try
        {
            if (!await input.EnsureAsync(1))
            {
                return Fail(GzipFault.Truncated, "truncated gzip: the file is empty");
            }

            while (true)
            {
                members++;
                var member = members;
                var header = await ReadHeaderAsync(input);
                if (header is not null)
                {
                    return Fail(header.Value.Fault, member == 1 ? header.Value.Message : $"{header.Value.Message} (member {member})");
                }

                crc.Reset();
                long memberBytes = 0;
                var source = new MemberSource(input);
                using (var deflate = new DeflateStream(source, CompressionMode.Decompress, leaveOpen: true))
                {
                    try
                    {
                        int read;
                        while ((read = sync ? deflate.Read(output, 0, output.Length) : await deflate.ReadAsync(output.AsMemory(), cancellationToken)) > 0)
                        {
                            total += read;
                            if (total > maxUncompressed)
                            {
                                return Fail(GzipFault.TooLarge, $"inflates to more than {maxUncompressed} bytes, the cap for this kind of file (a gzip bomb?); not read further");
                            }

                            memberBytes += read;
                            hash.AppendData(output, 0, read);
                            crc.Append(output.AsSpan(0, read));
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
                    catch (InvalidDataException e)
                    {
                        return Fail(GzipFault.Corrupt, $"corrupt gzip: member {member}'s compressed data does not decode ({e.Message})");
                    }
                }

                if (source.SawEnd)
                {
                    return Fail(GzipFault.Truncated, $"truncated gzip: the file ends inside the compressed data of member {member}, after {input.Consumed} compressed bytes and {memberBytes} bytes inflated");
                }

                var trailer = new byte[TrailerLength];
                BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc.GetCurrentHashAsUInt32());
                BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(4), unchecked((uint)memberBytes));
                var trailerProblem = await input.SkipTrailerAsync(source.LastChunkStart, source.LastChunkLength, trailer, member, memberBytes);
                if (trailerProblem is not null)
                {
                    return Fail(trailerProblem.Value.Fault, trailerProblem.Value.Message);
                }

                if (!await input.EnsureAsync(1))
                {
                    break;
                }

                if (!await input.EnsureAsync(2) || input.Peek(0) != 0x1f || input.Peek(1) != 0x8b)
                {
                    var end = input.Consumed;
                    var trailing = await input.DrainAsync();
                    return Fail(GzipFault.TrailingBytes, $"trailing bytes after the last gzip member: {trailing} bytes follow member {member}, which ends at byte {end}; they are not a gzip member");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }

        return new GunzipResult(Convert.ToHexStringLower(hash.GetHashAndReset()), total, input.Consumed, null, GzipFault.None, members);
    }

    /// <summary>Reads one member header (RFC 1952 section 2.3); null when it is valid.</summary>
    private static async Task<(GzipFault Fault, string Message)?> ReadHeaderAsync(GzipInput input)
    {
        const byte FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, Reserved = 0xE0;
        if (!await input.EnsureAsync(10))
        {
            var magic = input.Available.Length switch
            {
                0 => false,
                1 => input.Peek(0) == 0x1f,
                _ => input.Peek(0) == 0x1f && input.Peek(1) == 0x8b,
            };
            var available = await input.DrainAsync();
            return magic
                ? (GzipFault.Truncated, $"truncated gzip: the file ends inside a gzip header ({available} bytes of at least 10)")
                : (GzipFault.Corrupt, $"not gzip: {available} bytes that do not start with a gzip header");
        }

        if (input.Peek(0) != 0x1f || input.Peek(1) != 0x8b)
        {
            return (GzipFault.Corrupt, "not gzip: the file does not start with the gzip signature 1f 8b");
        }

        if (input.Peek(2) != 8 || (input.Peek(3) & Reserved) != 0)
        {
            return (GzipFault.Corrupt, $"corrupt gzip: unsupported compression method {input.Peek(2)} or reserved flags {input.Peek(3):x2} in the header");
        }

        var flags = input.Peek(3);
        input.Advance(10);
        var complete = true;
        if ((flags & FEXTRA) != 0)
        {
            complete = await input.EnsureAsync(2);
            if (complete)
            {
                var length = input.Peek(0) | (input.Peek(1) << 8);
                input.Advance(2);
                complete = await input.SkipAsync(length);
            }
        }

        if (complete && (flags & FNAME) != 0)
        {
            complete = await input.SkipPastZeroAsync();
        }

        if (complete && (flags & FCOMMENT) != 0)
        {
            complete = await input.SkipPastZeroAsync();
        }

        if (complete && (flags & FHCRC) != 0)
        {
            complete = await input.SkipAsync(2);
        }

        return complete ? null : (GzipFault.Truncated, "truncated gzip: the file ends inside a gzip header");
    }

    /// <summary>The compressed input, buffered so that a member's trailer can be found after the inflater has read past it.</summary>
    private sealed class GzipInput(Stream inner, bool sync, CancellationToken cancellationToken) : IDisposable
    {
        private readonly byte[] buffer = ArrayPool<byte>.Shared.Rent((2 * ChunkSize) + 64);
        private int start;
        private int end;
        private long bufferOffset;
        private bool innerEnded;

        /// <summary>Bytes of the input before the current position.</summary>
        public long Consumed => bufferOffset + start;

        public byte Peek(int index) => buffer[start + index];

        public void Advance(int count) => start += count;

        public ReadOnlySpan<byte> Available => buffer.AsSpan(start, end - start);

        /// <summary>Buffers at least <paramref name="count"/> bytes (at most a chunk and a trailer); false when the input ends first.</summary>
        public async Task<bool> EnsureAsync(int count)
        {
            if (end - start >= count)
            {
                return true;
            }

            if (buffer.Length - start < count)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                bufferOffset += start;
                end -= start;
                start = 0;
            }

            while (end - start < count && !innerEnded)
            {
                var read = sync ? inner.Read(buffer, end, buffer.Length - end) : await inner.ReadAsync(buffer.AsMemory(end), cancellationToken);
                if (read == 0)
                {
                    innerEnded = true;
                    break;
                }

                end += read;
            }

            return end - start >= count;
        }

        public async Task FillIfEmptyAsync()
        {
            if (start == end)
            {
                await EnsureAsync(1);
            }
        }

        /// <summary>Up to a chunk of buffered input for the inflater; empty at the end of the input.</summary>
        public (long Offset, int Length) Take(Span<byte> destination)
        {
            var length = Math.Min(Math.Min(destination.Length, ChunkSize), end - start);
            var offset = Consumed;
            buffer.AsSpan(start, length).CopyTo(destination);
            start += length;
            return (offset, length);
        }

        public async Task<bool> SkipAsync(long count)
        {
            while (count > 0)
            {
                if (!await EnsureAsync(1))
                {
                    return false;
                }

                var step = (int)Math.Min(count, end - start);
                start += step;
                count -= step;
            }

            return true;
        }

        public async Task<bool> SkipPastZeroAsync()
        {
            while (await EnsureAsync(1))
            {
                var zero = Available.IndexOf((byte)0);
                if (zero >= 0)
                {
                    start += zero + 1;
                    return true;
                }

                start = end;
            }

            return false;
        }

        /// <summary>Reads to the end of the input; the number of bytes that were left.</summary>
        public async Task<long> DrainAsync()
        {
            long count = 0;
            while (await EnsureAsync(1))
            {
                count += end - start;
                start = end;
            }

            return count;
        }

        /// <summary>
        /// Places the input after the member's trailer. The deflate data ended inside the last chunk handed to the
        /// inflater (<paramref name="chunkOffset"/>, <paramref name="chunkLength"/>), so the trailer - the CRC-32 and
        /// size of what the member inflated to - starts at one of its positions or just after it.
        /// </summary>
        public async Task<(GzipFault Fault, string Message)?> SkipTrailerAsync(long chunkOffset, int chunkLength, byte[] expected, int member, long memberBytes)
        {
            start = (int)(chunkOffset - bufferOffset);
            await EnsureAsync(chunkLength + TrailerLength);
            var window = Available[..Math.Min(end - start, chunkLength + TrailerLength)];
            var at = window.IndexOf(expected);
            if (at >= 0)
            {
                start += at + TrailerLength;
                return null;
            }

            var crcText = Convert.ToHexStringLower(expected.AsSpan(0, 4));
            if (innerEnded && end - start <= chunkLength + TrailerLength)
            {
                // The input ends within a trailer's length of where the deflate data may end: a trailer cut short
                // shows as a prefix of the expected one at the very end.
                for (var tail = Math.Min(TrailerLength - 1, window.Length); tail >= 1; tail--)
                {
                    if (window.Length - tail <= chunkLength && window[^tail..].SequenceEqual(expected.AsSpan(0, tail)))
                    {
                        start = end;
                        return (GzipFault.Truncated, $"truncated gzip: the file ends inside the 8-byte trailer of member {member} ({tail} of its bytes present)");
                    }
                }

                if (window.Length >= TrailerLength && window.Length - TrailerLength <= chunkLength)
                {
                    var last = window[^TrailerLength..];
                    if (last[4..].SequenceEqual(expected.AsSpan(4)) || last[..4].SequenceEqual(expected.AsSpan(0, 4)))
                    {
                        start = end;
                        return (GzipFault.Corrupt, $"corrupt gzip: the trailer of member {member} records CRC-32 {Convert.ToHexStringLower(last[..4])} and size {BinaryPrimitives.ReadUInt32LittleEndian(last[4..])}, but its content has CRC-32 {crcText} and {memberBytes} bytes");
                    }
                }

                if (window.Length < chunkLength + TrailerLength)
                {
                    start = end;
                    return (GzipFault.Truncated, $"truncated gzip: the file ends before the complete 8-byte trailer of member {member}");
                }
            }

            return (GzipFault.Corrupt, $"corrupt gzip: no trailer matches member {member}'s content (CRC-32 {crcText}, {memberBytes} bytes) where its compressed data ends");
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>The input as the inflater sees it: chunk by chunk, remembering the last chunk and whether the input ran out.</summary>
    private sealed class MemberSource(GzipInput input) : Stream
    {
        public long LastChunkStart { get; private set; }

        public int LastChunkLength { get; private set; }

        /// <summary>The inflater asked for more input and there was none: the member is cut short.</summary>
        public bool SawEnd { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            // Only reached in the synchronous pass, whose input reads complete synchronously.
            input.FillIfEmptyAsync().GetAwaiter().GetResult();
            return Took(input.Take(buffer));
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await input.FillIfEmptyAsync();
            return Took(input.Take(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Took((long Offset, int Length) chunk)
        {
            var (offset, length) = chunk;
            if (length == 0)
            {
                SawEnd = true;
                return 0;
            }

            LastChunkStart = offset;
            LastChunkLength = length;
            return length;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
