using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;

namespace AuditInfra.Core.Integrity;

/// <summary>An event for the detection hub's bus: EventBridge's source, detail-type and detail, and the time it is about.</summary>
public sealed record DetectionEvent(string Source, string DetailType, string Detail, DateTimeOffset Time, ImmutableArray<string> Resources);

/// <summary>
/// Integrity findings as detection events for the detection hub's SNS topic, in the shape its real-time detections
/// arrive in (EventBridge delivers the matched event's envelope as the message), so subscribers and their filters handle
/// both alike. One event per finding, at most <see cref="MaxIndividual"/>, then one summary: a tampered archive must not
/// turn into a flood of pages.
/// </summary>
public static class IntegrityFindingEvents
{
    public const string Source = "auditinfra.integrity";

    public const string DetailType = "integrity-finding";

    public const string DetectionId = "integrity-finding";

    public const string Severity = "high";

    public const int MaxIndividual = 100;

    /// <summary>The longest text kept in a detail field; EventBridge takes 256 KiB per entry, and a pager needs far less.</summary>
    private const int MaxFieldLength = 2048;

    public static ImmutableArray<DetectionEvent> From(IntegrityReport report, string verifierVersion, DateTimeOffset now)
    {
        var events = ImmutableArray.CreateBuilder<DetectionEvent>();
        foreach (var finding in report.Findings.Take(MaxIndividual))
        {
            var place = CloudTrailKeys.Parse(finding.Key);
            var detail = Common(report, verifierVersion);
            detail["kind"] = finding.Kind.ToString();
            detail["key"] = Cut(finding.Key);
            detail["account"] = place?.Account;
            detail["region"] = place?.Region;
            detail["expected"] = Cut(finding.Expected);
            detail["found"] = Cut(finding.Found);
            detail["message"] = Cut(finding.Message);
            events.Add(new DetectionEvent(Source, DetailType, detail.ToJsonString(), now, []));
        }

        if (report.Findings.Count > MaxIndividual)
        {
            var detail = Common(report, verifierVersion);
            detail["kind"] = "MoreFindings";
            detail["message"] = $"{(report.Findings.Count - MaxIndividual).ToString(CultureInfo.InvariantCulture)} more finding(s) not sent one by one; run auditinfra verify --report FILE over the source for all of them";
            detail["findingsByKind"] = new JsonObject([.. report.Findings.Skip(MaxIndividual).GroupBy(f => f.Kind).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal)
                .Select(g => KeyValuePair.Create(g.Key.ToString(), (JsonNode?)JsonValue.Create(g.Count())))]);
            events.Add(new DetectionEvent(Source, DetailType, detail.ToJsonString(), now, []));
        }

        return events.ToImmutable();
    }

    /// <summary>
    /// The message a subscriber receives: an EventBridge event envelope (version, id, detail-type, source, account, time,
    /// region, resources, detail), as the hub's rules deliver their events to the topic.
    /// </summary>
    public static string Envelope(DetectionEvent detectionEvent, string account, string region, Guid id) => new JsonObject
    {
        ["version"] = "0",
        ["id"] = id.ToString(),
        ["detail-type"] = detectionEvent.DetailType,
        ["source"] = detectionEvent.Source,
        ["account"] = account,
        ["time"] = detectionEvent.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["region"] = region,
        ["resources"] = new JsonArray([.. detectionEvent.Resources.Select(r => (JsonNode)JsonValue.Create(r))]),
        ["detail"] = JsonNode.Parse(detectionEvent.Detail),
    }.ToJsonString();

    private static JsonObject Common(IntegrityReport report, string verifierVersion) => new()
    {
        ["detectionId"] = DetectionId,
        ["severity"] = Severity,
        ["source"] = Cut(report.Source),
        ["findingCount"] = report.Findings.Count,
        ["verifierVersion"] = verifierVersion,
    };

    private static string Cut(string text) => text.Length <= MaxFieldLength ? text : text[..(MaxFieldLength - 1)] + "…";
}
