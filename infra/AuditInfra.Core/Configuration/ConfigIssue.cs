namespace AuditInfra.Core.Configuration;

public enum IssueSeverity
{
    Error,
    Warning,
}

/// <summary>One finding about a configuration: where it is (file, line, key) and what is expected.</summary>
public sealed record ConfigIssue(IssueSeverity Severity, string File, int? Line, string Key, string Message)
{
    public override string ToString()
    {
        var where = Line is { } line ? $"{File}:{line}" : File;
        var label = Severity == IssueSeverity.Error ? "error" : "warning";
        return Messages.OneLine($"{where}: {label}: {Key}: {Message}", 1000);
    }
}

/// <summary>Every issue found at once, so a user fixes a file in one pass.</summary>
public sealed record ValidationReport(IReadOnlyList<ConfigIssue> Issues)
{
    public IEnumerable<ConfigIssue> Errors => Issues.Where(i => i.Severity == IssueSeverity.Error);

    public IEnumerable<ConfigIssue> Warnings => Issues.Where(i => i.Severity == IssueSeverity.Warning);

    public bool IsValid => !Errors.Any();

    public override string ToString() => string.Join(Environment.NewLine, Issues.Select(i => i.ToString()));
}

public sealed class ConfigValidationException(ValidationReport report)
    : Exception($"The configuration is not valid:{Environment.NewLine}{report}")
{
    public ValidationReport Report { get; } = report;
}
