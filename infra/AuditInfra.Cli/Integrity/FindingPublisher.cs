using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Integrity;

/// <summary>Publishes one message to an SNS topic; returns SNS's message id.</summary>
public interface ITopicPublisher
{
    Task<string> PublishAsync(string topicArn, string message, CancellationToken cancellationToken);
}

/// <summary>The topic cannot be published to (bad ARN, access denied, unreachable): exit code 2 with the message.</summary>
public sealed class PublishException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An SNS topic ARN: arn:partition:sns:region:account:name.</summary>
public sealed record TopicArn(string Arn, string Partition, string Region, string Account, string Name)
{
    public static TopicArn? Parse(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 6 && parts[0] == "arn" && parts[1].StartsWith("aws", StringComparison.Ordinal) && parts[2] == "sns"
            && Core.Configuration.AwsFormats.Region(parts[3]) is null && Core.Configuration.AwsFormats.AccountId(parts[4]) is null
            && parts[5].Length is > 0 and <= 256 && parts[5].All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? new TopicArn(text, parts[1], parts[3], parts[4], parts[5])
            : null;
    }
}

/// <summary>
/// SNS Publish over its query API, signed with Signature Version 4 by AWSSDK.Core's signer (no SNS package is needed
/// for one call). Credentials come from the default chain, as for S3 and KMS. Throttling and server errors are retried.
/// </summary>
public sealed class SnsTopicPublisher(HttpClient http, AWSCredentials credentials, Func<TopicArn, Uri>? endpointOf = null, TimeSpan? baseDelay = null) : ITopicPublisher
{
    private const int Attempts = 4;

    public static SnsTopicPublisher Create() => new(new HttpClient { Timeout = TimeSpan.FromSeconds(20) }, DefaultCredentials());

    /// <summary>The default credential chain, as for S3 and KMS; throws <see cref="PublishException"/> when it has none.</summary>
    internal static AWSCredentials DefaultCredentials()
    {
        try
        {
            return Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials(new Amazon.KeyManagementService.AmazonKeyManagementServiceConfig());
        }
        catch (AmazonClientException e)
        {
            throw new PublishException($"--publish-findings: no AWS credentials ({Core.Messages.Flatten(e.Message)}); configure them as for the AWS CLI", e);
        }
    }

    public static Uri DefaultEndpoint(TopicArn topic) =>
        new($"https://sns.{topic.Region}.{(topic.Partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com")}/");

    public async Task<string> PublishAsync(string topicArn, string message, CancellationToken cancellationToken)
    {
        var topic = TopicArn.Parse(topicArn) ?? throw new PublishException($"--publish-findings: expected an SNS topic ARN arn:aws:sns:<region>:<account>:<name> (found \"{topicArn}\")");
        var endpoint = (endpointOf ?? DefaultEndpoint)(topic);
        var body = Encoding.UTF8.GetBytes($"Action=Publish&Version=2010-03-31&TopicArn={Uri.EscapeDataString(topicArn)}&Message={Uri.EscapeDataString(message)}");
        for (var attempt = 1; ; attempt++)
        {
            var identity = await credentials.GetCredentialsAsync();
            using var request = Sign(endpoint, body, identity, topic.Region, "sns", DateTime.UtcNow);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (attempt < Attempts)
                {
                    await Task.Delay(Backoff(attempt), cancellationToken);
                    continue;
                }

                throw new PublishException($"--publish-findings: cannot reach SNS at {endpoint.Host} ({Core.Messages.Flatten(e.Message)})", e);
            }

            using (response)
            {
                var text = await ReadBoundedAsync(response, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return Element(text, "MessageId") ?? throw new PublishException($"--publish-findings: SNS answered {(int)response.StatusCode} without a message id");
                }

                var code = Element(text, "Code") ?? response.StatusCode.ToString();
                if (attempt < Attempts && ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests || code is "Throttling" or "ThrottlingException" or "ThrottledException"))
                {
                    await Task.Delay(Backoff(attempt), cancellationToken);
                    continue;
                }

                throw new PublishException($"--publish-findings {topicArn}: SNS refused to publish ({code}: {Core.Messages.Flatten(Element(text, "Message") ?? text)}); the caller needs sns:Publish on the topic and kms:GenerateDataKey and kms:Decrypt on its key");
            }
        }
    }

    private TimeSpan Backoff(int attempt) => (baseDelay ?? TimeSpan.FromMilliseconds(300)) * (1 << (attempt - 1));

    /// <summary>A POST of a form to <paramref name="endpoint"/>, signed with Signature Version 4 (the Authorization header).</summary>
    internal static HttpRequestMessage Sign(Uri endpoint, byte[] body, ImmutableCredentials identity, string region, string service, DateTime now, string contentType = "application/x-www-form-urlencoded; charset=utf-8", string? target = null)
    {
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = contentType,
            ["host"] = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}",
            ["x-amz-date"] = amzDate,
        };
        if (identity.UseToken)
        {
            headers["x-amz-security-token"] = identity.Token;
        }

        if (target is not null)
        {
            headers["x-amz-target"] = target;
        }

        var authorization = Authorization("POST", endpoint, headers, body, identity, region, service, now);
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", headers["content-type"]);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (target is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        }

        if (identity.UseToken)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", identity.Token);
        }

        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return request;
    }

    /// <summary>
    /// The Signature Version 4 Authorization header of a request: the canonical request as the SigV4 specification writes
    /// it (headers given lower-case; the query of <paramref name="endpoint"/> sorted and encoded), signed by AWSSDK.Core.
    /// </summary>
    internal static string Authorization(string method, Uri endpoint, SortedDictionary<string, string> headers, byte[] body, ImmutableCredentials identity, string region, string service, DateTime now)
    {
        var query = endpoint.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Name: Encode(Uri.UnescapeDataString(p[0])), Value: Encode(Uri.UnescapeDataString(p.Length > 1 ? p[1] : string.Empty))))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}");
        var path = string.Join('/', endpoint.AbsolutePath.Split('/').Select(segment => Encode(Uri.UnescapeDataString(segment))));
        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = string.Join('\n',
            method,
            path.Length == 0 ? "/" : path,
            string.Join('&', query),
            string.Concat(headers.Select(h => $"{h.Key}:{string.Join(' ', h.Value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))}\n")),
            signedHeaders,
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)));
        return AWS4Signer.ComputeSignature(identity, region, now, service, signedHeaders, canonical).ForAuthorizationHeader;
    }

    /// <summary>SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ as %XX, upper-case.</summary>
    private static string Encode(string text)
    {
        var encoded = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }

    internal static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // The answer is a few hundred bytes of XML; an endpoint sending more is not read past 64 KiB.
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[64 * 1024];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static string? Element(string xml, string name)
    {
        try
        {
            return XDocument.Parse(xml).Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }
}

/// <summary>Puts up to <see cref="EventBridgePublisher.MaxEntriesPerCall"/> events on an EventBridge bus.</summary>
public interface IEventBusPublisher
{
    Task PutEventsAsync(string busArn, IReadOnlyList<DetectionEvent> events, CancellationToken cancellationToken);
}

/// <summary>An EventBridge event bus ARN: arn:partition:events:region:account:event-bus/name.</summary>
public sealed record EventBusArn(string Arn, string Partition, string Region, string Account, string Name)
{
    public static EventBusArn? Parse(string text)
    {
        var parts = text.Split(':');
        const string Resource = "event-bus/";
        return parts.Length == 6 && parts[0] == "arn" && parts[1].StartsWith("aws", StringComparison.Ordinal) && parts[2] == "events"
            && Core.Configuration.AwsFormats.Region(parts[3]) is null && Core.Configuration.AwsFormats.AccountId(parts[4]) is null
            && parts[5].StartsWith(Resource, StringComparison.Ordinal) && parts[5].Length is > 10 and <= 256 + 10
            && parts[5][Resource.Length..].All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/')
            ? new EventBusArn(text, parts[1], parts[3], parts[4], parts[5][Resource.Length..])
            : null;
    }
}

/// <summary>
/// EventBridge PutEvents over its JSON 1.1 API, signed with Signature Version 4 by the same signer as SNS Publish.
/// Throttling and server errors are retried, for the whole call or for the entries EventBridge did not accept.
/// </summary>
public sealed class EventBridgePublisher(HttpClient http, AWSCredentials credentials, Func<EventBusArn, Uri>? endpointOf = null, TimeSpan? baseDelay = null) : IEventBusPublisher
{
    /// <summary>PutEvents takes at most ten entries per call.</summary>
    public const int MaxEntriesPerCall = 10;

    public const string Target = "AWSEvents.PutEvents";

    public const string ContentType = "application/x-amz-json-1.1";

    private const int Attempts = 4;

    private static readonly HashSet<string> RetriedCodes = new(StringComparer.Ordinal) { "ThrottlingException", "Throttling", "InternalException", "InternalFailure", "ServiceUnavailable" };

    public static EventBridgePublisher Create() => new(new HttpClient { Timeout = TimeSpan.FromSeconds(20) }, SnsTopicPublisher.DefaultCredentials());

    public static Uri DefaultEndpoint(EventBusArn bus) =>
        new($"https://events.{bus.Region}.{(bus.Partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com")}/");

    public async Task PutEventsAsync(string busArn, IReadOnlyList<DetectionEvent> events, CancellationToken cancellationToken)
    {
        var bus = EventBusArn.Parse(busArn) ?? throw new PublishException($"--publish-findings: expected an event bus ARN arn:aws:events:<region>:<account>:event-bus/<name> (found \"{busArn}\")");
        if (events.Count is 0 or > MaxEntriesPerCall)
        {
            throw new ArgumentOutOfRangeException(nameof(events), events.Count, $"PutEvents takes 1 to {MaxEntriesPerCall} entries");
        }

        var endpoint = (endpointOf ?? DefaultEndpoint)(bus);
        var pending = events.ToList();
        for (var attempt = 1; ; attempt++)
        {
            var body = Encoding.UTF8.GetBytes(Body(busArn, pending));
            var identity = await credentials.GetCredentialsAsync();
            using var request = SnsTopicPublisher.Sign(endpoint, body, identity, bus.Region, "events", DateTime.UtcNow, ContentType, Target);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (attempt < Attempts)
                {
                    await Task.Delay(Backoff(attempt), cancellationToken);
                    continue;
                }

                throw new PublishException($"--publish-findings: cannot reach EventBridge at {endpoint.Host} ({Core.Messages.Flatten(e.Message)})", e);
            }

            using (response)
            {
                var answer = Parse(await SnsTopicPublisher.ReadBoundedAsync(response, cancellationToken));
                if (!response.IsSuccessStatusCode)
                {
                    var type = Text(answer, "__type") ?? response.StatusCode.ToString();
                    var code = type[(type.LastIndexOf('#') + 1)..];
                    if (attempt < Attempts && ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests || RetriedCodes.Contains(code)))
                    {
                        await Task.Delay(Backoff(attempt), cancellationToken);
                        continue;
                    }

                    throw new PublishException($"--publish-findings {busArn}: EventBridge refused PutEvents ({code}: {Core.Messages.Flatten(Text(answer, "message") ?? Text(answer, "Message") ?? "no message")}); the caller needs events:PutEvents on the bus");
                }

                if (answer?["FailedEntryCount"] is not JsonValue failedValue || !failedValue.TryGetValue(out int failedCount))
                {
                    throw new PublishException($"--publish-findings {busArn}: EventBridge answered {(int)response.StatusCode} without FailedEntryCount");
                }

                if (failedCount == 0)
                {
                    return;
                }

                // Entries answer in the order they were sent; a failed one carries ErrorCode instead of EventId.
                var results = answer["Entries"] as JsonArray ?? [];
                var failed = pending.Select((e, i) => (Event: e, Code: i < results.Count ? Text(results[i], "ErrorCode") : "no answer", Message: i < results.Count ? Text(results[i], "ErrorMessage") : null))
                    .Where(f => f.Code is not null).ToList();
                if (failed.Count == 0)
                {
                    failed = [.. pending.Select(e => (Event: e, Code: (string?)"unknown", Message: (string?)null))];
                }

                if (attempt < Attempts && failed.All(f => RetriedCodes.Contains(f.Code!)))
                {
                    pending = [.. failed.Select(f => f.Event)];
                    await Task.Delay(Backoff(attempt), cancellationToken);
                    continue;
                }

                var first = failed.First(f => !RetriedCodes.Contains(f.Code!) || attempt >= Attempts);
                throw new PublishException($"--publish-findings {busArn}: EventBridge did not accept {failedCount} of {pending.Count} event(s) ({first.Code}: {Core.Messages.Flatten(first.Message ?? "no message")}); the caller needs events:PutEvents on the bus");
            }
        }
    }

    /// <summary>The PutEvents request: one entry per event, each naming the bus by its ARN.</summary>
    internal static string Body(string busArn, IEnumerable<DetectionEvent> events) => new JsonObject
    {
        ["Entries"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject
        {
            ["Source"] = e.Source,
            ["DetailType"] = e.DetailType,
            ["Detail"] = e.Detail,
            ["EventBusName"] = busArn,
            // JSON 1.1 carries timestamps as epoch seconds.
            ["Time"] = e.Time.ToUnixTimeSeconds(),
            ["Resources"] = new JsonArray([.. e.Resources.Select(r => (JsonNode)JsonValue.Create(r))]),
        })]),
    }.ToJsonString();

    private TimeSpan Backoff(int attempt) => (baseDelay ?? TimeSpan.FromMilliseconds(300)) * (1 << (attempt - 1));

    private static JsonNode? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonNode? node, string name) =>
        node is JsonObject o && o[name] is JsonValue v && v.TryGetValue(out string? text) ? text : null;
}

/// <summary>
/// <c>verify --publish-findings ARN</c>: each finding of the run as an <c>integrity-finding</c> detection event of
/// severity high, put on the detection hub's central bus (whose rule delivers it to the topic like every detection) or
/// published straight to the topic, in the envelope its real-time detections arrive in.
/// </summary>
internal static class FindingPublishing
{
    /// <summary>Tests put a publisher here in place of SNS; null in the shipped tool.</summary>
    internal static Func<ITopicPublisher>? PublisherOverride { get; set; }

    /// <summary>Tests put a publisher here in place of EventBridge; null in the shipped tool.</summary>
    internal static Func<IEventBusPublisher>? BusPublisherOverride { get; set; }

    public static System.CommandLine.Option<string?> Option() => new("--publish-findings") { Description = "Send each finding (at most 100, then one summary) as an integrity-finding detection event of severity high: to the detection hub's central event bus ARN (its rule delivers them to the topic) or straight to an SNS topic ARN", HelpName = "BUS_OR_TOPIC_ARN" };

    public static string? Problem(string? arn) =>
        arn is not null && TopicArn.Parse(arn) is null && EventBusArn.Parse(arn) is null
            ? $"--publish-findings: expected an event bus ARN arn:aws:events:<region>:<account>:event-bus/<name> or an SNS topic ARN arn:aws:sns:<region>:<account>:<name> (found \"{arn}\")"
            : null;

    /// <summary>Publishes the report's findings to a topic or bus; returns how many events were sent. Throws <see cref="PublishException"/>.</summary>
    public static async Task<int> PublishAsync(IntegrityReport report, string arn, ITopicPublisher? publisher, CancellationToken cancellationToken)
    {
        if (EventBusArn.Parse(arn) is not null)
        {
            return await PutOnBusAsync(report, arn, null, cancellationToken);
        }

        if (report.Findings.Count == 0)
        {
            return 0;
        }

        var topic = TopicArn.Parse(arn)!;
        publisher ??= PublisherOverride?.Invoke() ?? SnsTopicPublisher.Create();
        var events = IntegrityFindingEvents.From(report, Core.Integrity.Attestations.AttestationWriter.ToolVersion, DateTimeOffset.UtcNow);
        foreach (var detectionEvent in events)
        {
            await publisher.PublishAsync(arn, IntegrityFindingEvents.Envelope(detectionEvent, topic.Account, topic.Region, Guid.NewGuid()), cancellationToken);
        }

        return events.Length;
    }

    /// <summary>The same events on the bus, ten per PutEvents call; returns how many were put.</summary>
    public static async Task<int> PutOnBusAsync(IntegrityReport report, string busArn, IEventBusPublisher? publisher, CancellationToken cancellationToken)
    {
        if (report.Findings.Count == 0)
        {
            return 0;
        }

        publisher ??= BusPublisherOverride?.Invoke() ?? EventBridgePublisher.Create();
        var events = IntegrityFindingEvents.From(report, Core.Integrity.Attestations.AttestationWriter.ToolVersion, DateTimeOffset.UtcNow);
        foreach (var batch in events.Chunk(EventBridgePublisher.MaxEntriesPerCall))
        {
            await publisher.PutEventsAsync(busArn, batch, cancellationToken);
        }

        return events.Length;
    }
}
