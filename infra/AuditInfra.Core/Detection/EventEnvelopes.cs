using System.Buffers;
using System.Text.Json;
using AuditInfra.Core.Integrity;

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

    /// <summary>
    /// The largest single record or envelope read. CloudTrail records are a few KiB (EventBridge refuses events over
    /// 256 KiB); a bigger value is not an event, and buffering it would let one file exhaust memory.
    /// </summary>
    public const int MaxRecordBytes = 8 << 20;

    /// <summary>The most a file may inflate to: real CloudTrail files reach hundreds of MiB, a gzip bomb far more.</summary>
    public const long MaxFileBytes = 2L << 30;

    /// <summary>Every event of a file, as envelopes; a file that is none of the accepted shapes is an error naming it.</summary>
    public static List<RecordedEvent> Read(string path) => [.. Enumerate(path)];

    /// <summary>
    /// The events of a file one at a time, never the whole file in memory: each record is parsed on its own, so a
    /// file is bounded by <see cref="MaxFileBytes"/> in what it inflates to and by <see cref="MaxRecordBytes"/> per record.
    /// Errors (<see cref="EventFileException"/>) may come after some events were returned.
    /// </summary>
    public static IEnumerable<RecordedEvent> Enumerate(string path, long maxFileBytes = MaxFileBytes)
    {
        using var records = JsonRecordStream.Open(path, maxFileBytes);
        var index = 0;
        while (records.Next() is { } item)
        {
            using (item)
            {
                if (item.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new EventFileException(path, $"item {index} is not a JSON object");
                }

                var envelope = IsEnvelope(item.RootElement) ? item.RootElement.Clone() : JsonDocument.Parse(Wrap(item.RootElement)).RootElement;
                yield return new RecordedEvent(path, index++, envelope);
            }
        }
    }

    /// <summary>
    /// Walks one file's JSON with a bounded buffer: the items of a root array or of a root object's <c>Records</c>
    /// array, or the root object itself when it is an EventBridge envelope.
    /// </summary>
    private sealed class JsonRecordStream : IDisposable
    {
        private readonly string path;
        private readonly FileStream file;
        private readonly Stream content;
        private readonly bool gzip;
        private readonly long maxFileBytes;
        private byte[] buffer = new byte[64 << 10];
        private int start;
        private int end;
        private bool final;
        private long inflated;
        private JsonReaderState state;
        private Mode mode = Mode.Begin;
        private bool recordsSeen;
        private bool rootIsObject;
        private bool rootHasDetailType;
        private bool rootHasDetail;

        private JsonRecordStream(string path, FileStream file, long maxFileBytes)
        {
            this.path = path;
            this.file = file;
            this.maxFileBytes = maxFileBytes;
            Span<byte> magic = stackalloc byte[2];
            gzip = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            file.Seek(0, SeekOrigin.Begin);

            // Read member by member, as CloudTrail writes and gunzip reads: every member's trailer is checked, and a
            // cut-off file or bytes after the last member fail the read by name instead of ending it early.
            content = gzip ? new GzipMemberStream(file, leaveOpen: true) : file;
        }

        private enum Mode
        {
            Begin,
            RootArrayItems,
            RootObjectProperties,
            RecordsItems,
            AfterRoot,
            Finished,
        }

        public static JsonRecordStream Open(string path, long maxFileBytes)
        {
            try
            {
                InputFile.RefuseSpecialFile(path);
                return new JsonRecordStream(path, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), maxFileBytes);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new EventFileException(path, $"cannot be read: {Messages.OneLine(ex.Message, 200)}");
            }
        }

        /// <summary>The next record as its own document, or null at the end of the file.</summary>
        public JsonDocument? Next()
        {
            try
            {
                return Advance();
            }
            catch (JsonException ex)
            {
                GzipFaultAfter();
                throw new EventFileException(path, $"is not valid JSON ({(ex.LineNumber is { } line ? $"line {line + 1}: " : "")}{Messages.OneLine(ex.Message, 200)})");
            }
            catch (GzipFormatException ex)
            {
                throw new EventFileException(path, Messages.OneLine(ex.Message, 300));
            }
            catch (InvalidDataException ex)
            {
                throw new EventFileException(path, $"is a truncated or corrupt gzip file ({Messages.OneLine(ex.Message, 200)})");
            }
            catch (IOException ex)
            {
                throw new EventFileException(path, $"cannot be read: {Messages.OneLine(ex.Message, 200)}");
            }
        }

        /// <summary>
        /// A cut-off or appended gzip member shows to the JSON reader as JSON cut short or as content after the end: the
        /// rest of the file is inflated (within the file's bound) so that the error names the gzip fault behind it.
        /// </summary>
        private void GzipFaultAfter()
        {
            if (!gzip || final)
            {
                return;
            }

            var scratch = new byte[64 << 10];
            try
            {
                int read;
                while (inflated <= maxFileBytes && (read = content.Read(scratch)) > 0)
                {
                    inflated += read;
                }
            }
            catch (GzipFormatException ex)
            {
                throw new EventFileException(path, Messages.OneLine(ex.Message, 300));
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                // The JSON error stands: the gzip was only read to look for a cause.
            }
        }

        public void Dispose()
        {
            content.Dispose();
            file.Dispose();
        }

        private JsonDocument? Advance()
        {
            while (true)
            {
                switch (mode)
                {
                    case Mode.Begin:
                        SkipByteOrderMark();
                        var root = NextToken(out _);
                        rootIsObject = root == JsonTokenType.StartObject;
                        mode = root switch
                        {
                            JsonTokenType.StartArray when !gzip => Mode.RootArrayItems,
                            JsonTokenType.StartObject => Mode.RootObjectProperties,
                            _ => throw new EventFileException(path, ExpectedShape()),
                        };
                        break;
                    case Mode.RootArrayItems or Mode.RecordsItems:
                        if (NextItem() is { } item)
                        {
                            return item;
                        }

                        mode = mode == Mode.RecordsItems ? Mode.RootObjectProperties : Mode.AfterRoot;
                        break;
                    case Mode.RootObjectProperties:
                        if (NextToken(out var name) == JsonTokenType.EndObject)
                        {
                            mode = Mode.AfterRoot;
                            break;
                        }

                        rootHasDetailType |= name == "detail-type";
                        rootHasDetail |= name == "detail";
                        if (name == "Records" && !recordsSeen)
                        {
                            if (NextToken(out _) != JsonTokenType.StartArray)
                            {
                                throw new EventFileException(path, "\"Records\": expected an array of CloudTrail records");
                            }

                            recordsSeen = true;
                            mode = Mode.RecordsItems;
                        }
                        else
                        {
                            SkipValue();
                        }

                        break;
                    case Mode.AfterRoot:
                        // Reads to the end, so that content after the root value is an error, not ignored.
                        if (NextToken(out _) != JsonTokenType.None)
                        {
                            throw new JsonException("content after the end of the JSON value");
                        }

                        mode = Mode.Finished;
                        if (rootIsObject && !recordsSeen)
                        {
                            if (!gzip && rootHasDetailType && rootHasDetail)
                            {
                                return ReadWholeEnvelope();
                            }

                            throw new EventFileException(path, ExpectedShape());
                        }

                        break;
                    default:
                        return null;
                }
            }
        }

        private string ExpectedShape() => gzip
            ? "expected a CloudTrail log: a gzip file holding {\"Records\":[...]}"
            : "expected a CloudTrail log ({\"Records\":[...]}), a JSON array of records, or EventBridge events";

        /// <summary>An envelope saved as a file of its own: small, read again whole.</summary>
        private JsonDocument ReadWholeEnvelope()
        {
            if (file.Length > MaxRecordBytes)
            {
                throw new EventFileException(path, $"an event larger than {MaxRecordBytes >> 20} MiB is not an EventBridge event");
            }

            file.Seek(0, SeekOrigin.Begin);
            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            return Parse(bytes.AsSpan(bytes.AsSpan().StartsWith(Utf8Bom) ? 3 : 0));
        }

        /// <summary>
        /// A record as a document of its own. The reader checks UTF-8 only where it decodes, so a record with invalid
        /// bytes in a string would fail later, at whatever first reads that string.
        /// </summary>
        private static JsonDocument Parse(ReadOnlySpan<byte> record) =>
            System.Text.Unicode.Utf8.IsValid(record) ? JsonDocument.Parse(record.ToArray()) : throw new JsonException("a record holds bytes that are not UTF-8");

        private static string PropertyName(ref Utf8JsonReader reader)
        {
            try
            {
                return reader.GetString()!;
            }
            catch (InvalidOperationException)
            {
                throw new JsonException("a property name is not valid UTF-8");
            }
        }

        private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

        private void SkipByteOrderMark()
        {
            while (end - start < 3 && Fill())
            {
            }

            if (buffer.AsSpan(start, end - start).StartsWith(Utf8Bom))
            {
                start += 3;
            }
        }

        /// <summary>The next token; <see cref="JsonTokenType.None"/> at the end of the file.</summary>
        private JsonTokenType NextToken(out string? propertyName)
        {
            while (true)
            {
                var reader = new Utf8JsonReader(buffer.AsSpan(start, end - start), final, state);
                if (reader.Read())
                {
                    propertyName = reader.TokenType == JsonTokenType.PropertyName ? PropertyName(ref reader) : null;
                    Commit(ref reader);
                    return reader.TokenType;
                }

                if (final)
                {
                    propertyName = null;
                    return JsonTokenType.None;
                }

                Commit(ref reader);
                Fill();
            }
        }

        /// <summary>The next item of the array being read as a document of its own; null after its last item.</summary>
        private JsonDocument? NextItem()
        {
            while (true)
            {
                var reader = new Utf8JsonReader(buffer.AsSpan(start, end - start), final, state);
                var found = reader.Read();
                if (found)
                {
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        Commit(ref reader);
                        return null;
                    }

                    var tokenStart = (int)reader.TokenStartIndex;
                    if (reader.TrySkip())
                    {
                        var item = Parse(buffer.AsSpan(start + tokenStart, (int)reader.BytesConsumed - tokenStart));
                        Commit(ref reader);
                        return item;
                    }
                }

                if (final)
                {
                    throw new JsonException("the file ends inside an array");
                }

                SkipWhitespace(ref reader, found);
                Fill();
            }
        }

        private void SkipValue()
        {
            while (true)
            {
                var reader = new Utf8JsonReader(buffer.AsSpan(start, end - start), final, state);
                var found = reader.Read();
                if (found && reader.TrySkip())
                {
                    Commit(ref reader);
                    return;
                }

                if (final)
                {
                    throw new JsonException("the file ends inside a value");
                }

                SkipWhitespace(ref reader, found);
                Fill();
            }
        }

        /// <summary>
        /// When the reader found no whole token, it has still passed the whitespace before it: dropping that keeps
        /// the buffer to the size of the next value, however much whitespace a file holds.
        /// </summary>
        private void SkipWhitespace(ref Utf8JsonReader reader, bool foundToken)
        {
            if (!foundToken)
            {
                Commit(ref reader);
            }
        }

        private void Commit(ref Utf8JsonReader reader)
        {
            start += (int)reader.BytesConsumed;
            state = reader.CurrentState;
        }

        /// <summary>Reads more of the file, keeping what is not consumed; false at its end.</summary>
        private bool Fill()
        {
            if (final)
            {
                return false;
            }

            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }

            if (end == buffer.Length)
            {
                if (buffer.Length >= MaxRecordBytes)
                {
                    throw new EventFileException(path, $"holds a record or value larger than {MaxRecordBytes >> 20} MiB: not a CloudTrail record");
                }

                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxRecordBytes));
            }

            var read = content.Read(buffer, end, buffer.Length - end);
            if (read == 0)
            {
                final = true;
                return false;
            }

            end += read;
            inflated += read;
            if (inflated > maxFileBytes)
            {
                throw new EventFileException(path, $"holds more than {Size(maxFileBytes)}{(gzip ? " once inflated" : "")}: far larger than a CloudTrail log file");
            }

            return true;
        }

        private static string Size(long bytes) =>
            bytes % (1L << 30) == 0 ? $"{bytes >> 30} GiB" : bytes % (1L << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes} bytes";
    }
}
