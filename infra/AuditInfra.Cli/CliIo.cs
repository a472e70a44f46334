using Spectre.Console;
using Spectre.Console.Rendering;

namespace AuditInfra.Cli;

/// <summary>
/// Where a command writes. Rich output (trees, tables, progress) only goes to a terminal; when
/// piped or captured, output is plain and progress stays silent.
/// </summary>
public sealed class CliIo
{
    /// <summary>
    /// The width Spectre.Console lays out for when output is not a terminal: wide enough that it
    /// never wraps a line, so a key, an ARN or an account id stays whole on one line for grep and
    /// scripts. Nothing rendered here pads to the full width (no expanded tables or rules).
    /// </summary>
    public const int UnwrappedWidth = 1 << 20;

    public CliIo(TextWriter output, TextWriter error, bool isTerminal, int? terminalWidth = null)
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
            Console.Profile.Width = UnwrappedWidth;
        }
        else if (terminalWidth is { } width)
        {
            Console.Profile.Width = width;
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

    /// <summary>
    /// Writes a table whose <paramref name="wholeColumns"/> (ids, keys, ARNs) are never wrapped:
    /// the other columns wrap first, and when the whole values cannot fit the terminal the table is
    /// laid out wider than it (the terminal folds the line; the value stays one token). An ellipsis
    /// is no option for an id.
    /// </summary>
    public void Write(Table table, params int[] wholeColumns)
    {
        foreach (var index in wholeColumns)
        {
            table.Columns[index].NoWrap();
        }

        var width = Console.Profile.Width;
        var needed = WidestWholeLayout(table, wholeColumns);
        if (needed <= width)
        {
            Console.Write(table);
            return;
        }

        Console.Profile.Width = needed;
        try
        {
            Console.Write(table);
        }
        finally
        {
            Console.Profile.Width = width;
        }
    }

    /// <summary>
    /// The narrowest width at which every whole column shows its longest value on one line: those
    /// columns at their full width, the others at their narrowest, plus borders and padding.
    /// </summary>
    private int WidestWholeLayout(Table table, int[] wholeColumns)
    {
        var options = RenderOptions.Create(Console, Console.Profile.Capabilities);
        var total = 0;
        for (var column = 0; column < table.Columns.Count; column++)
        {
            var cells = table.Rows.Select(row => row[column]).Prepend(table.Columns[column].Header).ToList();
            var measures = cells.Select(cell => cell.Measure(options, UnwrappedWidth)).ToList();
            var padding = table.Columns[column].Padding is { } p ? p.Left + p.Right : 2;
            total += padding + (wholeColumns.Contains(column) ? measures.Max(m => m.Max) : measures.Max(m => m.Min));
        }

        // One border character between and around the columns.
        return total + table.Columns.Count + 1;
    }
}
