using System.Text.RegularExpressions;

namespace AuditInfra.Cli.Tests.Support;

/// <summary>What a terminal shows of a command's output: its lines without colour codes, and tokens that must stay whole on one.</summary>
public static partial class TerminalOutput
{
    [GeneratedRegex("\u001b\\[[0-9;?]*[A-Za-z]")]
    private static partial Regex Escape();

    public static string[] Lines(string output) => Escape().Replace(output, string.Empty).Split('\n');

    /// <summary>Each token (an id, a key, an ARN) appears unbroken on some line.</summary>
    public static void AssertWhole(string output, params string[] tokens)
    {
        var lines = Lines(output);
        foreach (var token in tokens)
        {
            Assert.True(lines.Any(l => l.Contains(token, StringComparison.Ordinal)), $"'{token}' is not whole on any line of:\n{output}");
        }
    }

    /// <summary>Runs the command as on a terminal of the given width; the exit code and what it showed.</summary>
    public static async Task<(int ExitCode, string Out)> RunAsync(int width, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, new CliIo(output, error, isTerminal: true, terminalWidth: width));
        return (code, output.ToString());
    }
}
