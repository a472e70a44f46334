using System.Collections.Immutable;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AuditInfra.Core.Configuration;

/// <summary>
/// A stack's configuration as written: fully qualified keys (<c>auditinfra:trailName</c>,
/// <c>aws:region</c>) to raw values, and the file they came from for error messages.
/// </summary>
public sealed record RawConfig(string File, string StackName, ImmutableArray<KeyValuePair<string, ConfigValue>> Entries)
{
    public const string Namespace = "auditinfra";

    public ConfigValue? Get(string qualifiedKey) =>
        Entries.Where(e => e.Key == qualifiedKey).Select(e => e.Value).FirstOrDefault();

    /// <summary>The stack name Pulumi derives from <c>Pulumi.&lt;stack&gt;.yaml</c>.</summary>
    public static string StackNameFromPath(string path)
    {
        var name = Path.GetFileName(path);
        if (name.StartsWith("Pulumi.", StringComparison.Ordinal) && (name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal)))
        {
            var trimmed = name["Pulumi.".Length..];
            return trimmed[..trimmed.LastIndexOf('.')];
        }

        return Path.GetFileNameWithoutExtension(name);
    }

    /// <summary>A stack file is a few KiB; far more is not a configuration (and would cost time and memory to parse).</summary>
    public const int MaxFileBytes = 4 << 20;

    /// <summary>Pulumi configuration nests a few levels; deeper is a mistake, and unbounded depth would overflow the stack.</summary>
    public const int MaxDepth = 64;

    /// <summary>Aliases can make a small file denote an exponential number of values; a configuration never needs this many.</summary>
    public const int MaxValues = 100_000;

    /// <summary>Reads <c>Pulumi.&lt;stack&gt;.yaml</c>; a malformed file becomes a single located error.</summary>
    public static (RawConfig? Config, ConfigIssue? Error) ParseYaml(string text, string file, string? stackName = null)
    {
        stackName ??= StackNameFromPath(file);
        ConfigIssue Problem(int? line, string key, string message) => new(IssueSeverity.Error, file, line, key, message);
        if (CheckStructure(text) is { } structural)
        {
            return (null, Problem(structural.Line, "(file)", structural.Message));
        }

        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(text));
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            return (null, Problem(LineOf(ex, scanner), "(file)", $"is not valid YAML: {ex.Message}"));
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return (null, Problem(1, "(file)", "expected a YAML map with a top-level 'config:' key"));
        }

        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigValue>>();
        var budget = new ValueBudget();
        try
        {
            foreach (var (keyNode, valueNode) in root.Children)
            {
                var topKey = KeyText(keyNode);
                if (topKey is "encryptionsalt" or "secretsprovider" or "encryptedkey" or "environment")
                {
                    continue;
                }

                if (topKey != "config")
                {
                    return (null, Problem((int)keyNode.Start.Line, topKey, "unknown top-level key of a Pulumi stack file; expected 'config:'"));
                }

                if (valueNode is not YamlMappingNode configNode)
                {
                    return (null, Problem((int)valueNode.Start.Line, "config", "expected a map of '<namespace>:<key>' entries"));
                }

                foreach (var (k, v) in configNode.Children)
                {
                    entries.Add(new(KeyText(k), FromYaml(v, budget)));
                }
            }
        }
        catch (YamlShapeException ex)
        {
            return (null, Problem(ex.Line, "(file)", ex.Message));
        }

        return (new RawConfig(file, stackName, entries.ToImmutable()), null);
    }

    public static (RawConfig? Config, ConfigIssue? Error) Load(string path, string? stackName = null)
    {
        if (!System.IO.File.Exists(path))
        {
            return (null, new ConfigIssue(IssueSeverity.Error, path, null, "(file)", "the stack configuration file does not exist"));
        }

        string text;
        try
        {
            text = InputFile.ReadAllText(path, MaxFileBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, new ConfigIssue(IssueSeverity.Error, path, null, "(file)", $"cannot be read: {ex.Message}"));
        }

        return ParseYaml(text, path, stackName);
    }

    /// <summary>
    /// Some YamlDotNet errors (a tab used as indentation) carry no position; the scanner then still knows where it stopped.
    /// </summary>
    private static int LineOf(Exception ex, Scanner scanner) =>
        ex is YamlException yaml && !(yaml.Start.Index == 0 && yaml.End.Index == 0) ? (int)yaml.Start.Line : (int)scanner.CurrentPosition.Line;

    /// <summary>Depth and size, from the parser's events, before any tree is built: the tree and its readers recurse.</summary>
    private static (int Line, string Message)? CheckStructure(string text)
    {
        var scanner = new Scanner(new StringReader(text));
        var parser = new Parser(scanner);
        var open = new Stack<YamlDotNet.Core.Events.ParsingEvent>();
        var values = 0;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                switch (current)
                {
                    case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart:
                        open.Push(current);
                        if (open.Count > MaxDepth)
                        {
                            return ((int)current.Start.Line, $"nests maps and lists more than {MaxDepth} levels deep");
                        }

                        break;
                    case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                        open.TryPop(out _);
                        break;
                }

                if (++values > MaxValues)
                {
                    return ((int)current.Start.Line, $"holds more than {MaxValues} values; a stack configuration has a few hundred");
                }
            }
        }
        catch (InvalidOperationException) when (open.FirstOrDefault(IsFlow) is { } unclosed)
        {
            // YamlDotNet fails this way on an unclosed flow collection; its opening is the line to fix.
            var bracket = unclosed is YamlDotNet.Core.Events.SequenceStart ? "[" : "{";
            return ((int)unclosed.Start.Line, $"is not valid YAML: the '{bracket}' opened on this line is not closed");
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            return (LineOf(ex, scanner), $"is not valid YAML: {ex.Message}");
        }

        return null;
    }

    private static bool IsFlow(YamlDotNet.Core.Events.ParsingEvent collection) => collection switch
    {
        YamlDotNet.Core.Events.SequenceStart sequence => sequence.Style == YamlDotNet.Core.Events.SequenceStyle.Flow,
        YamlDotNet.Core.Events.MappingStart mapping => mapping.Style == YamlDotNet.Core.Events.MappingStyle.Flow,
        _ => false,
    };

    private static string KeyText(YamlNode key) => key switch
    {
        YamlScalarNode scalar => scalar.Value ?? "",
        _ => throw new YamlShapeException((int)key.Start.Line, "a key must be a plain name such as 'auditinfra:homeRegion', not a list or a map"),
    };

    /// <summary>
    /// Builds the raw configuration from a lookup such as Pulumi's <c>Config.Get</c>: structured
    /// values arrive as JSON text, scalars as plain text.
    /// </summary>
    public static RawConfig FromLookup(string source, string stackName, IEnumerable<string> qualifiedKeys, Func<string, string?> lookup)
    {
        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigValue>>();
        foreach (var key in qualifiedKeys)
        {
            var text = lookup(key);
            if (text is null)
            {
                continue;
            }

            entries.Add(new(key, FromPulumiText(text)));
        }

        return new RawConfig(source, stackName, entries.ToImmutable());
    }

    private static ConfigValue FromPulumiText(string text)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                return FromJson(doc.RootElement);
            }
            catch (JsonException)
            {
                // Not JSON after all: keep it as the text the user wrote.
            }
        }

        return new ConfigScalar(text, null);
    }

    private static ConfigValue FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new ConfigMapping([.. element.EnumerateObject().Select(p => new KeyValuePair<string, ConfigValue>(p.Name, FromJson(p.Value)))], null),
        JsonValueKind.Array => new ConfigSequence([.. element.EnumerateArray().Select(FromJson)], null),
        JsonValueKind.Null => new ConfigScalar(null, null),
        JsonValueKind.String => new ConfigScalar(element.GetString(), null) { Quoted = true },
        _ => new ConfigScalar(element.GetRawText(), null),
    };

    private static ConfigValue FromYaml(YamlNode node, ValueBudget budget)
    {
        var line = (int)node.Start.Line;
        if (++budget.Used > MaxValues)
        {
            throw new YamlShapeException(line, $"denotes more than {MaxValues} values (through aliases); a stack configuration has a few hundred");
        }

        return node switch
        {
            YamlMappingNode map => new ConfigMapping([.. map.Children.Select(c => new KeyValuePair<string, ConfigValue>(KeyText(c.Key), FromYaml(c.Value, budget)))], line),
            YamlSequenceNode seq => new ConfigSequence([.. seq.Children.Select(c => FromYaml(c, budget))], line),
            YamlScalarNode scalar => new ConfigScalar(IsYamlNull(scalar) ? null : scalar.Value, line) { Quoted = scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted },
            _ => new ConfigScalar(null, line),
        };
    }

    private static bool IsYamlNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    private sealed class ValueBudget
    {
        public int Used { get; set; }
    }

    private sealed class YamlShapeException(int line, string message) : Exception(message)
    {
        public int Line { get; } = line;
    }
}
