using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace AuditInfra.Core.Documentation;

/// <summary>Markdown and self-contained HTML (inline CSS, no scripts, no external URL) of the same pages.</summary>
public static partial class Renderers
{
    public static string Markdown(DocPage page)
    {
        var md = new StringBuilder();
        md.Append("# ").AppendLine(page.Title).AppendLine();
        foreach (var section in page.Sections)
        {
            md.Append("## ").AppendLine(section.Heading).AppendLine();
            foreach (var block in section.Blocks)
            {
                switch (block)
                {
                    case Paragraph p:
                        md.AppendLine(Links(p.Text, "md")).AppendLine();
                        break;
                    case BulletList l:
                        foreach (var item in l.Items)
                        {
                            md.Append("- ").AppendLine(Links(item, "md"));
                        }

                        md.AppendLine();
                        break;
                    case CodeBlock c:
                        md.AppendLine("```sh").AppendLine(c.Text).AppendLine("```").AppendLine();
                        break;
                    case Table t:
                        md.Append("| ").AppendJoin(" | ", t.Headers.Select(MdCell)).AppendLine(" |");
                        md.Append('|').AppendJoin('|', t.Headers.Select(_ => "---")).AppendLine("|");
                        foreach (var row in t.Rows)
                        {
                            md.Append("| ").AppendJoin(" | ", row.Select(c => c.Link is null ? MdCell(c.Text) : $"[{MdCell(c.Text)}]({Relative(page.Path, c.Link)}.md)")).AppendLine(" |");
                        }

                        md.AppendLine();
                        break;
                }
            }
        }

        return md.ToString();
    }

    public static string Html(DocPage page)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>").AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<title>").Append(E(page.Title)).AppendLine("</title>")
            .AppendLine("<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1d232a;line-height:1.45}h1{border-bottom:3px solid #2f6f4f;padding-bottom:.3rem}h2{margin-top:2rem;color:#2f6f4f}table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #c9d1d9;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}th{background:#eef3f0}code,pre{font-family:ui-monospace,monospace;background:#f4f6f8}pre{padding:.75rem;overflow-x:auto}nav{font-size:.9rem;margin-bottom:1rem}</style>")
            .AppendLine("</head><body>");
        html.Append("<nav>").AppendJoin(" · ", page.Sections.Select(s => $"<a href=\"#{s.Anchor}\">{E(s.Heading)}</a>")).AppendLine("</nav>");
        html.Append("<h1>").Append(E(page.Title)).AppendLine("</h1>");
        foreach (var section in page.Sections)
        {
            html.Append("<h2 id=\"").Append(section.Anchor).Append("\">").Append(E(section.Heading)).AppendLine("</h2>");
            foreach (var block in section.Blocks)
            {
                switch (block)
                {
                    case Paragraph p:
                        html.Append("<p>").Append(HtmlLinks(p.Text, page.Path)).AppendLine("</p>");
                        break;
                    case BulletList l:
                        html.Append("<ul>").AppendJoin("", l.Items.Select(i => $"<li>{HtmlLinks(i, page.Path)}</li>")).AppendLine("</ul>");
                        break;
                    case CodeBlock c:
                        html.Append("<pre><code>").Append(E(c.Text)).AppendLine("</code></pre>");
                        break;
                    case Table t:
                        html.Append("<table><thead><tr>").AppendJoin("", t.Headers.Select(h => $"<th>{E(h)}</th>")).AppendLine("</tr></thead><tbody>");
                        foreach (var row in t.Rows)
                        {
                            html.Append("<tr>").AppendJoin("", row.Select(c => c.Link is null ? $"<td>{E(c.Text)}</td>" : $"<td><a href=\"{Relative(page.Path, c.Link)}.html\">{E(c.Text)}</a></td>")).AppendLine("</tr>");
                        }

                        html.AppendLine("</tbody></table>");
                        break;
                }
            }
        }

        return html.AppendLine("</body></html>").ToString();
    }

    /// <summary>A link between pages, written from the site root, made relative to the linking page.</summary>
    private static string Relative(string fromPage, string target)
    {
        if (target.StartsWith("../", StringComparison.Ordinal))
        {
            return target;
        }

        var depth = fromPage.Count(c => c == '/');
        return string.Concat(Enumerable.Repeat("../", depth)) + target;
    }

    private static string Links(string text, string extension) => LinkPattern().Replace(text, m => $"[{m.Groups[1].Value}]({m.Groups[2].Value}.{extension})");

    private static string HtmlLinks(string text, string page)
    {
        var result = new StringBuilder();
        var last = 0;
        foreach (Match m in LinkPattern().Matches(text))
        {
            result.Append(E(text[last..m.Index]));
            result.Append("<a href=\"").Append(E(m.Groups[2].Value)).Append(".html\">").Append(E(m.Groups[1].Value)).Append("</a>");
            last = m.Index + m.Length;
        }

        return result.Append(E(text[last..])).ToString();
    }

    private static string MdCell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]+)\)")]
    private static partial Regex LinkPattern();
}

/// <summary>Writes a site to a folder all at once: built beside it, then swapped in; never half-written.</summary>
public static class SiteWriter
{
    public static IReadOnlyList<string> Write(DocSite site, string outDirectory)
    {
        var target = Path.GetFullPath(outDirectory);
        var parent = Path.GetDirectoryName(target) ?? ".";
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.staging-{Guid.NewGuid():n}");
        var written = new List<string>();
        try
        {
            foreach (var page in site.Pages)
            {
                foreach (var (extension, content) in new[] { ("md", Renderers.Markdown(page)), ("html", Renderers.Html(page)) })
                {
                    var relative = $"{page.Path}.{extension}";
                    var path = Path.Combine(staging, relative);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllText(path, content);
                    written.Add(relative);
                }
            }

            string? previous = null;
            if (Directory.Exists(target))
            {
                previous = Path.Combine(parent, $".{Path.GetFileName(target)}.previous-{Guid.NewGuid():n}");
                Directory.Move(target, previous);
            }

            Directory.Move(staging, target);
            if (previous is not null)
            {
                Directory.Delete(previous, recursive: true);
            }

            return written;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }
}
