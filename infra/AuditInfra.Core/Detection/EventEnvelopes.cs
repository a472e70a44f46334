using System.Buffers;
using System.IO.Compression;
using System.Text.Json;

namespace AuditInfra.Core.Detection;

/// <summary>One event read from a file: where it came from and its EventBridge envelope.</summary>
public sealed record RecordedEvent(string File, int Index, JsonElement Envelope)
{
    public string Describe()
    {
        var detail = Envelope.TryGetProperty("detail", out var d) ? d : default;
        string Field(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        return $"{Field(Envelope, "time")} {Field(Envelope, "account")} {Field(Envelope, "region")} {Field(detail, "eventSource")} {Field(detail, "eventName")}".Trim();
    }
}

public sealed class EventFileException(string file, string message) : Exception($"{file}: {message}");

/// <summary>
/// Reads what `rules test` accepts — CloudTrail log files (<c>{"Records":[...]}</c>, plain or
/// gzip), bare JSON arrays of records, or EventBridge envelopes — and wraps CloudTrail records in
/// the envelope EventBridge would deliver.
/// </summary>
public static class EventEnvelopes
{
    public static string DetailTypeOf(string? eventType) => eventType switch
    {
        "AwsConsoleSignIn" => "AWS Console Sign In via CloudTrail",
        "AwsServiceEvent" => "AWS Service Event via CloudTrail",
        _ => "AWS API Call via CloudTrail",
    };

    /// <summary>The envelope EventBridge delivers for a CloudTrail record.</summary>
    public static byte[] Wrap(JsonElement record)
    {
        string? Text(string name) => record.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var account = Text("recipientAccountId")
            ?? (record.TryGetProperty("userIdentity", out var identity) && identity.ValueKind == JsonValueKind.Object && identity.TryGetProperty("accountId", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null)
            ?? "";
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("version", "0");
            writer.WriteString("id", Text("eventID") ?? Guid.Empty.ToString());
            writer.WriteString("detail-type", DetailTypeOf(Text("eventType")));
            writer.WriteString("source", DetectionCatalog.SourceOf(Text("eventSource") ?? "unknown"));
            writer.WriteString("account", account);
            writer.WriteString("time", Text("eventTime") ?? "");
            writer.WriteString("region", Text("awsRegion") ?? "");
            writer.WriteStartArray("resources");
            writer.WriteEndArray();
            writer.WritePropertyName("detail");
            record.WriteTo(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static bool IsEnvelope(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("detail-type", out _) && e.TryGetProperty("detail", out _);

    /// <summary>Every event of a file, as envelopes; a file that is none of the accepted shapes is an error naming it.</summary>
    public static List<RecordedEvent> Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EventFileException(path, $"cannot be read: {ex.Message}");
        }

        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            try
            {
                using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                gzip.CopyTo(plain);

                // GZipStream returns what it could inflate from a cut-off file without complaint;
                // the trailer's ISIZE (length mod 2^32) tells whether everything arrived.
                var declared = bytes.Length >= 18 ? BitConverter.ToUInt32(bytes, bytes.Length - 4) : uint.MaxValue;
                if (declared != (uint)plain.Length)
                {
                    throw new InvalidDataException($"the gzip trailer declares {declared} bytes but {plain.Length} were inflated");
                }

                bytes = plain.ToArray();
            }
            catch (InvalidDataException ex)
            {
                throw new EventFileException(path, $"is a truncated or corrupt gzip file ({ex.Message})");
            }
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new EventFileException(path, $"is not valid JSON (line {ex.LineNumber + 1}: {ex.Message})");
        }

        var root = doc.RootElement;
        IEnumerable<JsonElement> items = root.ValueKind switch
        {
            JsonValueKind.Object when root.TryGetProperty("Records", out var records) && records.ValueKind == JsonValueKind.Array => records.EnumerateArray(),
            JsonValueKind.Object when IsEnvelope(root) => [root],
            JsonValueKind.Array => root.EnumerateArray(),
            _ => throw new EventFileException(path, "expected a CloudTrail log ({\"Records\":[...]}), a JSON array of records, or EventBridge events"),
        };

        var events = new List<RecordedEvent>();
        var index = 0;
        foreach (var item in items)
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new EventFileException(path, $"item {index} is not a JSON object");
            }

            var envelope = IsEnvelope(item) ? item.Clone() : JsonDocument.Parse(Wrap(item)).RootElement;
            events.Add(new RecordedEvent(path, index++, envelope));
        }

        return events;
    }
}
