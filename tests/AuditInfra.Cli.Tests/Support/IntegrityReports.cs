using System.Text.Json;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Support;

/// <summary>Findings as "Kind key" lines, sorted: from a `verify --json` report, or expected by a sample.</summary>
public static class IntegrityReports
{
    public static string[] FindingsOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("findings").EnumerateArray()
            .Select(f => $"{f.GetProperty("kind").GetString()} {f.GetProperty("key").GetString()}")
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    public static string[] ExpectedOf(string sampleDir) =>
        SampleCorpus.ReadExpected(Path.Combine(sampleDir, SampleCorpus.ExpectedFindingsFileName)).Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal).ToArray();
}
