using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Engine;

/// <summary>
/// Classifies a failed Pulumi operation from its error text (the Automation API surfaces the CLI's
/// stderr): a locked stack is a concurrent update (retried, never failed); credentials and
/// authorization problems are permanent (still retried up to the attempt limit, since a new
/// account's role can take minutes to become assumable); anything else is transient.
/// </summary>
public static class DeploymentFailures
{
    private static readonly string[] ConcurrentUpdateSigns =
    [
        "conflict: Another update is currently in progress",
        "the stack is currently locked",
        "is currently locked by",
        "ConcurrentUpdateException",
    ];

    private static readonly string[] PermanentSigns =
    [
        "is not authorized to perform: sts:AssumeRole",
        "AccessDenied",
        "InvalidClientTokenId",
        "no valid credential sources",
        "ExpiredToken",
        "UnrecognizedClientException",
        "error: Missing required configuration",
        "error CS",
        "could not find plugin",
    ];

    public static DeploymentFailureKind Classify(string exceptionType, string message)
    {
        var text = exceptionType + ": " + message;
        if (ConcurrentUpdateSigns.Any(s => text.Contains(s, StringComparison.OrdinalIgnoreCase)))
        {
            return DeploymentFailureKind.ConcurrentUpdate;
        }

        return PermanentSigns.Any(s => text.Contains(s, StringComparison.OrdinalIgnoreCase))
            ? DeploymentFailureKind.Permanent
            : DeploymentFailureKind.Transient;
    }

    /// <summary>The first lines of an error that say what went wrong, without the CLI's banner noise.</summary>
    public static string Summarize(string message, int maxLength = 500)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("denied", StringComparison.OrdinalIgnoreCase) || l.Contains("conflict", StringComparison.OrdinalIgnoreCase))
            .ToList();
        var text = lines.Count > 0 ? string.Join(" | ", lines) : message.Trim();
        return text.Length <= maxLength ? text : text[..maxLength] + "…";
    }
}
