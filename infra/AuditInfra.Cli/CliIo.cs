using Spectre.Console;

namespace AuditInfra.Cli;

/// <summary>
/// Where a command writes. Rich output (trees, tables, progress) only goes to a terminal; when
/// piped or captured, output is plain and progress stays silent.
/// </summary>
public sealed class CliIo
{
    public CliIo(TextWriter output, TextWriter error, bool isTerminal)
    {
        Out = output;
        Err = error;
        IsTerminal = isTerminal;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isTerminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!isTerminal)
        {
            Console.Profile.Width = 200;
        }
    }

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    public bool IsTerminal { get; }

    public IAnsiConsole Console { get; }

    public static CliIo FromConsole() =>
        new(System.Console.Out, System.Console.Error, !System.Console.IsOutputRedirected);

    /// <summary>Captured output for tests and scripts: never a terminal.</summary>
    public static CliIo Capture(StringWriter output, StringWriter error) => new(output, error, isTerminal: false);
}
