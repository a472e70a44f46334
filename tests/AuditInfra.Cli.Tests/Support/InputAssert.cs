namespace AuditInfra.Cli.Tests.Support;

/// <summary>The house rule for bad input: exit 2, one line on stderr naming the problem, never a stack trace.</summary>
public static class InputAssert
{
    public static void OneLineError(CliResult result, params string[] expected)
    {
        var lines = Lines(result.Err);
        Assert.True(result.ExitCode == 2 && lines.Length == 1, $"expected exit 2 and one line on stderr, got exit {result.ExitCode} and:\n{result.Err}");
        NoTrace(result);
        foreach (var text in expected)
        {
            Assert.Contains(text, lines[0], StringComparison.Ordinal);
        }
    }

    /// <summary>No sign of an exception that escaped: no trace, no runtime's or library's unhandled-exception banner.</summary>
    public static void NoTrace(CliResult result)
    {
        var all = result.Err + result.Out;
        Assert.False(Lines(all).Any(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) && l.Contains('(')), $"a stack trace:\n{all}");
        Assert.DoesNotContain("Unhandled exception", all, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", all, StringComparison.Ordinal);
    }

    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
