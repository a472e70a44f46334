using System.Collections.Immutable;

namespace AuditInfra.Core.Documentation;

/// <summary>A generated page: sections of blocks, rendered alike to Markdown and HTML.</summary>
public sealed record DocPage(string Path, string Title, ImmutableArray<DocSection> Sections);

public sealed record DocSection(string Heading, ImmutableArray<DocBlock> Blocks)
{
    public string Anchor => new([.. Heading.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-')]);
}

public abstract record DocBlock;

public sealed record Paragraph(string Text) : DocBlock;

public sealed record BulletList(ImmutableArray<string> Items) : DocBlock;

public sealed record CodeBlock(string Text) : DocBlock;

/// <summary>A table; a cell may link to another page (relative path without extension).</summary>
public sealed record Table(ImmutableArray<string> Headers, ImmutableArray<ImmutableArray<Cell>> Rows) : DocBlock;

public sealed record Cell(string Text, string? Link = null)
{
    public static implicit operator Cell(string text) => new(text);
}

public sealed record DocSite(ImmutableArray<DocPage> Pages);
