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

/// <summary>The site cannot be written where asked (a folder that is not the site's, a file it did not write): nothing was written.</summary>
public sealed class SiteOutputException(string message) : Exception(message);

/// <summary>
/// Writes the site's own files into a folder, each replaced atomically, and nothing else: the folder may hold
/// other things (a checkout, an auditor's notes). The marker file <see cref="MarkerFileName"/> says the folder is
/// a site and lists the files written there; only those are ever replaced or removed. A non-empty folder without
/// it is refused, as is any file in the way that the marker does not list.
/// </summary>
public static class SiteWriter
{
    public const string MarkerFileName = ".auditinfra-docs";

    private const string MarkerHeader = "# Written by `auditinfra docs`: the files listed below are the site's own, and only they are ever replaced or removed here.";

    public static IReadOnlyList<string> Write(DocSite site, string outDirectory) => WritePages(site.Pages, outDirectory, removeStale: true);

    /// <param name="removeStale">Remove the files of earlier runs that these pages no longer include (a whole site is being written).</param>
    public static IReadOnlyList<string> WritePages(IEnumerable<DocPage> pages, string outDirectory, bool removeStale)
    {
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDirectory));
        if (File.Exists(target) && !Directory.Exists(target))
        {
            throw new SiteOutputException($"{target}: is a file; expected a folder for the site");
        }

        if (new FileInfo(target).LinkTarget is not null)
        {
            throw new SiteOutputException($"{target}: is a link; give the folder it points to, which is where the site would be written");
        }

        var markerPath = Path.Combine(target, MarkerFileName);
        var owned = new HashSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(target))
        {
            if (new FileInfo(markerPath).LinkTarget is not null)
            {
                throw new SiteOutputException($"{markerPath}: is a link; the site's marker must be a file of its own");
            }

            if (File.Exists(markerPath))
            {
                owned = ReadMarker(markerPath);
            }
            else if (Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new SiteOutputException($"{target}: the folder is not empty and was not written by `auditinfra docs` (no {MarkerFileName} file in it); choose a new or empty folder");
            }
        }

        // Every name is checked before anything is written, so a refusal leaves the folder as it was.
        var files = new List<(string Relative, string Full, string Content)>();
        foreach (var page in pages)
        {
            foreach (var (relative, content) in new[] { ($"{page.Path}.md", Renderers.Markdown(page)), ($"{page.Path}.html", Renderers.Html(page)) })
            {
                string full;
                try
                {
                    full = ContainedPath.Resolve(target, relative);
                }
                catch (UnsafePathException e)
                {
                    throw new SiteOutputException($"{target}: cannot write the page '{relative}' there: {e.Message}");
                }

                if ((File.Exists(full) || Directory.Exists(full)) && !owned.Contains(relative))
                {
                    throw new SiteOutputException($"{full}: already there and not written by `auditinfra docs`; move it aside or choose another folder");
                }

                files.Add((relative, full, content));
            }
        }

        var written = files.Select(f => f.Relative).ToList();
        // The new names are claimed before they are written, so an interrupted run leaves every file it wrote listed as its own.
        AtomicFile.WriteAllText(markerPath, Marker(owned.Union(written)));
        foreach (var file in files)
        {
            AtomicFile.WriteAllText(file.Full, file.Content);
        }

        if (!removeStale)
        {
            return written;
        }

        foreach (var stale in owned.Except(written))
        {
            RemoveStale(target, stale);
        }

        AtomicFile.WriteAllText(markerPath, Marker(written));
        return written;
    }

    private static string Marker(IEnumerable<string> files) =>
        string.Join('\n', [MarkerHeader, .. files.Distinct().Order(StringComparer.Ordinal)]) + "\n";

    /// <summary>The files the marker lists; a line that is not a page of a site is ignored, so a doctored marker cannot name anything else.</summary>
    private static HashSet<string> ReadMarker(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > 16 * 1024 * 1024)
        {
            throw new SiteOutputException($"{path}: {info.Length} bytes, far more than a site's list of files; remove it only if the folder holds nothing but the site");
        }

        return File.ReadLines(path)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#') && IsPageFile(line) && ContainedPath.Problem(line) is null)
            .ToHashSet(StringComparer.Ordinal);
    }

    private static bool IsPageFile(string relative) =>
        relative.EndsWith(".md", StringComparison.Ordinal) || relative.EndsWith(".html", StringComparison.Ordinal);

    private static void RemoveStale(string target, string relative)
    {
        string full;
        try
        {
            full = ContainedPath.Resolve(target, relative);
        }
        catch (UnsafePathException)
        {
            return;
        }

        if (!File.Exists(full))
        {
            return;
        }

        File.Delete(full);
        // Folders the site made (accounts/) go when its last page does; anything else in them keeps them.
        for (var folder = Path.GetDirectoryName(full)!; folder.Length > target.Length && folder.StartsWith(target + Path.DirectorySeparatorChar, StringComparison.Ordinal); folder = Path.GetDirectoryName(folder)!)
        {
            if (Directory.EnumerateFileSystemEntries(folder).Any())
            {
                break;
            }

            Directory.Delete(folder);
        }
    }
}
