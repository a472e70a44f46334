using System.Text;

namespace AuditInfra.Core;

/// <summary>Error text quoting input (a value, a parser's excerpt) kept to one readable line.</summary>
public static class Messages
{
    /// <summary>Line breaks and other control characters escaped, and at most <paramref name="maxLength"/> characters.</summary>
    public static string OneLine(string text, int maxLength = 400)
    {
        var line = new StringBuilder(Math.Min(text.Length, maxLength + 16));
        foreach (var c in text)
        {
            if (line.Length >= maxLength)
            {
                return line.Append($"... ({text.Length} characters)").ToString();
            }

            line.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return line.ToString();
    }

    /// <summary>A message of several lines (an exception's, a library's) as one line: its lines trimmed and joined by spaces.</summary>
    public static string Flatten(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
