using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Tests.Support;

/// <summary>The shipped sample stack files, and variants of them with keys replaced or removed.</summary>
public static class Samples
{
    public static string Text(string stack) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", $"Pulumi.{stack}.yaml"));

    public static AuditConfig Config(string stack = "audit") => Bind(Text(stack), stack).Config ?? throw new InvalidOperationException(Bind(Text(stack), stack).Report.ToString());

    public static (AuditConfig? Config, ValidationReport Report) Bind(string yaml, string stack = "audit")
    {
        var (raw, error) = RawConfig.ParseYaml(yaml, $"Pulumi.{stack}.yaml", stack);
        return raw is null ? (null, new ValidationReport([error!])) : AuditConfigBinder.Bind(raw);
    }

    /// <summary>Replaces the line that sets the key (e.g. "auditinfra:trailName" or "    glacierDays") with the new line.</summary>
    public static string With(string yaml, string keyLinePrefix, string? line)
    {
        var lines = yaml.Split('\n').ToList();
        var index = lines.FindIndex(l => l.TrimStart().StartsWith(keyLinePrefix.Trim() + ":", StringComparison.Ordinal) && Indent(l) == (Indent(keyLinePrefix) == 0 ? 2 : Indent(keyLinePrefix)));
        if (index < 0)
        {
            throw new ArgumentException($"no line for {keyLinePrefix}");
        }

        if (line is null)
        {
            lines.RemoveAt(index);
        }
        else
        {
            lines[index] = line;
        }

        return string.Join('\n', lines);
    }

    public static string Append(string yaml, string lines) => yaml.TrimEnd() + "\n" + lines + "\n";

    private static int Indent(string s) => s.Length - s.TrimStart().Length;
}
