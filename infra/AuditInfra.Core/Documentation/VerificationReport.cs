using System.Collections.Immutable;
using System.Text.Json;

namespace AuditInfra.Core.Documentation;

/// <summary>The latest integrity verification of one account and region.</summary>
public sealed record VerificationSummary(string Account, string Region, int DigestsVerified, int LogsVerified, int Findings, string? FirstDigest, string? LastDigest, string Verdict);

/// <summary>
/// Reads verification summaries: {"summaries":[{account, region, digestsVerified, logsVerified,
/// findings, firstDigest, lastDigest, verdict}]}: the <c>summaries</c> of the report
/// <c>auditinfra verify --json</c> writes (Core/Integrity/IntegrityReport), read as they are.
/// </summary>
public static class VerificationReport
{
    public static ImmutableArray<VerificationSummary> Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(InputFile.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("summaries", out var summaries) || summaries.ValueKind != JsonValueKind.Array)
            {
                throw new DocumentationInputException($"{path}: expected {{\"summaries\": [...]}} (one entry per account and region)");
            }

            var list = ImmutableArray.CreateBuilder<VerificationSummary>();
            var i = 0;
            foreach (var s in summaries.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.Object)
                {
                    throw new DocumentationInputException($"{path}: summaries[{i}]: expected an object with account, region, digestsVerified, logsVerified, findings and verdict (found {JsonKinds.Describe(s)})");
                }

                string Text(string name, bool required = true) =>
                    s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
                    : required ? throw new DocumentationInputException($"{path}: summaries[{i}].{name}: expected a string") : "";
                int Number(string name) =>
                    s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 0 ? n : throw new DocumentationInputException($"{path}: summaries[{i}].{name}: expected a whole number");
                list.Add(new VerificationSummary(Text("account"), Text("region"), Number("digestsVerified"), Number("logsVerified"), Number("findings"), Text("firstDigest", false), Text("lastDigest", false), Text("verdict")));
                i++;
            }

            return list.ToImmutable();
        }
        catch (JsonException ex)
        {
            throw new DocumentationInputException($"{path}: not valid JSON (line {ex.LineNumber + 1})");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DocumentationInputException($"{path}: cannot be read ({ex.Message})");
        }
    }
}
