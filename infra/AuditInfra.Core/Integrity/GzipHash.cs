using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace AuditInfra.Core.Integrity;

/// <summary>The result of gunzipping and hashing one object in a single pass.</summary>
public sealed record GunzipResult(string? Sha256Hex, long UncompressedBytes, long CompressedBytes, string? Error)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Gunzip + SHA-256 in one streaming pass with a pooled buffer (memory does not depend on the object size).
/// Truncation is detected from the gzip trailer: its ISIZE must equal the bytes produced, since the
/// decompressor alone may stop quietly at the end of a truncated input.
/// </summary>
public static class GzipHash
{
    public const int BufferSize = 128 * 1024;

    public static GunzipResult Compute(Stream compressed, Stream? copyTo = null)
    {
        var tail = new TailTrackingStream(compressed);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        try
        {
            using var gzip = new GZipStream(tail, CompressionMode.Decompress, leaveOpen: true);
            int read;
            while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                copyTo?.Write(buffer, 0, read);
                total += read;
            }
        }
        catch (InvalidDataException e)
        {
            return new GunzipResult(null, total, tail.Total, $"corrupt gzip: {e.Message}");
        }
        catch (EndOfStreamException)
        {
            return new GunzipResult(null, total, tail.Total, "truncated gzip: unexpected end of stream");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Finish(hash, total, tail);
    }

    public static async Task<GunzipResult> ComputeAsync(Stream compressed, Stream? copyTo, CancellationToken cancellationToken)
    {
        var tail = new TailTrackingStream(compressed);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        try
        {
            await using var gzip = new GZipStream(tail, CompressionMode.Decompress, leaveOpen: true);
            int read;
            while ((read = await gzip.ReadAsync(buffer.AsMemory(0, buffer.Length), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                if (copyTo is not null)
                {
                    await copyTo.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                total += read;
            }
        }
        catch (InvalidDataException e)
        {
            return new GunzipResult(null, total, tail.Total, $"corrupt gzip: {e.Message}");
        }
        catch (EndOfStreamException)
        {
            return new GunzipResult(null, total, tail.Total, "truncated gzip: unexpected end of stream");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Finish(hash, total, tail);
    }

    private static GunzipResult Finish(IncrementalHash hash, long total, TailTrackingStream tail)
    {
        if (tail.Total < 18)
        {
            return new GunzipResult(null, total, tail.Total, $"truncated gzip: only {tail.Total} bytes, shorter than a gzip header and trailer");
        }

        var isize = BinaryPrimitives.ReadUInt32LittleEndian(tail.LastFour());
        if (isize != (uint)total)
        {
            return new GunzipResult(null, total, tail.Total, $"truncated gzip: the stream ends after {tail.Total} compressed bytes and {total} uncompressed bytes without a valid trailer (trailer size field says {isize})");
        }

        return new GunzipResult(Convert.ToHexStringLower(hash.GetHashAndReset()), total, tail.Total, null);
    }

    /// <summary>Counts bytes read from the inner stream and remembers the last four.</summary>
    private sealed class TailTrackingStream(Stream inner) : Stream
    {
        private readonly byte[] last = new byte[4];
        private int lastCount;

        public long Total { get; private set; }

        public byte[] LastFour()
        {
            var result = new byte[4];
            Array.Copy(last, 4 - lastCount, result, 4 - lastCount, lastCount);
            return result;
        }

        private void Track(ReadOnlySpan<byte> data)
        {
            Total += data.Length;
            if (data.Length >= 4)
            {
                data[^4..].CopyTo(last);
                lastCount = 4;
                return;
            }

            for (var i = 0; i < data.Length; i++)
            {
                Array.Copy(last, 1, last, 0, 3);
                last[3] = data[i];
                lastCount = Math.Min(4, lastCount + 1);
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            Track(buffer.AsSpan(offset, n));
            return n;
        }

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            Track(buffer[..n]);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            Track(buffer.Span[..n]);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Total; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
