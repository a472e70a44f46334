namespace AuditInfra.Core;

/// <summary>A name the tool does not control (a bucket key, a key prefix) used as a path inside a folder it was given.</summary>
public sealed class UnsafePathException(string message) : Exception(message);

/// <summary>
/// Keeps names the tool does not control inside the folder it was given: a name must be plain relative
/// '/'-separated segments, and nothing on the way to it may be a link, since a link would carry the write elsewhere.
/// </summary>
public static class ContainedPath
{
    private const int MaxLength = 1024;
    private const int MaxSegmentLength = 255;

    /// <summary>Why <paramref name="relative"/> cannot be a path inside a folder, or null when it can.</summary>
    public static string? Problem(string relative)
    {
        if (relative.Length == 0)
        {
            return "it is empty";
        }

        if (relative.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        if (relative[0] == '/')
        {
            return "it is absolute (starts with '/')";
        }

        if (relative.Contains('\\'))
        {
            return "it contains a backslash";
        }

        if (relative.Any(char.IsControl))
        {
            return "it contains a control character";
        }

        if (relative.Length >= 2 && relative[1] == ':' && char.IsAsciiLetter(relative[0]))
        {
            return "it names a drive";
        }

        foreach (var segment in relative.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "it has an empty segment ('//' or a trailing '/')";
            }

            if (segment is "." or "..")
            {
                return $"it has a '{segment}' segment";
            }

            if (segment.Length > MaxSegmentLength)
            {
                return $"a segment is longer than {MaxSegmentLength} characters";
            }
        }

        return null;
    }

    /// <summary>
    /// The full path of <paramref name="relative"/> under <paramref name="root"/>; throws <see cref="UnsafePathException"/>
    /// when the name is not plain, resolves outside the root, or an existing entry on the way (the target included) is a link.
    /// </summary>
    public static string Resolve(string root, string relative)
    {
        if (Problem(relative) is { } problem)
        {
            throw new UnsafePathException(problem);
        }

        var rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var full = Path.GetFullPath(Path.Combine(rootFull, relative.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(rootFull + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new UnsafePathException("it resolves outside the folder");
        }

        var current = rootFull;
        foreach (var segment in relative.Split('/'))
        {
            current = Path.Combine(current, segment);
            var entry = new FileInfo(current);
            if (entry.LinkTarget is not null)
            {
                throw new UnsafePathException($"'{Path.GetRelativePath(rootFull, current).Replace(Path.DirectorySeparatorChar, '/')}' is a link in the folder, never written through");
            }

            if (!entry.Exists && !Directory.Exists(current))
            {
                break;
            }
        }

        return full;
    }
}
