using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Core.Detection;

namespace AuditInfra.Core.Tests.Detection;

/// <summary>The event reader holds one record at a time: bounded per record and per file, whatever a file inflates to.</summary>
public class EventEnvelopesTests
{
    private static string GzipFile(Action<Stream> write)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("auditinfra-events").FullName, "111111111111_CloudTrail_us-east-1_20261120T1015Z_x.json.gz");
        using var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        write(gzip);
        return path;
    }

    private static byte[] Record(int i) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["eventVersion"] = "1.09",
        ["eventSource"] = "s3.amazonaws.com",
        ["eventName"] = "GetObject",
        ["eventTime"] = "2026-11-20T10:15:00Z",
        ["awsRegion"] = "us-east-1",
        ["recipientAccountId"] = "111111111111",
        ["eventID"] = $"00000000-0000-0000-0000-{i:d12}",
        ["requestParameters"] = new JsonObject { ["key"] = new string('k', 900) },
    }.ToJsonString());

    [Fact]
    public void A_file_larger_than_the_record_limit_is_read_record_by_record_in_order()
    {
        const int count = 12_000;
        var path = GzipFile(gzip =>
        {
            gzip.Write("{\"Records\":["u8);
            for (var i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    gzip.Write(","u8);
                }

                gzip.Write(Record(i));
            }

            gzip.Write("]}"u8);
        });

        var indexes = EventEnvelopes.Enumerate(path).Select(e => (e.Index, Id: e.Envelope.GetProperty("id").GetString())).ToList();

        Assert.True(new FileInfo(path).Length < EventEnvelopes.MaxRecordBytes);
        Assert.Equal(count, indexes.Count);
        Assert.Equal($"00000000-0000-0000-0000-{count - 1:d12}", indexes[^1].Id);
        Assert.Equal(Enumerable.Range(0, count), indexes.Select(i => i.Index));
    }

    [Fact]
    public void A_file_inflating_beyond_the_file_limit_is_refused_once_it_passes_it()
    {
        // Whitespace between records inflates without end and is valid JSON: only the limit stops it.
        var path = GzipFile(gzip =>
        {
            gzip.Write("{\"Records\":["u8);
            gzip.Write(Record(0));
            var spaces = new byte[1 << 20];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < 64; i++)
            {
                gzip.Write(spaces);
            }

            gzip.Write("]}"u8);
        });

        var seen = new List<int>();
        var error = Assert.Throws<EventFileException>(() =>
        {
            foreach (var e in EventEnvelopes.Enumerate(path, maxFileBytes: 16 << 20))
            {
                seen.Add(e.Index);
            }
        });

        Assert.Equal([0], seen);
        Assert.Contains($"{path}: holds more than 16 MiB once inflated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Content_after_the_root_value_and_a_gzip_file_without_records_are_errors_naming_the_file()
    {
        var trailing = GzipFile(gzip => gzip.Write("{\"Records\":[]} {\"Records\":[]}"u8));
        var array = GzipFile(gzip => gzip.Write("[]"u8));
        var empty = GzipFile(_ => { });

        Assert.StartsWith($"{trailing}: is not valid JSON", Assert.Throws<EventFileException>(() => EventEnvelopes.Read(trailing)).Message, StringComparison.Ordinal);
        Assert.StartsWith($"{array}: expected a CloudTrail log", Assert.Throws<EventFileException>(() => EventEnvelopes.Read(array)).Message, StringComparison.Ordinal);
        Assert.StartsWith($"{empty}: ", Assert.Throws<EventFileException>(() => EventEnvelopes.Read(empty)).Message, StringComparison.Ordinal);
        Assert.Empty(EventEnvelopes.Read(GzipFile(gzip => gzip.Write("{\"Records\":[]}"u8))));
    }

    private static byte[] Member(params byte[][] parts)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var part in parts)
            {
                gzip.Write(part);
            }
        }

        return buffer.ToArray();
    }

    private static string RawFile(byte[] bytes)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("auditinfra-events").FullName, "111111111111_CloudTrail_us-east-1_20261120T1015Z_m.json.gz");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void A_log_of_two_gzip_members_is_read_whole_as_gunzip_reads_it()
    {
        // The JSON is split across the members, so the events of both members must be read, in order.
        var path = RawFile([.. Member("{\"Records\":["u8.ToArray(), Record(0), ","u8.ToArray()), .. Member(Record(1), ","u8.ToArray(), Record(2), "]}"u8.ToArray())]);

        var ids = EventEnvelopes.Read(path).Select(e => e.Envelope.GetProperty("id").GetString()).ToList();

        Assert.Equal(Enumerable.Range(0, 3).Select(i => $"00000000-0000-0000-0000-{i:d12}"), ids);
    }

    [Fact]
    public void Trailing_bytes_and_a_cut_off_member_are_named_for_what_they_are()
    {
        var whole = Member("{\"Records\":["u8.ToArray(), Record(0), "]}"u8.ToArray());
        var trailing = RawFile([.. whole, .. "not gzip at all"u8.ToArray()]);
        var cutInSecond = RawFile([.. whole, .. Member(Record(1))[..20]]);
        var cutInFirst = RawFile(whole[..(whole.Length - 3)]);

        static void Names(string path, string start)
        {
            var message = Assert.Throws<EventFileException>(() => EventEnvelopes.Read(path)).Message;
            Assert.True(message.StartsWith($"{path}: {start}", StringComparison.Ordinal), message);
        }

        Names(trailing, "trailing bytes after the last gzip member: 15 bytes follow member 1");
        Names(cutInSecond, "truncated gzip: the file ends inside the compressed data of member 2");
        Names(cutInFirst, "truncated gzip: the file ends inside the 8-byte trailer of member 1");
    }
}
