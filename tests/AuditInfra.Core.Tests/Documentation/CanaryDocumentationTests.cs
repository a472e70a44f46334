using AuditInfra.Core.Documentation;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Documentation;

public class CanaryDocumentationTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("prod");

    /// <summary>What `aws cloudwatch get-metric-data` prints for the GROUP BY AccountId, Region query (newest point first).</summary>
    private const string Metrics = """
        {
          "MetricDataResults": [
            {"Id": "canary", "Label": "333333333333 eu-west-1", "Timestamps": ["2026-12-04T21:00:00+00:00", "2026-12-04T20:55:00+00:00"], "Values": [38.4, 412.0], "StatusCode": "Complete"},
            {"Id": "canary", "Label": "333333333333 us-east-1", "Timestamps": ["2026-12-04T21:00:00+00:00"], "Values": [21.5], "StatusCode": "Complete"},
            {"Id": "canary", "Label": "444444444444 us-west-2", "Timestamps": [], "Values": [], "StatusCode": "Complete"}
          ],
          "Messages": []
        }
        """;

    private static string File(string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("auditinfra-canary-docs").FullName, "canary-metrics.json");
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Measured_latency_is_shown_per_account_and_region_and_the_rest_is_not_measured()
    {
        var measured = CanaryMetrics.Read(File(Metrics));
        Assert.Equal(2, measured.Length);
        var euWest = measured.Single(m => m.Region == "eu-west-1");
        Assert.Equal(38.4, euWest.LastLatencySeconds);
        Assert.Equal(412.0, euWest.MaxLatencySeconds);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 21, 0, 0, TimeSpan.Zero), euWest.LastArrival);

        var site = DocumentationGenerator.Build(Config, [new OrgAccount("333333333333", "Payments", "ACTIVE")], canary: measured);
        var page = Renderers.Markdown(site.Pages.Single(p => p.Path == "accounts/333333333333"));
        Assert.Contains("| eu-west-1 | 333333333333 | 38.4 s | 6.9 min | 2026-12-04 21:00 UTC |", page);
        Assert.Contains("| us-east-1 | 333333333333 | 21.5 s | 21.5 s | 2026-12-04 21:00 UTC |", page);
        Assert.Contains("| us-west-2 | 333333333333 | not measured |", page);
        var index = Renderers.Markdown(site.Pages[0]);
        Assert.Contains("acme-audit-detection-canary-us-west-2", index);
        Assert.Contains("| eu-west-1 | 333333333333 | 38.4 s |", index);
    }

    [Fact]
    public void An_account_whose_canary_stopped_while_others_arrive_is_shown_silent()
    {
        var path = File("""
            {"MetricDataResults": [
              {"Label": "333333333333 us-east-1", "Timestamps": ["2026-12-04T21:00:00Z"], "Values": [20]},
              {"Label": "444444444444 us-east-1", "Timestamps": ["2026-12-04T20:15:00Z"], "Values": [25]}
            ]}
            """);
        var index = Renderers.Markdown(DocumentationGenerator.Build(Config, canary: CanaryMetrics.Read(path)).Pages[0]);
        Assert.Contains("| us-east-1 | 444444444444 | SILENT: no canary for 45 min | 25.0 s | 2026-12-04 20:15 UTC |", index);
        Assert.Contains("| us-east-1 | 333333333333 | 20.0 s |", index);
    }

    [Fact]
    public void Without_a_metrics_file_every_region_is_not_measured_and_the_command_is_given()
    {
        var page = Renderers.Markdown(DocumentationGenerator.Build(Config, [new OrgAccount("333333333333", "Payments", "ACTIVE")]).Pages.Single(p => p.Path == "accounts/333333333333"));
        foreach (var region in new[] { "us-east-1", "us-west-2", "eu-west-1" })
        {
            Assert.Contains($"| {region} | 333333333333 | not measured |", page);
        }

        Assert.Contains("aws cloudwatch get-metric-data --region us-east-1", page);
        Assert.Contains("GROUP BY AccountId, Region", page);
    }

    [Theory]
    [InlineData("not json", "not valid JSON (line 1)")]
    [InlineData("""{"Results": []}""", "expected {\"MetricDataResults\": [...]}")]
    [InlineData("""{"MetricDataResults": [{"Label": "canary", "Timestamps": [], "Values": []}]}""", "MetricDataResults[0].Label: expected \"<account id> <region>\"")]
    [InlineData("""{"MetricDataResults": [{"Label": "333333333333 mars-1", "Timestamps": [], "Values": []}]}""", "MetricDataResults[0].Label")]
    [InlineData("""{"MetricDataResults": [{"Label": "333333333333 us-east-1", "Timestamps": ["yesterday"], "Values": [1]}]}""", "MetricDataResults[0].Timestamps[0]: expected an ISO 8601 time")]
    [InlineData("""{"MetricDataResults": [{"Label": "333333333333 us-east-1", "Timestamps": ["2026-12-04T21:00:00Z"], "Values": [-3]}]}""", "MetricDataResults[0].Values[0]: expected a latency")]
    [InlineData("""{"MetricDataResults": [{"Label": "333333333333 us-east-1", "Timestamps": ["2026-12-04T21:00:00Z"], "Values": []}]}""", "1 timestamps but 0 values")]
    public void Bad_metrics_files_are_named_with_what_is_expected(string text, string expected)
    {
        var path = File(text);
        var error = Assert.Throws<DocumentationInputException>(() => CanaryMetrics.Read(path)).Message;
        Assert.StartsWith(path + ": ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void An_oversized_metrics_file_is_refused_before_it_is_parsed()
    {
        var path = File("");
        using (var stream = System.IO.File.OpenWrite(path))
        {
            stream.SetLength(CanaryMetrics.MaxBytes + 1L);
        }

        Assert.Contains("more than the 32 MiB", Assert.Throws<DocumentationInputException>(() => CanaryMetrics.Read(path)).Message);
    }
}
