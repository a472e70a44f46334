using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Detection;

namespace AuditInfra.Bench;

/// <summary>
/// Matching the whole catalog against parsing alone, over the same event set in one run: the
/// catalog is compiled once, so matching should add little to the cost of reading events.
/// Target: parse+match / parse-only ≤ 1.5.
/// </summary>
public static class DetectionBenchmark
{
    public static int Run(string[] args)
    {
        var count = 200_000;
        string[] excluded = [];
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--events":
                    count = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--exclude":
                    excluded = args[i + 1].Split(',');
                    break;
            }
        }

        var config = SampleConfig();
        var catalog = new CompiledCatalog(DetectionCatalog.For(config).Where(r => !excluded.Contains(r.Id)));
        var events = Events(count);
        var bytes = events.Sum(e => (long)e.Length);
        Console.WriteLine($"detection: {count:N0} EventBridge envelopes ({bytes / 1024 / 1024} MiB), catalog of {catalog.Rules.Length} detections, {Environment.ProcessorCount} cores");

        // Warm both paths, then alternate runs so drift hits both equally.
        Measure(events, catalog, match: false);
        Measure(events, catalog, match: true);
        var parse = new List<double>();
        var parseMatch = new List<double>();
        var fired = 0;
        for (var round = 0; round < 5; round++)
        {
            parse.Add(Measure(events, catalog, match: false).Seconds);
            var (seconds, hits) = Measure(events, catalog, match: true);
            parseMatch.Add(seconds);
            fired = hits;
        }

        var p = Median(parse);
        var pm = Median(parseMatch);
        Console.WriteLine($"parse only:        {p:F3} s  ({count / p:N0} events/s)");
        Console.WriteLine($"parse + match all: {pm:F3} s  ({count / pm:N0} events/s), {fired:N0} detections fired");
        Console.WriteLine($"ratio parse+match / parse-only: {pm / p:F2} (target <= 1.50) {(pm / p <= 1.5 ? "MET" : "NOT MET")}");
        return 0;
    }

    private static (double Seconds, int Fired) Measure(List<byte[]> events, CompiledCatalog catalog, bool match)
    {
        var fired = 0;
        var watch = Stopwatch.StartNew();
        foreach (var e in events)
        {
            using var doc = JsonDocument.Parse(e);
            if (match)
            {
                fired += catalog.Match(doc.RootElement).Count;
            }
        }

        return (watch.Elapsed.TotalSeconds, fired);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>A realistic mix: mostly read-only calls across services, some changes, sign-ins and denials.</summary>
    private static List<byte[]> Events(int count)
    {
        var random = new Random(42);
        (string Source, string Name)[] calls =
        [
            ("s3.amazonaws.com", "GetObject"), ("ec2.amazonaws.com", "DescribeInstances"), ("sts.amazonaws.com", "AssumeRole"),
            ("kms.amazonaws.com", "Decrypt"), ("iam.amazonaws.com", "GetRole"), ("lambda.amazonaws.com", "Invoke"),
            ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"), ("iam.amazonaws.com", "PutRolePolicy"), ("s3.amazonaws.com", "PutBucketPolicy"),
            ("cloudtrail.amazonaws.com", "LookupEvents"), ("dynamodb.amazonaws.com", "Query"), ("logs.amazonaws.com", "PutLogEvents"),
        ];
        var list = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var (source, name) = calls[random.Next(calls.Length)];
            var record = new JsonObject
            {
                ["eventVersion"] = "1.09",
                ["userIdentity"] = new JsonObject
                {
                    ["type"] = random.Next(50) == 0 ? "Root" : "AssumedRole",
                    ["principalId"] = $"AROA{i % 997}:session",
                    ["arn"] = $"arn:aws:sts::3333333333{i % 90:D2}:assumed-role/App/session",
                    ["accountId"] = $"3333333333{i % 90:D2}",
                    ["sessionContext"] = new JsonObject { ["attributes"] = new JsonObject { ["mfaAuthenticated"] = "false", ["creationDate"] = "2026-11-20T10:00:00Z" } },
                },
                ["eventTime"] = "2026-11-20T10:15:00Z",
                ["eventSource"] = source,
                ["eventName"] = name,
                ["awsRegion"] = "us-east-1",
                ["sourceIPAddress"] = $"203.0.113.{i % 250}",
                ["userAgent"] = "aws-sdk-go-v2/1.30.0",
                ["requestParameters"] = new JsonObject { ["bucketName"] = "app-data", ["key"] = $"objects/{i}.json" },
                ["responseElements"] = null,
                ["requestID"] = Guid.NewGuid().ToString(),
                ["eventID"] = Guid.NewGuid().ToString(),
                ["readOnly"] = name.StartsWith("Get", StringComparison.Ordinal) || name.StartsWith("Describe", StringComparison.Ordinal),
                ["eventType"] = "AwsApiCall",
                ["managementEvent"] = true,
                ["recipientAccountId"] = $"3333333333{i % 90:D2}",
                ["eventCategory"] = "Management",
            };
            if (random.Next(20) == 0)
            {
                record["errorCode"] = "AccessDenied";
            }

            list.Add(EventEnvelopes.Wrap(JsonDocument.Parse(record.ToJsonString()).RootElement));
        }

        return list;
    }

    private static AuditConfig SampleConfig()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Pulumi.audit.yaml");
        return AuditConfigBinder.BindOrThrow(RawConfig.Load(path, "audit").Config ?? throw new InvalidOperationException($"cannot read {path}"));
    }
}
