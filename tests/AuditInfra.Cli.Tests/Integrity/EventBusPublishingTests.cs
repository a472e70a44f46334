using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using Moq;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>--publish-findings with the central bus: the PutEvents request on a loopback listener, batching, retries and refusals.</summary>
public sealed class EventBusPublishingTests
{
    private const string Bus = "arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central";

    private static IntegrityReport ReportWith(int findings) => new(
        "s3://bucket/", null, null, [],
        [.. Enumerable.Range(0, findings).Select(i => new IntegrityFinding(FindingKind.LogHashMismatch, CloudTrailKeys.LogKey("", "o-abc123def4", "111111111111", "eu-west-1", new DateTimeOffset(2026, 11, 20, 3, 0, 0, TimeSpan.Zero), $"r{i:D4}"), "a", "b", $"finding {i}"))],
        [], 0, 0, TimeSpan.Zero);

    private static DetectionEvent Event(int i) => new(IntegrityFindingEvents.Source, IntegrityFindingEvents.DetailType, $"{{\"n\":{i}}}", new DateTimeOffset(2026, 11, 20, 3, 0, 0, TimeSpan.Zero), []);

    [Fact]
    public void Bus_and_topic_arns_are_accepted_and_anything_else_is_one_sentence()
    {
        Assert.Equal(("us-east-1", "222222222222", "acme-audit-central"), EventBusArn.Parse(Bus) is { } b ? (b.Region, b.Account, b.Name) : default);
        Assert.Null(FindingPublishing.Problem(Bus));
        Assert.Null(FindingPublishing.Problem("arn:aws:sns:us-east-1:222222222222:acme-audit-detections"));
        Assert.Null(EventBusArn.Parse("arn:aws:events:us-east-1:222222222222:rule/acme-audit-central"));
        Assert.Contains("expected an event bus ARN arn:aws:events:<region>:<account>:event-bus/<name> or an SNS topic ARN", FindingPublishing.Problem("arn:aws:events:us-east-1:222222222222:rule/x"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Findings_go_on_the_bus_ten_per_call_with_the_same_detail_the_topic_gets()
    {
        var calls = new List<DetectionEvent[]>();
        var bus = new Mock<IEventBusPublisher>(MockBehavior.Strict);
        bus.Setup(p => p.PutEventsAsync(Bus, It.IsAny<IReadOnlyList<DetectionEvent>>(), It.IsAny<CancellationToken>()))
            .Returns<string, IReadOnlyList<DetectionEvent>, CancellationToken>((_, events, _) => { calls.Add([.. events]); return Task.CompletedTask; });

        Assert.Equal(0, await FindingPublishing.PutOnBusAsync(ReportWith(0), Bus, bus.Object, CancellationToken.None));
        var report = ReportWith(IntegrityFindingEvents.MaxIndividual + 3);
        var count = await FindingPublishing.PutOnBusAsync(report, Bus, bus.Object, CancellationToken.None);

        Assert.Equal(IntegrityFindingEvents.MaxIndividual + 1, count);
        Assert.Equal(11, calls.Count);
        Assert.All(calls, c => Assert.InRange(c.Length, 1, EventBridgePublisher.MaxEntriesPerCall));
        Assert.Equal(count, calls.Sum(c => c.Length));
        var expected = IntegrityFindingEvents.From(report, Core.Integrity.Attestations.AttestationWriter.ToolVersion, DateTimeOffset.UtcNow);
        Assert.Equal(expected.Select(e => JsonDocument.Parse(e.Detail).RootElement.GetProperty("key").ToString()).Take(5), calls[0].Select(e => JsonDocument.Parse(e.Detail).RootElement.GetProperty("key").ToString()).Take(5));
        Assert.All(calls.SelectMany(c => c), e => Assert.Equal(("auditinfra.integrity", "integrity-finding"), (e.Source, e.DetailType)));
    }

    [Fact]
    public async Task Put_events_is_a_signed_json_call_retrying_throttled_entries_and_refusals_are_one_sentence()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var requests = new List<(string Target, string ContentType, string Authorization, string Date, JsonElement Body)>();
        var answers = new Queue<(int Status, string Body)>([
            // Call 1: two entries, the second throttled; then only that one is sent again and accepted.
            (200, """{"FailedEntryCount":1,"Entries":[{"EventId":"e-1"},{"ErrorCode":"ThrottlingException","ErrorMessage":"Rate exceeded"}]}"""),
            (200, """{"FailedEntryCount":0,"Entries":[{"EventId":"e-2"}]}"""),
            // Call 2: the whole call throttled, then an entry refused for good.
            (400, """{"__type":"ThrottlingException","message":"Rate exceeded"}"""),
            (200, """{"FailedEntryCount":1,"Entries":[{"ErrorCode":"AccessDeniedException","ErrorMessage":"not authorized to put events on the bus"}]}"""),
            // Call 3: refused outright.
            (400, """{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User is not authorized to perform: events:PutEvents"}"""),
        ]);
        var serving = Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                var context = await listener.GetContextAsync();
                using var reader = new StreamReader(context.Request.InputStream);
                var body = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.Clone();
                requests.Add((context.Request.Headers["X-Amz-Target"]!, context.Request.ContentType!, context.Request.Headers["Authorization"]!, context.Request.Headers["X-Amz-Date"]!, body));
                var (status, answer) = answers.Dequeue();
                context.Response.StatusCode = status;
                var bytes = Encoding.UTF8.GetBytes(answer);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        using var http = new HttpClient();
        var publisher = new EventBridgePublisher(http, new BasicAWSCredentials("AKIDEXAMPLE", "secret"), _ => new Uri($"http://127.0.0.1:{port}/"), TimeSpan.FromMilliseconds(5));

        await publisher.PutEventsAsync(Bus, [Event(0), Event(1)], CancellationToken.None);
        var refusedEntry = await Assert.ThrowsAsync<PublishException>(() => publisher.PutEventsAsync(Bus, [Event(2)], CancellationToken.None));
        var refusedCall = await Assert.ThrowsAsync<PublishException>(() => publisher.PutEventsAsync(Bus, [Event(3)], CancellationToken.None));
        await serving;

        Assert.Equal(5, requests.Count);
        Assert.All(requests, r =>
        {
            Assert.Equal("AWSEvents.PutEvents", r.Target);
            Assert.Equal("application/x-amz-json-1.1", r.ContentType);
            Assert.StartsWith($"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{r.Date[..8]}/us-east-1/events/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=", r.Authorization, StringComparison.Ordinal);
        });
        var entries = requests[0].Body.GetProperty("Entries");
        Assert.Equal(2, entries.GetArrayLength());
        Assert.Equal("auditinfra.integrity", entries[0].GetProperty("Source").GetString());
        Assert.Equal("integrity-finding", entries[0].GetProperty("DetailType").GetString());
        Assert.Equal(Bus, entries[0].GetProperty("EventBusName").GetString());
        Assert.Equal("{\"n\":0}", entries[0].GetProperty("Detail").GetString());
        var retried = requests[1].Body.GetProperty("Entries");
        Assert.Equal(1, retried.GetArrayLength());
        Assert.Equal("{\"n\":1}", retried[0].GetProperty("Detail").GetString());

        Assert.Contains($"--publish-findings {Bus}: EventBridge did not accept 1 of 1 event(s) (AccessDeniedException: not authorized to put events on the bus)", refusedEntry.Message, StringComparison.Ordinal);
        Assert.Contains("EventBridge refused PutEvents (AccessDeniedException: User is not authorized to perform: events:PutEvents)", refusedCall.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusedCall.Message);
    }

    [Fact]
    public async Task Verify_with_a_bus_that_refuses_exits_two_and_leaves_the_state_where_it_was()
    {
        var dir = Path.Combine(Support.CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await Support.CliRunner.RunAsync("sample", "--out", dir, "--hours", "6", "--events-per-log", "1", "--tamper", "modified-log")).ExitCode);
        var put = new List<DetectionEvent>();
        var bus = new Mock<IEventBusPublisher>();
        bus.Setup(p => p.PutEventsAsync(Bus, It.IsAny<IReadOnlyList<DetectionEvent>>(), It.IsAny<CancellationToken>()))
            .Returns<string, IReadOnlyList<DetectionEvent>, CancellationToken>((_, events, _) => { lock (put) { put.AddRange(events); } return Task.CompletedTask; });
        var failing = new Mock<IEventBusPublisher>();
        failing.Setup(p => p.PutEventsAsync(Bus, It.IsAny<IReadOnlyList<DetectionEvent>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new PublishException($"--publish-findings {Bus}: EventBridge did not accept 1 of 1 event(s) (AccessDeniedException: no)"));

        // Only runs with --publish-findings read the override, and only this class makes them with a bus.
        var state = Path.Combine(Path.GetDirectoryName(dir)!, "state.json");
        string[] verify = ["verify", "--source", dir, "--public-keys", Path.Combine(dir, "public-keys.json"), "--publish-findings", Bus, "--state", state, "--json"];
        Support.CliResult published, notPublished;
        try
        {
            FindingPublishing.BusPublisherOverride = () => failing.Object;
            notPublished = await Support.CliRunner.RunAsync(verify);
            Assert.False(File.Exists(state), "a run whose findings were not put on the bus must not advance the state");
            FindingPublishing.BusPublisherOverride = () => bus.Object;
            published = await Support.CliRunner.RunAsync(verify);
        }
        finally
        {
            FindingPublishing.BusPublisherOverride = null;
        }

        Assert.Equal(2, notPublished.ExitCode);
        Assert.Contains("findings not published", notPublished.Err, StringComparison.Ordinal);
        Assert.Equal(1, notPublished.Err.Count(c => c == '\n'));
        var findings = JsonDocument.Parse(notPublished.Out).RootElement.GetProperty("findings").GetArrayLength();
        Assert.True(published.ExitCode == 1, published.Err);
        Assert.Equal(findings, put.Count);
        Assert.Contains($"findings published: {findings} integrity-finding event(s) to {Bus}", published.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(state));
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
