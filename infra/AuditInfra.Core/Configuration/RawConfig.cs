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

    /// <summary>Reads <c>Pulumi.&lt;stack&gt;.yaml</c>; a malformed file becomes a single located error.</summary>
    public static (RawConfig? Config, ConfigIssue? Error) ParseYaml(string text, string file, string? stackName = null)
    {
        stackName ??= StackNameFromPath(file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            return (null, new ConfigIssue(IssueSeverity.Error, file, (int)ex.Start.Line, "(file)", $"is not valid YAML: {ex.Message}"));
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return (null, new ConfigIssue(IssueSeverity.Error, file, 1, "(file)", "expected a YAML map with a top-level 'config:' key"));
        }

        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigValue>>();
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var topKey = ((YamlScalarNode)keyNode).Value;
            if (topKey is "encryptionsalt" or "secretsprovider" or "encryptedkey" or "environment")
            {
                continue;
            }

            if (topKey != "config")
            {
                return (null, new ConfigIssue(IssueSeverity.Error, file, (int)keyNode.Start.Line, topKey ?? "", "unknown top-level key of a Pulumi stack file; expected 'config:'"));
            }

            if (valueNode is not YamlMappingNode configNode)
            {
                return (null, new ConfigIssue(IssueSeverity.Error, file, (int)valueNode.Start.Line, "config", "expected a map of '<namespace>:<key>' entries"));
            }

            foreach (var (k, v) in configNode.Children)
            {
                entries.Add(new(((YamlScalarNode)k).Value ?? "", FromYaml(v)));
            }
        }

        return (new RawConfig(file, stackName, entries.ToImmutable()), null);
    }

    public static (RawConfig? Config, ConfigIssue? Error) Load(string path, string? stackName = null)
    {
        if (!System.IO.File.Exists(path))
        {
            return (null, new ConfigIssue(IssueSeverity.Error, path, null, "(file)", "the stack configuration file does not exist"));
        }

        return ParseYaml(System.IO.File.ReadAllText(path), path, stackName);
    }

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

    private static ConfigValue FromYaml(YamlNode node)
    {
        var line = (int)node.Start.Line;
        return node switch
        {
            YamlMappingNode map => new ConfigMapping([.. map.Children.Select(c => new KeyValuePair<string, ConfigValue>(((YamlScalarNode)c.Key).Value ?? "", FromYaml(c.Value)))], line),
            YamlSequenceNode seq => new ConfigSequence([.. seq.Children.Select(FromYaml)], line),
            YamlScalarNode scalar => new ConfigScalar(IsYamlNull(scalar) ? null : scalar.Value, line) { Quoted = scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted },
            _ => new ConfigScalar(null, line),
        };
    }

    private static bool IsYamlNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";
}
