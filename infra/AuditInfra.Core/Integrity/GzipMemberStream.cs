using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace AuditInfra.Core.Integrity;

/// <summary>A gzip stream that is not whole or not only gzip; <see cref="Fault"/> names why.</summary>
public sealed class GzipFormatException(GzipFault fault, string message) : IOException(message)
{
    public GzipFault Fault { get; } = fault;
}

/// <summary>
/// The inflated content of a gzip file of one or more members, as gunzip and CloudTrail read it: the concatenated
/// output of every member. Each member is parsed here rather than by <see cref="GZipStream"/>, which quietly
/// accepts a truncated member and ignores bytes after the last one: every member's CRC-32 and size trailer is
/// checked against what it inflated to, and the end of the input must be the end of a member. A read that meets
/// a fault throws <see cref="GzipFormatException"/> naming it (truncation, trailing bytes, corruption) instead of
/// ending the stream early. Bytes inflated before a fault are returned first, as they are found.
/// </summary>
public sealed class GzipMemberStream : Stream
{
    /// <summary>
    /// Compressed bytes handed to the inflater at a time. A member's deflate data ends inside the last chunk
    /// handed over; its trailer is then found in that chunk (the inflater does not tell how much it consumed).
    /// </summary>
    private const int ChunkSize = 64 * 1024;

    private const int TrailerLength = 8;

    private readonly Stream compressed;
    private readonly bool leaveOpen;
    private readonly GzipInput input;
    private readonly Crc32 crc = new();
    private DeflateStream? deflate;
    private MemberSource? source;
    private long memberBytes;
    private bool finished;
    private GzipFormatException? fault;

    public GzipMemberStream(Stream compressed, bool leaveOpen = false)
    {
        this.compressed = compressed;
        this.leaveOpen = leaveOpen;
        input = new GzipInput(compressed);
    }

    /// <summary>Members started so far (all of them once the stream has ended).</summary>
    public int Members { get; private set; }

    /// <summary>Compressed bytes read so far.</summary>
    public long CompressedBytes => input.Consumed;

    /// <summary>Inflated bytes returned so far.</summary>
    public long UncompressedBytes { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadCoreAsync(buffer.AsMemory(offset, count), sync: true, CancellationToken.None).GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = ReadCoreAsync(rented.AsMemory(0, buffer.Length), sync: true, CancellationToken.None).GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        new(ReadCoreAsync(buffer, sync: false, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadCoreAsync(buffer.AsMemory(offset, count), sync: false, cancellationToken);

    private async Task<int> ReadCoreAsync(Memory<byte> buffer, bool sync, CancellationToken cancellationToken)
    {
        if (fault is not null)
        {
            throw fault;
        }

        if (finished || buffer.IsEmpty)
        {
            return 0;
        }

        input.Sync = sync;
        input.Token = cancellationToken;
        try
        {
            while (true)
            {
                if (deflate is null)
                {
                    if (!await StartMemberAsync())
                    {
                        finished = true;
                        return 0;
                    }
                }

                int read;
                try
                {
                    read = sync ? deflate!.Read(buffer.Span) : await deflate!.ReadAsync(buffer, cancellationToken);
                }
                catch (InvalidDataException e)
                {
                    throw Fail(GzipFault.Corrupt, $"corrupt gzip: member {Members}'s compressed data does not decode ({e.Message})");
                }

                if (read > 0)
                {
                    memberBytes += read;
                    UncompressedBytes += read;
                    crc.Append(buffer.Span[..read]);
                    return read;
                }

                await EndMemberAsync();
            }
        }
        catch (GzipFormatException e)
        {
            fault = e;
            throw;
        }
    }

    /// <summary>Reads the next member's header; false at the end of the input after a complete member.</summary>
    private async Task<bool> StartMemberAsync()
    {
        if (!await input.EnsureAsync(1))
        {
            return Members == 0 ? throw Fail(GzipFault.Truncated, "truncated gzip: the file is empty") : false;
        }

        if (Members > 0 && (!await input.EnsureAsync(2) || input.Peek(0) != 0x1f || input.Peek(1) != 0x8b))
        {
            var end = input.Consumed;
            var trailing = await input.DrainAsync();
            throw Fail(GzipFault.TrailingBytes, $"trailing bytes after the last gzip member: {trailing} bytes follow member {Members}, which ends at byte {end}; they are not a gzip member");
        }

        Members++;
        var header = await ReadHeaderAsync(input);
        if (header is not null)
        {
            throw Fail(header.Value.Fault, Members == 1 ? header.Value.Message : $"{header.Value.Message} (member {Members})");
        }

        crc.Reset();
        memberBytes = 0;
        source = new MemberSource(input);
        deflate = new DeflateStream(source, CompressionMode.Decompress, leaveOpen: true);
        return true;
    }

    /// <summary>The inflater has ended: the member's trailer must follow and match what it inflated to.</summary>
    private async Task EndMemberAsync()
    {
        var ended = source!;
        deflate!.Dispose();
        deflate = null;
        source = null;
        if (ended.SawEnd)
        {
            throw Fail(GzipFault.Truncated, $"truncated gzip: the file ends inside the compressed data of member {Members}, after {input.Consumed} compressed bytes and {memberBytes} bytes inflated");
        }

        var trailer = new byte[TrailerLength];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(4), unchecked((uint)memberBytes));
        var problem = await input.SkipTrailerAsync(ended.LastChunkStart, ended.LastChunkLength, trailer, Members, memberBytes);
        if (problem is not null)
        {
            throw Fail(problem.Value.Fault, problem.Value.Message);
        }
    }

    private static GzipFormatException Fail(GzipFault fault, string message) => new(fault, message);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            deflate?.Dispose();
            input.Dispose();
            if (!leaveOpen)
            {
                compressed.Dispose();
            }
        }

        base.Dispose(disposing);
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
    private sealed class GzipInput(Stream inner) : IDisposable
    {
        /// <summary>Set for each read of the outer stream: whether to read the input synchronously, and with what token.</summary>
        public bool Sync { get; set; } = true;

        public CancellationToken Token { get; set; }

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
                var read = Sync ? inner.Read(buffer, end, buffer.Length - end) : await inner.ReadAsync(buffer.AsMemory(end), Token);
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
