using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using AuditInfra.Core.Detection;

namespace AuditInfra.Core.Documentation;

/// <summary>What the canary metrics say about one account and region.</summary>
public sealed record CanaryMeasurement(string AccountId, string Region, DateTimeOffset LastArrival, double LastLatencySeconds, double MaxLatencySeconds, int Samples);

/// <summary>
/// Reads the measured canary latencies for <c>docs --canary-metrics</c>: the JSON that
/// <c>aws cloudwatch get-metric-data</c> prints for <see cref="Query"/>, whose Metrics Insights
/// GROUP BY labels each series "&lt;account&gt; &lt;region&gt;".
/// </summary>
public static class CanaryMetrics
{
    /// <summary>A month of one-minute points for thousands of series is far below this.</summary>
    public const int MaxBytes = 32 << 20;

    public static string Query =>
        $"SELECT MAX({CanaryHubDesign.LatencyMetric}) FROM SCHEMA(\"{CanaryHubDesign.MetricNamespace}\", AccountId, Region) GROUP BY AccountId, Region";

    /// <summary>The command that writes the file: Metrics Insights queries reach back three hours at most.</summary>
    public static string Command(string homeRegion) =>
        $"aws cloudwatch get-metric-data --region {homeRegion} --start-time $(date -u -d '-3 hours' +%FT%TZ) --end-time $(date -u +%FT%TZ) " +
        $"--metric-data-queries '[{{\"Id\":\"canary\",\"Expression\":\"{Query.Replace("\"", "\\\"", StringComparison.Ordinal)}\",\"Period\":300}}]' --output json > canary-metrics.json";

    public static ImmutableArray<CanaryMeasurement> Read(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(InputFile.ReadAllBytes(path, MaxBytes));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DocumentationInputException($"{path}: cannot be read ({Messages.Flatten(ex.Message)})");
        }
        catch (JsonException ex)
        {
            throw new DocumentationInputException($"{path}: not valid JSON (line {ex.LineNumber + 1}): expected the output of `aws cloudwatch get-metric-data`");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("MetricDataResults", out var results) || results.ValueKind != JsonValueKind.Array)
            {
                throw new DocumentationInputException($"{path}: expected {{\"MetricDataResults\": [...]}} as printed by `aws cloudwatch get-metric-data --output json`");
            }

            var measurements = ImmutableArray.CreateBuilder<CanaryMeasurement>();
            var index = 0;
            foreach (var result in results.EnumerateArray())
            {
                var at = $"{path}: MetricDataResults[{index}]";
                if (result.ValueKind != JsonValueKind.Object)
                {
                    throw new DocumentationInputException($"{at}: expected an object with Label, Timestamps and Values");
                }

                var label = result.TryGetProperty("Label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString()! : "";
                var parts = label.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2 || Configuration.AwsFormats.AccountId(parts[0]) is not null || Configuration.AwsFormats.Region(parts[1]) is not null)
                {
                    throw new DocumentationInputException($"{at}.Label: expected \"<account id> <region>\" (the GROUP BY AccountId, Region of the query docs prints), found \"{Messages.OneLine(label, 100)}\"");
                }

                var timestamps = Array(result, "Timestamps", at).Select((t, i) => t.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                    ? time
                    : throw new DocumentationInputException($"{at}.Timestamps[{i}]: expected an ISO 8601 time")).ToList();
                var values = Array(result, "Values", at).Select((v, i) => v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) && d >= 0
                    ? d
                    : throw new DocumentationInputException($"{at}.Values[{i}]: expected a latency in seconds (a number, 0 or more)")).ToList();
                if (timestamps.Count != values.Count)
                {
                    throw new DocumentationInputException($"{at}: {timestamps.Count} timestamps but {values.Count} values");
                }

                if (values.Count > 0)
                {
                    var last = Enumerable.Range(0, values.Count).MaxBy(i => timestamps[i]);
                    measurements.Add(new CanaryMeasurement(parts[0], parts[1], timestamps[last], values[last], values.Max(), values.Count));
                }

                index++;
            }

            return measurements.ToImmutable();
        }
    }

    private static IEnumerable<JsonElement> Array(JsonElement result, string name, string at) =>
        result.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray()
            : throw new DocumentationInputException($"{at}.{name}: expected a list");

    public static string Seconds(double seconds) => seconds < 100 ? $"{seconds:0.0} s" : $"{seconds / 60:0.0} min";
}
